"""The scheme's figures and its catalogue of 20 discovery modules, loaded from data by ``ticketnet init``."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, utcnow

if TYPE_CHECKING:
    from competences.models import Competence


class SchemeConfig(Base):
    """The scheme's rules and figures (``scheme.yaml``), one row per scheme code."""

    __tablename__ = "scheme_config"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    data: Mapped[dict[str, Any]]
    source_hash: Mapped[str] = mapped_column(sa.String(64))
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Figures changed on the settings page ({"ticket.hours": 24, ...}), applied over ``data``; reloading
    # the data file keeps them. Each change is kept in ``setting_change``.
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")


class SettingChange(Base):
    """One change of an everyday setting (a figure of the scheme, a module added or retired): what, the
    value before and after, who and when. Append-only."""

    __tablename__ = "setting_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80), index=True)
    previous: Mapped[dict[str, Any] | None]
    value: Mapped[dict[str, Any] | None]
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    # The name at the time of the change, kept when the account changes or goes.
    changed_by_name: Mapped[str] = mapped_column(sa.String(200), default="")
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ModuleFamily(Base):
    __tablename__ = "module_family"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)

    modules: Mapped[list[Module]] = relationship(
        back_populates="family", order_by="Module.number", lazy="raise"
    )


class ModuleCompetence(Base):
    """A competence the catalogue suggests for a module (shown first in the session grid)."""

    __tablename__ = "module_competence"

    module_id: Mapped[int] = mapped_column(sa.ForeignKey("module.id", ondelete="CASCADE"), primary_key=True)
    competence_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competence.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(default=0)

    competence: Mapped[Competence] = relationship(lazy="joined")


class Module(Base):
    """A module of the catalogue. Never deleted: a module nobody should choose any more is retired (it
    leaves the EPMs' offers and the choices of new paths and workshops; what was followed stays)."""

    __tablename__ = "module"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    family_id: Mapped[int] = mapped_column(sa.ForeignKey("module_family.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300), unique=True)
    retired_at: Mapped[dt.datetime | None]

    family: Mapped[ModuleFamily] = relationship(back_populates="modules", lazy="raise")
    suggested: Mapped[list[ModuleCompetence]] = relationship(
        order_by=ModuleCompetence.position, cascade="all, delete-orphan", lazy="raise"
    )

    def __repr__(self) -> str:
        return f"<Module {self.number}>"
