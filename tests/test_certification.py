"""Evidence files sent for certification: the frozen snapshot, withdrawing, the assessor's judgements and
decision, verification codes and the public page, and the certification-readiness export (CSV, JSON, PDF,
on the web and on the command line)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa
from flask import Flask
from pypdf import PdfReader
from sqlalchemy.orm import Session

from competences.models import Assessment, Competence, Level, Voice
from competences.services import latest_assessments, record_assessment
from portfolio import PROJECT_DIR
from portfolio.audit.models import AuditEvent
from portfolio.auth.models import Role, User
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.sharing import readiness, submissions
from portfolio.sharing.models import Submission, SubmissionStatus
from tests import factories

NOW = factories.NOW
SCHEMA = json.loads((PROJECT_DIR / "docs" / "readiness.schema.json").read_text())


def competence(session: Session, code: str) -> Competence:
    return session.scalars(sa.select(Competence).where(Competence.code == code).order_by(Competence.id.desc())).first()


def candidate(session: Session, last_name: str = "Candidate") -> tuple[User, Any]:
    """A learner with a ticket at an EPM, two workshops attended, animator judgements and an evidence entry."""
    epm = factories.epm(session)
    animator = factories.user(session, Role.ANIMATOR, epm, first_name="Julien", last_name="Martin")
    learner = factories.user(session, Role.BENEFICIARY, epm, first_name="Odette", last_name=last_name)
    enrolment = factories.enrolment(session, factories.ticket(session), epm, learner)
    for days in (20, 13):
        factories.attend(session, factories.workshop(session, epm, NOW - dt.timedelta(days=days)), enrolment)
    entry = factories.journal_entry(session, learner, title="Mon premier courriel", in_portfolio=True,
                                    body_md="J'ai écrit à ma fille.", visibility="consented")
    record_assessment(session, learner, competence(session, "D1.1"), Voice.ANIMATOR, Level.ACQUIRED, animator,
                      evidence=[entry], at=NOW - dt.timedelta(days=13))
    record_assessment(session, learner, competence(session, "D1.2"), Voice.SELF, Level.IN_PROGRESS, learner)
    return learner, entry


def training_body(session: Session, **fields: Any) -> tuple[Organisation, User]:
    greta = factories.organisation(session, OrgKind.TRAINING_BODY, **fields)
    return greta, factories.user(session, Role.ASSESSOR, greta, first_name="Nadia", last_name="Roussel")


# --- Sending and the snapshot ----------------------------------------------------------------------


def test_the_snapshot_is_frozen_with_three_voices_evidence_and_attendance(app: Flask, db_session: Session) -> None:
    learner, entry = candidate(db_session)
    greta, _assessor = training_body(db_session)
    with app.test_request_context():
        sent = submissions.send(db_session, learner, greta.id, NOW)
    snapshot = sent.snapshot
    assert snapshot["format"] == "ticketnet-evidence-file" and snapshot["learner"]["last_name"] == "Candidate"
    assert snapshot["attendance"]["sessions_present"] == 2 and snapshot["attendance"]["hours"] == 4
    d11 = next(c for c in snapshot["competences"] if c["code"] == "D1.1")
    d12 = next(c for c in snapshot["competences"] if c["code"] == "D1.2")
    assert d11["animator"]["level"] == "acquired" and d11["animator"]["by"] == "Julien Martin"
    assert d11["evidence"] == [entry.id] and d12["self"]["level"] == "in_progress" and d12["assessor"] is None
    assert [e["title"] for e in snapshot["evidence"]] == ["Mon premier courriel"]
    assert "ma fille" in snapshot["evidence"][0]["html"]
    assert len(snapshot["domains"]) == 5 and snapshot["ready"] is False

    # Later edits change nothing in what was sent.
    entry.title, entry.body_html = "Changé", "<p>Autre chose</p>"
    record_assessment(db_session, learner, competence(db_session, "D1.1"), Voice.ANIMATOR, Level.NOT_YET, learner)
    db_session.commit()
    db_session.expire_all()
    again = db_session.get(Submission, sent.id)
    assert again is not None and again.snapshot == snapshot


def test_one_waiting_file_per_training_body_and_only_to_training_bodies(app: Flask, db_session: Session) -> None:
    learner, _entry = candidate(db_session)
    greta, _assessor = training_body(db_session)
    epm = factories.epm(db_session)
    with app.test_request_context():
        first = submissions.send(db_session, learner, greta.id, NOW)
        with pytest.raises(submissions.SubmissionError):
            submissions.send(db_session, learner, greta.id, NOW)
        with pytest.raises(submissions.SubmissionError):
            submissions.send(db_session, learner, epm.id, NOW)
        submissions.withdraw(db_session, first, learner, NOW)
        assert first.status == SubmissionStatus.WITHDRAWN and first.withdrawn_at is not None
        with pytest.raises(submissions.SubmissionError):
            submissions.withdraw(db_session, first, learner, NOW)
        submissions.send(db_session, learner, greta.id, NOW)  # a new file, after the withdrawal


def test_the_learner_sends_sees_and_withdraws_until_a_decision(client: Any, login_as: Any, db_session: Session,
                                                             app: Flask) -> None:
    learner, _entry = candidate(db_session)
    greta, assessor = training_body(db_session, name="GRETA Test")
    login_as(user=learner)
    page = client.get("/moi/certification").get_data(as_text=True)
    assert "GRETA Test" in page and "Prêt ou prête pour le B2i Adultes ?" in page
    response = client.post_form("/moi/certification/envoyer", {"organisation_id": greta.id,
                                                               "entries": str(_entry.id)})
    assert response.status_code == 302
    sent = db_session.scalars(sa.select(Submission).where(Submission.owner_id == learner.id)).one()
    mine = client.get(f"/moi/certification/{sent.id}").get_data(as_text=True)
    assert "Mon premier courriel" in mine and "Retirer ce dossier" in mine
    assert client.post_form(f"/moi/certification/{sent.id}/retirer").status_code == 302
    db_session.refresh(sent)
    assert sent.status == SubmissionStatus.WITHDRAWN

    other = submissions.send(db_session, learner, greta.id, NOW)
    submissions.decide(db_session, other, assessor, "to_complete", "Encore un peu.", NOW)
    db_session.commit()
    client.post_form(f"/moi/certification/{other.id}/retirer")
    db_session.refresh(other)
    assert other.status == SubmissionStatus.DECIDED  # decided: it stays
    page = client.get(f"/moi/certification/{other.id}").get_data(as_text=True)
    assert "Votre dossier est à compléter." in page and other.verification_code in page and "Encore un peu." in page
    pdf = client.get(f"/moi/certification/{other.id}/attestation.pdf")
    assert pdf.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert other.verification_code in text and "/verifier/" in text


def test_nobody_else_sees_a_learners_file(client: Any, login_as: Any, db_session: Session) -> None:
    learner, _entry = candidate(db_session)
    greta, _assessor = training_body(db_session)
    sent = submissions.send(db_session, learner, greta.id, NOW)
    login_as(Role.BENEFICIARY)
    for url in (f"/moi/certification/{sent.id}", f"/moi/certification/{sent.id}/attestation.pdf"):
        assert client.get(url).status_code == 404
    assert client.post_form(f"/moi/certification/{sent.id}/retirer").status_code == 404


# --- The assessor ----------------------------------------------------------------------------------


def test_the_assessor_judges_with_comments_and_decides(client: Any, login_as: Any, db_session: Session) -> None:
    learner, _entry = candidate(db_session)
    greta, assessor = training_body(db_session)
    sent = submissions.send(db_session, learner, greta.id, NOW)
    login_as(user=assessor)
    home = client.get("/evaluation").get_data(as_text=True)
    assert "Odette Candidate" in home and "1 dossier de preuves attend votre décision." in home
    page = client.get(f"/evaluation/dossiers/{sent.id}").get_data(as_text=True)
    assert "Mon premier courriel" in page and 'id="preuve-' in page
    d11, d12 = competence(db_session, "D1.1"), competence(db_session, "D1.2")
    response = client.post_form(f"/evaluation/dossiers/{sent.id}/jugements", {
        f"level-{d11.id}": "acquired", f"comment-{d11.id}": "Vu en entretien.", f"level-{d12.id}": "",
    })
    assert response.status_code == 302
    latest = latest_assessments(db_session, [learner.id], voices=[Voice.ASSESSOR])
    assert {(k[1], a.level, a.comment, a.assessor_id) for k, a in latest.items()} == {
        (d11.id, "acquired", "Vu en entretien.", assessor.id)}
    client.post_form(f"/evaluation/dossiers/{sent.id}/jugements", {f"level-{d11.id}": "acquired",
                                                                    f"comment-{d11.id}": "Vu en entretien."})
    assert db_session.scalar(sa.select(sa.func.count(Assessment.id)).where(
        Assessment.learner_id == learner.id, Assessment.voice == "assessor")) == 1  # the same again: not rewritten
    refused = client.post_form(f"/evaluation/dossiers/{sent.id}/decision", {"decision": ""})
    assert refused.status_code == 400 and "Choisissez une décision." in refused.get_data(as_text=True)
    decided = client.post_form(f"/evaluation/dossiers/{sent.id}/decision", {"decision": "ready", "comment": "Bravo"})
    assert decided.status_code == 302
    db_session.refresh(sent)
    assert (sent.status, sent.decision, sent.decided_by_id) == ("decided", "ready", assessor.id)
    assert sent.decided_at is not None and submissions.CODE_PATTERN.match(sent.verification_code or "")
    # Once decided, nothing more is judged or decided.
    late = client.post_form(f"/evaluation/dossiers/{sent.id}/jugements", {f"level-{d12.id}": "acquired"})
    assert late.status_code == 400
    events = {e.action for e in db_session.scalars(sa.select(AuditEvent).where(
        AuditEvent.subject_user_id == learner.id))}
    assert {"submission.sent", "submission.read", "submission.judged", "submission.decided"} <= events


def test_another_training_body_and_a_withdrawn_file_are_refused(client: Any, login_as: Any,
                                                                db_session: Session) -> None:
    learner, _entry = candidate(db_session)
    greta, assessor = training_body(db_session)
    sent = submissions.send(db_session, learner, greta.id, NOW)
    _other, stranger = training_body(db_session)
    login_as(user=stranger)
    for url in (f"/evaluation/dossiers/{sent.id}", f"/evaluation/dossiers/{sent.id}/preparation.pdf",
                f"/evaluation/export/{greta.id}/preparation.csv"):
        assert client.get(url).status_code == 404, url
    assert client.post_form(f"/evaluation/dossiers/{sent.id}/decision", {"decision": "ready"}).status_code == 404
    submissions.withdraw(db_session, sent, learner, NOW)
    db_session.commit()
    owner_side = client.application.test_client()
    owner_side.post_form("/login", {"username": assessor.username, "password": factories.PASSWORD})
    assert owner_side.get(f"/evaluation/dossiers/{sent.id}").status_code == 404  # withdrawn: the learner's again


# --- Verification codes ----------------------------------------------------------------------------


def test_codes_use_unambiguous_characters_and_are_read_forgivingly() -> None:
    codes = {submissions.new_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(submissions.CODE_PATTERN.match(c) and not set(c[3:]) & set("01ILOU") for c in codes)
    assert submissions.normalise_code(" tn 7kq4 m2xp ") == "TN-7KQ4-M2XP"
    assert submissions.normalise_code("7KQ4M2XP") == "TN-7KQ4-M2XP"
    for wrong in ("", "TN-7KQ4", "TN-7KQ4-M2X0", "TN-IIII-IIII", "'; drop table submission; --"):
        assert submissions.normalise_code(wrong) is None


def test_the_public_page_shows_the_minimum_or_says_unknown(client: Any, db_session: Session) -> None:
    learner, _entry = candidate(db_session)
    greta, assessor = training_body(db_session, name="GRETA Vérif")
    sent = submissions.send(db_session, learner, greta.id, NOW)
    submissions.decide(db_session, sent, assessor, "ready", "Commentaire privé", NOW)
    db_session.commit()
    page = client.get(f"/verifier/{sent.verification_code.lower()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Attestation authentique" in html
    assert "Odette Candidate" in html and "GRETA Vérif" in html and "Prêt·e pour la certification" in html
    assert "Commentaire privé" not in html and "Mon premier courriel" not in html and "Nadia" not in html
    form = client.get("/verifier?code=" + sent.verification_code.replace("-", " "))
    assert form.status_code == 302 and form.headers["Location"].endswith(f"/verifier/{sent.verification_code}")
    unknown = client.get("/verifier/TN-2345-6789")
    assert unknown.status_code == 404 and "Code inconnu" in unknown.get_data(as_text=True)
    assert client.get("/verifier?code=nimportequoi").status_code == 404


@pytest.fixture
def limited_app_config() -> dict[str, Any]:
    return {"RATELIMIT_ENABLED": True, "VERIFY_LIMIT": "5 per minute"}


class TestRateLimit:
    @pytest.fixture
    def app_extra_config(self, limited_app_config: dict[str, Any]) -> dict[str, Any]:
        return limited_app_config

    def test_the_verification_page_is_rate_limited(self, client: Any) -> None:
        statuses = [client.get(f"/verifier/TN-2345-678{n}").status_code for n in range(2, 9)]
        assert statuses[:5] == [404] * 5 and statuses[5:] == [429, 429]


# --- The readiness export --------------------------------------------------------------------------


def export_world(session: Session) -> dict[str, Any]:
    """Two candidates who sent files to the GRETA (one decided), one who withdrew, one who sent elsewhere."""
    greta, assessor = training_body(session, code="greta-test", name="GRETA Test")
    aformac, _other = training_body(session, code="aformac-test")
    ready, _e1 = candidate(session, "Prete")
    waiting, _e2 = candidate(session, "Attend")
    withdrew, _e3 = candidate(session, "Retiree")
    elsewhere, _e4 = candidate(session, "Ailleurs")
    first = submissions.send(session, ready, greta.id, NOW - dt.timedelta(days=3))
    codes = ("D1.1", "D1.2", "D1.3", "D2.1", "D2.2", "D2.3", "D3.1", "D3.2", "D4.1", "D4.2", "D4.3", "D5.1", "D5.2")
    submissions.judge(session, first, assessor, {competence(session, c).id: ("acquired", "") for c in codes}, NOW)
    submissions.decide(session, first, assessor, "ready", "", NOW)
    submissions.send(session, waiting, greta.id, NOW)
    gone = submissions.send(session, withdrew, greta.id, NOW)
    submissions.withdraw(session, gone, withdrew, NOW)
    submissions.send(session, elsewhere, aformac.id, NOW)
    return {"greta": greta, "assessor": assessor, "ready": ready, "waiting": waiting}


def link(submission_id: int, entry_id: int) -> str:
    return f"https://ticketnet.example/evaluation/dossiers/{submission_id}#preuve-{entry_id}"


def test_only_candidates_who_sent_a_file_to_that_organisation_are_exported(db_session: Session) -> None:
    world = export_world(db_session)
    records = readiness.candidates(db_session, world["greta"].id, link)
    assert [r.last_name for r in records] == ["Attend", "Prete"]
    ready = records[1]
    assert ready.ready and ready.submission.decision == "ready" and ready.hours == 4 and ready.sessions == 2
    assert all(d.met for d in ready.domains) and not records[0].ready
    d11 = next(c for c in ready.competences if c.code == "D1.1")
    assert d11.animator is not None and d11.animator.by == "Julien Martin" and d11.assessor.level == "acquired"
    assert ready.evidence[0].url.startswith("https://ticketnet.example/evaluation/dossiers/")


def test_the_csv_opens_with_semicolons_and_a_bom(db_session: Session, app: Flask) -> None:
    world = export_world(db_session)
    with app.test_request_context():
        data = readiness.to_csv(readiness.candidates(db_session, world["greta"].id, link))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert [r["Nom"] for r in rows] == ["Attend", "Prete"]
    prete = rows[1]
    assert prete["Prêt·e pour la certification"] == "oui" and prete["Décision"] == "prêt·e"
    assert prete["Heures suivies"] == "4" and prete["D1 validées"] == "3" and prete["D1 requises"] == "3"
    assert prete["D1.1 animateur·trice : niveau"] == "acquis" and prete["D1.1 évaluateur·trice : niveau"] == "acquis"
    assert prete["D1.1 animateur·trice : nom"] == "Julien Martin"
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", prete["D1.1 animateur·trice : date"])
    assert prete["Preuves"].startswith("https://") and submissions.CODE_PATTERN.match(prete["Code de vérification"])
    assert "Retiree" not in data.decode() and "Ailleurs" not in data.decode()


def test_a_formula_in_a_name_stays_text_in_the_spreadsheet(db_session: Session, app: Flask) -> None:
    greta, _assessor = training_body(db_session)
    learner, _entry = candidate(db_session, "=HYPERLINK(\"http://evil\")")
    submissions.send(db_session, learner, greta.id, NOW)
    with app.test_request_context():
        data = readiness.to_csv(readiness.candidates(db_session, greta.id, link)).decode("utf-8-sig")
    assert next(csv.DictReader(io.StringIO(data), delimiter=";"))["Nom"].startswith("'=")


def test_the_json_validates_against_its_schema(db_session: Session) -> None:
    world = export_world(db_session)
    document = readiness.to_json(readiness.candidates(db_session, world["greta"].id, link), world["greta"], NOW)
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [c["learner"]["last_name"] for c in document["candidates"]] == ["Attend", "Prete"]
    broken = json.loads(json.dumps(document))
    broken["candidates"][0]["ready"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_the_web_export_is_audited_per_candidate(client: Any, login_as: Any, db_session: Session) -> None:
    world = export_world(db_session)
    login_as(user=world["assessor"])
    assert "2 candidat·es" in client.get("/evaluation/export").get_data(as_text=True)
    response = client.get(f"/evaluation/export/{world['greta'].id}/preparation.csv")
    assert response.mimetype == "text/csv" and response.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in response.headers["Content-Disposition"]
    document = client.get(f"/evaluation/export/{world['greta'].id}/preparation.json").get_json()
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert document["candidates"][0]["evidence"][0]["url"].startswith("http://localhost/evaluation/dossiers/")
    exported = db_session.scalars(sa.select(AuditEvent.subject_user_id).where(
        AuditEvent.action == "submission.read", AuditEvent.details["export"].as_string() == "csv")).all()
    assert sorted(exported) == sorted([world["ready"].id, world["waiting"].id])
    pdf = client.get(f"/evaluation/dossiers/{document['candidates'][0]['submission_id']}/preparation.pdf")
    assert pdf.mimetype == "application/pdf" and "Attend" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()


def test_the_export_costs_the_same_whatever_the_candidates(client: Any, login_as: Any, db_session: Session,
                                                         count_queries: Any) -> None:
    greta, assessor = training_body(db_session)
    login_as(user=assessor)

    def measure() -> int:
        db_session.commit()
        with count_queries() as counter:
            assert client.get(f"/evaluation/export/{greta.id}/preparation.csv").status_code == 200
        return counter.count

    submissions.send(db_session, candidate(db_session)[0], greta.id, NOW)
    few = measure()
    for n in range(4):
        submissions.send(db_session, candidate(db_session, f"Autre{n}")[0], greta.id, NOW)
    assert measure() == few <= 12


def test_the_command_line_export(runner: Any, db_session: Session, tmp_path: Path) -> None:
    world = export_world(db_session)
    db_session.commit()
    csv_file, json_file, folder = tmp_path / "r.csv", tmp_path / "r.json", tmp_path / "pdf"
    for fmt, path in (("csv", csv_file), ("json", json_file), ("pdf", folder)):
        result = runner.invoke(args=["export", "readiness", "--org", "greta-test", "--format", fmt, "-o", str(path)])
        assert result.exit_code == 0, result.output
        assert "2 candidat·e(s)" in result.output
    rows = list(csv.reader(io.StringIO(csv_file.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 3 and rows[0][0] == "Nom"
    document = json.loads(json_file.read_text())
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert document["candidates"][0]["evidence"][0]["url"].startswith("http://127.0.0.1:5000/evaluation/dossiers/")
    pdfs = sorted(folder.iterdir())
    assert [p.name.split("-")[1] for p in pdfs] == ["attend", "prete"]  # one file per candidate, laid out at once
    for path, mine, theirs in ((pdfs[0], "Attend", "Prete"), (pdfs[1], "Prete", "Attend")):
        text = "".join(page.extract_text() for page in PdfReader(path).pages)
        assert mine in text and theirs not in text
    unknown = runner.invoke(args=["export", "readiness", "--org", "nope", "--format", "csv", "-o", str(csv_file)])
    assert unknown.exit_code == 1 and "inconnu" in unknown.output
    # the portfolio export of issue 5 is still in the same group
    assert runner.invoke(args=["export", "--help"]).output.count("portfolio") >= 1
    assert world["greta"].code == "greta-test"


def test_the_assessors_pages_cost_the_same_whatever_the_file(client: Any, login_as: Any, db_session: Session,
                                                            count_queries: Any) -> None:
    greta, assessor = training_body(db_session)
    small = submissions.send(db_session, candidate(db_session, "Petit")[0], greta.id, NOW)
    learner, _entry = candidate(db_session, "Grand")
    for n in range(6):
        factories.journal_entry(db_session, learner, title=f"Preuve {n}", in_portfolio=True, visibility="consented")
    big = submissions.send(db_session, learner, greta.id, NOW)
    login_as(user=assessor)
    counts = {}
    for url in ("/evaluation", f"/evaluation/dossiers/{small.id}", f"/evaluation/dossiers/{big.id}"):
        db_session.commit()
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        counts[url] = counter.count
    assert len(big.snapshot["evidence"]) == 7
    assert counts[f"/evaluation/dossiers/{small.id}"] == counts[f"/evaluation/dossiers/{big.id}"] <= 12, counts
    assert counts["/evaluation"] <= 6, counts


def test_the_queue_comes_a_page_at_a_time_oldest_first_without_snapshots(
        client: Any, login_as: Any, db_session: Session, count_queries: Any) -> None:
    greta, assessor = training_body(db_session)
    sent = [submissions.send(db_session, candidate(db_session, f"Candidate{n}")[0], greta.id,
                             NOW - dt.timedelta(hours=10 - n)) for n in range(5)]
    first = submissions.queue(db_session, [greta.id], limit=2)
    assert first.waiting_count == 5 and [w.submission.id for w in first.waiting] == [s.id for s in sent[:2]]
    assert first.waiting[0].epm_name == sent[0].snapshot["epm"]["name"]
    assert first.waiting[0].ready is bool(sent[0].snapshot["ready"])
    second = submissions.queue(db_session, [greta.id], limit=2, after=first.next_after)
    third = submissions.queue(db_session, [greta.id], limit=2, after=second.next_after)
    assert [w.submission.id for w in second.waiting + third.waiting] == [s.id for s in sent[2:]]
    assert third.next_after is None
    db_session.expunge_all()
    with pytest.raises(Exception, match="snapshot"):  # the queue never loads a whole file
        submissions.queue(db_session, [greta.id]).waiting[0].submission.snapshot  # noqa: B018

    login_as(user=assessor)
    sizes = {}
    for total in (5, 60):
        for n in range(total - len(sent)):
            sent.append(submissions.send(db_session, candidate(db_session, f"Other{n}")[0], greta.id, NOW))
        db_session.commit()
        with count_queries() as counter:
            page = client.get("/evaluation").get_data(as_text=True)
        sizes[total] = counter.count
    assert sizes[5] == sizes[60], sizes
    assert "60 dossiers de preuves attendent votre décision." in page
    assert page.count("/evaluation/dossiers/") == submissions.QUEUE_PAGE
    following = re.search(r'href="(/evaluation\?apres=\d+)"', page).group(1)
    rest = client.get(following.replace("&amp;", "&")).get_data(as_text=True)
    assert rest.count("/evaluation/dossiers/") == 60 - submissions.QUEUE_PAGE
    assert "Revenir aux plus anciens" in rest and "Dossiers suivants" not in rest
