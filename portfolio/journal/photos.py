"""Photos from a phone camera: checked by content, re-encoded, turned upright, stripped of every
EXIF field (GPS position included), resized, with a thumbnail.

Only JPEG, PNG and WebP are accepted, judged by what Pillow finds in the bytes (never by the file
name or the browser's content type). The output is a new image written from the pixels alone: no
EXIF, no XMP, no ICC profile, no text chunk survives. Opaque images become JPEG; images with
transparency stay PNG.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

OPENERS = ("JPEG", "PNG", "WEBP")
ACCEPTED_FORMATS = frozenset({*OPENERS, "MPO"})  # MPO: a JPEG with a second frame (some phones write it)
MAX_SIDE = 1600
THUMBNAIL_SIDE = 480
MAX_PIXELS = 50_000_000  # larger than any phone photo; protects the server from "decompression bombs"
JPEG_QUALITY = 82


class PhotoRejected(Exception):
    """The file cannot be used as a photo; ``message`` says why, in plain French."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ProcessedPhoto:
    data: bytes
    thumbnail: bytes
    content_type: str
    extension: str
    width: int
    height: int


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".0", "").replace(".", ",")


def process_photo(data: bytes, max_bytes: int) -> ProcessedPhoto:
    if not data:
        raise PhotoRejected(str(_l("Le fichier est vide. Choisissez une photo.")))
    if len(data) > max_bytes:
        raise PhotoRejected(str(_l(
            "La photo est trop lourde (%(size)s Mo). La limite est de %(max)s Mo : prenez une photo plus petite "
            "ou demandez de l'aide à votre EPM.", size=megabytes(len(data)), max=megabytes(max_bytes))))
    image = _open(data)
    image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if has_alpha else "RGB")
    large = _resized(image, MAX_SIDE)
    small = _resized(image, THUMBNAIL_SIDE)
    if has_alpha:
        return ProcessedPhoto(_encode(large, "PNG"), _encode(small, "PNG"), "image/png", "png", *large.size)
    return ProcessedPhoto(_encode(large, "JPEG"), _encode(small, "JPEG"), "image/jpeg", "jpg", *large.size)


def _open(data: bytes) -> Image.Image:
    not_a_photo = str(_l("Ce fichier n'est pas une photo que nous savons lire. Choisissez une photo JPEG, PNG "
                         "ou WebP."))
    too_large = str(_l("Cette image est trop grande. Choisissez une photo plus petite."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=OPENERS)
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRejected(too_large)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected(too_large) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoRejected(not_a_photo) from exc
    if image.format not in ACCEPTED_FORMATS:
        raise PhotoRejected(not_a_photo)
    return image


def _resized(image: Image.Image, side: int) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    return copy


def _encode(image: Image.Image, fmt: str) -> bytes:
    # A brand-new image from the pixels alone: nothing of the original's metadata can follow.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    else:
        clean.save(out, "PNG", optimize=True)
    return out.getvalue()
