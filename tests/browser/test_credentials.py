"""Badges in Chromium: a learner opens her badges, downloads one baked into a PNG picture, and a stranger
checks that file at /verifier, then a verification code with the holder's name. Every page passes axe-core,
at 320 px too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DEMO_PASSWORD, assert_accessible, sign_in


def _no_horizontal_overflow(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.expected_console_errors(r"status of 422")  # a changed badge is refused with 422, on purpose
def test_a_learner_downloads_her_badge_and_a_stranger_checks_it(page: Any, live_server: Any,
                                                               tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from portfolio.auth.passwords import hash_password
    from portfolio.auth.services import find_user
    from portfolio.extensions import db

    with live_server.app.app_context():  # Lucie's demo account signs in with a card; give her a password here
        lucie = find_user(db.session, "lucie.cayla")
        assert lucie is not None
        lucie.password_hash = hash_password(DEMO_PASSWORD)
        db.session.commit()

    sign_in(page, "lucie.cayla")
    page.wait_for_url("**/moi")
    page.get_by_role("link", name="Mes badges").first.click()
    expect(page.get_by_role("heading", name="Mes badges", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="B2i Adultes, domaine D1").click()
    expect(page.get_by_text("GRETA Quercy-Rouergue").first).to_be_visible()
    expect(page.get_by_text("Signature vérifiée : elle est correcte.")).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Image PNG").click()
    badge = tmp_path / "badge.png"
    download_info.value.save_as(badge)
    assert badge.read_bytes().startswith(b"\x89PNG")
    page.set_viewport_size({"width": 320, "height": 800})
    _no_horizontal_overflow(page)
    assert_accessible(page)
    page.goto("/moi/badges")
    _no_horizontal_overflow(page)

    # The stranger: Lucie signs out first (a request still in flight could otherwise bring her session cookie
    # back after the cookies are cleared), then the browser forgets her.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/login*")
    page.context.clear_cookies()
    page.goto("/verifier")
    assert_accessible(page)
    page.get_by_label("Le fichier du badge").set_input_files(str(badge))
    page.get_by_role("button", name="Vérifier le badge").click()
    expect(page.get_by_role("heading", name="Badge authentique")).to_be_visible()
    expect(page.get_by_text("Lucie Cayla")).to_be_visible()
    expect(page.get_by_text("non révoqué")).to_be_visible()
    assert_accessible(page)
    page.set_viewport_size({"width": 320, "height": 800})
    _no_horizontal_overflow(page)
    assert_accessible(page)

    with live_server.app.app_context():
        import sqlalchemy as sa

        from portfolio.credentials.models import Credential

        document = db.session.scalar(sa.select(Credential.document).where(Credential.kind == "certification"))
    page.get_by_label("Ou collez son texte").fill(json.dumps(document).replace("Cayla", "Caila", 1))
    page.get_by_role("button", name="Vérifier le badge").click()
    expect(page.get_by_role("heading", name="Badge refusé")).to_be_visible()
    assert_accessible(page)

    code = document["credentialSubject"]["licenseNumber"]
    page.get_by_label("Code de vérification").fill(code)
    page.get_by_label("Nom de famille de la personne").fill("CAYLA")
    page.get_by_role("button", name="Vérifier le code").click()
    expect(page.get_by_role("heading", name="Attestation authentique")).to_be_visible()
    assert code not in page.url
    assert_accessible(page)
