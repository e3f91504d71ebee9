"""Reading files that come from elsewhere without trusting them: sizes, text encodings, ZIP archives
(path traversal, total size, compression ratio) and XML (through defusedxml: no DTD, no entity,
nothing fetched from outside). Every refusal is an :class:`ImportRefused` with a French reason."""

from __future__ import annotations

import codecs
import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from flask_babel import lazy_gettext as _l

from importers.errors import ImportRefused

MB = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    max_members: int = 2_000
    max_total_bytes: int = 300 * MB  # uncompressed, all members together
    max_ratio: int = 100  # uncompressed / compressed, for members larger than RATIO_FLOOR
    max_member_bytes: int = 100 * MB


RATIO_FLOOR = 64 * 1024  # small members may compress very well (a blank sheet), large ones may not
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls and .doc files


def megabytes(size: int) -> str:
    return f"{size / MB:.0f}"


def check_size(data: bytes, limit: int) -> None:
    if not data:
        raise ImportRefused(_l("Le fichier est vide."))
    if len(data) > limit:
        raise ImportRefused(_l("Le fichier est trop lourd : %(size)s Mo au plus.", size=megabytes(limit)))


def decode_text(data: bytes) -> str:
    """Text as spreadsheets save it: UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode
    text"), or else Windows-1252 (Excel's "CSV (séparateur : point-virgule)" on a French Windows)."""
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[len(codecs.BOM_UTF8):], "utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # every byte is a character: nothing is refused at this stage


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ImportRefused(_l("Le texte du fichier est abîmé (encodage %(encoding)s illisible).",
                               encoding=encoding.upper())) from exc


_DRIVE = re.compile(r"^[A-Za-z]:")


def safe_member_name(name: str) -> str:
    """The member's path inside the archive, refused when it could lead outside of it."""
    cleaned = name.replace("\\", "/")
    if cleaned.startswith("/") or _DRIVE.match(cleaned) or ".." in cleaned.split("/") or "\x00" in cleaned:
        raise ImportRefused(_l("L'archive contient un chemin dangereux (« %(name)s ») : elle est refusée.",
                               name=name[:80]))
    return posixpath.normpath(cleaned)


def open_zip(data: bytes, limits: ZipLimits = ZipLimits()) -> zipfile.ZipFile:
    """The archive, once every member's name, size and compression ratio has been checked (from the
    central directory; reading stops at the declared size, and zipfile checks each member's CRC)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportRefused(_l("L'archive ZIP est abîmée ou incomplète.")) from exc
    if len(members) > limits.max_members:
        raise ImportRefused(_l("L'archive contient trop de fichiers (%(max)s au plus).", max=limits.max_members))
    total = 0
    for info in members:
        safe_member_name(info.filename)
        if info.flag_bits & 0x1:
            raise ImportRefused(_l("L'archive est protégée par un mot de passe : enregistrez-la sans mot de passe."))
        total += info.file_size
        if info.file_size > limits.max_member_bytes or total > limits.max_total_bytes:
            raise ImportRefused(_l("Une fois décompressée, l'archive dépasse %(size)s Mo : elle est refusée.",
                                   size=megabytes(limits.max_total_bytes)))
        if info.file_size > RATIO_FLOOR and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise ImportRefused(_l("L'archive est anormalement compressée (« %(name)s ») : elle est refusée par "
                                   "sécurité.", name=info.filename[:80]))
    return archive


def read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, NotImplementedError, zlib.error) as exc:
        raise ImportRefused(_l("Le fichier « %(name)s » de l'archive est illisible.", name=name[:80])) from exc


def parse_xml(data: bytes) -> Element:
    """The document's root, parsed without DTD, entity declarations or anything fetched from outside."""
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ImportRefused(_l("Ce fichier XML déclare des entités ou une DTD : il est refusé par sécurité.")) from exc
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise ImportRefused(_l("Ce fichier n'est pas un XML bien formé."), line=line) from exc
    except LookupError as exc:  # <?xml encoding="..."?> names an encoding Python does not know
        raise ImportRefused(_l("Ce fichier XML déclare un encodage inconnu.")) from exc
    except (ValueError, UnicodeError, RecursionError) as exc:
        raise ImportRefused(_l("Ce fichier n'est pas un XML bien formé.")) from exc
