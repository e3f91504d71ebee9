"""The coordinator reads the dashboard, the payments and the anomalies; the prescriber its outcome summary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in


def test_coordinator_dashboard_journey(page: Any) -> None:
    sign_in(page, "coordination")
    page.wait_for_url("**/coordination")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Tableau de bord").click()
    page.wait_for_url("**/coordination/tableau-de-bord")
    assert "Tableau de bord du dispositif" in page.locator("h1").inner_text()
    assert page.locator("svg.chart[role=img]").count() == 8
    funnel = page.locator("section", has=page.get_by_role("heading", name="Du ticket à la certification"))
    funnel.get_by_text("Voir les chiffres en tableau").click()
    assert funnel.get_by_role("table").is_visible()
    assert funnel.get_by_role("rowheader", name="Tickets émis").is_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        funnel.get_by_role("link", name="Télécharger ces chiffres").click()
    assert download.value.suggested_filename.startswith("ticketnet-parcours-")

    page.get_by_role("link", name="Compétences validées").click()
    assert "Compétences validées" in page.locator("h1").inner_text()
    assert_accessible(page)


def test_payments_and_anomalies_pages(page: Any) -> None:
    sign_in(page, "coordination")
    page.wait_for_url("**/coordination")
    page.goto("/coordination/paiements")
    assert_accessible(page)
    page.get_by_role("textbox", name="Période").fill("le mois dernier")
    page.get_by_role("button", name="Afficher").click()
    assert "Période invalide" in page.locator(".error-summary").inner_text()
    assert page.get_by_role("textbox", name="Période").input_value() == "le mois dernier"
    assert_accessible(page)
    page.get_by_role("textbox", name="Période").fill("2026-Q1")
    page.get_by_role("button", name="Afficher").click()
    assert "Relevé de la période 2026-Q1" in page.content()

    page.goto("/coordination/anomalies")
    assert "Anomalies à vérifier" in page.locator("h1").inner_text()
    assert_accessible(page)


def test_prescriber_outcome_summary(page: Any) -> None:
    sign_in(page, "prescripteur.cg46")
    page.wait_for_url("**/prescripteur")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Bilan").click()
    page.wait_for_url("**/prescripteur/bilan")
    assert "Conseil Général du Lot" in page.content()
    assert_accessible(page)


def test_dashboard_at_320_pixels(page: Any) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, "coordination")
    page.wait_for_url("**/coordination")
    page.goto("/coordination/tableau-de-bord")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert_accessible(page)


@pytest.fixture
def kept_figures(live_server: Any) -> Iterator[None]:
    """The live server keeps the dashboard's figures, as in production (the tests compute them at each visit)."""
    config = live_server.app.config
    before = config["DASHBOARD_MAX_AGE_SECONDS"]
    config["DASHBOARD_MAX_AGE_SECONDS"] = 300
    yield
    config["DASHBOARD_MAX_AGE_SECONDS"] = before


def test_kept_figures_say_when_and_are_computed_again_on_demand(page: Any, kept_figures: None) -> None:
    sign_in(page, "coordination")
    page.wait_for_url("**/coordination")
    page.goto("/coordination/tableau-de-bord")
    assert "Chiffres calculés le" in page.locator(".kept-note").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Recalculer maintenant").focus()
    page.keyboard.press("Enter")
    # The page's address does not change: wait for the new page's message, not for the address.
    expect(page.locator("main")).to_contain_text("Les chiffres viennent d'être recalculés.")
    assert_accessible(page)
    page.get_by_role("link", name="Compétences validées").click()
    expect(page.locator("h1")).to_contain_text("Compétences validées")
    page.get_by_role("button", name="Recalculer maintenant").click()
    expect(page.locator("main")).to_contain_text("Les chiffres viennent d'être recalculés.")
    assert page.url.endswith("/coordination/tableau-de-bord/competences")
    assert_accessible(page)
