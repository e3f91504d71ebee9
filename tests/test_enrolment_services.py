"""Registering a ticket at an EPM, the learner's account and login card, the positioning interview,
workshops, booking, attendance and the cap of the ticket, the attendance dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from competences.models import Assessment, Level, Voice
from portfolio.auth import cards
from portfolio.auth.models import Role
from portfolio.enrolment import services as enrolment
from portfolio.enrolment.models import Attendance, AttendanceStatus, Enrolment
from portfolio.orgs.models import OrgKind
from portfolio.tickets import services as tickets
from portfolio.tickets.models import TicketStatus
from portfolio.tickets.services import TicketRefused
from portfolio.timeutil import LOCAL_TZ
from tests import factories

TODAY = dt.date(2026, 3, 15)
UTC = dt.UTC


def at(day: int, hour: int = 9, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=LOCAL_TZ)


def new_ticket(session: Session, issued_on: dt.date = dt.date(2026, 2, 1), **identity: Any) -> Any:
    values = {"last_name": "Lacoste", "first_name": "Hélène", "birth_date": dt.date(1950, 6, 1),
              "commune": "Figeac", "public_category": "seniors"}
    values.update(identity)
    prescriber = factories.organisation(session, OrgKind.PRESCRIBER)
    return tickets.issue_tickets(session, factories.scheme(session), prescriber, [tickets.Holder(**values)],
                                 issued_on)[0]


def register(session: Session, epm: Any, ticket: Any, last_name: str = "Lacoste",
             birth: dt.date = dt.date(1950, 6, 1), today: dt.date = TODAY) -> enrolment.Registration:
    animator = factories.user(session, Role.ANIMATOR, epm)
    return enrolment.register_ticket(session, epm, animator, ticket.reference, last_name, birth, today)


@pytest.fixture
def epm(db_session: Session) -> Any:
    return factories.epm(db_session, name="EPM de Figeac")


# --- Registration -----------------------------------------------------------------------------------


def test_registration_creates_the_learner_account_without_email(db_session: Session, epm: Any) -> None:
    ticket = new_ticket(db_session)
    done = register(db_session, epm, ticket, last_name=" lacoste ")
    assert done.account_created
    assert done.learner.username == "helene.lacoste" and done.learner.password_hash is None
    assert done.learner.email is None
    assert done.learner.has_role(Role.BENEFICIARY)
    assert ticket.status == TicketStatus.REGISTERED.value and ticket.beneficiary_id == done.learner.id
    assert done.enrolment.active and done.enrolment.epm_id == epm.id


def test_usernames_never_collide(db_session: Session, epm: Any) -> None:
    first = register(db_session, epm, new_ticket(db_session)).learner
    second = register(db_session, epm, new_ticket(db_session)).learner
    assert (first.username, second.username) == ("helene.lacoste", "helene.lacoste2")


@pytest.mark.parametrize("typed,reason", [
    ("TN46-2026-0001", "n'a pas la forme"),
    ("TN46-2026-999999-A", "caractère de contrôle"),
])
def test_mistyped_references_are_refused(db_session: Session, epm: Any, typed: str, reason: str) -> None:
    animator = factories.user(db_session, Role.ANIMATOR, epm)
    with pytest.raises(TicketRefused, match=reason):
        enrolment.register_ticket(db_session, epm, animator, typed, "X", dt.date(1950, 1, 1), TODAY)


def test_refusals_expired_cancelled_identity_and_elsewhere(db_session: Session, epm: Any) -> None:
    old = new_ticket(db_session, issued_on=dt.date(2025, 3, 1))
    with pytest.raises(TicketRefused, match="a expiré le 28/02/2026"):
        register(db_session, epm, old)
    cancelled = new_ticket(db_session)
    tickets.cancel_ticket(db_session, cancelled, TODAY)
    with pytest.raises(TicketRefused, match="annulé"):
        register(db_session, epm, cancelled)
    ticket = new_ticket(db_session)
    with pytest.raises(TicketRefused, match="ne correspondent pas"):
        register(db_session, epm, ticket, last_name="Lacombe")
    with pytest.raises(TicketRefused, match="ne correspondent pas"):
        register(db_session, epm, ticket, birth=dt.date(1950, 6, 2))
    register(db_session, epm, ticket, last_name="LACOSTE")
    with pytest.raises(TicketRefused, match="déjà inscrit dans votre EPM"):
        register(db_session, epm, ticket)
    elsewhere = factories.epm(db_session, name="EPM de Gourdon")
    with pytest.raises(TicketRefused, match="déjà inscrit dans un autre EPM : EPM de Figeac"):
        register(db_session, elsewhere, ticket)
    active = db_session.scalar(sa.select(sa.func.count(Enrolment.id)).where(Enrolment.ticket_id == ticket.id))
    assert active == 1


def test_only_one_active_enrolment_per_ticket_in_the_database(db_session: Session, epm: Any) -> None:
    ticket = new_ticket(db_session)
    register(db_session, epm, ticket)
    with pytest.raises(sa.exc.IntegrityError), db_session.begin_nested():
        db_session.add(Enrolment(ticket_id=ticket.id, epm_id=factories.epm(db_session).id))


# --- Login cards ------------------------------------------------------------------------------------


def test_login_card_code_is_exchanged_once_for_a_password(db_session: Session, epm: Any, app_context: None) -> None:
    learner = register(db_session, epm, new_ticket(db_session)).learner
    card, code = cards.new_card(db_session, learner, None)
    assert len(code) == 9 and code[4] == "-"
    assert cards.check_code(db_session, learner.username, "wrong-code") is None
    assert cards.check_code(db_session, "nobody", code) is None
    found = cards.check_code(db_session, learner.username.upper(), code.lower().replace("-", " "))
    assert found is card
    cards.redeem(db_session, card, "mon jardin en automne")
    assert cards.check_code(db_session, learner.username, code) is None  # used
    from portfolio.auth.services import authenticate
    assert authenticate(db_session, learner.username, "mon jardin en automne") is learner


def test_a_new_card_replaces_the_old_one_and_the_password(db_session: Session, epm: Any, app_context: None) -> None:
    learner = register(db_session, epm, new_ticket(db_session)).learner
    first, first_code = cards.new_card(db_session, learner, None)
    cards.redeem(db_session, first, "mon ancien mot de passe")
    version = learner.session_version
    _second, second_code = cards.new_card(db_session, learner, None)
    assert learner.password_hash is None and learner.session_version == version + 1
    assert cards.check_code(db_session, learner.username, second_code) is not None
    third, third_code = cards.new_card(db_session, learner, None)
    assert cards.check_code(db_session, learner.username, second_code) is None  # replaced
    assert cards.check_code(db_session, learner.username, third_code) is third
    later = dt.datetime.now(UTC) + dt.timedelta(days=cards.CARD_VALID_DAYS + 1)
    assert cards.check_code(db_session, learner.username, third_code, now=later) is None  # expired


# --- Interview --------------------------------------------------------------------------------------


def test_interview_records_projects_levels_in_two_voices_and_the_path(db_session: Session, epm: Any) -> None:
    scheme = factories.scheme(db_session)
    done = register(db_session, epm, new_ticket(db_session))
    competences = enrolment.b2i_competences(db_session)
    assert len(competences) == 18
    offered = enrolment.offered_modules(db_session, epm.id)
    chosen = [m.id for m in offered[:10]]
    levels = {competences[0].id: (Level.IN_PROGRESS, Level.NOT_YET), competences[1].id: (Level.ACQUIRED, None)}
    interview = enrolment.record_interview(db_session, scheme, done.enrolment, None, TODAY,
                                           "Écrire à mes petits-enfants.", chosen, levels)
    assert interview.duration_minutes == 30 and interview.projects == "Écrire à mes petits-enfants."
    rows = db_session.scalars(sa.select(Assessment).where(Assessment.learner_id == done.learner.id)).all()
    assert sorted((r.competence_id, r.voice, r.level) for r in rows) == sorted([
        (competences[0].id, Voice.ANIMATOR.value, Level.IN_PROGRESS.value),
        (competences[0].id, Voice.SELF.value, Level.NOT_YET.value),
        (competences[1].id, Voice.ANIMATOR.value, Level.ACQUIRED.value),
    ])
    assert all(r.session_id is None for r in rows)
    assert enrolment.initial_levels(db_session, done.learner.id)[competences[0].id] == ("in_progress", "not_yet")
    # Correcting the interview adds only the judgements that changed, and replaces the path.
    enrolment.record_interview(db_session, scheme, done.enrolment, None, TODAY, "Écrire.", list(reversed(chosen)),
                               {competences[0].id: (Level.ACQUIRED, Level.NOT_YET)})
    assert db_session.scalar(sa.select(sa.func.count(Assessment.id)).where(
        Assessment.learner_id == done.learner.id)) == 4
    db_session.expire_all()
    loaded = enrolment.load_enrolment(db_session, done.enrolment.id)
    assert [p.module_id for p in loaded.path] == list(reversed(chosen))


def test_interview_path_rules(db_session: Session, epm: Any) -> None:
    scheme = factories.scheme(db_session)
    done = register(db_session, epm, new_ticket(db_session))
    offered = [m.id for m in enrolment.offered_modules(db_session, epm.id)]
    not_offered = next(m.id for m in factories.modules(db_session) if m.id not in offered)
    with pytest.raises(TicketRefused, match="Choisissez 10 modules .* 9"):
        enrolment.record_interview(db_session, scheme, done.enrolment, None, TODAY, "", offered[:9], {})
    with pytest.raises(TicketRefused, match="n'est pas proposé"):
        enrolment.record_interview(db_session, scheme, done.enrolment, None, TODAY, "", offered[:9] + [not_offered], {})
    small = factories.epm(db_session, offering=range(1, 5))
    other = register(db_session, small, new_ticket(db_session))
    with pytest.raises(TicketRefused, match="moins de 10 modules"):
        enrolment.record_interview(db_session, scheme, other.enrolment, None, TODAY, "", offered[:10], {})


# --- Workshops and attendance -----------------------------------------------------------------------


def learner_with_path(session: Session, epm: Any, ticket: Any = None) -> Enrolment:
    done = register(session, epm, ticket or new_ticket(session))
    offered = [m.id for m in enrolment.offered_modules(session, epm.id)]
    enrolment.record_interview(session, factories.scheme(session), done.enrolment, None, TODAY, "", offered[:10], {})
    return done.enrolment


def module_id(session: Session, epm: Any, index: int = 0) -> int:
    return enrolment.offered_modules(session, epm.id)[index].id


def test_plan_session_defaults_and_capacity_limits(db_session: Session, epm: Any) -> None:
    scheme = factories.scheme(db_session)
    workshop = enrolment.plan_session(db_session, scheme, epm, None, module_id(db_session, epm), at(20))
    assert (workshop.duration_minutes, workshop.capacity) == (120, 5)
    assert epm.capacity == 6
    enrolment.plan_session(db_session, scheme, epm, None, module_id(db_session, epm), at(21), capacity=6)
    with pytest.raises(TicketRefused, match="de 1 à 6 personnes"):
        enrolment.plan_session(db_session, scheme, epm, None, module_id(db_session, epm), at(22), capacity=7)
    not_offered = next(m.id for m in factories.modules(db_session) if m.number == 20)
    with pytest.raises(TicketRefused, match="pas proposé"):
        enrolment.plan_session(db_session, scheme, epm, None, not_offered, at(22))


def test_booking_rules(db_session: Session, epm: Any) -> None:
    scheme = factories.scheme(db_session)
    workshop = enrolment.plan_session(db_session, scheme, epm, None, module_id(db_session, epm), at(20), capacity=2)
    learners = [learner_with_path(db_session, epm) for _ in range(3)]
    assert {e.id for e in enrolment.bookable_enrolments(db_session, workshop)} == {e.id for e in learners}
    enrolment.book(db_session, workshop, learners[0])
    with pytest.raises(TicketRefused, match="déjà inscrit·e"):
        enrolment.book(db_session, workshop, learners[0])
    enrolment.book(db_session, workshop, learners[1])
    with pytest.raises(TicketRefused, match="complet"):
        enrolment.book(db_session, workshop, learners[2])
    outside_path = enrolment.plan_session(db_session, scheme, epm, None, module_id(db_session, epm, 11), at(21))
    with pytest.raises(TicketRefused, match="ne contient pas ce module"):
        enrolment.book(db_session, outside_path, learners[2])
    enrolment.unbook(db_session, workshop, learners[1].id)
    enrolment.book(db_session, workshop, learners[2])


def test_no_booking_or_attendance_after_expiry(db_session: Session, epm: Any) -> None:
    scheme = factories.scheme(db_session)
    ticket = new_ticket(db_session, issued_on=dt.date(2025, 4, 1))  # last valid day 2026-03-31
    learner = learner_with_path(db_session, epm, ticket)
    after = enrolment.plan_session(db_session, scheme, epm, None, module_id(db_session, epm), at(2, month=4))
    with pytest.raises(TicketRefused, match="a expiré le 31/03/2026"):
        enrolment.book(db_session, after, learner)
    last_day = enrolment.plan_session(db_session, scheme, epm, None, module_id(db_session, epm), at(31))
    enrolment.book(db_session, last_day, learner)
    # Booked in time, but the ticket was cut short (a correction of its dates): attendance is refused.
    ticket.expires_on = dt.date(2026, 3, 30)
    with pytest.raises(TicketRefused, match="a expiré"):
        enrolment.record_attendance(db_session, last_day, {learner.id: AttendanceStatus.PRESENT}, None, at(31, 11))


def test_attendance_moves_the_ticket_and_the_ledger(db_session: Session, epm: Any) -> None:
    scheme = factories.scheme(db_session)
    learner = learner_with_path(db_session, epm)
    workshop = enrolment.plan_session(db_session, scheme, epm, None, module_id(db_session, epm), at(20))
    enrolment.book(db_session, workshop, learner)
    with pytest.raises(TicketRefused, match="quand l'atelier aura commencé"):
        enrolment.record_attendance(db_session, workshop, {learner.id: AttendanceStatus.PRESENT}, None, at(20, 8))
    enrolment.record_attendance(db_session, workshop, {learner.id: AttendanceStatus.PRESENT}, None, at(20, 11))
    ticket = enrolment.load_enrolment(db_session, learner.id).ticket
    assert ticket.status == TicketStatus.IN_PROGRESS.value
    assert tickets.ledger(db_session, [ticket.id])[ticket.id] == tickets.Ledger(1, 120)
    enrolment.record_attendance(db_session, workshop, {learner.id: AttendanceStatus.EXCUSED}, None, at(20, 12))
    assert ticket.status == TicketStatus.REGISTERED.value
    assert tickets.ledger(db_session, [ticket.id])[ticket.id] == tickets.Ledger(0, 0)


def test_never_more_than_the_ticket(db_session: Session, epm: Any) -> None:
    """Ten present sessions complete the ticket; an eleventh is refused with a message."""
    scheme = factories.scheme(db_session)
    learner = learner_with_path(db_session, epm)
    path = [p.module_id for p in enrolment.load_enrolment(db_session, learner.id).path]
    workshops = []
    for index in range(11):
        workshop = enrolment.plan_session(db_session, scheme, epm, None, path[index % 10], at(1 + index, month=3))
        workshops.append(workshop)
    for workshop in workshops[:10]:
        enrolment.book(db_session, workshop, learner)
    with pytest.raises(TicketRefused, match="10 ateliers suivis ou réservés"):
        enrolment.book(db_session, workshops[10], learner)
    # A booking made before the cap was reached: marking it present is refused.
    db_session.add(Attendance(session_id=workshops[10].id, enrolment_id=learner.id))
    db_session.flush()
    for workshop in workshops[:10]:
        enrolment.record_attendance(db_session, workshop, {learner.id: AttendanceStatus.PRESENT}, None, at(14))
    ticket = enrolment.load_enrolment(db_session, learner.id).ticket
    assert ticket.status == TicketStatus.COMPLETED.value
    with pytest.raises(TicketRefused, match="déjà utilisé tout son ticket"):
        enrolment.record_attendance(db_session, workshops[10], {learner.id: AttendanceStatus.PRESENT}, None, at(14))
    assert tickets.ledger(db_session, [ticket.id])[ticket.id] == tickets.Ledger(10, 1200)


def test_attendance_is_all_or_nothing(db_session: Session, epm: Any) -> None:
    scheme = factories.scheme(db_session)
    fine = learner_with_path(db_session, epm)
    expired = learner_with_path(db_session, epm)
    workshop = enrolment.plan_session(db_session, scheme, epm, None, module_id(db_session, epm), at(10))
    enrolment.book(db_session, workshop, fine)
    enrolment.book(db_session, workshop, expired)
    enrolment.load_enrolment(db_session, expired.id).ticket.expires_on = dt.date(2026, 3, 1)
    marks = {fine.id: AttendanceStatus.PRESENT, expired.id: AttendanceStatus.PRESENT}
    with pytest.raises(TicketRefused, match="Lacoste"):
        enrolment.record_attendance(db_session, workshop, marks, None, at(10, 11))
    statuses = db_session.scalars(sa.select(Attendance.status).where(Attendance.session_id == workshop.id)).all()
    assert statuses == ["expected", "expected"]


def test_attendance_dashboard_by_week_and_month(db_session: Session, epm: Any) -> None:
    scheme = factories.scheme(db_session)
    a, b = learner_with_path(db_session, epm), learner_with_path(db_session, epm)
    mid = module_id(db_session, epm)
    plan = [(at(2), {a.id: AttendanceStatus.PRESENT, b.id: AttendanceStatus.ABSENT}),
            (at(9), {a.id: AttendanceStatus.PRESENT, b.id: AttendanceStatus.EXCUSED}),
            (at(10), {a.id: AttendanceStatus.PRESENT}),
            (at(20, month=2), {b.id: AttendanceStatus.PRESENT})]
    for starts, marks in plan:
        workshop = enrolment.plan_session(db_session, scheme, epm, None, mid, starts)
        for enrolment_id in marks:
            enrolment.book(db_session, workshop, db_session.get(Enrolment, enrolment_id))
        enrolment.record_attendance(db_session, workshop, marks, None, starts + dt.timedelta(hours=2))
    enrolment.plan_session(db_session, scheme, epm, None, mid, at(20))  # in the future: not counted
    weeks, months = enrolment.attendance_dashboard(db_session, epm.id, TODAY)
    assert len(weeks) == 8 and weeks[0].start == dt.date(2026, 3, 9)
    assert (weeks[0].sessions, weeks[0].counts["present"], weeks[0].counts["excused"]) == (2, 2, 1)
    assert (weeks[1].sessions, weeks[1].counts["present"], weeks[1].counts["absent"]) == (1, 1, 1)
    assert weeks[0].hours_present == 4 and weeks[1].rate == 50
    assert months[0].start == dt.date(2026, 3, 1) and months[0].sessions == 3 and months[0].counts["present"] == 3
    assert months[1].start == dt.date(2026, 2, 1) and months[1].counts["present"] == 1
    assert months[0].rate == 60


def test_an_interview_written_down_later_still_comes_before_the_workshops(db_session: Session, epm: Any) -> None:
    from competences.services import latest_assessments, record_assessment

    scheme = factories.scheme(db_session)
    done = register(db_session, epm, new_ticket(db_session))
    competence = enrolment.b2i_competences(db_session)[0]
    offered = [m.id for m in enrolment.offered_modules(db_session, epm.id)][:10]
    held_on = TODAY - dt.timedelta(days=14)
    workshop_time = dt.datetime.now(UTC) - dt.timedelta(days=7)
    record_assessment(db_session, done.learner.id, competence.id, Voice.ANIMATOR, Level.ACQUIRED, None,
                      at=workshop_time)  # validated at a workshop last week
    enrolment.record_interview(db_session, scheme, done.enrolment, None, held_on, "", offered,
                               {competence.id: (Level.NOT_YET, None)})  # the interview of two weeks ago, typed today
    latest = latest_assessments(db_session, [done.learner.id], [competence.id], [Voice.ANIMATOR])
    assert latest[(done.learner.id, competence.id, Voice.ANIMATOR.value)].level == Level.ACQUIRED.value
