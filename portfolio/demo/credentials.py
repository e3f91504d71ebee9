"""Demo badges: the path and certification ones come by themselves (Odile's completed path, Lucie's positive
decision); Lucie also asks for the badge of her first validated B2i Adultes domain, with one journal text."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.auth.models import User
from portfolio.credentials import services


def create_credential_stories(session: Session, now: dt.datetime) -> None:
    lucie = session.scalar(sa.select(User).where(User.username == "lucie.cayla"))
    if lucie is None:
        return
    offers = [o for o in services.domain_offers(session, lucie.id) if o.organisation is not None]
    if not offers:
        return
    entries = services.evidence_choices(session, lucie.id)[:1]
    services.issue_domain(session, lucie, offers[0].domain.code, [e.id for e in entries], now)
