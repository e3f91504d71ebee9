"""A real site in the browser, from an empty database: ``ticketnet init`` and ``ticketnet admin create``, then the
administrator creates an EPM offering 12 modules and a prescriber, invites an animator (by e-mail, through a real
SMTP server on loopback) and a prescriber (by a printed card); both sign in for the first time; the prescriber
issues a ticket; the animator registers it and prints the workshop group's login cards. Every page on the way
passes axe-core, also at 320 pixels wide (and nothing overflows there)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from portfolio import create_app
from portfolio.bootstrap import initialise
from portfolio.extensions import db
from portfolio.timeutil import local_today
from tests.browser.conftest import LiveServer, assert_accessible
from tests.conftest import app_overrides
from tests.databases import fresh_database
from tests.mailbox import Mailbox

ADMIN_PASSWORD = "causse noyer truffe lot"
CLAIRE_PASSWORD = "figeac pont vieux celé"
PAUL_PASSWORD = "caf lot quercy safran"


class Site:
    def __init__(self, server: LiveServer, mailbox: Mailbox) -> None:
        self.server, self.mailbox = server, mailbox


@pytest.fixture(scope="module")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    instance: Path = tmp_path_factory.mktemp("empty-site")
    with Mailbox() as mailbox, fresh_database(database_url) as url:
        app = create_app(app_overrides(url, instance, PROPAGATE_EXCEPTIONS=False, SMTP_URL=mailbox.url))
        initialise(app)  # ticketnet init
        made = app.test_cli_runner().invoke(args=["admin", "create", "anne.lacaze", "--password", ADMIN_PASSWORD,
                                                  "--first-name", "Anne", "--last-name", "Lacaze"])
        assert made.exit_code == 0, made.output
        with LiveServer(app) as server:
            yield Site(server, mailbox)
        db.state(app).engine.dispose()


@pytest.fixture
def tab(browser: Any, site: Site, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page on the empty site's server; any JavaScript or console error fails the test, except those a test
    names with ``@pytest.mark.expected_console_errors(regex)`` (a form refused answers 422, which Chromium logs)."""
    marker = request.node.get_closest_marker("expected_console_errors")
    expected = re.compile(marker.args[0]) if marker else None
    context = browser.new_context(base_url=site.server.url, locale="fr-FR")
    context.set_default_timeout(10_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield opened
    context.close()
    errors = [e for e in errors if expected is None or not expected.search(e)]
    assert errors == [], f"JavaScript errors or console errors (CSP violations included): {errors}"


def check(page: Any, checked: list[str]) -> None:
    """axe-core on the page as it is, then at 320 pixels wide, where nothing may overflow."""
    assert_accessible(page)
    page.set_viewport_size({"width": 320, "height": 640})
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('main *'))
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').trim().slice(0, 40))""")
    assert overflow <= 0, f"{page.url} overflows by {overflow} px at 320 px: {wide}"
    try:
        assert_accessible(page)
    except AssertionError as exc:
        raise AssertionError(f"{page.url} at 320 px: {exc}") from None
    page.set_viewport_size({"width": 1280, "height": 800})
    checked.append(page.url)


def sign_in(page: Any, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter", exact=True).click()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/login")


def post_for_pdf(page: Any, form: Any) -> str:
    """Send a form whose answer is a PDF through the page's own session, and read the PDF's text."""
    action = form.get_attribute("action")
    fields = {name: value for name, value in form.evaluate(
        "f => Array.from(new FormData(f).entries())")}
    response = page.request.post(action, form=fields)
    assert response.ok and response.headers["content-type"] == "application/pdf", response.status
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)


def code_of(text: str) -> str:
    match = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", text)
    assert match, text
    return match.group(1)


def test_from_an_empty_database_to_the_groups_login_cards(tab: Any, site: Site) -> None:
    page, checked = tab, []
    sign_in(page, "anne.lacaze", ADMIN_PASSWORD)
    page.wait_for_url("**/admin")
    assert "Pour démarrer" in page.locator("main").inner_text()
    check(page, checked)

    # An EPM offering 12 modules.
    page.get_by_role("link", name="Organismes").first.click()
    check(page, checked)
    page.get_by_role("link", name="Nouvel EPM").click()
    page.get_by_label("Nom", exact=True).fill("EPM de Figeac – Espace numérique")
    page.get_by_label("Code", exact=True).fill("epm-figeac")
    page.get_by_label("Adresse (numéro et voie)").fill("2 boulevard Pasteur")
    page.get_by_label("Code postal").fill("46100")
    page.get_by_label("Commune", exact=True).fill("Figeac")
    page.get_by_label("Code INSEE de la commune").fill("46102")
    page.get_by_label("SIRET").fill("21460102400018")
    page.get_by_label("Téléphone").fill("05 65 34 24 78")
    page.get_by_label("Horaires d'ouverture").fill("mardi 9 h – 12 h, jeudi 17 h – 20 h")
    page.get_by_label("Nombre de postes").fill("8")
    boxes = page.locator("input[name=modules]")
    for index in range(12):
        boxes.nth(index).check()
    check(page, checked)
    page.get_by_role("button", name="Enregistrer").click()
    assert "12 modules proposés" in page.locator("main").inner_text()
    check(page, checked)

    # A prescriber.
    page.get_by_role("link", name="Organismes").first.click()
    page.get_by_role("link", name="Nouveau prescripteur").click()
    page.get_by_label("Nom", exact=True).fill("CAF du Lot")
    page.get_by_label("Code", exact=True).fill("caf46")
    page.get_by_role("button", name="Enregistrer").click()
    assert "CAF du Lot est créé" in page.locator(".flash").inner_text()

    # The animator, invited by e-mail.
    page.get_by_role("link", name="Personnel").first.click()
    check(page, checked)
    page.get_by_role("link", name="Ajouter une personne").click()
    page.get_by_label("Prénom").fill("Claire")
    page.get_by_label("Nom", exact=True).fill("Vidal")
    page.get_by_label("Identifiant").fill("claire.vidal")
    page.get_by_label("Adresse électronique (facultative)").fill("claire.vidal@figeac.fr")
    page.get_by_label("Organisme").select_option(label="EPM de Figeac – Espace numérique (EPM)")
    page.get_by_label("Rôle").select_option("animator")
    page.get_by_label("Animateur·trice référent·e").check()
    page.get_by_label("Un lien envoyé par courriel").check()
    check(page, checked)
    page.get_by_role("button", name="Créer le compte").click()
    assert "L'invitation est partie à claire.vidal@figeac.fr" in page.locator(".flash").inner_text()
    check(page, checked)
    link = re.search(r"http://127\.0\.0\.1:\d+/acces/[\w-]+", site.mailbox.body()).group(0)

    # The prescriber, who has no e-mail: a printed card.
    page.get_by_role("link", name="Personnel").first.click()
    page.get_by_role("link", name="Ajouter une personne").click()
    page.get_by_label("Prénom").fill("Paul")
    page.get_by_label("Nom", exact=True).fill("Cabrol")
    page.get_by_label("Identifiant").fill("paul.cabrol")
    page.get_by_label("Organisme").select_option(label="CAF du Lot (Prescripteur)")
    page.get_by_label("Rôle").select_option("prescriber")
    page.get_by_label("Une carte d'accès à imprimer").check()
    page.get_by_role("button", name="Créer le compte").click()
    assert "Imprimez maintenant sa carte d'accès" in page.locator(".flash").inner_text()
    check(page, checked)
    card_text = post_for_pdf(page, page.locator("form[action$='/carte']"))
    assert "paul.cabrol" in card_text and "CAF du Lot" in card_text
    paul_code = code_of(card_text)
    sign_out(page)

    # The animator's first sign-in, through the link of her e-mail.
    page.goto(link)
    assert "Bienvenue, Claire Vidal" in page.locator("h1").inner_text()
    check(page, checked)
    page.get_by_label("Nouveau mot de passe").fill(CLAIRE_PASSWORD)
    page.get_by_label("Le même mot de passe, une deuxième fois").fill(CLAIRE_PASSWORD)
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    page.wait_for_url("**/epm")
    sign_out(page)

    # The prescriber's, with the code of his card; he issues a ticket.
    page.get_by_role("link", name="Première connexion avec la carte de votre EPM").click()
    page.get_by_label("Identifiant").fill("paul.cabrol")
    page.get_by_label("Code de la carte").fill(paul_code)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Mon nouveau mot de passe").fill(PAUL_PASSWORD)
    page.get_by_label("Le même mot de passe, encore une fois").fill(PAUL_PASSWORD)
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    page.wait_for_url("**/prescripteur")
    page.get_by_role("link", name="Émettre un ticket").first.click()
    page.get_by_label("Nom", exact=True).fill("Delpech")
    page.get_by_label("Prénom").fill("Odile")
    page.get_by_label("Date de naissance").fill("1950-03-02")
    page.get_by_label("Commune").fill("Capdenac")
    page.get_by_label("Public").select_option("seniors")
    page.get_by_role("button", name="Émettre le ticket").click()
    reference = re.search(r"TN46-\d{4}-\d{6}-[A-Z]", page.locator("main").inner_text()).group(0)
    sign_out(page)

    # The animator registers it, holds the interview, plans a workshop, books Odile and prints the group's cards.
    sign_in(page, "claire.vidal", CLAIRE_PASSWORD)
    page.wait_for_url("**/epm")
    page.get_by_role("link", name="Inscrire un ticket").first.click()
    page.get_by_label("Numéro du ticket").fill(reference)
    page.get_by_label("Nom de la personne").fill("Delpech")
    page.get_by_label("Date de naissance").fill("1950-03-02")
    page.get_by_role("button", name="Inscrire", exact=True).click()
    assert "Le ticket est inscrit" in page.locator(".flash").inner_text()
    page.get_by_role("link", name="Faire l'entretien").click()
    page.get_by_label("Ses projets, avec ses mots").fill("Écrire à mes petits-enfants.")
    boxes = page.locator("input[name=modules]")
    assert boxes.count() == 12  # the EPM's offer
    for index in range(10):
        boxes.nth(index).check()
    page.get_by_role("button", name="Enregistrer l'entretien").click()
    first_module = page.locator("ol li").first.inner_text()
    page.get_by_role("link", name="Ateliers", exact=True).click()
    page.get_by_role("link", name="Prévoir un atelier").click()
    page.get_by_label("Module").select_option(label=first_module)
    page.get_by_label("Date").fill(local_today().isoformat())
    page.get_by_label("Heure de début").fill("23:00")
    page.get_by_role("button", name="Prévoir l'atelier").click()
    page.get_by_label("Apprenant·e").select_option(label="Delpech Odile")
    page.get_by_role("button", name="Inscrire à l'atelier").click()
    page.get_by_role("link", name="Cartes de connexion du groupe").click()
    assert page.get_by_label(re.compile("Odile Delpech")).is_checked()
    check(page, checked)
    cards_text = post_for_pdf(page, page.locator("form[action$='/cartes']"))
    assert "odile.delpech" in cards_text and "EPM de Figeac" in cards_text and code_of(cards_text)

    # Odile lost her card: the page says plainly that the previous one stops working, and asks first.
    page.get_by_role("link", name="Apprenants", exact=True).click()
    page.get_by_role("link", name=re.compile("Delpech")).first.click()
    page.get_by_role("link", name="Imprimer une nouvelle carte…").click()
    assert "ne marchera plus" in page.locator(".notice").inner_text()
    check(page, checked)
    form = page.locator("form[action$='/carte']")
    form.get_by_label(re.compile("Je comprends")).check()
    again = post_for_pdf(page, form)
    assert "odile.delpech" in again and code_of(again) != code_of(cards_text)
    assert len(checked) == 11, checked


@pytest.mark.expected_console_errors(r"status of 422")
def test_the_everyday_settings_and_an_account_page(tab: Any, site: Site) -> None:
    page, checked = tab, []
    sign_in(page, "anne.lacaze", ADMIN_PASSWORD)
    page.wait_for_url("**/admin")
    page.get_by_role("link", name="Réglages").first.click()
    check(page, checked)
    page.get_by_label("Heures d'atelier par ticket").fill("24")
    page.get_by_label("Nombre d'ateliers par ticket").fill("12")
    page.get_by_role("button", name="Enregistrer les conditions du ticket").click()
    assert "les tickets déjà émis gardent les leurs" in page.locator(".flash").inner_text()
    assert "(avant : 20)" in page.locator("main").inner_text()
    check(page, checked)
    page.get_by_label("Bénéficiaires visés par an").fill("600")
    page.get_by_role("button", name="Enregistrer le plan et le budget").click()
    assert "Le plan annuel et le budget sont enregistrés" in page.locator(".flash").inner_text()

    page.get_by_role("link", name="Le catalogue des modules").click()
    page.get_by_label("Titre du nouveau module").fill("Faire ses courses en ligne")
    page.get_by_role("button", name="Ajouter le module").click()
    assert "Le module 21" in page.locator(".flash").inner_text()
    page.get_by_role("button", name="Retirer le module 21").click()
    assert page.get_by_role("button", name="Remettre le module 21 au catalogue").count() == 1
    check(page, checked)

    # The animator's account page: her way in, her roles; a new invitation asks first.
    page.get_by_role("link", name="Personnel").first.click()
    page.get_by_role("link", name="Claire Vidal").click()
    assert "La personne a choisi son mot de passe" in page.locator("main").inner_text()
    check(page, checked)
    page.get_by_label("Un lien que je transmets moi-même").check()
    page.get_by_role("button", name="Créer l'invitation").click()
    assert "Cochez la case pour confirmer" in page.locator("main").inner_text()
    check(page, checked)
    assert len(checked) == 5, checked
