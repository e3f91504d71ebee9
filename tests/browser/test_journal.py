"""The learner's journal in Chromium: write with a photo, lose the connection, lose the session,
and never lose a word; every page passes axe-core, at 320 px, at 200 % zoom and with the keyboard."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DEMO_PASSWORD, assert_accessible, sign_in, user_id
from tests.test_photos import phone_photo

# What Chromium itself logs when a request fails on purpose in these tests (offline, session expired).
NETWORK_FAILURES = pytest.mark.expected_console_errors(r"status of 401|ERR_INTERNET_DISCONNECTED|Failed to fetch")


def start_entry(page: Any, title: str) -> None:
    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    page.get_by_role("link", name="Mon journal").click()
    page.get_by_role("link", name="Écrire un nouveau texte").click()
    page.wait_for_url("**/journal/nouveau")
    page.get_by_label("Titre").fill(title)


def end_sessions_of(live_server: Any, username: str) -> None:
    """End every session of this person on the server (a cookie set by a request still in flight when the
    browser's cookies are cleared would otherwise bring the session back)."""
    from portfolio.auth.services import find_user
    from portfolio.extensions import db

    with live_server.app.app_context():
        user = find_user(db.session, username)
        assert user is not None
        user.session_version += 1
        db.session.commit()


def wait_for_autosave(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#save-status")).to_contain_text("Enregistré à", timeout=15_000)


def body(page: Any) -> Any:
    return page.get_by_label("Ce que j'ai fait, ce que j'ai appris")


def test_write_an_entry_with_a_photo(page: Any, tmp_path: Path) -> None:
    start_entry(page, "Au jardin partagé")
    assert_accessible(page)
    text = body(page)
    text.fill("J'ai pris mes tomates en photo avec mon téléphone. ")
    text.press("End")
    page.get_by_role("button", name="Gras").click()  # the toolbar inserts **texte**, selected
    page.keyboard.type("fières")
    photo = tmp_path / "IMG_2024.jpg"
    photo.write_bytes(phone_photo(2400, 1800))
    page.set_input_files("#photos", str(photo))
    page.get_by_label("Ce que montre la photo").fill("Mes tomates au soleil")
    page.get_by_label("Partagé avec mon animateur ou animatrice").check()
    page.get_by_role("button", name="Publier").click()
    page.wait_for_url(re.compile(r"/journal/\d+$"))
    assert "Votre texte est publié" in page.locator(".flashes").inner_text()
    assert page.locator("h1").inner_text() == "Au jardin partagé"
    assert page.locator(".entry-body strong").inner_text() == "fières"
    image = page.get_by_role("img", name="Mes tomates au soleil")
    image.wait_for()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())
    assert_accessible(page)
    page.get_by_role("link", name="← Retour au journal").click()
    assert "Au jardin partagé" in page.locator(".entry-list").inner_text()
    assert_accessible(page)


@NETWORK_FAILURES
def test_a_lost_connection_loses_no_word(page: Any) -> None:
    context = page.context
    start_entry(page, "Sans internet")
    body(page).fill("Première phrase écrite en ligne.")
    wait_for_autosave(page)
    context.set_offline(True)
    body(page).press("End")
    page.keyboard.type(" Deuxième phrase, écrite sans connexion.")
    page.get_by_role("button", name="Publier").click()
    status = page.locator("#save-status")
    assert "Pas de connexion internet" in status.inner_text()
    kept = page.evaluate("Object.keys(localStorage).map(k => localStorage.getItem(k)).join(' ')")
    assert "Deuxième phrase, écrite sans connexion." in kept
    context.set_offline(False)  # the connection comes back: the text is published by itself
    page.wait_for_url(re.compile(r"/journal/\d+$"), timeout=15_000)
    assert page.locator(".entry-body").inner_text() == (
        "Première phrase écrite en ligne. Deuxième phrase, écrite sans connexion.")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('ticketnet.journal')).length") == 0


@NETWORK_FAILURES
@pytest.mark.parametrize("autosaved_first", [True, False], ids=["after-autosave", "before-any-save"])
def test_an_expired_session_loses_no_word(page: Any, live_server: Any, autosaved_first: bool) -> None:
    context = page.context
    title = f"Session expirée {'après' if autosaved_first else 'avant'} un enregistrement"
    start_entry(page, title)
    body(page).fill("Ce que j'ai écrit avant.")
    if autosaved_first:
        wait_for_autosave(page)
    end_sessions_of(live_server, "marie.dupont")  # the session has expired while the learner was writing
    context.clear_cookies()
    body(page).press("End")
    page.keyboard.type(" Et tout ce que j'ai écrit après.")
    page.get_by_role("button", name="Publier").click()
    alert = page.locator("#session-lost")
    alert.wait_for(state="visible")
    assert "Votre session a expiré" in alert.inner_text()
    assert_accessible(page)
    alert.get_by_role("link", name="Me reconnecter et publier mon texte").click()
    page.wait_for_url(re.compile(r"/login\?next="))
    page.get_by_label("Identifiant").fill("marie.dupont")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/journal/\d+$"), timeout=15_000)
    assert page.locator("h1").inner_text() == title
    assert page.locator(".entry-body").inner_text() == "Ce que j'ai écrit avant. Et tout ce que j'ai écrit après."
    page.get_by_role("link", name="← Retour au journal").click()
    assert page.locator(".entry-list").inner_text().count(title) == 1  # published once, no stray draft


STORED = "Object.keys(localStorage).map(k => k + '=' + localStorage.getItem(k)).join(' ')"


@pytest.mark.expected_console_errors(r"ERR_FAILED|Failed to fetch")
def test_signing_out_leaves_no_readable_text_on_the_computer(page: Any) -> None:
    """At an EPM, after "Se déconnecter", the next person finds nothing readable in the browser's storage:
    what the server did not have yet is sealed (AES-GCM, with a key only her signed-in pages get), and comes
    back when she signs in again; what the server had is gone."""
    start_entry(page, "Mes dettes")
    page.route("**/enregistrer", lambda route: route.abort())  # the server does not get it (yet)
    body(page).fill("Ce que je dois au propriétaire, à ne montrer à personne.")
    page.wait_for_function("Object.values(localStorage).some(v => v.includes('propriétaire'))")
    page.unroute("**/enregistrer")
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r".*/login$"))
    left = page.evaluate(STORED)
    assert "propriétaire" not in left and "Mes dettes" not in left
    assert "ticketnet.sealed." in left and "ticketnet.journal." not in left
    # She signs in again on this computer: her text is there, as the editor left it.
    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    page.goto("/journal/nouveau")
    page.wait_for_function("document.getElementById('body_md').value.includes('propriétaire')")
    assert page.get_by_label("Titre").input_value() == "Mes dettes"
    assert "ticketnet.sealed." not in page.evaluate(STORED)
    # Sent this time: at sign-out nothing at all stays on the computer.
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_url(re.compile(r"/journal/\d+/modifier$"))
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r".*/login$"))
    left = page.evaluate(STORED)
    assert "ticketnet.sealed." not in left and "ticketnet.journal." not in left and "propriétaire" not in left


def test_without_javascript_an_expired_session_loses_no_word(browser: Any, live_server: Any) -> None:
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        start_entry(page, "Écrit sans JavaScript")
        body(page).fill("Mon téléphone est ancien. Mais j'écris quand même.")
        end_sessions_of(live_server, "marie.dupont")
        context.clear_cookies()  # the session expired while the learner was writing
        page.get_by_role("button", name="Publier").click()
        page.wait_for_url(re.compile(r"/login\?next="))
        assert "Votre texte est gardé. Connectez-vous : il sera publié." in page.locator(".flashes").inner_text()
        page.get_by_label("Identifiant").fill("marie.dupont")
        page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Se connecter", exact=True).click()
        page.wait_for_url(re.compile(r"/journal/\d+$"))
        assert "Votre texte est publié" in page.locator(".flashes").inner_text()
        assert page.locator("h1").inner_text() == "Écrit sans JavaScript"
        assert page.locator(".entry-body").inner_text() == "Mon téléphone est ancien. Mais j'écris quand même."
    finally:
        context.close()


def test_journal_with_the_keyboard_alone(page: Any) -> None:
    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    page.goto("/journal")

    def tab_to(name: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            label = page.evaluate("(document.activeElement.labels && document.activeElement.labels[0] ? "
                                  "document.activeElement.labels[0].textContent : document.activeElement.textContent)"
                                  " || ''")
            if name in label:
                return
        raise AssertionError(f"{name!r} cannot be reached with Tab")

    tab_to("Écrire un nouveau texte")
    page.keyboard.press("Enter")
    page.wait_for_url("**/journal/nouveau")
    tab_to("Titre")
    page.keyboard.type("Au clavier")
    tab_to("Ce que j'ai fait")
    page.keyboard.type("Sans souris du tout.")
    tab_to("Publier")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/journal/\d+$"))
    assert page.locator(".entry-body").inner_text() == "Sans souris du tout."


@pytest.mark.parametrize("width", [320, 640], ids=["320px", "zoom-200pc"])
def test_journal_pages_fit_small_screens_and_zoom(page: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 700})
    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    for url in ("/journal", "/journal/nouveau", "/portfolio", "/portfolio/choisir", "/mes-donnees",
                "/mes-donnees/supprimer-mon-compte"):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (url, overflow)
        assert_accessible(page)


def test_the_epm_reads_what_is_shared_with_it(page: Any, live_server: Any) -> None:
    marie_id = user_id(live_server, "marie.dupont")
    sign_in(page, "animateur.cahors")
    page.wait_for_url("**/epm")
    page.goto(f"/journal/apprenant/{marie_id}")
    assert "Journal de Marie Dupont" in page.locator("h1").inner_text()
    listed = page.locator(".entry-list").inner_text()
    assert "Écrire un courriel" in listed and "Ma première séance" not in listed  # that one is private
    assert_accessible(page)
    page.get_by_role("link", name="Écrire un courriel").click()
    assert "Aujourd'hui j'ai écrit à ma fille." in page.locator(".entry-body").inner_text()
    assert_accessible(page)
