"""LEAP2A, as Mahara exports a portfolio: an Atom feed (``leap2a.xml``), alone or in a ZIP with the
files (``files/...``). Journal posts (``leap2:entry``) become entries with their dates and tags (Atom
categories without a scheme); their attached images (``leap2:has_attachment`` -> a resource whose
``enclosure`` link names a file of the archive) become photos. Everything else (profile, CV, pages,
files attached to nothing) is listed as skipped, with the reason."""

from __future__ import annotations

import posixpath
import zipfile
from xml.etree.ElementTree import Element

from flask_babel import lazy_gettext as _l

from importers.errors import ImportRefused
from importers.journal import (
    ARCHIVE_LIMITS,
    ATOM,
    LEAP2,
    MAX_ARCHIVE_BYTES,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_BYTES_TOTAL,
    MAX_IMAGES,
    MAX_IMAGES_PER_POST,
    MAX_XML_BYTES,
    RDF,
    ImportedEntry,
    ImportedImage,
    JournalFile,
    atom_entry,
    atom_title,
    image_name,
    text,
)
from importers.safety import MB, ZIP_MAGIC, check_size, open_zip, parse_xml, read_member, safe_member_name

WHAT_POST = _l("Article")
WHAT_FILE = _l("Fichier")
WHAT_OTHER = _l("Élément Mahara")
_TYPE_NAMES = {
    "person": _l("profil"), "selection": _l("collection ou page"), "activity": _l("activité du CV"),
    "achievement": _l("réussite du CV"), "affiliation": _l("appartenance du CV"), "ability": _l("compétence du CV"),
    "meeting": _l("rencontre"), "plan": _l("plan"), "resource": _l("fichier"),
}


def _kind(entry: Element) -> str:
    node = entry.find(f"{{{RDF}}}type")
    resource = node.get(f"{{{RDF}}}resource", "") if node is not None else ""
    return resource.replace("#", ":").replace("/", ":").rsplit(":", 1)[-1]


def _links(entry: Element, rel: str) -> list[Element]:
    return [link for link in entry.findall(f"{{{ATOM}}}link")
            if link.get("rel", "").replace("leap2:", "").replace(LEAP2, "") == rel]


def _is_draft(entry: Element) -> bool:
    return any(c.get("scheme", "").rstrip("#").endswith("readiness") and c.get("term") == "Unready"
               for c in entry.findall(f"{{{ATOM}}}category"))


def _is_blog(entry: Element) -> bool:
    return any(c.get("scheme", "").rstrip("#").endswith("selection_type") and c.get("term") == "Blog"
               for c in entry.findall(f"{{{ATOM}}}category"))


def parse_leap2a(data: bytes, filename: str = "") -> JournalFile:
    check_size(data, MAX_ARCHIVE_BYTES)
    archive = None
    base = ""
    if data.startswith(ZIP_MAGIC):
        archive = open_zip(data, ARCHIVE_LIMITS)
        xml_name = _find_document(archive.namelist())
        base = posixpath.dirname(safe_member_name(xml_name))
        data = read_member(archive, xml_name)
    check_size(data, MAX_XML_BYTES)
    root = parse_xml(data)
    if root.tag != f"{{{ATOM}}}feed":
        raise ImportRefused(_l("Ce fichier n'est pas un export LEAP2A (Mahara) : il n'a pas la forme d'un flux Atom."))
    result = JournalFile("leap2a", title=atom_title(root.find(f"{{{ATOM}}}title")))
    images = _Images(archive)
    entries = root.findall(f"{{{ATOM}}}entry")
    by_id = {text(e.find(f"{{{ATOM}}}id")): e for e in entries}
    attached: set[str] = set()
    for entry in entries:
        if _kind(entry) == "entry":
            for link in _links(entry, "has_attachment"):
                attached.add(link.get("href", ""))
    for entry in entries:
        kind = _kind(entry)
        title = atom_title(entry.find(f"{{{ATOM}}}title"))
        entry_id = text(entry.find(f"{{{ATOM}}}id"))
        if kind == "entry":
            post = atom_entry(entry)
            post.draft = _is_draft(entry)
            for link in _links(entry, "has_attachment"):
                _attach(result, post, by_id.get(link.get("href", "")), images, base)
            result.add(post)
        elif kind == "selection" and _is_blog(entry):
            continue  # the journal itself: its posts are imported one by one
        elif kind == "resource" and entry_id in attached:
            continue  # an attachment: reported with its post
        elif kind == "resource":
            result.skip(WHAT_FILE, title, _l("fichier rattaché à aucun article du journal : non importé."))
        else:
            name = _TYPE_NAMES.get(kind, kind or "?")
            result.skip(WHAT_OTHER, title, _l("%(kind)s : seuls les articles du journal sont importés.", kind=name))
    return result


def _find_document(names: list[str]) -> str:
    candidates = [n for n in names if posixpath.basename(n).lower() == "leap2a.xml"]
    if not candidates:
        candidates = [n for n in names if n.lower().endswith(".xml")]
    if not candidates:
        raise ImportRefused(_l("L'archive ne contient pas de fichier leap2a.xml : est-ce bien un export Mahara ?"))
    return min(candidates, key=lambda n: (n.count("/"), n))


class _Images:
    """The archive's image files, each read once however many posts attach it; every reference counts
    against the limits (``MAX_IMAGES_PER_POST``, ``MAX_IMAGES``, ``MAX_IMAGE_BYTES_TOTAL``), checked from the
    archive's directory before anything is read."""

    def __init__(self, archive: zipfile.ZipFile | None) -> None:
        self.archive = archive
        self.members = {info.filename: info for info in archive.infolist()} if archive is not None else {}
        self.read: dict[str, bytes] = {}
        self.references = 0
        self.total_bytes = 0

    def get(self, post: ImportedEntry, name: str) -> bytes | None:
        """The bytes of ``name`` for ``post`` (None when the file is too heavy to be a photo: it is reported)."""
        info = self.members[name]
        if info.file_size > MAX_IMAGE_BYTES:
            return None
        if len(post.images) >= MAX_IMAGES_PER_POST:
            raise ImportRefused(_l(
                "L'article « %(title)s » a plus de %(max)s photos : c'est trop pour un article. Retirez-en dans "
                "l'export, ou demandez de l'aide à votre EPM.", title=post.title[:80], max=MAX_IMAGES_PER_POST))
        self.references += 1
        self.total_bytes += info.file_size
        if self.references > MAX_IMAGES:
            raise ImportRefused(_l(
                "Ce fichier contient plus de %(max)s photos (une image jointe à plusieurs articles compte à chaque "
                "fois) : c'est trop pour une seule importation. Importez votre journal en plusieurs fichiers, ou "
                "demandez de l'aide à votre EPM.", max=MAX_IMAGES))
        if self.total_bytes > MAX_IMAGE_BYTES_TOTAL:
            raise ImportRefused(_l(
                "Les photos de ce fichier pèsent plus de %(max)s Mo en tout (une image jointe à plusieurs articles "
                "compte à chaque fois) : c'est trop pour une seule importation. Importez votre journal en plusieurs "
                "fichiers, ou demandez de l'aide à votre EPM.", max=MAX_IMAGE_BYTES_TOTAL // MB))
        if name not in self.read:
            assert self.archive is not None
            self.read[name] = read_member(self.archive, name)
        return self.read[name]


def _attach(result: JournalFile, post: ImportedEntry, resource: Element | None, images: _Images, base: str) -> None:
    if resource is None:
        result.skip(WHAT_FILE, post.title, _l("pièce jointe introuvable dans l'export."))
        return
    title = atom_title(resource.find(f"{{{ATOM}}}title"))
    enclosures = _links(resource, "enclosure") or [
        link for link in resource.findall(f"{{{ATOM}}}link") if link.get("rel") == "enclosure"]
    content = resource.find(f"{{{ATOM}}}content")
    href = enclosures[0].get("href", "") if enclosures else (content.get("src", "") if content is not None else "")
    mime = (enclosures[0].get("type", "") if enclosures else "") or (content.get("type", "") if content is not None
                                                                     else "")
    if not (mime.startswith("image/") or image_name(href) or image_name(title)):
        result.skip(WHAT_FILE, title, _l("pièce jointe qui n'est pas une image : non importée."))
        return
    if images.archive is None or not href:
        result.skip(WHAT_FILE, title, _l("l'image n'est pas dans ce fichier : envoyez l'archive ZIP complète de "
                                         "Mahara."))
        return
    name = posixpath.normpath(posixpath.join(base, safe_member_name(href)))
    if name not in images.members:
        result.skip(WHAT_FILE, title, _l("l'image manque dans l'archive."))
        return
    data = images.get(post, name)
    if data is None:
        result.skip(WHAT_FILE, title, _l("image trop lourde (%(max)s Mo au plus) : non importée.",
                                         max=MAX_IMAGE_BYTES // MB))
        return
    post.images.append(ImportedImage(title or posixpath.basename(name), data))
