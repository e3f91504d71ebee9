"""Every Flask extension instance of the application, created here and bound in ``create_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from portfolio.db import db
from portfolio.i18n import DATE_FORMATS

babel = Babel(date_formats=DATE_FORMATS)
compress = Compress()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

__all__ = ["babel", "compress", "csrf", "db", "limiter", "login_manager"]
