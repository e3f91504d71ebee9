"""The scheme's journey in the browser: the prescriber issues a ticket, the animator registers it,
holds the interview, plans a workshop and records attendance, and the learner sees the hours left.
Every page on the way is checked with axe-core."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader

from portfolio.timeutil import local_today
from tests.browser.conftest import assert_accessible, sign_in


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/login")


def test_prescriber_to_learner_journey(page: Any) -> None:
    # The prescriber issues a ticket.
    sign_in(page, "prescripteur.cg46")
    page.wait_for_url("**/prescripteur")
    assert_accessible(page)
    page.get_by_role("link", name="Émettre un ticket").first.click()
    page.get_by_label("Nom", exact=True).fill("Bouscarel")
    page.get_by_label("Prénom").fill("Élise")
    page.get_by_label("Date de naissance").fill("1949-10-02")
    page.get_by_label("Commune").fill("Luzech")
    page.get_by_label("Public").select_option("seniors")
    assert_accessible(page)
    page.get_by_role("button", name="Émettre le ticket").click()
    assert "Tickets émis" in page.locator("h1").inner_text()
    reference = re.search(r"TN46-\d{4}-\d{6}-[A-Z]", page.locator("main").inner_text()).group(0)
    assert_accessible(page)
    sign_out(page)

    # The animator registers it, typed without dashes, and prints the login card.
    sign_in(page, "animateur.cahors")
    page.wait_for_url("**/epm")
    assert_accessible(page)
    page.get_by_role("link", name="Inscrire un ticket").first.click()
    page.get_by_label("Numéro du ticket").fill(reference.replace("-", "").lower())
    page.get_by_label("Nom de la personne").fill("bouscarel")
    page.get_by_label("Date de naissance").fill("1949-10-02")
    assert_accessible(page)
    page.get_by_role("button", name="Inscrire", exact=True).click()
    assert "Le ticket est inscrit" in page.locator(".flash").inner_text()
    assert_accessible(page)
    learner_url = page.url
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    card = page.request.post(learner_url + "/carte", form={"csrf_token": token, "replaces": "none"})
    assert card.ok and card.headers["content-type"] == "application/pdf"
    card_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(card.body())).pages)
    username = re.search(r"elise\.bouscarel\d*", card_text).group(0)
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", card_text).group(1)

    # The positioning interview: projects, a level, ten modules.
    page.get_by_role("link", name="Faire l'entretien").click()
    page.get_by_label("Ses projets, avec ses mots").fill("Voir les photos de mes petits-enfants.")
    page.locator("select[name^=level-self-]").first.select_option("not_yet")
    boxes = page.locator("input[name=modules]")
    for index in range(10):
        boxes.nth(index).check()
    assert page.locator("#path-count").inner_text() == "Modules choisis : 10 sur 10"
    assert_accessible(page)
    page.get_by_role("button", name="Enregistrer l'entretien").click()
    assert "L'entretien de positionnement est enregistré" in page.locator(".flash").inner_text()
    first_module = page.locator("ol li").first.inner_text()

    # A workshop today, already started, on the first module of the path; she is booked and present.
    page.get_by_role("link", name="Ateliers", exact=True).click()
    page.get_by_role("link", name="Prévoir un atelier").click()
    page.get_by_label("Module").select_option(label=first_module)
    page.get_by_label("Date").fill(local_today().isoformat())
    page.get_by_label("Heure de début").fill("00:00")
    assert_accessible(page)
    page.get_by_role("button", name="Prévoir l'atelier").click()
    assert "L'atelier est prévu" in page.locator(".flash").inner_text()
    page.get_by_label("Apprenant·e").select_option(label="Bouscarel Élise")
    page.get_by_role("button", name="Inscrire à l'atelier").click()
    page.get_by_role("group", name=re.compile("Élise Bouscarel")).get_by_label("Présent·e").check()
    assert_accessible(page)
    page.get_by_role("button", name="Enregistrer les présences").click()
    assert "Les présences sont enregistrées" in page.locator(".flash").inner_text()
    page.get_by_role("link", name="Présences", exact=True).click()
    assert_accessible(page)
    sign_out(page)

    # The learner's first sign-in with the card, then her page: hours left, her path.
    page.get_by_role("link", name="Première connexion avec la carte de votre EPM").click()
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Code de la carte").fill(code)
    assert_accessible(page)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Mon nouveau mot de passe").fill("noyer-causse-riviere")
    page.get_by_label("Le même mot de passe, encore une fois").fill("noyer-causse-riviere")
    assert_accessible(page)
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    page.wait_for_url("**/moi")
    main = page.locator("main").inner_text()
    assert "Il vous reste 18 heures sur 20." in main
    assert reference in main and "Mon parcours" in main and "(fait)" in main
    assert_accessible(page)
