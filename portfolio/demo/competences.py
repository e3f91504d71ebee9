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
from portfolio.tickets.models import TicketStatus

# (username, first name, last name, birth date, commune, public, prescriber, self-declared levels at the interview)
GROUP = (
    ("paul.fabre", "Paul", "Fabre", dt.date(1949, 6, 2), "Cahors", "seniors", "cg46",
     {"D1.1": Level.IN_PROGRESS, "D2.3": Level.NOT_YET}),
    ("lucie.cayla", "Lucie", "Cayla", dt.date(1979, 2, 11), "Arcambal", "femmes-isolees", "caf46",
     {"D1.1": Level.ACQUIRED, "D4.1": Level.IN_PROGRESS}),
)
WORKSHOP_MODULE = 7  # "Effectuer des démarches administratives": D2.4, D2.3, D4.1 suggested
# (username, competence, level) noted by the animator at yesterday's workshop.
JUDGEMENTS = (
    ("marie.dupont", "D2.4", Level.IN_PROGRESS),
    ("marie.dupont", "D2.3", Level.ACQUIRED),
    ("paul.fabre", "D2.4", Level.NOT_YET),
    ("paul.fabre", "D2.3", Level.IN_PROGRESS),
    ("lucie.cayla", "D2.3", Level.ACQUIRED),
)


def create_competence_stories(
    session: Session, orgs: dict[str, Organisation], users: dict[str, User], today: dt.date
) -> None:
    from portfolio.demo.stories import _at, _next_serial, _ticket

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

    people = {"marie.dupont": users["marie.dupont"]}
    enrolments = [session.scalar(sa.select(Enrolment).where(Enrolment.learner_id == users["marie.dupont"].id))]
    serial = _next_serial(session)
    interview_day = today - dt.timedelta(days=12)
    for username, first, last, born, commune, public, prescriber, declared in GROUP:
        learner = account_services.create_user(session, username, first_name=first, last_name=last)
        account_services.add_membership(session, learner, cahors, Role.BENEFICIARY)
        ticket = _ticket(scheme, serial, orgs[prescriber], today - dt.timedelta(days=20), first_name=first,
                         last_name=last, birth_date=born, commune=commune, public_category=public)
        serial += 1
        ticket.status = TicketStatus.IN_PROGRESS.value
        session.add(ticket)
        session.flush()
        ticket.beneficiary_id = learner.id
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
        competences.record_assessment(session, people[username], codes[code], Voice.ANIMATOR, level, animator,
                                      at_session=workshop, at=noted_at)
