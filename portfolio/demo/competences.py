"""Demo: yesterday's workshop at Cahors, with Marie and two other learners, its positioning sheet partly filled
(through the competence services), so that the animator's grid and the learners' pages have something to show."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from competences import services as competences
from competences.loader import B2I_CODE, latest_framework
from competences.models import Competence, Level, Voice
from portfolio.auth.models import User
from portfolio.catalogue.models import Module
from portfolio.catalogue.scheme import load_scheme_config
from portfolio.demo.stories import _at, _issue, _register_with_interview
from portfolio.enrolment import services
from portfolio.enrolment.models import AttendanceStatus, Enrolment
from portfolio.orgs.models import Organisation

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
    """Through the EPM's services (issue, register, interview, plan, book, attendance) and the competence
    service (every judgement a new row)."""
    framework = latest_framework(session, B2I_CODE)
    if framework is None:
        return
    codes = {c.code: c for c in session.scalars(sa.select(Competence).where(Competence.framework_id == framework.id))}
    scheme = load_scheme_config(session, "ticket-net-lot")
    animator, cahors = users["animateur.cahors"], orgs["epm-cahors"]
    yesterday = today - dt.timedelta(days=1)
    interview_day, issued_on = today - dt.timedelta(days=12), today - dt.timedelta(days=20)

    marie = session.scalar(sa.select(Enrolment).where(Enrolment.learner_id == users["marie.dupont"].id,
                                                      Enrolment.epm_id == cahors.id))
    people = {"marie.dupont": users["marie.dupont"]} if marie is not None else {}
    enrolments = [marie] if marie is not None else []
    for username, first, last, born, commune, public, prescriber, declared in GROUP:
        ticket = _issue(session, scheme, orgs[prescriber], issued_on, first, last, born, commune, public)
        levels = {codes[code].id: (None, level) for code, level in declared.items()}
        enrolment = _register_with_interview(session, scheme, cahors, animator, ticket, interview_day,
                                             projects="Faire mes démarches en ligne.", levels=levels)
        people[username] = enrolment.learner_id
        enrolments.append(enrolment)

    module_id = session.scalar(sa.select(Module.id).where(Module.number == WORKSHOP_MODULE))
    workshop = services.plan_session(session, scheme, cahors, animator, module_id, _at(yesterday, 14))
    for enrolment in enrolments:
        services.book(session, workshop, enrolment)
    services.record_attendance(session, workshop, {e.id: AttendanceStatus.PRESENT for e in enrolments}, animator,
                               workshop.ends_at)
    noted_at = workshop.starts_at + dt.timedelta(minutes=100)
    for username, code, level in JUDGEMENTS:
        if username in people:
            competences.record_assessment(session, people[username], codes[code], Voice.ANIMATOR, level, animator,
                                          at_session=workshop, at=noted_at)
