"""Rules that must hold when requests arrive at the same moment, on PostgreSQL: real threads, each
with its own connection, on a fresh database whose rows are committed (outside the per-test rollback)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from portfolio import create_app
from portfolio.auth.models import Role
from portfolio.bootstrap import initialise
from portfolio.enrolment import services as enrolment
from portfolio.enrolment.models import Attendance, AttendanceStatus, Enrolment
from portfolio.extensions import db
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.tickets import services as tickets
from portfolio.tickets.models import Ticket
from portfolio.tickets.services import TicketRefused
from portfolio.timeutil import LOCAL_TZ
from tests import factories
from tests.conftest import app_overrides
from tests.databases import fresh_database, is_postgres

pytestmark = pytest.mark.postgres_only
THREADS = 20
TODAY = dt.date(2026, 3, 15)


@pytest.fixture(scope="module")
def committed_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    if not is_postgres(database_url):
        pytest.skip("concurrency is tested on PostgreSQL (TICKETNET_TEST_DATABASE_URL); SQLite serialises writers")
    with fresh_database(database_url) as url:
        app = create_app(app_overrides(url, tmp_path_factory.mktemp("concurrency"),
                                       DATABASE_OPTIONS={"pool_size": THREADS + 2}))
        initialise(app)
        yield app
        db.state(app).engine.dispose()


def run_at_once(app: Flask, count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together, each in its own app context and
    transaction, committed on success; returns each result or the TicketRefused raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def target(index: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[index] = work(index)
                db.session.commit()
            except TicketRefused as refused:
                db.session.rollback()
                results[index] = refused
            except Exception as exc:  # reported by the test's assertion  # noqa: BLE001
                db.session.rollback()
                results[index] = exc

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_registrations_of_one_ticket_exactly_one_succeeds(committed_app: Flask) -> None:
    with committed_app.app_context():
        session = db.session
        epms = [factories.epm(session) for _ in range(4)]
        animators = [factories.user(session, Role.ANIMATOR, epm) for epm in epms]
        prescriber = factories.organisation(session, OrgKind.PRESCRIBER)
        [ticket] = tickets.issue_tickets(session, factories.scheme(session), prescriber, [tickets.Holder(
            "Bessières", "Jean", dt.date(1948, 2, 2), "Lalbenque", "seniors")], dt.date(2026, 1, 5))
        session.commit()
        reference, epm_ids, animator_ids = ticket.reference, [e.id for e in epms], [a.id for a in animators]

    def register(index: int) -> int:
        epm = db.session.get(Organisation, epm_ids[index % 4])
        animator = db.session.get(type(animators[0]), animator_ids[index % 4])
        done = enrolment.register_ticket(db.session, epm, animator, reference, "Bessières", dt.date(1948, 2, 2), TODAY)
        return done.enrolment.id

    results = run_at_once(committed_app, THREADS, register)
    successes = [r for r in results if isinstance(r, int)]
    refusals = [r for r in results if isinstance(r, TicketRefused)]
    assert len(successes) == 1 and len(refusals) == THREADS - 1, results
    assert all("déjà inscrit" in str(r) or "vient d'être inscrit" in str(r) for r in refusals)
    with committed_app.app_context():
        ticket_id = db.session.scalar(sa.select(Ticket.id).where(Ticket.reference == reference))
        assert db.session.scalar(sa.select(sa.func.count(Enrolment.id)).where(Enrolment.ticket_id == ticket_id)) == 1


def test_the_cap_holds_when_workshops_are_marked_at_once(committed_app: Flask) -> None:
    """Nine sessions used; five workshops marked present at the same moment: exactly one gets the tenth."""
    with committed_app.app_context():
        session = db.session
        scheme = factories.scheme(session)
        epm = factories.epm(session)
        prescriber = factories.organisation(session, OrgKind.PRESCRIBER)
        [ticket] = tickets.issue_tickets(session, scheme, prescriber, [tickets.Holder(
            "Cayla", "Rose", dt.date(1955, 5, 5), "Luzech", "seniors")], dt.date(2026, 1, 5))
        done = enrolment.register_ticket(session, epm, None, ticket.reference, "Cayla", dt.date(1955, 5, 5), TODAY)
        modules = [m.id for m in enrolment.offered_modules(session, epm.id)][:10]
        enrolment.record_interview(session, scheme, done.enrolment, None, TODAY, "", modules, {})
        workshops = [enrolment.plan_session(session, scheme, epm, None, modules[i % 10],
                                            dt.datetime(2026, 2, 1 + i, 9, tzinfo=LOCAL_TZ)) for i in range(14)]
        for workshop in workshops[:9]:
            enrolment.book(session, workshop, done.enrolment)
            enrolment.record_attendance(session, workshop, {done.enrolment.id: AttendanceStatus.PRESENT}, None,
                                        workshop.ends_at)
        for workshop in workshops[9:]:  # booked earlier, when sessions were left
            session.add(Attendance(session_id=workshop.id, enrolment_id=done.enrolment.id))
        session.commit()
        enrolment_id, ticket_id = done.enrolment.id, ticket.id
        racing = [w.id for w in workshops[9:]]

    def mark(index: int) -> bool:
        workshop = enrolment.load_session(db.session, racing[index])
        enrolment.record_attendance(db.session, workshop, {enrolment_id: AttendanceStatus.PRESENT}, None,
                                    workshop.ends_at)
        return True

    results = run_at_once(committed_app, len(racing), mark)
    assert results.count(True) == 1, results
    assert all("déjà utilisé tout son ticket" in str(r) for r in results if r is not True)
    with committed_app.app_context():
        used = tickets.ledger(db.session, [ticket_id])[ticket_id]
        assert used == tickets.Ledger(10, 1200)
        assert db.session.get(Ticket, ticket_id).status == "completed"


def test_a_visit_during_a_computation_of_the_dashboard_gets_the_previous_figures(committed_app: Flask) -> None:
    """The kept figures' row is locked while they are computed (``FOR UPDATE SKIP LOCKED``): a second visit
    meanwhile is not blocked and does not compute them too; it gets the previous figures and their date."""
    from sqlalchemy.orm import Session

    from portfolio.stats import kept

    engine = db.state(committed_app).engine
    now = dt.datetime(2026, 11, 29, 11, 0, tzinfo=dt.UTC)
    before = now - dt.timedelta(minutes=10)  # stale: the next visit computes them again
    with Session(engine) as setup:
        kept.store(setup, "race-probe", before, {"n": 1})
        setup.commit()
    seen: list[kept.Kept[dict[str, int]]] = []
    computed: list[str] = []

    def second_visit_computes() -> dict[str, int]:
        computed.append("second")
        return {"n": 3}

    def first_visit_computes() -> dict[str, int]:
        computed.append("first")
        with Session(engine) as other:  # another request, on its own connection, while the first computes
            other.execute(sa.text("SET LOCAL lock_timeout = '2s'"))  # blocked instead of skipping: fails
            seen.append(kept.figures(other, "race-probe", now, 300, second_visit_computes, dict, dict))
            other.commit()
        return {"n": 2}

    with Session(engine) as first:
        result = kept.figures(first, "race-probe", now, 300, first_visit_computes, dict, dict)
        first.commit()
    assert computed == ["first"]
    assert (seen[0].value, seen[0].computed_at) == ({"n": 1}, before)
    assert (result.value, result.computed_at) == ({"n": 2}, now)
    with Session(engine) as later:
        after = kept.figures(later, "race-probe", now + dt.timedelta(seconds=1), 300, second_visit_computes,
                             dict, dict)
    assert after.value == {"n": 2} and computed == ["first"]


def test_ten_requests_for_one_domain_badge_at_once_leave_one_standing(committed_app: Flask) -> None:
    """The learner double-clicks "Recevoir mon badge" (or two tabs): every request answers with a badge, one
    badge stands, and each status-list place is taken once."""
    from competences.models import Competence, Level, Voice
    from competences.services import record_assessment
    from portfolio.credentials import services as credentials
    from portfolio.credentials.models import Credential

    with committed_app.app_context():
        session = db.session
        epm = factories.epm(session)
        animator = factories.user(session, Role.ANIMATOR, epm)
        learner = factories.user(session, Role.BENEFICIARY, epm)
        factories.enrolment(session, factories.ticket(session), epm, learner)
        for code in ("D1.1", "D1.2", "D1.3"):
            competence = session.scalar(sa.select(Competence).where(Competence.code == code))
            record_assessment(session, learner, competence, Voice.ANIMATOR, Level.ACQUIRED, animator)
        session.commit()
        learner_id = learner.id

    def ask(_index: int) -> int:
        person = db.session.get(type(learner), learner_id)
        return credentials.issue_domain(db.session, person, "D1", [], dt.datetime.now(dt.UTC)).id

    results = run_at_once(committed_app, 10, ask)
    assert all(isinstance(r, int) for r in results), results
    with committed_app.app_context():
        rows = db.session.scalars(sa.select(Credential).where(Credential.holder_id == learner_id)).all()
        standing = [c for c in rows if c.status != "revoked"]
        assert len(standing) == 1 and standing[0].status == "active"
        assert all(r.revocation_reason == "replaced" for r in rows if r.status == "revoked")
        assert len({(c.organisation_id, c.status_index) for c in rows}) == len(rows)
