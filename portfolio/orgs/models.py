"""Organisations: EPMs, prescribers, training bodies and the coordination."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, check_in, utcnow

if TYPE_CHECKING:
    from portfolio.auth.models import Membership
    from portfolio.catalogue.models import Module


class OrgKind(enum.StrEnum):
    EPM = "epm"
    PRESCRIBER = "prescriber"
    TRAINING_BODY = "training_body"
    COORDINATION = "coordination"


epm_module_offer = sa.Table(
    "epm_module_offer",
    Base.metadata,
    sa.Column("organisation_id", sa.ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("module_id", sa.ForeignKey("module.id", ondelete="CASCADE"), primary_key=True),
)


class Organisation(Base):
    __tablename__ = "organisation"
    __table_args__ = (check_in("kind", [k.value for k in OrgKind], "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), index=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    postcode: Mapped[str] = mapped_column(sa.String(10), default="")
    city: Mapped[str] = mapped_column(sa.String(100), default="")
    phone: Mapped[str] = mapped_column(sa.String(30), default="")
    email: Mapped[str] = mapped_column(sa.String(200), default="")
    # For an EPM: how many learners a workshop can take (workstations) and its opening slots.
    capacity: Mapped[int | None] = mapped_column(sa.Integer)
    opening_slots: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", lazy="raise"
    )
    modules: Mapped[list[Module]] = relationship(
        secondary=epm_module_offer, order_by="Module.number", lazy="raise"
    )

    @property
    def full_address(self) -> str:
        return ", ".join(p for p in (self.address, f"{self.postcode} {self.city}".strip()) if p)

    def __repr__(self) -> str:
        return f"<Organisation {self.code}>"
