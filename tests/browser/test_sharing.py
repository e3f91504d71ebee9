"""Consent and certification in Chromium: a learner gives her consent, the training body reads, she revokes
and the next request is refused; the assessor judges and decides, the code is verified in public. Every page
passes axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import assert_accessible, sign_in, user_id


@pytest.fixture
def partner(browser: Any, live_server: Any) -> Iterator[Any]:
    """A second browser (another person, another computer), failing on any console error like ``page``."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(10_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "404" not in msg.text
              else None)
    yield opened
    context.close()
    assert errors == []


def test_grant_partner_reads_revoke_partner_refused(page: Any, partner: Any) -> None:
    from playwright.sync_api import expect

    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    page.get_by_role("link", name="Qui peut voir mon portfolio").first.click()
    assert_accessible(page)
    page.get_by_role("link", name="Donner mon accord à un organisme").click()
    page.get_by_label("Quel organisme peut lire ?").select_option(label="GRETA Quercy-Rouergue")
    page.get_by_label("Mes compétences et mon journal").check()
    assert_accessible(page)
    page.get_by_role("button", name="Lire le texte de l'accord").click()
    expect(page.get_by_text("Je suis d'accord : GRETA Quercy-Rouergue peut lire mes compétences et les textes")) \
        .to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="J'accepte").click()
    expect(page.get_by_text("C'est fait : GRETA Quercy-Rouergue peut lire votre portfolio")).to_be_visible()
    assert_accessible(page)

    sign_in(partner, "evaluateur.greta")
    partner.wait_for_url("**/evaluation")
    partner.get_by_role("link", name="Portfolios partagés", exact=True).click()
    assert_accessible(partner)
    partner.get_by_role("link", name="Marie Dupont").click()
    expect(partner.get_by_role("heading", name="Portfolio de Marie Dupont")).to_be_visible()
    assert_accessible(partner)
    shared_url = partner.url
    partner.get_by_role("link", name="Lire son journal").click()
    expect(partner.get_by_role("heading", level=1)).to_contain_text("Marie Dupont")

    page.get_by_role("button", name="Retirer mon accord à GRETA Quercy-Rouergue").click()
    expect(page.get_by_text("C'est fait : GRETA Quercy-Rouergue ne peut plus lire votre portfolio.")).to_be_visible()
    # The file she sent is not her portfolio: the page says that the GRETA still holds it, and how to withdraw it.
    expect(page.get_by_text("Mais GRETA Quercy-Rouergue garde le dossier que vous lui avez envoyé")).to_be_visible()
    held = page.locator(".held-file").first
    expect(held).to_contain_text("GRETA Quercy-Rouergue garde ce dossier et le lit dans Ticket Net")
    expect(held.get_by_role("button", name="Retirer ce dossier")).to_be_visible()
    assert_accessible(page)

    response = partner.goto(shared_url)
    assert response is not None and response.status == 404
    expect(partner.get_by_role("heading", name="Page introuvable")).to_be_visible()
    partner.goto("/partenaires")
    expect(partner.get_by_role("link", name="Marie Dupont")).to_have_count(0)

    page.get_by_role("link", name="Qui a consulté mon portfolio").click()
    expect(page.get_by_text("GRETA Quercy-Rouergue a consulté votre portfolio 1 fois, le").first).to_be_visible()
    expect(page.get_by_text("Par Nadia Roussel.").first).to_be_visible()
    assert_accessible(page)


@pytest.mark.expected_console_errors(r"status of 404")  # the unknown code answers 404, on purpose
def test_the_assessor_decides_and_the_code_is_verified(page: Any, partner: Any) -> None:
    from playwright.sync_api import expect

    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    page.get_by_role("link", name="Ma certification").click()
    assert_accessible(page)

    sign_in(partner, "evaluateur.greta")
    partner.wait_for_url("**/evaluation")
    assert_accessible(partner)
    partner.get_by_role("link", name="Marie Dupont").first.click()
    expect(partner.get_by_role("heading", name="Dossier de Marie Dupont")).to_be_visible()
    assert_accessible(partner)
    partner.get_by_label("Votre niveau pour D1.1").select_option(label="Acquis")
    partner.get_by_label("Votre commentaire pour D1.1").fill("Vu en entretien.")
    partner.get_by_role("button", name="Enregistrer mes jugements").click()
    expect(partner.get_by_text("1 jugement enregistré.")).to_be_visible()
    partner.get_by_label("Dossier à compléter").check()
    partner.get_by_role("button", name="Enregistrer la décision").click()
    notice = partner.get_by_text(re.compile(r"Code de vérification : TN-\w{4}-\w{4}")).first
    expect(notice).to_be_visible()
    code = re.search(r"TN-\w{4}-\w{4}", notice.inner_text()).group(0)  # type: ignore[union-attr]
    assert_accessible(partner)

    page.reload()
    page.get_by_role("link", name=re.compile("Dossier envoyé le")).first.click()
    expect(page.get_by_role("heading", name="Votre dossier est à compléter.")).to_be_visible()
    assert_accessible(page)

    page.context.clear_cookies()
    page.goto("/verifier")
    assert_accessible(page)
    page.get_by_label("Code de vérification").fill(code.lower().replace("-", " "))
    page.get_by_label("Nom de famille de la personne").fill("dupont")
    page.get_by_role("button", name="Vérifier le code").click()
    expect(page.get_by_role("heading", name="Attestation authentique")).to_be_visible()
    assert_accessible(page)
    page.goto("/verifier/TN-2222-3333")
    expect(page.get_by_role("heading", name="Code inconnu")).to_be_visible()


@pytest.mark.expected_console_errors(r"status of 400")  # the form sent without its box ticked answers 400
def test_an_animator_records_a_paper_consent_then_its_paper_withdrawal(page: Any, live_server: Any) -> None:
    from playwright.sync_api import expect

    paul_id = user_id(live_server, "paul.fabre")
    sign_in(page, "animateur.cahors")
    page.wait_for_url("**/epm")
    page.goto(f"/epm/apprenants/{paul_id}/competences")
    page.get_by_role("link", name="Enregistrer un accord sur papier").click()
    page.get_by_label("Quel organisme peut lire ?").select_option(label="GRETA Quercy-Rouergue")
    page.get_by_label("Mes compétences", exact=True).check()
    page.get_by_role("button", name="Lire le texte de l'accord").click()
    assert_accessible(page)
    page.get_by_label("La personne a signé ce texte sur papier").check()
    page.get_by_role("button", name="Enregistrer l'accord signé").click()
    expect(page.get_by_text("L'accord sur papier de Paul Fabre est enregistré.")).to_be_visible()

    page.get_by_role("link", name="Enregistrer un retrait sur papier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retrait sur papier de Paul Fabre")
    assert_accessible(page)
    page.get_by_role("radio", name=re.compile(r"GRETA Quercy-Rouergue")).check()
    page.get_by_role("button", name="Enregistrer le retrait signé").click()  # the box is not ticked yet
    expect(page.get_by_role("alert")).to_contain_text("Cochez la case quand la personne a signé son retrait.")
    assert_accessible(page)
    page.get_by_role("radio", name=re.compile(r"GRETA Quercy-Rouergue")).check()
    page.get_by_label("La personne a signé son retrait sur papier").check()
    page.get_by_role("button", name="Enregistrer le retrait signé").click()
    expect(page.get_by_text("Le retrait sur papier de Paul Fabre est enregistré : GRETA Quercy-Rouergue ne peut "
                            "plus lire son portfolio.")).to_be_visible()
    page.get_by_role("link", name="Enregistrer un retrait sur papier").click()
    expect(page.get_by_role("radio", name=re.compile(r"GRETA Quercy-Rouergue"))).to_have_count(0)


def test_the_learner_chooses_the_texts_of_her_file_and_sees_what_the_body_holds(page: Any) -> None:
    from playwright.sync_api import expect

    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    page.get_by_role("link", name="Ma certification").click()
    choices = page.locator(".evidence-choice")
    expect(choices.first).to_be_visible()
    assert choices.count() >= 2
    for n in range(choices.count()):  # her texts are shared with her EPM only: none goes unless she ticks it
        assert "Partagé avec mon animateur ou animatrice" in choices.nth(n).inner_text()
        assert not choices.nth(n).get_by_role("checkbox").is_checked()
    assert_accessible(page)
    chosen = choices.nth(0).locator("strong").inner_text()
    choices.nth(0).get_by_role("checkbox").check()
    page.get_by_label("À quel organisme de formation ?").select_option(label="AFORMAC Midi-Pyrénées")
    page.get_by_role("button", name="Envoyer mon dossier").click()
    expect(page.get_by_text("C'est envoyé à AFORMAC Midi-Pyrénées, avec 1 texte et aucune photo.")).to_be_visible()
    evidence = page.locator("article.evidence")
    expect(evidence).to_have_count(1)
    assert chosen in evidence.inner_text() and "vous l'avez coché pour ce dossier" in evidence.inner_text()
    expect(page.get_by_role("heading", name="Ce que AFORMAC Midi-Pyrénées garde")).to_be_visible()
    assert_accessible(page)
    page.set_viewport_size({"width": 320, "height": 700})
    for url in ("/moi/certification", page.url, "/moi/partage"):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (url, overflow)
        assert_accessible(page)
    expect(page.get_by_role("heading", name="Les dossiers que des organismes gardent")).to_be_visible()
    page.get_by_role("button", name="Retirer ce dossier").last.click()
    expect(page.get_by_text("Votre dossier est retiré : AFORMAC Midi-Pyrénées ne le voit plus dans Ticket Net."))\
        .to_be_visible()
