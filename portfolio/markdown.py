"""``render_markdown()``: the one place where Markdown becomes sanitised HTML.

Markdown (python-markdown) renders, then bleach keeps only an allowlist of tags and attributes:
no script, no event handler, no inline style, only http(s) and mailto links. Links get
``rel="nofollow noopener"``. Bleach is deprecated upstream; swapping it means changing this file only.
The HTML is rendered once, when an entry is written, and stored beside its source.
"""

from __future__ import annotations

from functools import partial

import bleach
import markdown as md
from bleach.linkifier import LinkifyFilter

ALLOWED_TAGS = frozenset({
    "a", "abbr", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "li", "ol", "p", "pre",
    "strong", "ul", "del", "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "abbr": ["title"], "th": ["scope"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
_EXTENSIONS = ["sane_lists", "tables", "nl2br"]


def _set_rel(attrs: dict[tuple[str | None, str], str], new: bool = False) -> dict[tuple[str | None, str], str]:
    href = attrs.get((None, "href"), "")
    if href.startswith(("http:", "https:", "mailto:")) or href.startswith("//"):
        attrs[(None, "rel")] = "nofollow noopener"
    return attrs


# Cleaning and linkifying in one pass (a second pass over cleaned HTML escaped code blocks twice).
_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"}, parse_email=False)],
)


def render_markdown(source: str) -> str:
    """Sanitised HTML for a piece of Markdown typed by a user (or imported from elsewhere)."""
    html = md.markdown(source or "", extensions=_EXTENSIONS, output_format="html")
    return _cleaner.clean(html)


def sanitise_html(html: str) -> str:
    """Sanitised HTML for HTML that comes from elsewhere (imported blogs and portfolios)."""
    return _cleaner.clean(html or "")
