"""Every role signs in through the browser and lands on an accessible home page, in French."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in

ROLES = [
    ("marie.dupont", "/moi", "Bonjour Marie"),
    ("animateur.cahors", "/epm", "Mon EPM"),
    ("prescripteur.cg46", "/prescripteur", "Mes tickets"),
    ("evaluateur.greta", "/evaluation", "Dossiers reçus"),
    ("coordination", "/coordination", "Coordination du dispositif"),
    ("admin", "/admin", "Administration"),
]


def test_login_page_is_accessible(page: Any) -> None:
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert_accessible(page)


def test_public_home_is_accessible(page: Any) -> None:
    page.goto("/")
    assert_accessible(page)


@pytest.mark.parametrize("username,home,heading", ROLES, ids=[r[0] for r in ROLES])
def test_each_role_signs_in_and_its_home_is_accessible(page: Any, username: str, home: str, heading: str) -> None:
    sign_in(page, username)
    page.wait_for_url(f"**{home}")
    assert heading in page.locator("h1").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/login")
    assert "Vous êtes déconnecté" in page.content()


def test_wrong_password_message_is_accessible(page: Any) -> None:
    sign_in(page, "marie.dupont", "not the password")
    assert "Identifiant ou mot de passe incorrect" in page.locator("[role=alert]").inner_text()
    assert_accessible(page)


def test_empty_form_shows_an_error_summary_tied_to_the_fields(page: Any) -> None:
    page.goto("/login")
    page.get_by_role("button", name="Se connecter").click()
    summary = page.locator(".error-summary")
    assert "Écrivez votre identifiant." in summary.inner_text()
    assert page.get_by_label("Identifiant").get_attribute("aria-invalid") == "true"
    assert_accessible(page)


def test_keyboard_skip_link_reaches_the_content(page: Any) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Aller au contenu" in focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"


def test_usable_at_320_pixels_wide(page: Any) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    font_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font_size >= 18
    assert_accessible(page)


def test_english_is_available(page: Any) -> None:
    page.goto("/login")
    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Sign in").count() == 1
    assert_accessible(page)


def test_on_a_phone_the_menu_folds_behind_a_button(page: Any) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    toggle = page.get_by_role("button", name="Menu")
    journal = page.get_by_role("link", name="Mon journal")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert not journal.is_visible()  # the page itself comes first
    assert page.locator("h1").is_visible()
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true" and journal.is_visible()
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 800})  # a wide screen: the menu is always there
    # The layout follows a media-query change event, which the browser sends after the resize: wait for it.
    expect(toggle).to_be_hidden()
    expect(journal).to_be_visible()
