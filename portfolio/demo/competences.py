"""Demo: yesterday's workshop at Cahors, with Marie and two other learners, its positioning sheet partly filled
(through the competence services), so that the animator's grid and the learners' pages have something to show."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from competences import services as competences
from competences.loader import B2I_CODE, latest_framework
from competences.models import Competence, Level, Voice
from portfolio.auth import services as account_services
from portfolio.auth.models import Role, User
from portfolio.catalogue.models import Module
from portfolio.catalogue.scheme import load_scheme_config
from portfolio.enrolment.models import Attendance, AttendanceStatus, Enrolment, PositioningInterview, WorkshopSession
from portfolio.orgs.models import Organisation
from portfolio.tickets.models import Ticket, TicketStatus
from portfolio.tickets.reference import make_reference
from portfolio.timeutil import LOCAL_TZ, add_months

# (username, first name, last name, birth date, commune, public, prescriber, self-declared levels at the interview)
GROUP = (
    ("paul.fabre", "Paul", "Fabre", dt.date(1949, 6, 2), "Cahors", "seniors", "cg46",
     {"D1.1": Level.IN_PROGRESS, "D2.3": Level.NOT_YET}),
    ("lucie.cayla", "Lucie", "Cayla", dt.date(1979, 2, 11), "Arcambal", "femmes-isolees", "caf46",
     {"D1.1": Level.ACQUIRED, "D4.1": Level.IN_PROGRESS}),
)
FIRST_SERIAL = 800_001  # a range of their own: never one that the ticket counter hands out
WORKSHOP_MODULE = 7  # "Effectuer des démarches administratives": D2.4, D2.3, D4.1 suggested
# (username, competence, level) noted by the animator at yesterday's workshop.
JUDGEMENTS = (
    ("marie.dupont", "D2.4", Level.IN_PROGRESS),
    ("marie.dupont", "D2.3", Level.ACQUIRED),
    ("paul.fabre", "D2.4", Level.NOT_YET),
    ("paul.fabre", "D2.3", Level.IN_PROGRESS),
    ("lucie.cayla", "D2.3", Level.ACQUIRED),
)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ).astimezone(dt.timezone.utc)


def create_competence_stories(
    session: Session, orgs: dict[str, Organisation], users: dict[str, User], today: dt.date
) -> None:
    framework = latest_framework(session, B2I_CODE)
    if framework is None:
        return
    codes = {c.code: c for c in session.scalars(sa.select(Competence).where(Competence.framework_id == framework.id))}
    scheme = load_scheme_config(session, "ticket-net-lot")
    animator, cahors = users["animateur.cahors"], orgs["epm-cahors"]
    module = session.scalar(sa.select(Module).where(Module.number == WORKSHOP_MODULE))
    yesterday = today - dt.timedelta(days=1)
    workshop = WorkshopSession(epm_id=cahors.id, module_id=module.id, animator_id=animator.id,
                               starts_at=_at(yesterday, 14), duration_minutes=120, capacity=5)
    session.add(workshop)
    session.flush()

    marie = session.scalar(sa.select(Enrolment).where(Enrolment.learner_id == users["marie.dupont"].id,
                                                      Enrolment.epm_id == cahors.id))
    people = {"marie.dupont": users["marie.dupont"]} if marie is not None else {}
    enrolments = [marie] if marie is not None else []
    interview_day, issued_on = today - dt.timedelta(days=12), today - dt.timedelta(days=20)
    for serial, (username, first, last, born, commune, public, prescriber, declared) in enumerate(GROUP, FIRST_SERIAL):
        learner = account_services.create_user(session, username, first_name=first, last_name=last)
        account_services.add_membership(session, learner, cahors, Role.BENEFICIARY)
        session.flush()
        ticket = Ticket(
            reference=make_reference("46", issued_on.year, serial), prescriber_id=orgs[prescriber].id,
            issued_on=issued_on, expires_on=add_months(issued_on, scheme.validity_months) - dt.timedelta(days=1),
            value_cents=scheme.value_cents, hours=scheme.hours, sessions=scheme.sessions,
            session_minutes=scheme.session_minutes, first_name=first, last_name=last, birth_date=born,
            commune=commune, public_category=public, status=TicketStatus.IN_PROGRESS.value, beneficiary_id=learner.id,
        )
        session.add(ticket)
        enrolment = Enrolment(ticket=ticket, epm_id=cahors.id, learner_id=learner.id, registered_by_id=animator.id,
                              registered_at=_at(interview_day, 10),
                              interview=PositioningInterview(held_on=interview_day, animator_id=animator.id,
                                                             projects="Faire mes démarches en ligne."))
        session.add(enrolment)
        session.flush()
        for code, level in declared.items():
            competences.record_assessment(session, learner, codes[code], Voice.SELF, level, learner,
                                          at=_at(interview_day, 10))
        people[username] = learner
        enrolments.append(enrolment)

    for enrolment in enrolments:
        session.add(Attendance(session_id=workshop.id, enrolment_id=enrolment.id,
                               status=AttendanceStatus.PRESENT.value, recorded_by_id=animator.id,
                               recorded_at=_at(yesterday, 14)))
    session.flush()
    noted_at = workshop.starts_at + dt.timedelta(minutes=100)
    for username, code, level in JUDGEMENTS:
        if username in people:
            competences.record_assessment(session, people[username], codes[code], Voice.ANIMATOR, level, animator,
                                          at_session=workshop, at=noted_at)
