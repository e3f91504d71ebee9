"""Each role's home page shows that role's real figures, in a constant number of queries."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy.orm import Session

from portfolio.auth.models import Role
from portfolio.enrolment.models import AttendanceStatus
from portfolio.home import services
from portfolio.orgs.models import OrgKind
from portfolio.tickets.models import TicketStatus
from portfolio.timeutil import LOCAL_TZ
from tests import factories

NOW = dt.datetime.now(dt.UTC)


def learner_with_history(session: Session, sessions_attended: int = 3, upcoming: int = 2) -> tuple[Any, Any]:
    epm = factories.organisation(session, OrgKind.EPM, name="EPM de Figeac")
    learner = factories.user(session, Role.BENEFICIARY, epm, first_name="Odette")
    ticket = factories.ticket(session)
    enrolment = factories.enrolment(session, ticket, epm, learner)
    for week in range(sessions_attended):
        workshop = factories.workshop(session, epm, NOW - dt.timedelta(days=7 * (week + 1)))
        factories.attend(session, workshop, enrolment, AttendanceStatus.PRESENT)
    absent = factories.workshop(session, epm, NOW - dt.timedelta(days=60))
    factories.attend(session, absent, enrolment, AttendanceStatus.ABSENT)
    for week in range(upcoming):
        workshop = factories.workshop(session, epm, NOW + dt.timedelta(days=7 * (week + 1)))
        factories.attend(session, workshop, enrolment, AttendanceStatus.EXPECTED)
    return learner, ticket


def test_learner_summary_counts_only_present_sessions(db_session: Session) -> None:
    learner, ticket = learner_with_history(db_session, sessions_attended=3, upcoming=4)
    summary = services.learner_summary(db_session, learner, NOW, dt.date.today())
    assert summary.ticket is ticket
    assert summary.minutes_used == 3 * 120
    assert summary.hours_left == 14
    assert len(summary.next_sessions) == 3  # the next three only
    assert summary.next_sessions == sorted(summary.next_sessions, key=lambda s: s.starts_at)
    assert summary.epm is not None and summary.epm.name == "EPM de Figeac"


def test_beneficiary_home_in_plain_words(client: Any, login_as: Any, db_session: Session) -> None:
    learner, ticket = learner_with_history(db_session)
    login_as(user=learner)
    page = client.get("/moi").get_data(as_text=True)
    assert "Bonjour Odette" in page
    assert "Il vous reste 14 heures sur 20." in page
    assert ticket.reference in page
    assert "Mes prochains ateliers" in page


def test_hours_left_in_french_words_and_numbers(client: Any, login_as: Any, db_session: Session) -> None:
    """1,5 heure, not 1.5 heures; 1 heure, not 1 heures; no seconds in the times of the next workshops."""
    epm = factories.organisation(db_session, OrgKind.EPM)
    learner = factories.user(db_session, Role.BENEFICIARY, epm)
    cases = ((18.5, "Il vous reste 1,5 heure sur 20."), (19, "Il vous reste 1 heure sur 20."),
             (17, "Il vous reste 3 heures sur 20."))
    for n, (hours_used, expected) in enumerate(cases):  # each a newer ticket than the one before
        ticket = factories.ticket(db_session, issued_on=dt.date.today() - dt.timedelta(days=10 - n))
        enrolment = factories.enrolment(db_session, ticket, epm, learner)
        workshop = factories.workshop(db_session, epm, NOW.replace(hour=8, minute=0, second=30) - dt.timedelta(days=3),
                                      duration_minutes=int(hours_used * 60))
        factories.attend(db_session, workshop, enrolment, AttendanceStatus.PRESENT)
        upcoming = factories.workshop(db_session, epm, NOW.replace(hour=8, minute=0, second=30) + dt.timedelta(days=3))
        factories.attend(db_session, upcoming, enrolment, AttendanceStatus.EXPECTED)
        login_as(user=learner)
        page = client.get("/moi").get_data(as_text=True)
        assert expected in page, expected
        local = upcoming.starts_at.astimezone(LOCAL_TZ)
        assert f"à {local:%H:%M}</strong>" in page and f"{local:%H:%M}:" not in page
        client.post_form("/logout")
        enrolment.active = False
        db_session.flush()


def test_a_learners_menu_holds_five_entries_and_her_home_the_others(client: Any, login_as: Any,
                                                                    app: Any) -> None:
    from portfolio import navigation

    learner = login_as(Role.BENEFICIARY)
    page = client.get("/moi").get_data(as_text=True)
    menu = page.split('id="site-nav-list"')[1].split("</ul>")[0]
    entries = re.findall(r'<li><a href="([^"]+)"', menu)
    assert entries == ["/moi", "/journal", "/moi/competences", "/portfolio", "/moi/certification"]
    assert len(entries) <= navigation.LEARNER_MENU_SIZE
    more = page.split('id="more-title"')[1].split("</section>")[0]
    assert re.findall(r'<a href="([^"]+)"', more) == ["/moi/partage", "/moi/partage/consultations",
                                                       "/moi/badges", "/journal/importer", "/mes-donnees",
                                                       "/compte"]
    with app.test_request_context():
        registered = [item for item in app.extensions[navigation.EXTENSION_KEY] if Role.BENEFICIARY in item.roles]
        shown = navigation.items_for(learner) + navigation.home_items_for(learner, Role.BENEFICIARY)
        assert sorted(i.endpoint for i in shown) == sorted(i.endpoint for i in registered)  # every one, once
    client.post_form("/logout")
    animator = login_as(Role.ANIMATOR)
    menu = client.get("/epm").get_data(as_text=True).split('id="site-nav-list"')[1].split("</ul>")[0]
    assert "/compte" in menu  # staff keep "Mon compte" in their menu
    with app.test_request_context():
        assert navigation.home_items_for(animator, Role.BENEFICIARY) == []


def test_beneficiary_home_without_ticket(client: Any, login_as: Any) -> None:
    login_as(Role.BENEFICIARY)
    assert "pas encore de Ticket Net" in client.get("/moi").get_data(as_text=True)


def test_beneficiary_home_query_count_does_not_grow(client: Any, login_as: Any, db_session: Session,
                                                    count_queries: Any) -> None:
    small, _ = learner_with_history(db_session, sessions_attended=1, upcoming=1)
    big, _ = learner_with_history(db_session, sessions_attended=9, upcoming=5)
    counts = []
    for learner in (small, big):
        login_as(user=learner)
        with count_queries() as counter:
            assert client.get("/moi").status_code == 200
        counts.append(counter.count)
        client.post_form("/logout")
    assert counts[0] == counts[1]
    assert counts[0] <= 8  # user, memberships, ticket, enrolment, path, modules done, next sessions, ledger


def test_prescriber_sees_its_own_ticket_counts_only(client: Any, login_as: Any, db_session: Session) -> None:
    mine = factories.organisation(db_session, OrgKind.PRESCRIBER, name="CAF du Lot")
    other = factories.organisation(db_session, OrgKind.PRESCRIBER)
    factories.ticket(db_session, mine)
    factories.ticket(db_session, mine, issued_on=dt.date.today() - dt.timedelta(days=400))
    factories.ticket(db_session, other)
    counts = services.tickets.status_counts(db_session, dt.date.today(), mine.id)
    assert counts[TicketStatus.ISSUED] == 1 and counts[TicketStatus.EXPIRED] == 1
    assert sum(counts.values()) == 2
    login_as(Role.PRESCRIBER, organisation_=mine)
    page = client.get("/prescripteur").get_data(as_text=True)
    assert "CAF du Lot" in page and "Expiré" in page


def test_animator_home_lists_upcoming_workshops_with_bookings(client: Any, login_as: Any,
                                                              db_session: Session) -> None:
    epm = factories.organisation(db_session, OrgKind.EPM, name="EPM de Gourdon")
    learner, ticket = factories.user(db_session, Role.BENEFICIARY, epm), factories.ticket(db_session)
    enrolment = factories.enrolment(db_session, ticket, epm, learner)
    workshop = factories.workshop(db_session, epm, NOW + dt.timedelta(days=3), capacity=5)
    factories.attend(db_session, workshop, enrolment, AttendanceStatus.EXPECTED)
    factories.workshop(db_session, epm, NOW + dt.timedelta(days=30))  # beyond 14 days
    login_as(Role.ANIMATOR, organisation_=epm)
    page = client.get("/epm").get_data(as_text=True)
    assert "EPM de Gourdon" in page and "1 / 5" in page
    assert "1 apprenant·e inscrit·e" in page
    summary = services.epm_summaries(db_session, [epm], NOW)[0]
    assert [w.id for w, _ in summary.upcoming] == [workshop.id]


def test_the_workshop_in_progress_stays_on_the_animator_home(db_session: Session) -> None:
    epm = factories.organisation(db_session, OrgKind.EPM)
    morning = dt.datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ)
    started = factories.workshop(db_session, epm, morning.astimezone(dt.UTC))
    factories.workshop(db_session, epm, (morning - dt.timedelta(days=1)).astimezone(dt.UTC))  # yesterday
    now = (morning + dt.timedelta(hours=1)).astimezone(dt.UTC)
    summary = services.epm_summaries(db_session, [epm], now)[0]
    assert [w.id for w, _ in summary.upcoming] == [started.id]


def test_coordinator_and_admin_homes(client: Any, login_as: Any) -> None:
    login_as(Role.COORDINATOR)
    page = client.get("/coordination").get_data(as_text=True)
    assert "Brevet informatique et internet adultes" in page
    client.post_form("/logout")
    login_as(Role.ADMIN)
    page = client.get("/admin").get_data(as_text=True)
    assert "Organismes et comptes" in page and "1 administrateurs" in page
