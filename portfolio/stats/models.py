"""Figures kept in the database between two computations (see portfolio.stats.kept)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portfolio.db import Base


class KeptFigures(Base):
    """The last computation of a set of figures (``dashboard``, ``competences``), as JSON."""

    __tablename__ = "kept_figures"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    computed_at: Mapped[dt.datetime]
    payload: Mapped[dict[str, Any]]
