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
    """An organisation of the scheme. Never deleted (the audit log, tickets and judgements name it):
    deactivated instead, which takes it out of every choice offered for new work."""

    __tablename__ = "organisation"
    __table_args__ = (check_in("kind", [k.value for k in OrgKind], "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), index=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    postcode: Mapped[str] = mapped_column(sa.String(10), default="")
    city: Mapped[str] = mapped_column(sa.String(100), default="")
    # The commune's official code (code officiel géographique, INSEE), e.g. 46042 for Cahors.
    insee_code: Mapped[str] = mapped_column(sa.String(5), default="", server_default="")
    siret: Mapped[str] = mapped_column(sa.String(14), default="", server_default="")
    phone: Mapped[str] = mapped_column(sa.String(30), default="")
    email: Mapped[str] = mapped_column(sa.String(200), default="")
    # For an EPM: how many learners a workshop can take (workstations) and its opening slots.
    capacity: Mapped[int | None] = mapped_column(sa.Integer)
    opening_slots: Mapped[str] = mapped_column(sa.Text, default="")
    # Its id in the national "lieux de médiation numérique" data (field ``id``), when it has one.
    lieu_id: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Bumped by every edit: a form sent from an older version is refused instead of overwriting a newer one.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", lazy="raise"
    )
    modules: Mapped[list[Module]] = relationship(
        secondary=epm_module_offer, order_by="Module.number", lazy="raise"
    )
    certification_rows: Mapped[list[OrganisationCertification]] = relationship(
        cascade="all, delete-orphan", order_by="OrganisationCertification.framework_code", lazy="raise"
    )

    @property
    def certifications(self) -> list[str]:
        """The framework codes of the certifications a training body may decide."""
        return [row.framework_code for row in self.certification_rows]

    @property
    def full_address(self) -> str:
        return ", ".join(p for p in (self.address, f"{self.postcode} {self.city}".strip()) if p)

    def __repr__(self) -> str:
        return f"<Organisation {self.code}>"


class OrganisationCertification(Base):
    """A certification a training body may decide: the code of its framework (e.g. b2i-adultes-2010)."""

    __tablename__ = "organisation_certification"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True)
    framework_code: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
