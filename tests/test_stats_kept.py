"""The dashboard's figures kept between two computations (portfolio.stats.kept): the service, the pages, the
"Recalculer" button and ``ticketnet stats refresh``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from portfolio.auth.models import Role
from portfolio.catalogue.scheme import load_scheme_config
from portfolio.orgs.models import OrgKind
from portfolio.stats import kept, services
from portfolio.stats.models import KeptFigures
from portfolio.stats.payments import PaymentRule
from portfolio.timeutil import LOCAL_TZ
from tests import factories
from tests.test_stats_views import learners

NOW = dt.datetime(2026, 11, 29, 11, 0, tzinfo=dt.UTC)


@pytest.fixture
def app_extra_config() -> dict[str, Any]:
    return {"DASHBOARD_MAX_AGE_SECONDS": 300}


class Counter:
    def __init__(self, value: Any) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> Any:
        self.calls += 1
        return self.value


def keep(session: Session, compute: Counter, now: dt.datetime, max_age: int = 300, refresh: bool = False) -> Any:
    return kept.figures(session, "test", now, max_age, compute, lambda v: {"v": v}, lambda d: d["v"],
                        refresh=refresh)


def test_fresh_figures_are_served_without_computing_again(db_session: Session) -> None:
    compute = Counter(41)
    first = keep(db_session, compute, NOW)
    assert (first.value, first.computed_at, compute.calls) == (41, NOW, 1)
    compute.value = 42
    later = keep(db_session, compute, NOW + dt.timedelta(seconds=299))
    assert (later.value, later.computed_at, compute.calls) == (41, NOW, 1)


def test_old_figures_another_day_or_a_refresh_are_computed_again(db_session: Session) -> None:
    compute = Counter(1)
    keep(db_session, compute, NOW)
    compute.value = 2
    assert keep(db_session, compute, NOW + dt.timedelta(seconds=300)).value == 2  # too old
    midnight = dt.datetime(2026, 11, 30, 0, 0, 30, tzinfo=LOCAL_TZ).astimezone(dt.UTC)
    keep(db_session, compute, midnight - dt.timedelta(minutes=1))
    compute.value = 3
    assert keep(db_session, compute, midnight).value == 3  # a new day: statuses may have changed
    compute.value = 4
    assert keep(db_session, compute, midnight, refresh=True).value == 4
    assert compute.calls == 5
    assert db_session.get(KeptFigures, "test").payload == {"v": 4}


def test_a_maximum_age_of_zero_keeps_nothing(db_session: Session) -> None:
    compute = Counter(7)
    assert keep(db_session, compute, NOW, max_age=0).computed_at is None
    assert keep(db_session, compute, NOW, max_age=0).value == 7 and compute.calls == 2
    assert db_session.get(KeptFigures, "test") is None


def test_the_dashboard_and_the_competences_survive_their_json_round_trip(db_session: Session) -> None:
    epm = factories.organisation(db_session, OrgKind.EPM, name="EPM de Gramat")
    learners(db_session, epm, factories.organisation(db_session, OrgKind.PRESCRIBER), 2, 2)
    factories.ticket(db_session)  # never registered: the "no EPM" group
    scheme = load_scheme_config(db_session, "ticket-net-lot")
    today = NOW.astimezone(LOCAL_TZ).date()
    board = services.dashboard(db_session, today, NOW, scheme, PaymentRule.PRO_RATA, "Pas encore inscrit")
    assert any(f.key is None for f in board.by_epm)
    assert kept.load_dashboard(kept.dump_dashboard(board), "Pas encore inscrit") == board
    english = kept.load_dashboard(kept.dump_dashboard(board), "Not registered yet")
    assert [f.label for f in english.by_epm if f.key is None] == ["Not registered yet"]
    rows = services.competences_validated(db_session)
    assert kept.load_competences(kept.dump_competences(rows)) == rows


def total_issued(page: str) -> int:
    return int(re.search(r'<span class="big-figure">(\d+)</span> tickets? émis', page).group(1))


def test_the_dashboard_says_when_it_was_computed_and_recomputes_on_demand(
        client: Any, login_as: Any, db_session: Session) -> None:
    login_as(Role.COORDINATOR)
    factories.ticket(db_session)
    page = client.get("/coordination/tableau-de-bord").get_data(as_text=True)
    before = total_issued(page)
    assert "Chiffres calculés le" in page and "toutes les 5 minutes" in page
    factories.ticket(db_session)
    assert total_issued(client.get("/coordination/tableau-de-bord").get_data(as_text=True)) == before  # kept
    response = client.post_form("/coordination/tableau-de-bord/recalculer", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Les chiffres viennent d&#39;être recalculés." in page
    assert total_issued(page) == before + 1
    again = client.post_form("/coordination/tableau-de-bord/recalculer", {"page": "competences"})
    assert again.headers["Location"].endswith("/coordination/tableau-de-bord/competences")
    assert "Recalculer maintenant" in client.get("/coordination/tableau-de-bord/competences").get_data(as_text=True)


def test_kept_figures_cost_a_fixed_few_queries(client: Any, login_as: Any, db_session: Session,
                                               count_queries: Any) -> None:
    login_as(Role.COORDINATOR)
    client.get("/coordination/tableau-de-bord")
    epm = factories.organisation(db_session, OrgKind.EPM)
    learners(db_session, epm, factories.organisation(db_session, OrgKind.PRESCRIBER), 4, 4)
    with count_queries() as counter:
        assert client.get("/coordination/tableau-de-bord").status_code == 200
    assert counter.count <= 4, counter.statements  # the user, the scheme, the kept figures


def test_the_refresh_command(runner: Any, db_session: Session, app: Flask) -> None:
    factories.ticket(db_session)
    result = runner.invoke(args=["stats", "refresh"])
    assert result.exit_code == 0, result.output
    assert "recalculés" in result.output
    assert db_session.get(KeptFigures, "dashboard").payload["overall"]["counts"]
    assert db_session.get(KeptFigures, "competences") is not None
    hidden = db_session.get(KeptFigures, "dashboard-page").payload["hidden"]
    assert hidden == {"by_prescriber": 0, "by_epm": 0, "by_public": 0}
    app.config["DASHBOARD_MAX_AGE_SECONDS"] = 0
    assert "rien à garder" in runner.invoke(args=["stats", "refresh"]).output


def test_the_page_shows_the_largest_groups_and_the_csv_every_one(client: Any, login_as: Any,
                                                                 db_session: Session) -> None:
    login_as(Role.COORDINATOR)
    prescriber = factories.organisation(db_session, OrgKind.PRESCRIBER)
    for n in range(services.SHOWN_GROUPS + 2):  # 17 EPMs: the page shows 14 and "Les 3 autres"
        learners(db_session, factories.organisation(db_session, OrgKind.EPM, name=f"EPM numéro {n:02d}"),
                 prescriber, 2 if n < 14 else 1, 1)
    page = client.get("/coordination/tableau-de-bord").get_data(as_text=True)
    assert "Les 3 autres" in page and "Les 14 plus grands sont affichés" in page
    assert "EPM numéro 13" in page and "EPM numéro 14" not in page
    rows = client.get("/coordination/tableau-de-bord/epm.csv").data.decode("utf-8-sig").splitlines()
    assert sum(1 for row in rows if row.startswith("EPM numéro ")) == 17
    kept_page = db_session.get(KeptFigures, "dashboard-page").payload
    assert len(kept_page["by_epm"]) == services.SHOWN_GROUPS and kept_page["hidden"]["by_epm"] == 3
    assert len(db_session.get(KeptFigures, "dashboard").payload["by_epm"]) == 17
