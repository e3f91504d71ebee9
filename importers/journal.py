"""What the journal importers produce (entries, images, what was skipped and why), and what the three
formats share: Atom entries (LEAP2A is Atom), dates as blogs write them, tags, and format detection."""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, tostring

from flask_babel import lazy_gettext as _l

from importers.errors import ImportRefused
from importers.safety import MB, ZIP_MAGIC, ZipLimits, parse_xml
from portfolio.timeutil import LOCAL_TZ

ATOM = "http://www.w3.org/2005/Atom"
XHTML = "http://www.w3.org/1999/xhtml"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
LEAP2 = "http://terms.leapspecs.org/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
APP = "http://www.w3.org/2007/app"
WP_PREFIX = "http://wordpress.org/export/"

MAX_XML_BYTES = 50 * MB
MAX_ARCHIVE_BYTES = 200 * MB
MAX_ENTRIES = 5_000
# Images: every reference counts (a file attached to sixty posts is sixty images), each file is read once.
MAX_IMAGES_PER_POST = 10
MAX_IMAGES = 200
MAX_IMAGE_BYTES = 15 * MB  # one image file
MAX_IMAGE_BYTES_TOTAL = 100 * MB  # every reference's size added up
MAX_TAGS = 10
TAG_LENGTH = 60
ARCHIVE_LIMITS = ZipLimits(max_members=5_000, max_total_bytes=500 * MB, max_ratio=100, max_member_bytes=60 * MB)
IMAGE_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
               "webp": "image/webp"}


@dataclass(frozen=True)
class ImportedImage:
    name: str
    data: bytes


@dataclass
class ImportedEntry:
    """A post as found in the file: its HTML is not yet sanitised (``apply_journal`` does it)."""

    title: str
    html: str
    published: dt.datetime | None = None
    updated: dt.datetime | None = None
    tags: list[str] = field(default_factory=list)
    draft: bool = False
    images: list[ImportedImage] = field(default_factory=list)
    source_id: str = ""


@dataclass(frozen=True)
class Skipped:
    """Something of the file that was not imported: what it is, its title, and why."""

    what: str
    title: str
    reason: str


@dataclass
class JournalFile:
    kind: str  # leap2a, wordpress, feed
    title: str = ""
    entries: list[ImportedEntry] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def add(self, entry: ImportedEntry) -> None:
        if len(self.entries) >= MAX_ENTRIES:
            raise ImportRefused(_l("Le fichier contient plus de %(max)s articles : il est refusé.", max=MAX_ENTRIES))
        self.entries.append(entry)

    def skip(self, what: object, title: str, reason: object) -> None:
        self.skipped.append(Skipped(str(what), title[:200], str(reason)))


# --- Text, dates, tags --------------------------------------------------------------------------------


def text(element: Element | None) -> str:
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


_SPACES = re.compile(r"\s+")


def one_line(value: str) -> str:
    return _SPACES.sub(" ", value).strip()


def plain_to_html(value: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", value.strip()) if p.strip()]
    return "".join(f"<p>{html.escape(p.strip()).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _strip_namespaces(element: Element) -> Element:
    for node in element.iter():
        if isinstance(node.tag, str) and node.tag.startswith("{"):
            node.tag = node.tag.split("}", 1)[1]
        for name in [n for n in node.attrib if n.startswith("{")]:
            del node.attrib[name]
    return element


def atom_text_html(element: Element | None) -> str:
    """The HTML of an Atom text construct (``type`` text, html or xhtml)."""
    if element is None:
        return ""
    kind = element.get("type", "text")
    if kind == "xhtml":
        container = element.find(f"{{{XHTML}}}div")
        container = container if container is not None else element
        _strip_namespaces(container)
        inner = html.escape(container.text or "")
        return inner + "".join(tostring(child, encoding="unicode") for child in container)
    if kind == "html" or kind.endswith("html"):
        return element.text or ""
    return plain_to_html(text(element))


def atom_title(element: Element | None) -> str:
    """A title as one line of plain text (an HTML title loses its tags)."""
    if element is None:
        return ""
    if element.get("type") in ("html", "xhtml"):
        return one_line(re.sub(r"<[^>]*>", " ", html.unescape(atom_text_html(element))))
    return one_line(text(element))


def parse_datetime(value: str) -> dt.datetime | None:
    """A date as blogs write it: RFC 3339 (Atom), RFC 822 (RSS), ``2019-05-04 10:00:00`` (WordPress,
    local time), or a bare date. Without a time zone, the time is Europe/Paris."""
    value = value.strip()
    if not value or value.startswith("0000-00-00"):
        return None
    moment: dt.datetime | None = None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if moment is None or not 1900 <= moment.year <= 2200:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    try:
        return moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def clean_tags(raw: Iterable[str]) -> list[str]:
    """Tags as a journal keeps them: trimmed, without '#', without duplicates, at most ten."""
    tags: list[str] = []
    seen: set[str] = set()
    for part in raw:
        tag = one_line(part.strip().lstrip("#"))[:TAG_LENGTH]
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tags[:MAX_TAGS]


def image_name(name: str) -> bool:
    return name.rsplit(".", 1)[-1].lower() in IMAGE_TYPES


def atom_entry(element: Element, tag_schemes: tuple[str | None, ...] = (None,)) -> ImportedEntry:
    """The fields every Atom entry has: title, content (or summary), dates, and its categories whose
    scheme is one of ``tag_schemes`` as tags."""
    content = element.find(f"{{{ATOM}}}content")
    if content is None or content.get("src"):
        content = element.find(f"{{{ATOM}}}summary")
    published = parse_datetime(text(element.find(f"{{{ATOM}}}published")))
    updated = parse_datetime(text(element.find(f"{{{ATOM}}}updated")))
    tags = [c.get("label") or c.get("term") or "" for c in element.findall(f"{{{ATOM}}}category")
            if c.get("scheme") in tag_schemes]
    return ImportedEntry(
        title=atom_title(element.find(f"{{{ATOM}}}title")), html=atom_text_html(content),
        published=published or updated, updated=updated, tags=clean_tags(tags),
        source_id=text(element.find(f"{{{ATOM}}}id"))[:200],
    )


# --- Which format ---------------------------------------------------------------------------------------


def detect_format(data: bytes) -> str:
    """``leap2a``, ``wordpress`` or ``feed``, judged by the content (never by the file's name)."""
    if data.startswith(ZIP_MAGIC):
        return "leap2a"
    if len(data) > MAX_XML_BYTES:
        raise ImportRefused(_l("Le fichier est trop lourd : %(size)s Mo au plus.", size=MAX_XML_BYTES // MB))
    root = parse_xml(data)
    if root.tag == f"{{{ATOM}}}feed" and any(node.tag.startswith(f"{{{LEAP2}}}") for node in root.iter()
                                              if isinstance(node.tag, str)):
        return "leap2a"
    if root.tag == "rss" and any(node.tag.startswith(f"{{{WP_PREFIX}") for node in root.iter()
                                 if isinstance(node.tag, str)):
        return "wordpress"
    if root.tag in (f"{{{ATOM}}}feed", "rss", f"{{{RDF}}}RDF"):
        return "feed"
    raise ImportRefused(UNKNOWN_FORMAT)


UNKNOWN_FORMAT = _l("Ce fichier n'est pas reconnu. Il faut un export de Mahara (LEAP2A, fichier .xml ou .zip), "
                    "un export WordPress (.xml) ou un flux RSS ou Atom (Blogger, par exemple).")
