"""WordPress exports (WXR: RSS 2.0 with the ``wp:`` namespace). Posts become entries with their dates,
categories and tags; pages, menu items, attachment records, trashed posts and other content types
are listed as skipped, with the reason. Attachments are not imported: an export holds only their
address on the old site, never the file (and nothing is fetched from the Internet)."""

from __future__ import annotations

import datetime as dt
import re
from xml.etree.ElementTree import Element

from flask_babel import lazy_gettext as _l

from importers.errors import ImportRefused
from importers.journal import (
    CONTENT,
    MAX_XML_BYTES,
    WP_PREFIX,
    ImportedEntry,
    JournalFile,
    clean_tags,
    one_line,
    parse_datetime,
    text,
)
from importers.safety import check_size, parse_xml

WHAT = {
    "page": _l("Page"), "nav_menu_item": _l("Élément de menu"), "attachment": _l("Pièce jointe"),
}
REASONS = {
    "page": _l("page du site, pas un article : non importée."),
    "nav_menu_item": _l("élément du menu du site : non importé."),
    "attachment": _l("l'export WordPress ne contient que l'adresse du fichier sur l'ancien site, pas le fichier."),
}
DRAFT_STATUSES = {"draft", "pending", "future", "auto-draft"}
UNCATEGORISED = {"uncategorized", "non-classe", "non-classé"}


def _wp_namespace(root: Element) -> str:
    for node in root.iter():
        if isinstance(node.tag, str) and node.tag.startswith(f"{{{WP_PREFIX}"):
            return node.tag[1:].split("}", 1)[0]
    raise ImportRefused(_l("Ce fichier n'est pas un export WordPress (WXR) : choisissez « Outils › Exporter » "
                           "dans WordPress."))


def _utc(element: Element | None) -> dt.datetime | None:
    """WordPress's ``*_gmt`` dates: UTC without a zone; ``0000-00-00 00:00:00`` for a draft."""
    value = text(element)
    if not value or value.startswith("0000"):
        return None
    return parse_datetime(value + "+00:00")


def _autop(body: str) -> str:
    """WordPress stores paragraphs as blank lines (its ``wpautop`` adds the ``<p>`` on display)."""
    if re.search(r"<(p|div|h[1-6]|ul|ol|blockquote|figure|table)[\s>]", body, re.IGNORECASE):
        return body
    return "".join(f"<p>{part.strip()}</p>" for part in re.split(r"\n\s*\n", body) if part.strip())


def parse_wordpress(data: bytes, filename: str = "") -> JournalFile:
    check_size(data, MAX_XML_BYTES)
    root = parse_xml(data)
    if root.tag != "rss" or root.find("channel") is None:
        raise ImportRefused(_l("Ce fichier n'est pas un export WordPress (WXR)."))
    wp = _wp_namespace(root)
    channel = root.find("channel")
    assert channel is not None
    result = JournalFile("wordpress", title=one_line(text(channel.find("title"))))
    for item in channel.findall("item"):
        title = one_line(text(item.find("title")))
        post_type = text(item.find(f"{{{wp}}}post_type")) or "post"
        status = text(item.find(f"{{{wp}}}status"))
        if post_type != "post":
            result.skip(WHAT.get(post_type, post_type), title,
                        REASONS.get(post_type, _l("contenu de type « %(kind)s », pas un article : non importé.",
                                                  kind=post_type[:40])))
            continue
        if status == "trash":
            result.skip(_l("Article"), title, _l("article mis à la corbeille : non importé."))
            continue
        published = (_utc(item.find(f"{{{wp}}}post_date_gmt")) or parse_datetime(text(item.find(f"{{{wp}}}post_date")))
                     or parse_datetime(text(item.find("pubDate"))))
        tags = [one_line(text(c)) for c in item.findall("category")
                if c.get("domain") in ("category", "post_tag") and c.get("nicename", "").lower() not in UNCATEGORISED]
        content = item.find(f"{{{CONTENT}}}encoded")
        result.add(ImportedEntry(
            title=title, html=_autop((content.text or "") if content is not None else ""), published=published,
            updated=_utc(item.find(f"{{{wp}}}post_modified_gmt")),
            tags=clean_tags(tags), draft=status in DRAFT_STATUSES, source_id=text(item.find("guid"))[:200],
        ))
    return result
