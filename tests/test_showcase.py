"""The portfolio page: the learner's chosen entries and the competences their animator validated."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from competences.loader import B2I_CODE, latest_framework
from competences.models import Assessment, Competence, Level, Voice
from portfolio.auth.models import Role
from portfolio.journal.models import EntryStatus
from portfolio.journal.storage import FolderStorage
from portfolio.showcase import services
from tests import factories

T0 = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)


def competences(session: Session, n: int) -> list[Competence]:
    framework = latest_framework(session, B2I_CODE)
    assert framework is not None
    return list(session.scalars(sa.select(Competence).where(Competence.framework_id == framework.id)
                                .order_by(Competence.id).limit(n)))


def judge(session: Session, learner: Any, competence: Competence, voice: Voice, level: Level, hours: int) -> None:
    session.add(Assessment(learner_id=learner.id, competence_id=competence.id, voice=voice.value, level=level.value,
                           created_at=T0 + dt.timedelta(hours=hours)))
    session.flush()


def test_validated_competences_follow_the_latest_animator_judgement(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    c1, c2, c3, c4 = competences(db_session, 4)
    judge(db_session, learner, c1, Voice.ANIMATOR, Level.IN_PROGRESS, 0)
    judge(db_session, learner, c1, Voice.ANIMATOR, Level.ACQUIRED, 1)        # validated later: counts
    judge(db_session, learner, c2, Voice.ANIMATOR, Level.ACQUIRED, 0)
    judge(db_session, learner, c2, Voice.ANIMATOR, Level.IN_PROGRESS, 2)     # taken back: does not count
    judge(db_session, learner, c3, Voice.SELF, Level.ACQUIRED, 0)            # the learner's own voice: no
    judge(db_session, learner, c4, Voice.ANIMATOR, Level.ACQUIRED, 0)
    judge(db_session, factories.user(db_session, Role.BENEFICIARY), c3, Voice.ANIMATOR, Level.ACQUIRED, 0)
    validated = services.validated_competences(db_session, learner.id)
    assert [v.competence.id for v in validated] == sorted([c1.id, c4.id], key=lambda i: (
        db_session.get(Competence, i).domain_id, db_session.get(Competence, i).position))
    assert all(v.assessment.level == "acquired" and v.assessment.voice == "animator" for v in validated)


def test_the_learner_chooses_published_entries_only(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    published = factories.journal_entry(db_session, learner)
    draft = factories.journal_entry(db_session, learner, status=EntryStatus.DRAFT.value)
    someone_elses = factories.journal_entry(db_session, factories.user(db_session, Role.BENEFICIARY))
    assert services.choose_entries(db_session, learner.id, [published.id, draft.id, someone_elses.id]) == 1
    assert published.in_portfolio and not draft.in_portfolio and not someone_elses.in_portfolio
    assert services.choose_entries(db_session, learner.id, []) == 0
    assert not published.in_portfolio


def test_portfolio_page_choose_and_print(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY, first_name="Odette", last_name="Lafon")
    first = factories.journal_entry(db_session, learner, title="Mon premier courriel")
    factories.journal_entry(db_session, learner, title="Pas montré")
    (c1,) = competences(db_session, 1)
    judge(db_session, learner, c1, Voice.ANIMATOR, Level.ACQUIRED, 0)
    login_as(user=learner)
    page = client.get("/portfolio").get_data(as_text=True)
    assert "Portfolio de Odette Lafon" in page and c1.title in page and "Aucun texte choisi" in page
    assert "Pas montré" in client.get("/portfolio/choisir").get_data(as_text=True)
    response = client.post_form("/portfolio/choisir", {"entries": [str(first.id)]})
    assert response.status_code == 302
    page = client.get("/portfolio").get_data(as_text=True)
    assert "Mon premier courriel" in page and "Pas montré" not in page
    assert "Votre portfolio montre maintenant 1 texte." in page


def test_portfolio_pdf_holds_the_entries_and_their_photos(client: Any, login_as: Any, db_session: Session,
                                                          app: Flask) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY, first_name="Odette")
    entry = factories.journal_entry(db_session, learner, title="Au jardin", in_portfolio=True)
    factories.photo(db_session, FolderStorage(app.config["UPLOAD_DIR"]), entry)
    login_as(user=learner)
    response = client.get("/portfolio/portfolio.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert b"/Subtype /Image" in response.data or b"/Subtype/Image" in response.data
    assert "attachment" in response.headers["Content-Disposition"]
