"""The learner's pages on an old phone: "Mes compétences" in five domains and five screens, read aloud,
boxes that keep their size, thumbnails in the journal list, and the weight and speed budget.

Figures (heights, weights, times) are printed with ``-s``; docs/benchmarks.md gives them before and after."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, opened_page, sign_in

PHONE = {"width": 320, "height": 568}
SCREENS = 5
BUDGET_BYTES = 150 * 1000
USABLE_MS = 5000
# Chromium DevTools' "Slow 3G" profile: 2 s of latency per request, 50 kB/s each way.
SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
DOMAINS = ["Se servir d'un ordinateur", "Être prudent et respecter les règles", "Faire des documents",
           "Chercher une information", "Communiquer et partager"]

# A stand-in for the browser's speech synthesis: one French voice, and every utterance kept with its rate and
# language; the test ends the reading itself (__finishReading) as a real voice would at its last word.
SPY = """(() => {
  const voices = VOICES;
  window.__spoken = []; window.__calls = []; window.__queue = [];
  class Utterance { constructor(text) { this.text = text; this.rate = 1; this.lang = ''; this.voice = null; } }
  const synth = {
    getVoices() { return voices; },
    speak(u) { window.__spoken.push({text: u.text, rate: u.rate, lang: u.lang, voice: u.voice && u.voice.name});
               window.__queue.push(u); if (window.__queue.length === 1 && u.onstart) { u.onstart({}); } },
    pause() { window.__calls.push('pause'); }, resume() { window.__calls.push('resume'); },
    cancel() { window.__calls.push('cancel'); window.__queue = []; },
    addEventListener() {},
  };
  window.__finishReading = () => { const queue = window.__queue; window.__queue = [];
    queue.forEach(u => { if (u.onstart) { u.onstart({}); } if (u.onend) { u.onend({}); } }); };
  Object.defineProperty(window, 'speechSynthesis', {value: synth, configurable: true});
  window.SpeechSynthesisUtterance = Utterance;
})();"""
FRENCH = SPY.replace("VOICES", "[{name: 'Amélie', lang: 'fr-FR', localService: true, default: true}]")
ENGLISH_ONLY = SPY.replace("VOICES", "[{name: 'Daniel', lang: 'en-GB', localService: true, default: true}]")


def spoken(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("window.__spoken")  # type: ignore[no-any-return]


# --- Mes compétences ---------------------------------------------------------------------------------------


def test_my_competences_open_as_five_domains_with_what_comes_next_within_five_screens(page: Any) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Mes compétences").click()
    page.wait_for_url("**/moi/competences")
    domains = page.locator("section.domain-card")
    expect(domains).to_have_count(5)
    assert domains.locator("h2").all_inner_texts() == DOMAINS
    for domain in domains.all():
        text = domain.inner_text()
        assert "sur" in domain.locator(".domain-summary").inner_text()
        assert "Ensuite :" in text or "Bravo" in text
    assert page.locator("details[open]").count() == 0  # everything else is folded
    # The device has no French voice: the page says why it cannot read aloud (and the message counts too).
    expect(page.locator(".read-aloud-missing")).to_be_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"\n/moi/competences at 320 px: {height} px, {height / PHONE['height']:.1f} screens")
    assert height <= SCREENS * PHONE["height"], height
    assert_accessible(page)

    # The official wording, one tap away from the everyday words.
    first = domains.first
    first.get_by_text("Voir le détail").click()
    competence = first.locator("li.competence").first
    expect(competence.locator("h3")).to_have_text("Connaître l'ordinateur et ses appareils")
    expect(competence.locator(".example")).to_contain_text("Je sais me servir de la souris et du clavier.")
    official = competence.locator("details.official")
    expect(official.get_by_text("Utiliser le vocabulaire spécifique")).to_be_hidden()
    official.locator("summary").click()
    expect(official.get_by_text("Utiliser le vocabulaire spécifique")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)


# --- Read aloud ----------------------------------------------------------------------------------------------


def test_an_entry_is_read_aloud_slowly_in_french_with_pause_and_stop_from_the_keyboard(page: Any) -> None:
    page.add_init_script(FRENCH)
    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    page.goto("/journal")
    first = page.locator(".entry-card").first
    title = first.locator(".entry-title").inner_text()
    control = first.locator(".read-aloud")
    expect(control).to_be_visible()
    expect(page.locator(".read-aloud-missing")).to_be_hidden()
    assert_accessible(page)

    control.get_by_role("button", name="Écouter").focus()
    page.keyboard.press("Enter")
    said = spoken(page)
    assert said[0]["text"] == title
    assert all(s["lang"] == "fr-FR" and s["voice"] == "Amélie" for s in said)
    assert all(s["rate"] == 0.9 for s in said)  # a little slower than usual
    excerpt = first.locator("p").filter(has_not=page.locator("time")).first.inner_text()
    assert any(excerpt[:40] in s["text"] for s in said)
    assert not any("Écouter" in s["text"] or "Plus lentement" in s["text"] for s in said)
    pause = control.get_by_role("button", name="Pause")
    expect(pause).to_be_focused()  # the keyboard goes on from where it is
    expect(first.locator(".is-read-aloud")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(control.get_by_role("button", name="Reprendre")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(control.get_by_role("button", name="Arrêter")).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("window.__calls") == ["pause", "resume", "cancel"]
    expect(control.get_by_role("button", name="Écouter")).to_be_focused()
    expect(first.locator(".is-read-aloud")).to_have_count(0)

    # Slower still, remembered on the device; the reading ends by itself and Escape stops one in progress.
    page.keyboard.press("Tab")  # Pause and Arrêter are hidden again
    expect(control.get_by_label("Plus lentement")).to_be_focused()
    page.keyboard.press("Space")
    page.evaluate("window.__spoken = []")
    control.get_by_role("button", name="Écouter").click()
    assert {s["rate"] for s in spoken(page)} == {0.7}
    page.evaluate("window.__finishReading()")
    expect(control.get_by_role("button", name="Écouter")).to_be_visible()
    page.goto("/journal")
    expect(page.locator(".entry-card").first.get_by_label("Plus lentement")).to_be_checked()

    # The entry's own page: the whole text is read, body included.
    page.get_by_role("link", name=title).click()
    page.evaluate("window.__spoken = []")
    page.locator("main > .read-aloud").get_by_role("button", name="Écouter").click()
    body = page.locator(".entry-body").inner_text().split("\n")[0]
    assert any(body[:30] in s["text"] for s in spoken(page))
    page.keyboard.press("Escape")
    assert page.evaluate("window.__calls") == ["cancel"]  # a new page: its own spy


def test_reading_aloud_is_hidden_and_explained_where_the_device_has_no_french_voice(browser: Any,
                                                                                    live_server: Any) -> None:
    for init in (ENGLISH_ONLY, None):  # an English voice only; no voice at all (headless Chromium)
        with opened_page(browser, live_server.url) as page:
            if init:
                page.add_init_script(init)
            sign_in(page, "marie.dupont")
            page.wait_for_url("**/moi")
            message = page.locator(".read-aloud-missing")
            expect(message).to_be_visible()
            expect(message).to_have_text("Cet appareil n'a pas de voix en français : "
                                         "il ne peut pas lire la page à voix haute.")
            assert page.locator(".read-aloud:visible").count() == 0
            assert_accessible(page)


# --- Boxes, thumbnails -----------------------------------------------------------------------------------------


BOXES = """() => Array.from(document.querySelectorAll('input[type=radio], input[type=checkbox]'))
  .filter(i => i.getClientRects().length).map(i => { const r = i.getBoundingClientRect();
    const label = i.closest('label'); const lines = label ? label.getBoundingClientRect().height /
      parseFloat(getComputedStyle(label).lineHeight) : 1;
    return {name: label ? label.innerText.trim().slice(0, 40) : i.name, width: r.width, height: r.height, lines}; })"""


def test_radio_buttons_and_check_boxes_keep_their_size_beside_labels_of_two_lines(page: Any) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, "marie.dupont")
    page.wait_for_url("**/moi")
    boxes = []
    for url in ("/journal/nouveau", "/moi/competences/je-me-positionne", "/moi/partage/nouveau"):
        page.goto(url)
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        boxes += [{**b, "url": url} for b in page.evaluate(BOXES)]
    assert sum(1 for b in boxes if b["lines"] >= 2) >= 3, "not enough labels of two lines to try"
    assert {(round(b["width"]), round(b["height"])) for b in boxes} == {(27, 27)}, [
        b for b in boxes if (round(b["width"]), round(b["height"])) != (27, 27)]


def test_the_journal_list_shows_small_thumbnails_loaded_when_seen(browser: Any, walk: Any) -> None:
    from portfolio.auth.services import find_user
    from portfolio.extensions import db
    from portfolio.journal.models import JournalEntry
    from portfolio.journal.storage import FolderStorage
    from tests import factories

    app = walk.server.app
    with app.app_context():
        marie = find_user(db.session, "marie.dupont")
        entry = factories.journal_entry(db.session, marie, title="Le marché de Cahors")
        for alt in ("Les fraises du marché", "La halle", "Le pont Valentré", "La cathédrale"):
            factories.photo(db.session, FolderStorage(app.config["UPLOAD_DIR"]), entry, alt_text=alt)
        assert db.session.get(JournalEntry, entry.id) is not None
        db.session.commit()
    with opened_page(browser, walk.server.url, viewport=PHONE) as page:
        sign_in(page, "marie.dupont")
        page.wait_for_url("**/moi")
        page.goto("/journal")
        card = page.locator(".entry-card", has_text="Le marché de Cahors")
        expect(card.locator(".badge", has_text="4 photos")).to_be_visible()
        thumbs = card.locator(".entry-thumbs img")
        expect(thumbs).to_have_count(3)
        expect(card.get_by_text("Et 1 autre photo.")).to_be_visible()
        assert thumbs.first.get_attribute("loading") == "lazy"
        assert thumbs.first.get_attribute("alt") == "Les fraises du marché"
        card.scroll_into_view_if_needed()
        expect(thumbs.first).to_have_js_property("complete", True)
        width = thumbs.first.evaluate("img => [img.getBoundingClientRect().width, img.naturalWidth]")
        assert width[0] <= 120 and width[1] > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert_accessible(page)


# --- The budget: weight on a first visit, and on a slow 3G connection --------------------------------------


@pytest.fixture
def learner_cookies(browser: Any, walk: Any) -> list[dict[str, Any]]:
    with opened_page(browser, walk.server.url) as page:
        sign_in(page, "marie.dupont")
        page.wait_for_url("**/moi")
        return page.context.cookies()  # type: ignore[no-any-return]


# When the page was first painted (the entry may come a moment after the load event).
FIRST_PAINT = """() => new Promise(resolve => new PerformanceObserver((list, observer) => {
  const paint = list.getEntriesByName('first-contentful-paint')[0];
  if (paint) { observer.disconnect(); resolve(paint.startTime); }
}).observe({type: 'paint', buffered: true}))"""


def first_visit(browser: Any, base_url: str, cookies: list[dict[str, Any]], url: str,
                network: dict[str, Any] | None = None) -> dict[str, Any]:
    """Open ``url`` in a new context (an empty cache), signed in; the bytes received (photos apart) and when
    the page was shown and ready (its scripts run)."""
    # The walk's samples include pages that answer 404 (an invitation that does not exist): Chromium logs them.
    with opened_page(browser, base_url, expected=r"status of 404", viewport=PHONE) as page:
        page.context.add_cookies(cookies)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        if network:
            cdp.send("Network.emulateNetworkConditions", network)
        urls: dict[str, str] = {}
        received: dict[str, int] = {}
        cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.loadingFinished", lambda e: received.__setitem__(e["requestId"], e["encodedDataLength"]))
        response = page.goto(url, wait_until="load")
        assert response is not None
        timing = json.loads(page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])"))
        paint = page.evaluate(FIRST_PAINT)
        learner = page.evaluate("document.body.classList.contains('learner')")
        weight = sum(size for rid, size in received.items() if "/journal/photos/" not in urls.get(rid, ""))
        return {"bytes": weight, "ready": timing["domContentLoadedEventEnd"], "shown": paint, "learner": learner,
                "ok": response.ok}


def test_learner_pages_weigh_at_most_150_kb_on_a_first_visit(browser: Any, walk: Any,
                                                             learner_cookies: list[dict[str, Any]]) -> None:
    from portfolio.auth.models import Role

    heaviest: list[tuple[int, str]] = []
    for url in walk.by_role()[Role.BENEFICIARY]:
        if url.startswith("/premiere-connexion"):
            continue
        visit = first_visit(browser, walk.server.url, learner_cookies, url)
        if visit["learner"] and visit["ok"]:
            heaviest.append((visit["bytes"], url))
    heaviest.sort(reverse=True)
    print("\nFirst visit, photos apart:", ", ".join(f"{url} {size / 1000:.1f} kB" for size, url in heaviest))
    assert len(heaviest) >= 15
    assert heaviest[0][0] <= BUDGET_BYTES, heaviest[:3]


@pytest.mark.parametrize("url", ["/moi", "/journal", "/journal/nouveau", "/moi/competences", "/portfolio",
                                 "/moi/partage/consultations"])
def test_learner_pages_are_usable_within_5_s_on_slow_3g(browser: Any, walk: Any,
                                                       learner_cookies: list[dict[str, Any]], url: str) -> None:
    visit = first_visit(browser, walk.server.url, learner_cookies, url, network=SLOW_3G)
    assert visit["ok"] and visit["learner"], visit
    print(f"\n{url} on slow 3G: shown at {visit['shown']:.0f} ms, ready at {visit['ready']:.0f} ms, "
          f"{visit['bytes'] / 1000:.1f} kB")
    assert visit["shown"] is not None and visit["shown"] <= USABLE_MS, visit
    assert visit["ready"] <= USABLE_MS, visit
