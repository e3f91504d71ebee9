"""Photos from a phone camera: checked by content, re-encoded, turned upright, stripped of every
EXIF field (GPS position included), resized, with a thumbnail.

Only JPEG, PNG and WebP are accepted, judged by what Pillow finds in the bytes (never by the file
name or the browser's content type). The output is a new image written from the pixels alone: no
EXIF, no XMP, no ICC profile, no text chunk survives. Opaque images become JPEG; images with
transparency stay PNG.

**Bounded work.** What a photo costs is the pixels decoded, not its size on the wire (a 6 KB PNG can hold
7000 × 7000 pixels, 147 MB once decoded and seconds of work). So: at most ``MAX_PIXELS`` in the header (a
50-megapixel phone photo); a JPEG is decoded at a reduced scale (its DCT allows 1/2, 1/4, 1/8) just large
enough for ``MAX_SIDE``; and at most ``MAX_DECODED_PIXELS`` once decoded (a PNG or WebP of more than 16
megapixels is refused). One request also has a :class:`PhotoBudget`: ``MAX_PHOTOS_PER_POST`` photos and
``MAX_DECODED_PIXELS_PER_POST`` decoded pixels for the editor; the journal importers have their own
(``importers.apply_journal``). Beyond, a French refusal, before any decoding.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

OPENERS = ("JPEG", "PNG", "WEBP")
ACCEPTED_FORMATS = frozenset({*OPENERS, "MPO"})  # MPO: a JPEG with a second frame (some phones write it)
MAX_SIDE = 1600
THUMBNAIL_SIDE = 480
MAX_PIXELS = 50_000_000  # a 50-megapixel phone photo, in the file's header; protects from "decompression bombs"
MAX_DECODED_PIXELS = 16_000_000  # once decoded (a JPEG at a reduced scale): a 4K or 5K screenshot fits
MAX_PHOTOS_PER_POST = 10  # photos sent at once from the editor
MAX_DECODED_PIXELS_PER_POST = 64_000_000  # ten phone photos (about 3 megapixels each once reduced), or four PNG
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


def megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.0f}"


class PhotoBudget:
    """What one request may spend on photos: a number of photos and of decoded pixels. ``spend`` is called
    before a photo is decoded, and refuses (``PhotoRejected``) once the budget would be exceeded."""

    def __init__(self, photos: int | None = None, pixels: int | None = None) -> None:
        self.photos_left = MAX_PHOTOS_PER_POST if photos is None else photos
        self.pixels = MAX_DECODED_PIXELS_PER_POST if pixels is None else pixels
        self.pixels_left = self.pixels

    def spend(self, pixels: int) -> None:
        if self.photos_left <= 0:
            raise PhotoRejected(str(_l("Trop de photos à la fois : ajoutez les autres ensuite.")))
        if pixels > self.pixels_left:
            raise PhotoRejected(str(_l(
                "Ces photos sont trop grandes pour être ajoutées en une fois (%(max)s millions de points au plus). "
                "Ajoutez celle-ci ensuite, seule.", max=megapixels(self.pixels))))
        self.photos_left -= 1
        self.pixels_left -= pixels


def process_photo(data: bytes, max_bytes: int, budget: PhotoBudget | None = None) -> ProcessedPhoto:
    if not data:
        raise PhotoRejected(str(_l("Le fichier est vide. Choisissez une photo.")))
    if len(data) > max_bytes:
        raise PhotoRejected(str(_l(
            "La photo est trop lourde (%(size)s Mo). La limite est de %(max)s Mo : prenez une photo plus petite "
            "ou demandez de l'aide à votre EPM.", size=megabytes(len(data)), max=megabytes(max_bytes))))
    image = _open(data, budget)
    image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if has_alpha else "RGB")
    large = _resized(image, MAX_SIDE)
    small = _resized(image, THUMBNAIL_SIDE)
    if has_alpha:
        return ProcessedPhoto(_encode(large, "PNG"), _encode(small, "PNG"), "image/png", "png", *large.size)
    return ProcessedPhoto(_encode(large, "JPEG"), _encode(small, "JPEG"), "image/jpeg", "jpg", *large.size)


def decoded_size(image: Image.Image) -> tuple[int, int]:
    """The size ``image`` will have once decoded: a JPEG is asked for the smallest scale its DCT allows that
    still gives ``MAX_SIDE`` on the long side (``Image.draft``); other formats decode in full."""
    width, height = image.size
    if image.format in ("JPEG", "MPO") and max(width, height) > MAX_SIDE:
        ratio = MAX_SIDE / max(width, height)
        image.draft("RGB", (max(1, math.ceil(width * ratio)), max(1, math.ceil(height * ratio))))
    return image.size


def _open(data: bytes, budget: PhotoBudget | None = None) -> Image.Image:
    not_a_photo = str(_l("Ce fichier n'est pas une photo que nous savons lire. Choisissez une photo JPEG, PNG "
                         "ou WebP."))
    too_large = str(_l("Cette image est trop grande. Choisissez une photo plus petite."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=OPENERS)
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRejected(too_large)
            width, height = decoded_size(image)
            if width * height > MAX_DECODED_PIXELS:
                raise PhotoRejected(str(_l(
                    "Cette image est trop grande (%(num)s millions de points) : %(max)s millions au plus. "
                    "Choisissez une photo plus petite, ou enregistrez-la en JPEG.",
                    num=megapixels(width * height), max=megapixels(MAX_DECODED_PIXELS))))
            if budget is not None:
                budget.spend(width * height)
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
