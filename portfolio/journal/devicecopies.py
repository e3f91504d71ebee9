"""The key that seals the journal's copies on a device at sign-out (``static/js/device-copies.js``).

The editor keeps what the learner types in the browser's storage until the server holds that very text. At
sign-out, what is left (text the server does not have yet) is encrypted with AES-GCM under this key, which
the server derives for the person from the site's secret key and gives only to her signed-in pages: nothing
on the device can decrypt it, and when she signs in again her pages decrypt it and the editor finds it. A new
secret key makes older sealed copies unreadable (they are left as they are, never shown).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from flask import current_app


def device_copies_key(user_id: int) -> str:
    """256 bits, base64url, for Web Crypto's ``importKey("raw", ...)``."""
    secret = current_app.secret_key
    raw = secret.encode() if isinstance(secret, str) else bytes(secret or b"")
    digest = hmac.new(raw, f"journal.device-copies:{user_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
