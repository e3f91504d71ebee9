"""Baked badges (Open Badges 3.0, section "Badge Baking"): the credential carried inside its own image.

- PNG: one ``iTXt`` chunk with the keyword ``openbadgecredential``, uncompressed, holding the credential's JSON
  (or a compact JWS), placed before ``IEND``; an image already baked is baked again without the old chunk.
- SVG: the ``openbadges`` namespace (``https://purl.imsglobal.org/ob/v3p0``) on the root element and an
  ``<openbadges:credential>`` first child holding the JSON in a CDATA section (a JWS goes in its ``verify``
  attribute).
Pure functions, bytes in and out.
"""

from __future__ import annotations

import struct
import zlib

from defusedxml import ElementTree as SafeET

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadgecredential"
OB_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"


class NotBaked(ValueError):
    """The image holds no credential (or is not an image we can read)."""


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if not data.startswith(PNG_SIGNATURE):
        raise NotBaked("not a PNG image")
    chunks, position = [], len(PNG_SIGNATURE)
    while position + 12 <= len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        if len(body) != length:
            raise NotBaked("truncated PNG image")
        chunks.append((kind, body))
        position += 12 + length
        if kind == b"IEND":
            break
    return chunks


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _is_credential_chunk(kind: bytes, body: bytes) -> bool:
    return kind == b"iTXt" and body.split(b"\0", 1)[0] == KEYWORD


def bake_png(image: bytes, credential: str) -> bytes:
    # iTXt: keyword, NUL, compression flag 0, method 0, empty language tag, NUL, empty translated keyword, NUL.
    baked = KEYWORD + b"\0\0\0" + b"\0" + b"\0" + credential.encode("utf-8")
    out = [PNG_SIGNATURE]
    for kind, body in _chunks(image):
        if _is_credential_chunk(kind, body):
            continue
        if kind == b"IEND":
            out.append(_chunk(b"iTXt", baked))
        out.append(_chunk(kind, body))
    return b"".join(out)


def unbake_png(image: bytes) -> str:
    for kind, body in _chunks(image):
        if _is_credential_chunk(kind, body):
            rest = body.split(b"\0", 1)[1]
            compressed, _method = rest[0], rest[1]
            _language, _translated, text = rest[2:].split(b"\0", 2)
            return (zlib.decompress(text) if compressed else text).decode("utf-8")
    raise NotBaked("this PNG image holds no Open Badges credential")


def bake_svg(svg: str, credential: str, jws: bool = False) -> str:
    """``svg`` must be our own template's root ``<svg ...>`` followed by its content: the credential element
    goes right after the opening tag, and the namespace on it."""
    start = svg.index("<svg")
    end = svg.index(">", start)
    opening = svg[start:end]
    if "xmlns:openbadges" not in opening:
        opening += f' xmlns:openbadges="{OB_NAMESPACE}"'
    if jws:
        element = f'<openbadges:credential verify="{credential}"></openbadges:credential>'
    else:
        element = f"<openbadges:credential><![CDATA[{credential.replace(']]>', ']]]]><![CDATA[>')}]]>" \
                  "</openbadges:credential>"
    return svg[:start] + opening + ">" + element + svg[end + 1:]


def unbake_svg(svg: bytes | str) -> str:
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    try:
        root = SafeET.fromstring(text.encode("utf-8"))
    except Exception as exc:  # defusedxml raises several kinds; all mean "not an SVG we can read"
        raise NotBaked("not a readable SVG image") from exc
    element = root.find(f"{{{OB_NAMESPACE}}}credential")
    if element is None:
        raise NotBaked("this SVG image holds no Open Badges credential")
    verify = element.get("verify")
    if verify:
        return verify.strip()
    return (element.text or "").strip()
