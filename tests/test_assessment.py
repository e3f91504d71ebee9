"""The animator's session grid, the learner's competence pages and the positioning sheet PDF."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from competences import services as competences
from competences.loader import B2I_CODE, latest_framework
from competences.models import Assessment, Competence, Level, Voice
from portfolio.assessment import services
from portfolio.audit.models import AuditEvent
from portfolio.auth.models import Role, User
from portfolio.catalogue.models import Module
from portfolio.enrolment.models import AttendanceStatus, PositioningInterview, WorkshopSession
from portfolio.orgs.models import OrgKind
from tests import factories

NOW = dt.datetime.now(dt.UTC)


@dataclass
class Workshop:
    epm: Any
    animator: User
    workshop: WorkshopSession
    learners: list[User]
    absent: User
    competences: dict[str, Competence]

    @property
    def url(self) -> str:
        return f"/epm/ateliers/{self.workshop.id}/positionnement"


def make_workshop(session: Session, present: int = 3, module_number: int = 2,
                  name: str = "EPM de Souillac") -> Workshop:
    epm = factories.organisation(session, OrgKind.EPM, name=name)
    animator = factories.user(session, Role.ANIMATOR, epm, first_name="Julie", last_name="Animatrice")
    module = session.scalar(sa.select(Module).where(Module.number == module_number))
    workshop = factories.workshop(session, epm, NOW - dt.timedelta(hours=1), module=module, animator_id=animator.id)
    learners = []
    for index in range(present + 1):
        learner = factories.user(session, Role.BENEFICIARY, epm, first_name=f"Prénom{index}",
                                 last_name=f"Apprenant{index:02d}")
        enrolment = factories.enrolment(session, factories.ticket(session), epm, learner)
        status = AttendanceStatus.PRESENT if index < present else AttendanceStatus.ABSENT
        factories.attend(session, workshop, enrolment, status)
        learners.append(learner)
    framework = latest_framework(session, B2I_CODE)
    codes = {c.code: c for c in session.scalars(sa.select(Competence).where(Competence.framework_id == framework.id))}
    session.flush()
    return Workshop(epm, animator, workshop, learners[:present], learners[present], codes)


@pytest.fixture
def ws(db_session: Session) -> Workshop:
    return make_workshop(db_session)


def animator_levels(session: Session, learner: User) -> list[tuple[str, str, int | None]]:
    session.expire_all()
    return [(a.competence.code, a.level, a.session_id) for a in session.scalars(
        sa.select(Assessment).join(Assessment.competence).where(
            Assessment.learner_id == learner.id, Assessment.voice == Voice.ANIMATOR.value)
        .order_by(Assessment.id).options(sa.orm.joinedload(Assessment.competence)))]


# --- The grid as a service ----------------------------------------------------------------------------


def test_grid_rows_are_the_learners_present_and_columns_the_modules_suggestions_first(db_session: Session,
                                                                                     ws: Workshop) -> None:
    workshop = services.load_workshop(db_session, ws.workshop.id)
    grid = services.session_grid(db_session, workshop)
    assert [row.learner.id for row in grid.rows] == [u.id for u in ws.learners]  # the absent one is not there
    assert [c.code for c in grid.columns] == ["D1.1", "D1.2", "D1.3"]  # module 2's suggestions
    assert grid.suggested == {ws.competences[c].id for c in ("D1.1", "D1.2", "D1.3")}

    grid = services.session_grid(db_session, workshop, extra_ids=[ws.competences["D5.1"].id,
                                                                   ws.competences["D2.2"].id])
    assert [c.code for c in grid.columns] == ["D1.1", "D1.2", "D1.3", "D2.2", "D5.1"]
    assert grid.extra_ids == [ws.competences["D2.2"].id, ws.competences["D5.1"].id]
    assert len(services.session_grid(db_session, workshop, everything=True).columns) == 18
    assert "D4.1" in [c.code for _d, comps in grid.addable() for c in comps]
    assert "D5.1" not in [c.code for _d, comps in grid.addable() for c in comps]
    assert "D1.1" not in [c.code for _d, comps in grid.addable() for c in comps]


def test_a_competence_judged_at_the_workshop_stays_a_column(db_session: Session, ws: Workshop) -> None:
    workshop = services.load_workshop(db_session, ws.workshop.id)
    services.record_cells(db_session, workshop, {(ws.learners[0].id, ws.competences["D4.1"].id): "acquired"},
                          ws.animator)
    grid = services.session_grid(db_session, workshop)
    assert [c.code for c in grid.columns][-1] == "D4.1"
    assert grid.rows[0].level(ws.competences["D4.1"].id) == "acquired"
    assert grid.recorded_here == {(ws.learners[0].id, ws.competences["D4.1"].id)}


def test_cells_record_only_changes_and_refuse_what_does_not_belong(db_session: Session, ws: Workshop) -> None:
    workshop = services.load_workshop(db_session, ws.workshop.id)
    d11 = ws.competences["D1.1"].id
    first, refused = services.record_cells(db_session, workshop, {(ws.learners[0].id, d11): "in_progress"},
                                           ws.animator)
    assert refused == [] and first[0].recorded
    again, _ = services.record_cells(db_session, workshop, {(ws.learners[0].id, d11): "in_progress"}, ws.animator)
    assert not again[0].recorded and again[0].assessment.id == first[0].assessment.id  # a retry writes nothing new
    saved, refused = services.record_cells(db_session, workshop, {
        (ws.learners[0].id, d11): "acquired",
        (ws.absent.id, d11): "acquired",
        (ws.learners[1].id, 999_999): "acquired",
        (ws.learners[1].id, d11): "brilliant",
    }, ws.animator)
    assert [(s.learner_id, s.recorded) for s in saved] == [(ws.learners[0].id, True)]
    assert [r.message for r in refused] == [
        "Cette personne n'est pas notée présente à cet atelier.", "Cette compétence n'existe pas.",
        "Ce niveau n'existe pas : brilliant."]
    assert animator_levels(db_session, ws.learners[0]) == [
        ("D1.1", "in_progress", ws.workshop.id), ("D1.1", "acquired", ws.workshop.id)]
    assert animator_levels(db_session, ws.absent) == []


def test_all_present_acquired_in_one_action(db_session: Session, ws: Workshop) -> None:
    workshop = services.load_workshop(db_session, ws.workshop.id)
    d12 = ws.competences["D1.2"].id
    services.record_cells(db_session, workshop, {(ws.learners[0].id, d12): "acquired"}, ws.animator)
    saved, refused = services.all_present_acquired(db_session, workshop, d12, ws.animator)
    assert refused == [] and sorted(s.learner_id for s in saved if s.recorded) == sorted(
        u.id for u in ws.learners[1:])
    assert all(animator_levels(db_session, u)[-1][:2] == ("D1.2", "acquired") for u in ws.learners)
    assert animator_levels(db_session, ws.absent) == []


# --- The grid page ------------------------------------------------------------------------------------


def test_grid_page_shows_present_learners_and_levels(client: Any, login_as: Any, db_session: Session,
                                                     ws: Workshop) -> None:
    competences.record_assessment(db_session, ws.learners[1], ws.competences["D1.2"], Voice.ANIMATOR, Level.ACQUIRED,
                                  ws.animator, at=NOW - dt.timedelta(days=7))
    login_as(user=ws.animator)
    page = client.get(ws.url).get_data(as_text=True)
    assert "Feuille de positionnement" in page and "2. Se repérer" in page
    for learner in ws.learners:
        assert learner.display_name in page
    assert ws.absent.display_name not in page
    assert f'name="level-{ws.learners[1].id}-{ws.competences["D1.2"].id}"' in page
    assert '<option value="acquired" selected>Acquis</option>' in page
    assert 'meta name="csrf-token"' in page and "js/positioning-grid.js" in page
    assert f'data-save-url="/epm/ateliers/{ws.workshop.id}/positionnement/niveaux"' in page


def test_grid_is_only_for_the_animators_of_the_workshops_epm(client: Any, login_as: Any, db_session: Session,
                                                             ws: Workshop) -> None:
    login_as(Role.ANIMATOR)  # an animator of another EPM
    assert client.get(ws.url).status_code == 404
    response = client.post(f"{ws.url}/niveaux", json={"cells": [
        {"learner": ws.learners[0].id, "competence": ws.competences["D1.1"].id, "level": "acquired"}]},
        headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 404
    assert client.get("/epm/ateliers/999999/positionnement").status_code == 404
    assert animator_levels(db_session, ws.learners[0]) == []


def test_grid_without_javascript_is_an_ordinary_form(client: Any, login_as: Any, db_session: Session,
                                                     ws: Workshop) -> None:
    login_as(user=ws.animator)
    first, second, third = ws.learners
    d11, d12, d51 = (ws.competences[c].id for c in ("D1.1", "D1.2", "D5.1"))
    response = client.post_form(f"{ws.url}?c={d51}", {
        f"level-{first.id}-{d11}": "acquired", f"level-{second.id}-{d11}": "in_progress",
        f"level-{third.id}-{d11}": "", f"level-{first.id}-{d51}": "not_yet", "c": str(d51),
    })
    assert response.status_code == 302 and response.headers["Location"].endswith(f"?c={d51}")
    assert "3 niveaux enregistrés." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert animator_levels(db_session, first) == [("D1.1", "acquired", ws.workshop.id),
                                                  ("D5.1", "not_yet", ws.workshop.id)]
    assert animator_levels(db_session, third) == []

    # The same form sent again records nothing; "all acquired" for a column wins over that column's selects.
    response = client.post_form(ws.url, {f"level-{first.id}-{d11}": "acquired",
                                         f"level-{second.id}-{d12}": "not_yet", "all_acquired": str(d12)})
    assert response.status_code == 302
    assert "3 niveaux enregistrés." in client.get(ws.url).get_data(as_text=True)
    assert [lv for lv in animator_levels(db_session, second) if lv[0] == "D1.2"] == [("D1.2", "acquired",
                                                                                    ws.workshop.id)]


def test_grid_form_with_a_refused_cell_saves_nothing_and_keeps_the_choices(client: Any, login_as: Any,
                                                                         db_session: Session, ws: Workshop) -> None:
    login_as(user=ws.animator)
    d11 = ws.competences["D1.1"].id
    response = client.post_form(ws.url, {f"level-{ws.learners[0].id}-{d11}": "acquired",
                                         f"level-{ws.absent.id}-{d11}": "acquired"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "pas notée présente" in page and "Rien n'a été enregistré" in page
    assert '<option value="acquired" selected>Acquis</option>' in page  # what the animator chose is still there
    assert animator_levels(db_session, ws.learners[0]) == []


def test_json_endpoint_saves_cells_and_reports_refusals(client: Any, login_as: Any, db_session: Session,
                                                         ws: Workshop) -> None:
    login_as(user=ws.animator)
    token = client.csrf_token()
    d11 = ws.competences["D1.1"].id
    cells = [{"learner": ws.learners[0].id, "competence": d11, "level": "acquired"},
             {"learner": ws.absent.id, "competence": d11, "level": "acquired"}]
    response = client.post(f"{ws.url}/niveaux", json={"cells": cells},
                           headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert response.status_code == 200
    assert response.get_json() == {
        "saved": [{"learner": ws.learners[0].id, "competence": d11, "level": "acquired", "label": "Acquis",
                   "recorded": True, "here": True}],
        "refused": [{"learner": ws.absent.id, "competence": d11,
                     "message": "Cette personne n'est pas notée présente à cet atelier."}],
    }
    retried = client.post(f"{ws.url}/niveaux", json={"cells": cells[:1]}, headers={"X-CSRFToken": token})
    assert retried.get_json()["saved"][0]["recorded"] is False
    assert animator_levels(db_session, ws.learners[0]) == [("D1.1", "acquired", ws.workshop.id)]


@pytest.mark.parametrize("payload", [None, {}, {"cells": []}, {"cells": "x"}, {"cells": [{"learner": 1}]},
                                     {"cells": [{"learner": "a", "competence": 1, "level": "acquired"}]}])
def test_json_endpoint_refuses_malformed_requests(client: Any, login_as: Any, ws: Workshop, payload: Any) -> None:
    login_as(user=ws.animator)
    response = client.post(f"{ws.url}/niveaux", json=payload,
                           headers={"X-CSRFToken": client.csrf_token(), "Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["message"]


def test_json_endpoint_needs_the_csrf_token(client: Any, login_as: Any, db_session: Session, ws: Workshop) -> None:
    login_as(user=ws.animator)
    response = client.post(f"{ws.url}/niveaux", json={"cells": [
        {"learner": ws.learners[0].id, "competence": ws.competences["D1.1"].id, "level": "acquired"}]})
    assert response.status_code == 400
    assert animator_levels(db_session, ws.learners[0]) == []


def test_grid_queries_do_not_grow_with_learners_and_competences(client: Any, login_as: Any, db_session: Session,
                                                                count_queries: Any) -> None:
    small = make_workshop(db_session, present=1, name="EPM A")
    big = make_workshop(db_session, present=6, name="EPM B")
    for learner in big.learners:  # some history on every cell of the big grid
        for code in big.competences:
            for level in (Level.NOT_YET, Level.IN_PROGRESS):
                competences.record_assessment(db_session, learner, big.competences[code], Voice.ANIMATOR, level,
                                              big.animator, at_session=big.workshop)
    counts = []
    for case, everything in ((small, ""), (big, "?toutes=1")):
        login_as(user=case.animator)
        with count_queries() as counter:
            page = client.get(case.url + everything)
        assert page.status_code == 200
        counts.append(counter.count)
        client.post_form("/logout")
    assert page.get_data(as_text=True).count('class="grid-cell') == 6 * 18
    assert counts[0] == counts[1], counts
    assert counts[0] <= 11, counts


def test_workshops_to_fill_and_home_link(client: Any, login_as: Any, db_session: Session, ws: Workshop) -> None:
    factories.workshop(db_session, ws.epm, NOW - dt.timedelta(days=45))  # too old to be listed
    upcoming = factories.workshop(db_session, ws.epm, NOW + dt.timedelta(days=3))
    services.record_cells(db_session, services.load_workshop(db_session, ws.workshop.id),
                          {(ws.learners[0].id, ws.competences["D1.1"].id): "acquired"}, ws.animator)
    items = services.recent_workshops(db_session, [ws.epm.id], NOW)
    assert [(i.workshop.id, i.present, i.judgements) for i in items] == [(ws.workshop.id, 3, 1)]
    login_as(user=ws.animator)
    assert ws.url in client.get("/epm/positionnement").get_data(as_text=True)
    assert f"/epm/ateliers/{upcoming.id}/positionnement" in client.get("/epm").get_data(as_text=True)


# --- The learner's page and the animator's view of a learner --------------------------------------------


def test_learner_sees_five_domains_in_everyday_words_with_what_comes_next(client: Any, login_as: Any,
                                                                        db_session: Session, ws: Workshop) -> None:
    learner = ws.learners[0]
    enrolment_id = db_session.scalar(sa.text("SELECT id FROM enrolment WHERE learner_id = :id"), {"id": learner.id})
    db_session.add(PositioningInterview(enrolment_id=enrolment_id, held_on=dt.date(2026, 3, 1)))
    before = ws.workshop.starts_at - dt.timedelta(days=1)
    competences.record_assessment(db_session, learner, ws.competences["D1.1"], Voice.SELF, Level.NOT_YET, learner,
                                  at=before)
    services.record_cells(db_session, services.load_workshop(db_session, ws.workshop.id),
                          {(learner.id, ws.competences["D1.1"].id): "acquired",
                           (learner.id, ws.competences["D1.3"].id): "in_progress"}, ws.animator)
    assessor = factories.user(db_session, Role.ASSESSOR, first_name="Nadia", last_name="Roussel")
    competences.record_assessment(db_session, learner, ws.competences["D5.1"], Voice.ASSESSOR, Level.IN_PROGRESS,
                                  assessor)
    login_as(user=learner)
    page = client.get("/moi/competences").get_data(as_text=True)
    assert "Vous avez 1 compétence acquise sur 18." in page
    assert "Pour le B2i Adultes, il vous manque encore 12 compétences." in page
    # Five domains in everyday words, each with its progress and what comes next; the details are folded.
    sections = page.split('<section class="card domain-card"')[1:]
    assert len(sections) == 5
    first = sections[0]
    assert "Se servir d&#39;un ordinateur</h2>" in first and "Acquise : 1 sur 4." in first
    # what comes next: the competence already started (D1.3) before the first one not started (D1.2)
    assert "<strong>Ensuite :</strong> Régler l&#39;ordinateur à mon goût." in first
    assert '<details class="fold">' in first and '<details class="fold" open' not in page
    assert "Communiquer et partager</h2>" in sections[4]
    assert "Ensuite :</strong> Choisir le bon moyen pour communiquer." in sections[4]  # started by the assessor
    # Each competence: its label, one example, the levels in the learner's words, the official wording folded.
    assert "Connaître l&#39;ordinateur et ses appareils</h3>" in first
    assert "Par exemple : « Je sais me servir de la souris et du clavier. »" in first
    assert "Moi : <span class=\"level level-not-yet\">Pas encore</span>" in first
    assert "L'organisme de formation : <span class=\"level level-in-progress\">En cours</span>" in sections[4]
    official = first.split('<details class="official">')[1]
    assert ('<span class="code">D1.1</span> Utiliser le vocabulaire spécifique et maîtriser les éléments '
            "matériels et logiciels de base") in official
    assert "Sur Pix (correspondance indicative) :" in page and '<span class="code">5.1</span> Résoudre' in page
    # Progress since the interview, and the readiness in everyday words, folded too.
    assert "Depuis votre entretien du 1 mars 2026 :" in page and "1 compétence acquise en plus." in page
    assert "Se servir d&#39;un ordinateur</strong> :\n      encore 2 à valider" in page
    # No abbreviation nor inclusive-writing dot in the learner's words.
    assert "·" not in page.split('<main')[1] and "EPM" not in page.split('<main')[1]
    assert 'style="' not in page
    pix = client.get("/moi/competences/pix").get_data(as_text=True)
    assert "Correspondance indicative." in pix and "1 compétence B2i acquise sur 1 reliée" not in pix
    assert "Régler un problème</strong>" in pix and "« Je sais redémarrer ma box internet" in pix
    assert '<span class="code">5.1</span> Résoudre des problèmes techniques' in pix


def test_the_official_wording_is_shown_where_a_competence_has_no_everyday_words(
        client: Any, login_as: Any, db_session: Session, ws: Workshop) -> None:
    from competences.models import PlainWords

    newest = db_session.scalars(sa.select(PlainWords).where(PlainWords.framework_code == "b2i-adultes-2010")
                                .order_by(PlainWords.id.desc())).first()
    words = {**newest.words, "competences": {k: v for k, v in newest.words["competences"].items() if k != "D1.2"}}
    db_session.add(PlainWords(framework_code="b2i-adultes-2010", words=words, source_hash="x" * 64))
    db_session.flush()
    login_as(user=ws.learners[0])
    page = client.get("/moi/competences").get_data(as_text=True)
    assert "Gérer et organiser les fichiers, identifier leurs propriétés et caractéristiques</h3>" in page
    assert "Ranger mes documents dans des dossiers" not in page
    assert "Connaître l&#39;ordinateur et ses appareils</h3>" in page


def test_learner_declares_what_they_can_do(client: Any, login_as: Any, db_session: Session, ws: Workshop) -> None:
    learner = ws.learners[0]
    login_as(user=learner)
    form = client.get("/moi/competences/je-me-positionne").get_data(as_text=True)
    assert "Je sais faire" in form and "Je ne sais pas" in form
    d11, d12 = ws.competences["D1.1"].id, ws.competences["D1.2"].id
    response = client.post_form("/moi/competences/je-me-positionne", {f"level_{d11}": "acquired",
                                                                       f"level_{d12}": ""})
    assert response.status_code == 302
    assert "1 réponse enregistrée" in client.get("/moi/competences").get_data(as_text=True)
    client.post_form("/moi/competences/je-me-positionne", {f"level_{d11}": "acquired"})
    db_session.expire_all()
    rows = db_session.scalars(sa.select(Assessment).where(Assessment.learner_id == learner.id)).all()
    assert [(r.competence_id, r.voice, r.level, r.assessor_id) for r in rows] == [
        (d11, "self", "acquired", learner.id)]
    bad = client.post_form("/moi/competences/je-me-positionne", {f"level_{d11}": "genius"})
    assert bad.status_code == 200 and "Il y a un problème" in bad.get_data(as_text=True)


def test_animator_reads_a_learner_of_their_epm_with_history_and_an_audit_event(client: Any, login_as: Any,
                                                                              db_session: Session,
                                                                              ws: Workshop) -> None:
    learner = ws.learners[0]
    workshop = services.load_workshop(db_session, ws.workshop.id)
    for level in ("not_yet", "in_progress", "acquired"):
        services.record_cells(db_session, workshop, {(learner.id, ws.competences["D1.1"].id): level}, ws.animator)
    login_as(user=ws.animator)
    page = client.get(f"/epm/apprenants/{learner.id}/competences").get_data(as_text=True)
    assert f"Compétences de {learner.display_name}" in page
    assert "3 jugements, du plus ancien au plus récent" in page
    assert "Pas encore : il manque 12 compétences validées." in page
    db_session.expire_all()
    event = db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "competences.read"))
    assert event.actor_id == ws.animator.id and event.subject_user_id == learner.id
    assert event.organisation_id == ws.epm.id


def test_other_animators_and_other_learners_get_404(client: Any, login_as: Any, db_session: Session,
                                                    ws: Workshop) -> None:
    learner = ws.learners[0]
    login_as(Role.ANIMATOR)
    assert client.get(f"/epm/apprenants/{learner.id}/competences").status_code == 404
    assert client.get(f"/epm/apprenants/{learner.id}/feuille-de-positionnement.pdf").status_code == 404
    assert client.get("/epm/apprenants/999999/competences").status_code == 404
    client.post_form("/logout")
    login_as(user=ws.learners[1])
    assert client.get(f"/epm/apprenants/{learner.id}/competences").status_code == 404


def test_positioning_sheet_pdf_holds_every_item_levels_dates_and_animators(client: Any, login_as: Any,
                                                                           db_session: Session,
                                                                           ws: Workshop) -> None:
    from pypdf import PdfReader

    learner = ws.learners[0]
    services.record_cells(db_session, services.load_workshop(db_session, ws.workshop.id),
                          {(learner.id, ws.competences["D1.3"].id): "in_progress"}, ws.animator)
    login_as(user=ws.animator)
    response = client.get(f"/epm/apprenants/{learner.id}/feuille-de-positionnement.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Feuille de positionnement B2i Adultes" in text and learner.display_name in text
    for code in ws.competences:
        assert code in text
    assert "Enregistrer un fichier" in text  # a capacity, one of the 51 items
    day = ws.workshop.starts_at.astimezone(dt.timezone(dt.timedelta(hours=1))).strftime("%d/%m/%y")
    assert day[:5] in text and "EC" in text and "Julie Animatrice" in text
    client.post_form("/logout")
    login_as(user=learner)
    own = client.get("/moi/competences/feuille-de-positionnement.pdf")
    assert own.status_code == 200 and own.data.startswith(b"%PDF-")


def test_saving_a_cell_costs_the_same_whatever_the_grid_and_its_history(client: Any, login_as: Any,
                                                                      db_session: Session, count_queries: Any) -> None:
    small = make_workshop(db_session, present=1, name="EPM A")
    big = make_workshop(db_session, present=6, name="EPM B")
    for learner in big.learners:
        for code in big.competences:
            competences.record_assessment(db_session, learner, big.competences[code], Voice.ANIMATOR,
                                          Level.NOT_YET, big.animator, at_session=big.workshop)
    counts = []
    for case in (small, big):
        login_as(user=case.animator)
        cell = {"learner": case.learners[0].id, "competence": case.competences["D1.1"].id, "level": "acquired"}
        with count_queries() as counter:
            response = client.post(f"{case.url}/niveaux", json={"cells": [cell]},
                                   headers={"X-CSRFToken": client.csrf_token()})
        assert response.status_code == 200 and response.get_json()["saved"][0]["recorded"]
        counts.append(counter.count)
        client.post_form("/logout")
    assert counts[0] == counts[1], counts


def test_learner_pages_queries_do_not_grow_with_history(client: Any, login_as: Any, db_session: Session,
                                                        count_queries: Any) -> None:
    small, big = make_workshop(db_session, present=1, name="EPM A"), make_workshop(db_session, present=1, name="EPM B")
    competences.record_assessment(db_session, small.learners[0], small.competences["D1.1"], Voice.ANIMATOR,
                                  Level.ACQUIRED, small.animator, at_session=small.workshop)
    for competence in big.competences.values():
        for level in (Level.NOT_YET, Level.IN_PROGRESS, Level.ACQUIRED):
            for voice, by in ((Voice.SELF, big.learners[0]), (Voice.ANIMATOR, big.animator)):
                competences.record_assessment(db_session, big.learners[0], competence, voice, level, by,
                                              at_session=big.workshop if voice == Voice.ANIMATOR else None)
    counts: dict[str, list[int]] = {"/moi/competences": [], "animator": []}
    for case in (small, big):
        login_as(user=case.learners[0])
        with count_queries() as counter:
            assert client.get("/moi/competences").status_code == 200
        counts["/moi/competences"].append(counter.count)
        client.post_form("/logout")
        login_as(user=case.animator)
        with count_queries() as counter:
            assert client.get(f"/epm/apprenants/{case.learners[0].id}/competences").status_code == 200
        counts["animator"].append(counter.count)
        client.post_form("/logout")
    assert counts["/moi/competences"][0] == counts["/moi/competences"][1] <= 6, counts
    assert counts["animator"][0] == counts["animator"][1] <= 12, counts
