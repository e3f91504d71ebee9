"""The animator fills the session grid with the keyboard alone, through a failed save and a reload;
the learner reads where they are; every page passes axe-core.

The demo holds yesterday's workshop at Cahors (module 7: columns D2.4, D2.3, D4.1) with Lucie Cayla,
Marie Dupont and Paul Fabre present (rows in that order)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in

SAVE_URL = "**/positionnement/niveaux"
EXPECTED_FAILURE = "the server responded with a status of 503"


@pytest.fixture
def grid_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A page like the ``page`` fixture, except that the failures this test causes on purpose (a 503, an
    aborted request) may be logged by Chromium; any other console or JavaScript error fails the test."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and not (
        EXPECTED_FAILURE in msg.text or "net::ERR_FAILED" in msg.text) else None)
    yield opened
    context.close()
    assert errors == [], f"JavaScript errors or console errors: {errors}"


def open_yesterdays_grid(page: Any) -> None:
    sign_in(page, "animateur.cahors")
    page.wait_for_url("**/epm")
    page.get_by_role("link", name="Positionnement", exact=True).click()
    page.get_by_role("link", name="Ouvrir la feuille").first.click()
    page.wait_for_url("**/positionnement")
    assert page.locator(".cell-button").count() == 9


def levels(page: Any) -> list[list[str]]:
    return page.evaluate("""Array.from(document.querySelectorAll('tbody tr')).map(tr =>
        Array.from(tr.querySelectorAll('td.grid-cell')).map(td => td.querySelector('.cell-button')
            .getAttribute('data-level')))""")


def tab_into_the_grid(page: Any) -> None:
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('cell-button')"):
            return
    pytest.fail("the grid cannot be reached with the Tab key")


def focused_name(page: Any) -> str:
    return page.evaluate("document.activeElement.textContent")


def wait_until_saved(page: Any) -> None:
    expect(page.locator(".grid-cell.is-pending, .grid-cell.is-failed")).to_have_count(0)
    expect(page.locator("#grid-status")).to_have_text("Tout est enregistré.")


def test_keyboard_alone_fills_the_grid_through_a_failed_save(grid_page: Any) -> None:
    page = grid_page
    open_yesterdays_grid(page)
    assert levels(page) == [["", "acquired", ""], ["in_progress", "acquired", ""], ["not_yet", "in_progress", ""]]
    assert_accessible(page)

    tab_into_the_grid(page)
    assert focused_name(page) == "Lucie Cayla, D2.4 : —"
    page.keyboard.press("2")  # in progress
    assert focused_name(page) == "Lucie Cayla, D2.4 : En cours"
    wait_until_saved(page)

    calls: list[str] = []

    def fail_once(route: Any) -> None:
        calls.append(route.request.post_data or "")
        if len(calls) == 1:
            route.fulfill(status=503, body="indisponible")
        else:
            route.continue_()

    page.route(SAVE_URL, fail_once)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")  # — -> in progress
    assert focused_name(page) == "Lucie Cayla, D4.1 : En cours"
    status = page.locator("#grid-status")
    status.filter(has_text="Rien n'est perdu").wait_for()
    assert page.locator(".grid-cell.is-failed").count() == 1
    assert page.get_by_role("button", name="Réessayer maintenant").is_visible()
    wait_until_saved(page)  # retried by itself after a short wait
    assert len(calls) == 2 and calls[0] == calls[1]
    page.unroute(SAVE_URL)

    page.keyboard.press("ArrowDown")
    page.keyboard.press("3")  # acquired
    assert focused_name(page) == "Marie Dupont, D4.1 : Acquis"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert "D4.1" in focused_name(page) and "Tous acquis" in focused_name(page)
    page.keyboard.press("Enter")  # all present: acquired
    wait_until_saved(page)
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Home")
    page.keyboard.press("Enter")  # Paul, D2.4: not yet -> in progress
    assert focused_name(page) == "Paul Fabre, D2.4 : En cours"
    wait_until_saved(page)

    expected = [["in_progress", "acquired", "acquired"], ["in_progress", "acquired", "acquired"],
                ["in_progress", "in_progress", "acquired"]]
    assert levels(page) == expected
    page.reload()
    assert levels(page) == expected  # what the server has
    assert_accessible(page)


def test_levels_typed_offline_survive_a_reload(grid_page: Any) -> None:
    page = grid_page
    open_yesterdays_grid(page)
    page.route(SAVE_URL, lambda route: route.abort())
    tab_into_the_grid(page)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("1")  # Marie, D2.4: not yet
    page.locator("#grid-status", has_text="Rien n'est perdu").wait_for()
    page.on("dialog", lambda dialog: dialog.accept())  # "leave the page?" asked while a level is unsaved
    page.unroute(SAVE_URL)
    page.reload()
    wait_until_saved(page)  # sent again from the browser's storage
    page.reload()
    assert levels(page)[1][0] == "not_yet"


def test_grid_works_without_javascript(browser: Any, live_server: Any) -> None:
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "animateur.cahors")
        page.goto("/epm/positionnement")
        page.get_by_role("link", name="Ouvrir la feuille").first.click()
        page.get_by_label("Paul Fabre, D4.1").select_option("in_progress")
        page.get_by_role("button", name="Enregistrer la feuille").click()
        assert "niveau enregistré" in page.locator(".flash").inner_text()
        assert page.get_by_label("Paul Fabre, D4.1").input_value() == "in_progress"
    finally:
        context.close()


def test_learner_reads_where_they_are_and_declares(page: Any) -> None:
    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    page.get_by_role("link", name="Mes compétences").click()
    assert "compétences acquises sur 18" in page.locator("main .lead").inner_text()
    page.get_by_text("Le B2i Adultes : ce qu'il faut").click()
    assert page.get_by_role("heading", name="Prêt ou prête pour le B2i Adultes ?").is_visible()
    page.get_by_text("Mes progrès").click()
    assert page.get_by_text("Depuis votre entretien du").is_visible()
    assert_accessible(page)
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("link", name="Mon profil sur Pix").click()
    assert "Correspondance indicative." in page.locator(".notice").inner_text()
    assert page.get_by_text("Régler un problème", exact=True).is_visible()
    assert_accessible(page)

    page.goto("/moi/competences/je-me-positionne")
    assert_accessible(page)
    group = page.get_by_role("group", name="Chercher sur internet")
    assert "Je sais trouver les horaires de mon bus sur internet." in group.inner_text()
    group.get_by_text("Texte officiel").click()
    assert group.get_by_text("Concevoir une démarche de recherche d'informations").is_visible()
    group.get_by_label("Un peu").check()
    page.get_by_role("button", name="Enregistrer mes réponses").click()
    assert "1 réponse enregistrée" in page.locator(".flash").inner_text()


def test_animator_reads_a_learner_and_the_list_of_sheets(page: Any) -> None:
    sign_in(page, "animateur.cahors")
    page.wait_for_url("**/epm")
    page.goto("/epm/positionnement")
    assert_accessible(page)
    page.get_by_role("link", name="Ouvrir la feuille").first.click()
    page.get_by_role("link", name="Marie Dupont").click()
    assert "Compétences de Marie Dupont" in page.locator("h1").inner_text()
    assert page.get_by_role("heading", name="Historique des positionnements").is_visible()
    assert_accessible(page)


def test_a_refused_cell_is_shown_and_not_retried(grid_page: Any, live_server: Any) -> None:
    import sqlalchemy as sa

    from portfolio.auth.models import User
    from portfolio.enrolment.models import Attendance, Enrolment
    from portfolio.extensions import db

    def mark_lucie(status: str) -> None:
        with live_server.app.app_context():
            lucie = db.session.scalar(sa.select(User.id).where(User.username == "lucie.cayla"))
            enrolment_ids = sa.select(Enrolment.id).where(Enrolment.learner_id == lucie)
            for attendance in db.session.scalars(sa.select(Attendance).where(
                    Attendance.enrolment_id.in_(enrolment_ids))):
                attendance.status = status
            db.session.commit()

    page = grid_page
    open_yesterdays_grid(page)
    mark_lucie("absent")  # a colleague corrects the roll call meanwhile
    try:
        before = levels(page)[0][0]
        page.get_by_role("button", name="Lucie Cayla, D2.4").click()
        expect(page.locator("#grid-status")).to_contain_text("Refusé : Cette personne n'est pas notée présente")
        expect(page.locator(".grid-cell.is-failed")).to_have_count(1)
        assert levels(page)[0][0] == before  # back to what the server has
        pending = "localStorage.getItem(document.querySelector('[data-storage-key]').dataset.storageKey)"
        assert page.evaluate(pending) is None  # nothing left to send again
    finally:
        mark_lucie("present")
