"""Browser journeys of issue 9: the idle-session warning with its button to stay (RGAA 13.1), changing
the password, and single sign-on end to end with a real OpenID Provider (npm oidc-provider): an
animator invites a learner, the learner links her account at the provider, signs out everywhere,
and signs in again through the provider."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portfolio import create_app
from portfolio.auth import services as accounts
from portfolio.auth.models import Role
from portfolio.auth.passwords import hash_password
from portfolio.bootstrap import initialise
from portfolio.demo import create_demo
from portfolio.extensions import db
from portfolio.orgs.models import Organisation
from tests.browser.conftest import DEMO_PASSWORD, LiveServer, assert_accessible, sign_in
from tests.conftest import app_overrides
from tests.databases import fresh_database
from tests.oidc.provider import free_port, openid_provider


def _new_learner(app: Any, username: str) -> None:
    with app.app_context():
        epm = db.session.query(Organisation).filter_by(code="epm-cahors").one()
        user = accounts.create_user(db.session, username, password_hash=hash_password(DEMO_PASSWORD),
                                    first_name="Odile", last_name="Test")
        accounts.add_membership(db.session, user, epm, Role.BENEFICIARY)
        db.session.commit()


def test_the_idle_session_is_announced_with_a_button_to_stay(page: Any) -> None:
    page.clock.install()
    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    dialog = page.locator("#session-timeout")
    assert not dialog.is_visible()
    page.clock.fast_forward("27:00")
    assert not dialog.is_visible()
    page.clock.fast_forward("01:30")  # two minutes before the end
    assert dialog.is_visible()
    assert "Êtes-vous toujours là ?" in dialog.inner_text()
    assert page.evaluate("document.activeElement.dataset.sessionAction") == "stay"
    assert_accessible(page)
    page.get_by_role("button", name="Rester connecté").click()
    dialog.wait_for(state="hidden")
    page.clock.fast_forward("25:00")  # the session was extended: still no warning
    assert not dialog.is_visible()
    page.clock.fast_forward("06:00")  # nobody answered this time: the session is over
    assert dialog.is_visible() and "Vous avez été déconnecté" in dialog.inner_text()
    assert dialog.get_by_role("link", name="Me reconnecter").get_attribute("href") == "/login?next=/moi"
    assert_accessible(page)


def test_changing_the_password(page: Any, live_server: LiveServer) -> None:
    _new_learner(live_server.app, "odile.browser")
    sign_in(page, "odile.browser")
    page.wait_for_url("**/moi")
    page.get_by_role("link", name="Mon compte").click()
    assert_accessible(page)
    page.get_by_role("link", name="Changer mon mot de passe").click()
    page.get_by_label("Nouveau mot de passe").fill("azerty123456")
    page.get_by_label("Le même mot de passe, une deuxième fois").fill("azerty123456")
    page.get_by_role("button", name="Enregistrer mon nouveau mot de passe").click()
    assert "trop courant" in page.locator(".error-summary").inner_text()
    assert page.get_by_label("Nouveau mot de passe").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    page.get_by_label("Nouveau mot de passe").fill("noisette lavande et truffe")
    page.get_by_label("Le même mot de passe, une deuxième fois").fill("noisette lavande et truffe")
    page.get_by_label("Afficher ce que j'ai tapé").check()
    assert page.get_by_label("Nouveau mot de passe").get_attribute("type") == "text"
    page.get_by_role("button", name="Enregistrer mon nouveau mot de passe").click()
    page.wait_for_url("**/compte")
    assert "Votre mot de passe est changé" in page.locator(".flash").inner_text()
    page.get_by_role("button", name="Se déconnecter").first.click()
    sign_in(page, "odile.browser", "noisette lavande et truffe")
    page.wait_for_url("**/moi")


# --- Single sign-on ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sso_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A live server of its own, configured with the provider, and the provider pointing back at it."""
    provider_port = free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    instance: Path = tmp_path_factory.mktemp("live-sso")
    with fresh_database(database_url) as url:
        settings = {"discovery_url": f"{issuer}/.well-known/openid-configuration", "client_id": "ticketnet-tests",
                    "client_secret": "a-client-secret-for-the-tests-only-0123456789", "label": "Portail test"}
        app = create_app(app_overrides(url, instance, PROPAGATE_EXCEPTIONS=False,
                                       OIDC_PROVIDERS={"test": settings}))
        initialise(app)
        with app.app_context():
            create_demo(db.session, app.config["SECRET_KEY"], DEMO_PASSWORD)
            db.session.commit()
        with LiveServer(app) as server, openid_provider(
                [f"{server.url}/connexion/externe/test/retour"], [f"{server.url}/login"], port=provider_port,
        ) as running:
            yield {"server": server, "issuer": running["issuer"]}
        db.state(app).engine.dispose()


@pytest.fixture
def sso_browser(browser: Any, sso_server: dict[str, Any]) -> Iterator[Any]:
    """New browser windows on the single sign-on server; any JavaScript or console error fails the test."""
    contexts, errors = [], []

    def new_window() -> Any:
        context = browser.new_context(base_url=sso_server["server"].url, locale="fr-FR")
        context.set_default_timeout(10_000)
        # The provider's development pages ask for a web font: answer locally (no Internet here).
        context.route(re.compile(r"^https://fonts\.googleapis\.com/.*"),
                      lambda route: route.fulfill(status=200, content_type="text/css", body=""))
        contexts.append(context)
        window = context.new_page()
        window.on("pageerror", lambda exc: errors.append(str(exc)))
        window.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        return window

    yield new_window
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors or console errors (CSP violations included): {errors}"


def _at_the_provider(window: Any, login: str) -> None:
    window.locator("input[name=login]").fill(login)
    window.locator("input[name=password]").fill("anything")
    window.get_by_role("button", name="Sign-in").click()
    consent = window.get_by_role("button", name="Continue")
    if consent.count():
        consent.click()


def test_single_sign_on_linked_by_the_learner_herself_to_sign_out(sso_browser: Any, sso_server: dict[str, Any]) -> None:
    issuer = sso_server["issuer"]
    # Her animator may not create a way into her account: the page says she links it herself.
    animator = sso_browser()
    sign_in(animator, "animateur.cahors")
    animator.wait_for_url("**/epm")
    animator.get_by_role("link", name="Connexion externe").click()
    assert_accessible(animator)
    animator.get_by_label("Nom ou identifiant").fill("dupont")
    animator.get_by_role("button", name="Chercher").click()
    animator.get_by_role("link", name="Gérer la connexion externe de Marie Dupont").click()
    assert animator.get_by_role("button", name="Créer une invitation").count() == 0
    assert "relie elle-même son compte externe" in animator.locator("main").inner_text()
    assert_accessible(animator)

    # Marie, signed in with her password, links the account she has at the portal from "Mon compte".
    marie = sso_browser()
    sign_in(marie, "marie.dupont")
    marie.wait_for_url("**/moi")
    marie.get_by_role("link", name="Mon compte").click()
    assert_accessible(marie)
    marie.get_by_role("button", name="Relier mon compte Portail test").click()
    marie.wait_for_url(f"{issuer}/**")
    _at_the_provider(marie, "marie-au-portail")  # the portal asks who she is (prompt=login)
    marie.wait_for_url("**/compte")
    assert "votre compte Portail test est relié" in marie.locator(".flash").inner_text()
    assert "Je peux me connecter avec Portail test" in marie.locator("main").inner_text()

    marie.get_by_role("button", name="Se déconnecter").click()
    marie.wait_for_url(re.compile(r".*/login$"))

    # Next time, the portal alone signs her in (still signed in there: straight back), and the new way in is
    # announced, then listed.
    marie.get_by_role("button", name="Se connecter avec Portail test").click()
    marie.wait_for_url(lambda url: url.startswith(issuer) or url.endswith("/moi"))
    if marie.url.startswith(issuer):
        _at_the_provider(marie, "marie-au-portail")
    marie.wait_for_url("**/moi")
    assert "Bonjour Marie" in marie.locator("h1").inner_text()
    announced = marie.locator(".ways-in")
    assert "une nouvelle façon d'entrer dans votre compte" in announced.inner_text()
    assert_accessible(marie)
    announced.get_by_role("button", name="Voir qui s'est connecté").click()
    marie.wait_for_url("**/compte/connexions")
    assert "Un compte externe (portail, FranceConnect…) a été relié" in marie.locator("main").inner_text()
    assert marie.locator(".ways-in").count() == 0
    assert_accessible(marie)
    marie.set_viewport_size({"width": 320, "height": 700})
    overflow = marie.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0

    # Signing out of Ticket Net also signs her out of the portal (RP-initiated logout).
    marie.get_by_role("button", name="Se déconnecter").click()
    marie.wait_for_url(f"{issuer}/**")
    marie.get_by_role("button", name="Yes, sign me out").click()
    marie.wait_for_url(re.compile(r".*/login(\?.*)?$"))  # the provider adds the state it was given
    assert "Vous êtes déconnecté" in marie.locator(".flash").inner_text()
    assert_accessible(marie)
