"""The evidence file holds what the learner chose for it: the send page lists every text and photo that may
go, each with its visibility; a private or EPM-only text goes only if she ticks it, for this file; after a
withdrawal the pages say what the training body still holds and how to have it withdrawn."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from competences.models import Level, Voice
from competences.services import record_assessment
from portfolio.audit.models import AuditEvent
from portfolio.auth.models import Role, User
from portfolio.journal.models import Visibility
from portfolio.journal.storage import FolderStorage
from portfolio.orgs.models import OrgKind
from portfolio.sharing import services, submissions
from portfolio.sharing.models import Submission
from tests import factories
from tests.test_certification import candidate

NOW = factories.NOW


def texts(learner: User, session: Session, app: Flask) -> dict[str, Any]:
    """Four texts that may stand as evidence, one per way of being chosen, and their visibilities vary."""
    storage = FolderStorage(app.config["UPLOAD_DIR"])
    d12, d21 = factories.competence(session, "D1.2"), factories.competence(session, "D2.1")
    private = factories.journal_entry(session, learner, title="Mes dettes", body_md="Ce que je dois au "
                                      "propriétaire.", visibility=Visibility.PRIVATE.value, competences=[d12])
    epm_only = factories.journal_entry(session, learner, title="Mon fils placé", body_md="Les visites au foyer.",
                                       visibility=Visibility.EPM.value, in_portfolio=True)
    opened = factories.journal_entry(session, learner, title="Mon CV", body_md="J'ai fait mon CV.",
                                     visibility=Visibility.CONSENTED.value, competences=[d21])
    cited = factories.journal_entry(session, learner, title="Ma maladie", body_md="Le rendez-vous à l'hôpital.",
                                    visibility=Visibility.PRIVATE.value)
    animator = factories.user(session, Role.ANIMATOR)
    record_assessment(session, learner, d21, Voice.ANIMATOR, Level.ACQUIRED, animator, evidence=[cited], at=NOW)
    draft = factories.journal_entry(session, learner, title="Brouillon", status="draft", in_portfolio=True)
    return {"private": private, "epm": epm_only, "opened": opened, "cited": cited, "draft": draft,
            "private_photo": factories.photo(session, storage, private, "La lettre de l'huissier"),
            "opened_photo": factories.photo(session, storage, opened, "Mon CV imprimé")}


def test_only_the_texts_open_to_organisations_go_unless_she_ticks_others(app: Flask, db_session: Session) -> None:
    """Today a private text she once linked to a competence, and one cited by her animator, went in full."""
    learner, _entry = candidate(db_session, "Choisit")
    found = texts(learner, db_session, app)
    greta = factories.organisation(db_session, OrgKind.TRAINING_BODY)
    with app.test_request_context():
        sent = submissions.send(db_session, learner, greta.id, NOW)
    snapshot = sent.snapshot
    titles = {e["title"] for e in snapshot["evidence"]}
    assert titles == {"Mon premier courriel", "Mon CV"}
    for word in ("dettes", "propriétaire", "placé", "foyer", "maladie", "hôpital", "huissier"):
        assert word not in str(snapshot)
    d21 = next(c for c in snapshot["competences"] if c["code"] == "D2.1")
    d12 = next(c for c in snapshot["competences"] if c["code"] == "D1.2")
    assert d21["evidence"] == [found["opened"].id] and d12["evidence"] == []  # not even the ids of the others
    [opened] = [e for e in snapshot["evidence"] if e["title"] == "Mon CV"]
    assert opened["visibility"] == "consented"
    assert opened["photos"] == [{"id": found["opened_photo"].id, "alt": "Mon CV imprimé", "width": 64,
                                 "height": 48}]
    assert snapshot["version"] == 2


def test_a_ticked_private_text_goes_with_its_photo_for_this_file_only(app: Flask, db_session: Session) -> None:
    learner, entry = candidate(db_session, "Coche")
    found = texts(learner, db_session, app)
    stranger = factories.journal_entry(db_session, factories.user(db_session, Role.BENEFICIARY), in_portfolio=True,
                                       visibility="consented", title="Pas à elle")
    greta, aformac = (factories.organisation(db_session, OrgKind.TRAINING_BODY) for _ in range(2))
    with app.test_request_context():
        first = submissions.send(db_session, learner, greta.id, NOW,
                                 entries=[found["private"].id, found["draft"].id, stranger.id])
        second = submissions.send(db_session, learner, aformac.id, NOW, entries=[entry.id])
    assert [(e["title"], e["visibility"]) for e in first.snapshot["evidence"]] == [("Mes dettes", "private")]
    assert [p["alt"] for p in first.snapshot["evidence"][0]["photos"]] == ["La lettre de l'huissier"]
    d12 = next(c for c in first.snapshot["competences"] if c["code"] == "D1.2")
    assert d12["evidence"] == [found["private"].id]
    assert [e["title"] for e in second.snapshot["evidence"]] == ["Mon premier courriel"]  # not ticked again: gone
    event = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "submission.sent",
                                                           AuditEvent.target_id == str(first.id))).one()
    assert event.details == {"texts": 1, "photos": 1}


def test_the_send_page_lists_every_text_and_photo_with_its_visibility(client: Any, login_as: Any, app: Flask,
                                                                      db_session: Session) -> None:
    learner, entry = candidate(db_session, "Liste")
    found = texts(learner, db_session, app)
    greta = factories.organisation(db_session, OrgKind.TRAINING_BODY, name="GRETA Test")
    login_as(user=learner)
    page = html.unescape(client.get("/moi/certification").get_data(as_text=True))
    for title, visibility, ticked in (("Mes dettes", "Pour moi seulement", False),
                                      ("Mon fils placé", "Partagé avec mon animateur ou animatrice", False),
                                      ("Mon CV", "Ouvert aux organismes autorisés", True),
                                      ("Ma maladie", "Pour moi seulement", False),
                                      ("Mon premier courriel", "Ouvert aux organismes autorisés", True)):
        block = page[page.index(f"<strong>{title}</strong>") - 200:page.index(f"<strong>{title}</strong>") + 900]
        assert visibility in block, title
        assert ("checked" in block.split("<strong>")[0]) is ticked, title
    assert "Brouillon" not in page  # drafts never go
    assert 'alt="La lettre de l\'huissier"' in page and 'alt="Mon CV imprimé"' in page
    assert "Avec ce texte part 1 photo" in page
    response = client.post_form("/moi/certification/envoyer", {"organisation_id": greta.id,
                                                               "entries": [str(found["epm"].id), str(entry.id)]})
    assert response.status_code == 302
    done = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "C'est envoyé à GRETA Test, avec 2 textes et aucune photo. " in done
    assert "vous l'avez coché pour ce dossier" in done  # the owner sees which private texts she chose
    sent = db_session.scalars(sa.select(Submission).where(Submission.owner_id == learner.id)).one()
    assert {e["title"] for e in sent.snapshot["evidence"]} == {"Mon fils placé", "Mon premier courriel"}


def test_the_assessor_sees_the_photos_sent_with_the_file_only_and_each_read_is_audited(
        client: Any, login_as: Any, app: Flask, db_session: Session) -> None:
    learner, _entry = candidate(db_session, "Photos")
    found = texts(learner, db_session, app)
    greta = factories.organisation(db_session, OrgKind.TRAINING_BODY)
    assessor = factories.user(db_session, Role.ASSESSOR, greta)
    with app.test_request_context():
        sent = submissions.send(db_session, learner, greta.id, NOW)
    db_session.commit()
    login_as(user=assessor)
    page = client.get(f"/evaluation/dossiers/{sent.id}").get_data(as_text=True)
    url = f"/evaluation/dossiers/{sent.id}/photos/{found['opened_photo'].id}/grande"
    assert url in page
    photo = client.get(url)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and "private" in photo.headers["Cache-Control"]
    not_sent = f"/evaluation/dossiers/{sent.id}/photos/{found['private_photo'].id}/grande"
    assert client.get(not_sent).status_code == 404
    assert client.get(f"/journal/photos/{found['private_photo'].id}/grande").status_code == 404
    db_session.expire_all()
    reads = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "submission.photo_read")).all()
    assert [(e.subject_user_id, e.details["photo"]) for e in reads] == [(learner.id, found["opened_photo"].id)]
    submissions.withdraw(db_session, submissions.load(db_session, sent.id), learner, NOW)
    db_session.commit()
    assert client.get(url).status_code == 404


def test_after_withdrawing_her_consent_the_pages_say_what_the_body_still_holds(
        client: Any, login_as: Any, app: Flask, db_session: Session) -> None:
    """Today the page said that the GRETA "ne peut plus lire" while it still read the sent texts."""
    learner, entry = candidate(db_session, "Retire")
    greta = factories.organisation(db_session, OrgKind.TRAINING_BODY, name="GRETA Test", email="greta@example.org",
                                   phone="05 65 00 00 00")
    assessor = factories.user(db_session, Role.ASSESSOR, greta)
    with app.test_request_context():
        draft = services.draft_consent(db_session, learner, greta.id, "full", 6, NOW)
        consent = services.grant_consent(db_session, draft, shown_hash=draft.hash, by=learner)
        sent = submissions.send(db_session, learner, greta.id, NOW, entries=[entry.id])
    db_session.commit()
    login_as(user=learner)
    response = client.post_form(f"/moi/partage/{consent.id}/retirer")
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "GRETA Test ne peut plus lire votre portfolio" in page
    assert "Mais GRETA Test garde le dossier que vous lui avez envoyé" in page
    assert "GRETA Test garde ce dossier et le lit dans Ticket Net, même si vous retirez votre accord : 1 texte, " \
           "aucune photo, vos compétences" in page
    assert f'action="/moi/certification/{sent.id}/retirer"' in page  # how to withdraw it: right there

    # The assessor downloads the readiness export, then decides: the file stays, a copy left Ticket Net.
    client.post_form("/logout")
    login_as(user=assessor)
    assert client.get(f"/evaluation/export/{greta.id}/preparation.csv").status_code == 200
    client.post_form("/logout")
    with app.test_request_context():
        submissions.decide(db_session, submissions.load(db_session, sent.id), assessor, "ready", "", NOW)
    db_session.commit()
    login_as(user=learner)
    page = html.unescape(client.get("/moi/partage").get_data(as_text=True))
    assert "GRETA Test en a téléchargé une copie" in page
    assert "La décision est prise : GRETA Test garde ce dossier" in page
    assert "par courriel : greta@example.org" in page and "par téléphone : 05 65 00 00 00" in page
    assert f'action="/moi/certification/{sent.id}/retirer"' not in page
    mine = html.unescape(client.get(f"/moi/certification/{sent.id}").get_data(as_text=True))
    assert "Ce que GRETA Test garde" in mine and "greta@example.org" in mine


def test_a_withdrawn_file_says_it_is_gone_and_that_a_copy_was_taken(client: Any, login_as: Any, app: Flask,
                                                                   db_session: Session) -> None:
    learner, entry = candidate(db_session, "Copie")
    greta = factories.organisation(db_session, OrgKind.TRAINING_BODY, name="GRETA Test")
    assessor = factories.user(db_session, Role.ASSESSOR, greta)
    with app.test_request_context():
        sent = submissions.send(db_session, learner, greta.id, NOW - dt.timedelta(days=1), entries=[entry.id])
    db_session.commit()
    login_as(user=assessor)
    assert client.get(f"/evaluation/dossiers/{sent.id}/preparation.pdf").status_code == 200
    client.post_form("/logout")
    login_as(user=learner)
    response = client.post_form(f"/moi/certification/{sent.id}/retirer")
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Votre dossier est retiré : GRETA Test ne le voit plus dans Ticket Net" in page
    assert "GRETA Test en avait téléchargé une copie : demandez-lui de l'effacer" in page
    assert "Retiré le" in page and "GRETA Test en a téléchargé une copie" in page
    db_session.expire_all()
    held = submissions.held_by(db_session, learner.id)
    assert [(h.submission.id, h.readable, len(h.copies)) for h in held] == [(sent.id, False, 1)]


def test_the_send_page_and_what_bodies_hold_cost_the_same_whatever_the_texts_and_files(
        client: Any, login_as: Any, app: Flask, db_session: Session, count_queries: Any) -> None:
    learner, entry = candidate(db_session, "Mesure")
    login_as(user=learner)
    counts = []
    for _round in range(2):
        texts(learner, db_session, app)  # four more texts, two photos
        greta = factories.organisation(db_session, OrgKind.TRAINING_BODY)
        with app.test_request_context():
            submissions.send(db_session, learner, greta.id, NOW, entries=[entry.id])
        db_session.commit()
        with count_queries() as send_page:
            assert client.get("/moi/certification").status_code == 200
        with count_queries() as who_may_see:
            assert client.get("/moi/partage").status_code == 200
        counts.append((send_page.count, who_may_see.count))
    assert counts[0] == counts[1], counts
    assert counts[0][0] <= 14 and counts[0][1] <= 6, counts
