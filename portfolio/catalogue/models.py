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
    __tablename__ = "module"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    family_id: Mapped[int] = mapped_column(sa.ForeignKey("module_family.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))

    family: Mapped[ModuleFamily] = relationship(back_populates="modules", lazy="raise")
    suggested: Mapped[list[ModuleCompetence]] = relationship(
        order_by=ModuleCompetence.position, cascade="all, delete-orphan", lazy="raise"
    )

    def __repr__(self) -> str:
        return f"<Module {self.number}>"
