"""On a 320 px phone no page of any role is wider than the screen, axe-core finds nothing, and its words are
French.

The walker (``tests/browser/walk.py``) visits every GET page of the URL map that each role may see, on the
demo data; a route added later is visited as soon as it exists. On each page:
- the document is at most 320 px wide (``document.documentElement.scrollWidth``): a wide table scrolls in
  its own frame (``.table-wrap``), a long word breaks, nothing pushes the page sideways;
- times have no seconds, hours and other decimals use a decimal comma, and "1" never takes a plural;
- axe-core finds nothing (a table frame that scrolls is reachable from the keyboard: static/js/small-screens.js).
The learner's pages are also read for plain words: no abbreviation, no inclusive-writing dot, short sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from portfolio.auth.models import Role
from tests.browser.conftest import opened_page, sign_in
from tests.browser.walk import DEMO_ACCOUNT, Walk

WIDTH = 320
HEIGHT = 568

# The words of a plural that "1" must never take (the singular of each differs).
PLURALS = ("validées", "acquises", "ateliers", "heures", "compétences", "séances", "personnes", "entrées",
           "photos", "textes", "tickets", "minutes", "jours", "niveaux", "réponses", "dossiers", "lectures",
           "places", "présences", "inscrits", "inscrites", "apprenants", "modules", "anomalies", "preuves")
TEXT_RULES = (
    ("a time with seconds", re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b")),
    ("a decimal point", re.compile(r"(?<![\w./-])\d+\.\d+(?![\w./])")),
    ("a plural after 1", re.compile(r"(?<![\d,.])\b1\s(?:" + "|".join(PLURALS) + r")\b")),
)

# The widest elements of a page that overflows, to say what to fix.
WIDEST = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(e => !e.closest('.table-wrap') || e.classList.contains('table-wrap'))
  .slice(-4).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
    + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""
# The page's words as shown, without competence codes and references (D1.1, 1.1, TN-...) nor the name of
# module 17 ("Web 2.0").
VISIBLE_TEXT = """() => { const copy = document.body.cloneNode(true);
  copy.querySelectorAll('.code, code, script, [hidden], .visually-hidden').forEach(e => e.remove());
  return copy.innerText.replaceAll('Web 2.0', 'Web').replaceAll('Open Badges 3.0', 'Open Badges'); }"""


@pytest.fixture
def narrow_page(browser: Any, walk: Walk) -> Iterator[Any]:
    # The walk opens pages whose samples answer 404 (an invitation that does not exist): Chromium logs them.
    with opened_page(browser, walk.server.url, expected=r"status of 4\d\d",
                     viewport={"width": WIDTH, "height": HEIGHT}) as page:
        yield page


def _sign_in(page: Any, username: str) -> None:
    sign_in(page, username)
    page.wait_for_load_state()


def test_no_page_of_any_role_is_wider_than_a_320_px_phone(narrow_page: Any, walk: Walk) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page = narrow_page
    problems: list[str] = []
    seen = 0
    for role, urls in walk.by_role().items():
        page.context.clear_cookies()
        if role is not None:
            _sign_in(page, DEMO_ACCOUNT[role])
        who = role.value if role else "anonymous"
        for url in urls:
            response = page.goto(url)
            assert response is not None
            if "text/html" not in (response.headers.get("content-type") or ""):
                continue
            seen += 1
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTH:
                problems.append(f"{who} {url}: {width} px wide ({', '.join(page.evaluate(WIDEST))})")
            results = axe.run(page)
            if results.violations_count:
                problems.append(f"{who} {url}: axe-core: " + "; ".join(
                    f"{v['id']} ({len(v['nodes'])})" for v in results.response["violations"]))
            text = page.evaluate(VISIBLE_TEXT)
            for what, pattern in TEXT_RULES:
                found = pattern.search(text)
                if found:
                    problems.append(f"{who} {url}: {what}: {text[max(found.start() - 30, 0):found.end() + 10]!r}")
    assert seen > 60, f"only {seen} pages walked"
    assert problems == [], "\n".join(problems)


def test_the_walk_covers_every_role_and_the_pages_named_in_the_issue(walk: Walk) -> None:
    """The walk's plan itself: every role walks its own pages, the staff pages of the issue included."""
    by_role = walk.by_role()
    assert set(by_role) == {None, *DEMO_ACCOUNT}
    urls = {url.split("?")[0] for url in sum(by_role.values(), [])}
    assert {"/epm", "/coordination/paiements", "/moi/competences", "/journal"} <= urls
    assert any(re.fullmatch(r"/epm/apprenants/\d+/entretien", u) for u in urls)


# --- The learner's pages in plain words (FALC) ----------------------------------------------------------------

ABBREVIATIONS = re.compile(r"\b(EPM|PDF|ZIP|CSV|URL|etc|cf|ex|n°|RGPD|CNIL)\b\.?|·")
MAX_WORDS = 20
# The learner's words, without what is not ours to rewrite: the official wording folded in <details
# class="official">, codes, the consent's legal text, the copy of a file as the organisation received it, the
# learner's own texts, lists of organisations to choose from, names of places. Read as shown (line breaks
# included), then the page is put back.
LEARNER_TEXT = """(names) => {
  const main = document.querySelector('main');
  const skipped = Array.from(main.querySelectorAll('.official, .code, code, .consent-text, .document-copy, '
    + '.entry-body, .entry-card > p:not(.entry-meta), select, .visually-hidden, .read-aloud, .tags, .entry-title, '
    + 'h1')).filter(e => !e.hidden);
  skipped.forEach(e => { e.hidden = true; });
  let text = main.innerText;
  skipped.forEach(e => { e.hidden = false; });
  for (const name of names) { text = text.split(name).join('Lieu'); }
  return text; }"""
# Pages whose words are rewritten elsewhere: the evidence file's send page (with its confirmation step) and
# the first sign-in with the card.
NOT_YET = ("/moi/certification", "/premiere-connexion")


def test_the_learners_pages_use_short_sentences_and_no_abbreviation(narrow_page: Any, walk: Walk) -> None:
    from portfolio.demo import ORGANISATIONS

    page = narrow_page
    names = [org.name for org in ORGANISATIONS]
    _sign_in(page, DEMO_ACCOUNT[Role.BENEFICIARY])
    problems: list[str] = []
    learner_pages = 0
    for url in walk.by_role()[Role.BENEFICIARY]:
        if url.split("?")[0] in NOT_YET or url.startswith("/premiere-connexion/"):
            continue
        response = page.goto(url)
        if "text/html" not in (response.headers.get("content-type") or "") or \
                not page.evaluate("document.body.classList.contains('learner')"):
            continue
        learner_pages += 1
        text = page.evaluate(LEARNER_TEXT, names)
        for found in ABBREVIATIONS.finditer(text):
            problems.append(f"{url}: {found.group(0)!r} in {text[max(found.start() - 40, 0):found.end() + 20]!r}")
        for sentence in re.split(r"(?<=[.!?:;])\s+|\n+", text):
            if len(sentence.split()) > MAX_WORDS:
                problems.append(f"{url}: a sentence of {len(sentence.split())} words: {sentence.strip()!r}")
    assert learner_pages >= 15, learner_pages
    assert problems == [], "\n".join(problems)
