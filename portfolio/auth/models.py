"""Users and their memberships (user x organisation x role)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, check_in, utcnow
from portfolio.orgs.models import Organisation, OrgKind


class Role(enum.StrEnum):
    BENEFICIARY = "beneficiary"
    ANIMATOR = "animator"
    PRESCRIBER = "prescriber"
    ASSESSOR = "assessor"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


# The staff roles and the kind of organisation each is held in (a beneficiary's membership comes from
# registering a ticket at an EPM, never from the staff pages).
STAFF_ROLE_KIND: dict[Role, OrgKind] = {
    Role.ANIMATOR: OrgKind.EPM,
    Role.PRESCRIBER: OrgKind.PRESCRIBER,
    Role.ASSESSOR: OrgKind.TRAINING_BODY,
    Role.COORDINATOR: OrgKind.COORDINATION,
    Role.ADMIN: OrgKind.COORDINATION,
}


# The order in which a person holding several roles is sent home.
ROLE_PRECEDENCE: tuple[Role, ...] = (
    Role.ADMIN,
    Role.COORDINATOR,
    Role.ASSESSOR,
    Role.PRESCRIBER,
    Role.ANIMATOR,
    Role.BENEFICIARY,
)


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Always stored lower-case; a beneficiary may have no e-mail at all.
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    first_name: Mapped[str] = mapped_column(sa.String(100), default="")
    last_name: Mapped[str] = mapped_column(sa.String(100), default="")
    email: Mapped[str | None] = mapped_column(sa.String(200))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped at sign-out everywhere and on a password change: older session cookies stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.username

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the cookie names the user and the session version
        return f"{self.id}:{self.session_version}"

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(m.role) for m in self.memberships)

    def has_role(self, *roles: Role | str) -> bool:
        return any(m.role in roles for m in self.memberships)

    def organisations_for(self, *roles: Role | str) -> list[Organisation]:
        return [m.organisation for m in self.memberships if m.role in roles]

    @property
    def primary_role(self) -> Role | None:
        mine = self.roles
        return next((r for r in ROLE_PRECEDENCE if r in mine), None)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "organisation_id", "role"),
        check_in("role", [r.value for r in Role], "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(sa.String(20))
    # An EPM's lead animator (animateur·trice référent·e) adds animators to that EPM.
    lead: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships", lazy="raise")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships", lazy="joined")


class LoginCard(Base):
    """A printed login card: a one-time code (stored hashed) that the learner exchanges for a password
    of their own at first sign-in. Printing a new card replaces the previous one."""

    __tablename__ = "login_card"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    printed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    # Set when the code is exchanged for a password, or when a newer card replaces this one.
    used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")

    def is_usable(self, now: dt.datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at
