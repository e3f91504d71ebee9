"""Photos: checked by content, re-encoded without any EXIF (GPS included), upright, resized."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from portfolio.journal.photos import MAX_SIDE, THUMBNAIL_SIDE, PhotoRejected, process_photo
from portfolio.journal.storage import FolderStorage, new_key, thumbnail_key

LIMIT = 10 * 1024 * 1024


def phone_photo(width: int = 2400, height: int = 1800, orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: EXIF with a camera, a date, an orientation and a GPS position."""
    image = Image.new("RGB", (width, height), (30, 120, 200))
    image.paste((250, 30, 30), (0, 0, width // 4, height // 4))  # a red corner, to follow the rotation
    exif = image.getexif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 3"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.DateTime] = "2024:05:01 10:30:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (44.0, 26.0, 51.0)  # Cahors
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (1.0, 26.0, 29.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def test_the_fixture_really_carries_gps() -> None:
    exif = Image.open(io.BytesIO(phone_photo())).getexif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert gps[ExifTags.GPS.GPSLatitudeRef] == "N" and float(gps[ExifTags.GPS.GPSLatitude][0]) == 44.0
    assert exif[ExifTags.Base.Make] == "PhoneMaker"


def test_a_phone_photo_comes_out_without_exif_upright_and_resized() -> None:
    result = process_photo(phone_photo(), LIMIT)
    for data, side in ((result.data, MAX_SIDE), (result.thumbnail, THUMBNAIL_SIDE)):
        out = Image.open(io.BytesIO(data))
        assert out.format == "JPEG"
        assert len(out.getexif()) == 0
        assert "exif" not in out.info and "icc_profile" not in out.info and "xmp" not in out.info
        assert b"Exif" not in data and b"PhoneMaker" not in data and b"GPS" not in data
        # Orientation 6 (turned 90°): the 2400 x 1800 photo stands upright, at most `side` pixels long.
        assert out.height == side and out.width == side * 3 // 4
        # The red corner was top-left; turned clockwise, it is now top-right.
        r, g, b = out.convert("RGB").getpixel((out.width - 5, 5))
        assert r > 200 and g < 80
    assert (result.width, result.height) == (1200, 1600)
    assert result.content_type == "image/jpeg"


def test_png_with_transparency_stays_png_and_small_images_are_not_enlarged() -> None:
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    result = process_photo(out.getvalue(), LIMIT)
    assert result.content_type == "image/png" and (result.width, result.height) == (300, 200)
    assert Image.open(io.BytesIO(result.data)).mode == "RGBA"


def test_webp_is_accepted_and_becomes_jpeg() -> None:
    out = io.BytesIO()
    Image.new("RGB", (100, 80), (10, 200, 10)).save(out, "WEBP")
    assert process_photo(out.getvalue(), LIMIT).content_type == "image/jpeg"


@pytest.mark.parametrize("data,message", [
    (b"", "vide"),
    (b"%PDF-1.4 not a photo", "pas une photo"),
    (b"<script>alert(1)</script>", "pas une photo"),
    (b"\xff\xd8\xff\xe0 truncated jpeg", "pas une photo"),
])
def test_what_is_not_a_photo_is_refused_in_plain_french(data: bytes, message: str) -> None:
    with pytest.raises(PhotoRejected) as caught:
        process_photo(data, LIMIT)
    assert message in caught.value.message


def test_a_gif_is_refused_even_though_pillow_reads_it() -> None:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    with pytest.raises(PhotoRejected, match="JPEG, PNG ou WebP"):
        process_photo(out.getvalue(), LIMIT)


def test_a_photo_over_the_limit_gets_a_clear_message() -> None:
    data = phone_photo(800, 600)
    with pytest.raises(PhotoRejected) as caught:
        process_photo(data, len(data) - 1)
    assert "trop lourde" in caught.value.message and "La limite est de" in caught.value.message


def test_a_decompression_bomb_is_refused() -> None:
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 megapixels in a few kilobytes
    with pytest.raises(PhotoRejected, match="trop grande"):
        process_photo(out.getvalue(), LIMIT)


def test_folder_storage_round_trip_and_refuses_foreign_keys(tmp_path: Path) -> None:
    storage = FolderStorage(tmp_path)
    key = new_key("jpg")
    storage.save(key, b"abc")
    storage.save(thumbnail_key(key), b"a")
    assert storage.read(key) == b"abc" and storage.exists(thumbnail_key(key))
    storage.delete(key)
    assert not storage.exists(key)
    for bad in ("../secret_key", "/etc/passwd", "ab/../../x.jpg", "ab/cd.jpg"):
        with pytest.raises(ValueError):
            storage.read(bad)


def test_our_own_pixel_limit_has_the_same_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("portfolio.journal.photos.MAX_PIXELS", 1000)
    with pytest.raises(PhotoRejected, match="trop grande"):
        process_photo(phone_photo(100, 100), LIMIT)
