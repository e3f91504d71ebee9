"""The demo data go through the services, and hold tickets at every stage."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from portfolio import create_app
from portfolio.bootstrap import initialise
from portfolio.demo import create_demo
from portfolio.enrolment.models import Enrolment
from portfolio.extensions import db
from portfolio.orgs.models import Organisation
from portfolio.sharing.models import Consent, Submission
from portfolio.tickets import reference
from portfolio.tickets import services as tickets
from portfolio.tickets.models import Ticket, TicketStatus
from portfolio.timeutil import local_today
from tests.conftest import app_overrides


def test_demo_has_tickets_at_every_stage(fresh_database_url: str, tmp_path: Path) -> None:
    app = create_app(app_overrides(fresh_database_url, tmp_path))
    initialise(app)
    with app.app_context():
        session = db.session
        create_demo(session, app.config["SECRET_KEY"], "demo-password-123")
        session.commit()
        today = local_today()
        counts = tickets.status_counts(session, today)
        assert all(counts[status] >= 1 for status in TicketStatus), counts
        assert all(reference.is_valid(r) for r in session.scalars(sa.select(Ticket.reference)))
        assert tickets.expiring_soon(session, today)  # one ticket runs out within 30 days
        marie = session.scalar(sa.select(Ticket).where(Ticket.last_name == "Dupont"))
        assert tickets.ledger(session, [marie.id])[marie.id] == tickets.Ledger(5, 600)  # and yesterday's workshop
        assert session.scalar(sa.select(sa.func.count(Enrolment.id)).where(Enrolment.active.is_(True))) >= 5
        # Consents (online and on paper), files sent to the GRETA, and decisions with their codes.
        consents = session.scalars(sa.select(Consent)).all()
        assert {c.method for c in consents} == {"online", "paper"} and all(len(c.text_hash) == 64 for c in consents)
        files = session.scalars(sa.select(Submission).join(Organisation, Organisation.id == Submission.organisation_id)
                                .where(Organisation.code == "greta-quercy-rouergue")).all()
        assert sorted(f.status for f in files) == ["decided", "decided", "sent"]
        assert {f.decision for f in files} == {"ready", "to_complete", None}
        assert all(f.verification_code for f in files if f.status == "decided")
        create_demo(session, app.config["SECRET_KEY"], "demo-password-123")  # again: nothing more
        assert session.scalar(sa.select(sa.func.count(Submission.id))) == len(files)
    db.state(app).engine.dispose()
