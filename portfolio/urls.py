"""URL helpers."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site may follow a sign-in (no scheme, no host, no protocol-relative URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and not any(ord(c) < 32 for c in target)
