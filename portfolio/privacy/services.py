"""Deleting an account: the person's data goes, what others must keep is detached from them, and the
audit log keeps its events under a pseudonym. Driven by ``registry.REFERENCES``."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.audit import services as audit
from portfolio.auth.models import User
from portfolio.catalogue.models import SettingChange
from portfolio.db import Base
from portfolio.enrolment.models import Enrolment, PositioningInterview
from portfolio.journal.models import Photo
from portfolio.journal.storage import PhotoStorage, delete_after_commit
from portfolio.privacy.registry import REFERENCES, OnDelete
from portfolio.tickets.models import Ticket

ERASED_NAME = "(effacé)"
ERASED_BIRTH_DATE = dt.date(1900, 1, 1)


def pseudonym(secret_key: str, user_id: int) -> str:
    """A stable pseudonym for a deleted account: the audit log can still tell its events apart."""
    digest = hmac.new(secret_key.encode(), f"deleted-user:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"compte-supprime-{digest[:10]}"


def delete_account(session: Session, storage: PhotoStorage, user: User, secret_key: str) -> str:
    """Delete the person's account and data; returns the pseudonym now standing for them in the audit log."""
    uid = user.id
    alias = pseudonym(secret_key, uid)

    # Photo files go after the commit; their rows go with the entries and the account below.
    photos = session.execute(sa.select(Photo.storage_key, Photo.thumbnail_key).where(Photo.owner_id == uid)).all()
    delete_after_commit(session, storage, [key for row in photos for key in row])

    # Records others keep: erase what identifies the person in them.
    session.execute(
        sa.update(Ticket).where(Ticket.beneficiary_id == uid).values(
            first_name=ERASED_NAME, last_name=ERASED_NAME, birth_date=ERASED_BIRTH_DATE, phone="", email="",
        )
    )
    session.execute(
        sa.update(PositioningInterview)
        .where(PositioningInterview.enrolment_id.in_(sa.select(Enrolment.id).where(Enrolment.learner_id == uid)))
        .values(projects="", notes="")
    )
    # Her credentials are revoked (their status-list bits stay set) and emptied of what named her.
    from portfolio.credentials import services as credentials

    credentials.account_deleted(session, uid, dt.datetime.now(dt.UTC))
    # The audit log: the person's events stay, under a pseudonym; so do failed sign-ins with their name.
    audit.pseudonymise_person(session, uid, user.username, alias)
    # The scheme's settings the person changed stay, under the same pseudonym.
    session.execute(sa.update(SettingChange).where(SettingChange.changed_by_id == uid).values(changed_by_name=alias))

    for reference in REFERENCES:
        if reference.on_delete is OnDelete.PSEUDONYMISE:
            continue  # done just above
        table = Base.metadata.tables[reference.table]
        column = table.c[reference.column]
        if reference.on_delete is OnDelete.DELETE:
            session.execute(sa.delete(table).where(column == uid))
        else:  # DETACH and PSEUDONYMISE: the row stays, without its link to the person
            session.execute(sa.update(table).where(column == uid).values({reference.column: None}))

    session.expunge(user)
    session.execute(sa.delete(User.__table__).where(User.__table__.c.id == uid))
    audit.record(session, "account.deleted", details={"pseudonym": alias})
    session.flush()
    return alias
