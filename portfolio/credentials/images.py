"""The badge's picture: one drawing per kind, as SVG and as PNG, into which the credential is baked."""

from __future__ import annotations

import io
import textwrap
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from portfolio.credentials.models import CredentialKind

COLOURS = {CredentialKind.PATH.value: "#0b5d52", CredentialKind.DOMAIN.value: "#8a3b12",
           CredentialKind.CERTIFICATION.value: "#23407a"}
SIZE = 400


def _lines(title: str) -> list[str]:
    return textwrap.wrap(title, width=22)[:4]


def badge_svg(kind: str, title: str, issuer: str) -> str:
    colour = COLOURS.get(kind, "#0b5d52")
    lines = _lines(title)
    top = 200 - 14 * (len(lines) - 1)
    text = "".join(f'<tspan x="200" y="{top + 28 * i}">{escape(line)}</tspan>' for i, line in enumerate(lines))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}" '
            f'role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">'
            f'<circle cx="200" cy="200" r="190" fill="{colour}"/>'
            '<circle cx="200" cy="200" r="170" fill="none" stroke="#ffffff" stroke-width="6"/>'
            '<text x="200" y="105" text-anchor="middle" font-family="sans-serif" font-size="40" font-weight="bold" '
            'fill="#ffffff">TN</text>'
            f'<text text-anchor="middle" font-family="sans-serif" font-size="24" fill="#ffffff">{text}</text>'
            f'<text x="200" y="320" text-anchor="middle" font-family="sans-serif" font-size="16" fill="#ffffff">'
            f'{escape(issuer[:40])}</text></svg>')


def badge_png(kind: str, title: str, issuer: str) -> bytes:
    colour = COLOURS.get(kind, "#0b5d52")
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, SIZE - 10, SIZE - 10), fill=colour)
    draw.ellipse((30, 30, SIZE - 30, SIZE - 30), outline="#ffffff", width=6)
    big, middle, small = (ImageFont.load_default(size=s) for s in (40, 24, 16))
    draw.text((200, 90), "TN", fill="#ffffff", font=big, anchor="mm")
    lines = _lines(title)
    top = 200 - 14 * (len(lines) - 1)
    for i, line in enumerate(lines):
        draw.text((200, top + 28 * i), line, fill="#ffffff", font=middle, anchor="mm")
    draw.text((200, 315), issuer[:40], fill="#ffffff", font=small, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
