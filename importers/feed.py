"""RSS and Atom feeds (a blog's feed, or a Blogger export): items become entries with their dates and
categories as tags. In a Blogger export, comments, settings, templates and pages are skipped, with the
reason."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from flask_babel import lazy_gettext as _l

from importers.errors import ImportRefused
from importers.journal import (
    APP,
    ATOM,
    CONTENT,
    DC,
    MAX_XML_BYTES,
    RDF,
    ImportedEntry,
    JournalFile,
    atom_entry,
    atom_title,
    clean_tags,
    one_line,
    parse_datetime,
    text,
)
from importers.safety import check_size, parse_xml

RSS1 = "http://purl.org/rss/1.0/"
KIND_SCHEME = "http://schemas.google.com/g/2005#kind"
BLOGGER_KINDS = {
    "comment": (_l("Commentaire"), _l("commentaire d'un lecteur : non importé.")),
    "settings": (_l("Réglage"), _l("réglage du blog : non importé.")),
    "template": (_l("Modèle"), _l("modèle de mise en page : non importé.")),
    "page": (_l("Page"), _l("page du blog, pas un article : non importée.")),
}
# Atom categories kept as tags: no scheme, Blogger's labels, WordPress's and other blogs' (a URL scheme).
_NOT_TAGS = {KIND_SCHEME}


def parse_feed(data: bytes, filename: str = "") -> JournalFile:
    check_size(data, MAX_XML_BYTES)
    root = parse_xml(data)
    if root.tag == f"{{{ATOM}}}feed":
        return _atom(root)
    if root.tag == "rss" and root.find("channel") is not None:
        channel = root.find("channel")
        assert channel is not None
        return _rss(one_line(text(channel.find("title"))), channel.findall("item"), "")
    if root.tag == f"{{{RDF}}}RDF":
        channel = root.find(f"{{{RSS1}}}channel")
        return _rss(one_line(text(channel.find(f"{{{RSS1}}}title"))) if channel is not None else "",
                    root.findall(f"{{{RSS1}}}item"), RSS1)
    raise ImportRefused(_l("Ce fichier n'est pas un flux RSS ou Atom."))


def _atom(root: Element) -> JournalFile:
    result = JournalFile("feed", title=atom_title(root.find(f"{{{ATOM}}}title")))
    for element in root.findall(f"{{{ATOM}}}entry"):
        kind = next((c.get("term", "").rsplit("#", 1)[-1] for c in element.findall(f"{{{ATOM}}}category")
                     if c.get("scheme") == KIND_SCHEME), "post")
        if kind != "post":
            what, reason = BLOGGER_KINDS.get(kind, (_l("Élément"), _l("ce n'est pas un article : non importé.")))
            result.skip(what, atom_title(element.find(f"{{{ATOM}}}title")), reason)
            continue
        schemes = {c.get("scheme") for c in element.findall(f"{{{ATOM}}}category")} - _NOT_TAGS
        entry = atom_entry(element, tag_schemes=tuple(schemes))
        control = element.find(f"{{{APP}}}control")
        entry.draft = control is not None and text(control.find(f"{{{APP}}}draft")).lower() == "yes"
        result.add(entry)
    return result


def _rss(title: str, items: list[Element], ns: str) -> JournalFile:
    result = JournalFile("feed", title=title)
    prefix = f"{{{ns}}}" if ns else ""
    for item in items:
        content = item.find(f"{{{CONTENT}}}encoded")
        body = content.text if content is not None and content.text else text(item.find(f"{prefix}description"))
        tags = [text(c) for c in item.findall("category")] + [text(s) for s in item.findall(f"{{{DC}}}subject")]
        published = parse_datetime(text(item.find("pubDate"))) or parse_datetime(text(item.find(f"{{{DC}}}date")))
        result.add(ImportedEntry(
            title=one_line(text(item.find(f"{prefix}title"))), html=body or "", published=published,
            tags=clean_tags(tags), source_id=(text(item.find("guid")) or text(item.find(f"{prefix}link")))[:200],
        ))
    return result
