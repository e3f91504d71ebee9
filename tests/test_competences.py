"""Competence services: assessments as history, the current state per voice, readiness, progress, Pix."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from competences import services
from competences.loader import B2I_CODE, latest_framework
from competences.models import Assessment, AssessmentHistoryError, Competence, Level, Voice
from portfolio.auth.models import Role
from portfolio.enrolment.models import AttendanceStatus, PositioningInterview
from portfolio.journal.models import JournalEntry
from portfolio.orgs.models import OrgKind
from tests import factories

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
A, C, N = Level.ACQUIRED, Level.IN_PROGRESS, Level.NOT_YET


@pytest.fixture
def b2i(db_session: Session) -> dict[str, Competence]:
    framework = latest_framework(db_session, B2I_CODE)
    return {c.code: c for c in db_session.scalars(sa.select(Competence).where(Competence.framework_id == framework.id))}


@pytest.fixture
def people(db_session: Session) -> dict[str, Any]:
    epm = factories.organisation(db_session, OrgKind.EPM)
    return {
        "epm": epm,
        "learner": factories.user(db_session, Role.BENEFICIARY, epm),
        "animator": factories.user(db_session, Role.ANIMATOR, epm),
        "assessor": factories.user(db_session, Role.ASSESSOR),
    }


def judge(session: Session, people: dict[str, Any], b2i: dict[str, Competence], voice: Voice,
          levels: dict[str, Level], at: dt.datetime = T0) -> None:
    by = {Voice.SELF: people["learner"], Voice.ANIMATOR: people["animator"], Voice.ASSESSOR: people["assessor"]}[voice]
    for code, level in levels.items():
        services.record_assessment(session, people["learner"], b2i[code], voice, level, by, at=at)


def readiness_of(session: Session, people: dict[str, Any]) -> services.Readiness:
    profile = services.learner_profile(session, people["learner"].id)
    assert profile is not None and profile.readiness is not None
    return profile.readiness


# --- History ----------------------------------------------------------------------------------------


def test_each_judgement_is_a_new_row_and_the_latest_is_the_current_state(db_session: Session, people: Any,
                                                                          b2i: Any) -> None:
    learner, animator = people["learner"], people["animator"]
    first = services.record_assessment(db_session, learner, b2i["D1.1"], Voice.ANIMATOR, N, animator, at=T0)
    second = services.record_assessment(db_session, learner.id, b2i["D1.1"].id, "animator", "in_progress",
                                        animator.id, at=T0 + dt.timedelta(days=7), comment="  bien parti  ")
    rows = services.history(db_session, learner.id)
    assert [(a.id, a.level) for a in rows] == [(first.id, N), (second.id, C)]
    assert second.comment == "bien parti"
    current = services.latest_assessments(db_session, [learner.id])
    assert current[(learner.id, b2i["D1.1"].id, Voice.ANIMATOR)].id == second.id
    before = services.latest_assessments(db_session, [learner.id], as_of=T0 + dt.timedelta(days=1))
    assert before[(learner.id, b2i["D1.1"].id, Voice.ANIMATOR)].id == first.id


def test_history_cannot_be_overwritten(db_session: Session, people: Any, b2i: Any) -> None:
    kept = services.record_assessment(db_session, people["learner"], b2i["D1.1"], Voice.ANIMATOR, N,
                                      people["animator"], at=T0)
    db_session.commit()
    kept.level = Level.ACQUIRED.value
    with pytest.raises(AssessmentHistoryError):
        db_session.flush()
    db_session.rollback()
    stored = db_session.scalars(sa.select(Assessment).where(Assessment.learner_id == people["learner"].id)).all()
    assert [(a.level, a.created_at) for a in stored] == [(N, T0)]


def test_same_instant_is_decided_by_the_order_of_recording(db_session: Session, people: Any, b2i: Any) -> None:
    judge(db_session, people, b2i, Voice.ANIMATOR, {"D1.1": A})
    judge(db_session, people, b2i, Voice.ANIMATOR, {"D1.1": C})
    current = services.latest_assessments(db_session, [people["learner"].id], voices=[Voice.ANIMATOR])
    assert current[(people["learner"].id, b2i["D1.1"].id, Voice.ANIMATOR)].level == C


def test_voices_are_kept_apart(db_session: Session, people: Any, b2i: Any) -> None:
    judge(db_session, people, b2i, Voice.SELF, {"D1.1": A})
    judge(db_session, people, b2i, Voice.ANIMATOR, {"D1.1": C}, at=T0 + dt.timedelta(hours=1))
    state = services.learner_profile(db_session, people["learner"].id).states[b2i["D1.1"].id]
    assert (state.declared.level, state.animator.level, state.assessor) == (A, C, None)
    assert state.level == C  # the learner's own voice never validates a competence


@pytest.mark.parametrize("voice,level,message", [
    ("teacher", "acquired", "Cette voix n'existe pas"),
    ("animator", "perfect", "Ce niveau n'existe pas"),
])
def test_unknown_voice_or_level_is_refused(db_session: Session, people: Any, b2i: Any, voice: str, level: str,
                                           message: str) -> None:
    with pytest.raises(services.AssessmentError, match=message):
        services.record_assessment(db_session, people["learner"], b2i["D1.1"], voice, level, people["animator"])


def test_evidence_must_be_the_learners_own_journal_entries(db_session: Session, people: Any, b2i: Any) -> None:
    def entry(owner: Any) -> JournalEntry:
        created = JournalEntry(owner_id=owner.id, title="Mon courriel", entry_date=dt.date(2026, 3, 2))
        db_session.add(created)
        db_session.flush()
        return created

    mine, theirs = entry(people["learner"]), entry(people["animator"])
    with pytest.raises(services.AssessmentError, match="journal"):
        services.record_assessment(db_session, people["learner"], b2i["D5.1"], Voice.SELF, A, people["learner"],
                                   evidence=[mine, theirs])
    recorded = services.record_assessment(db_session, people["learner"], b2i["D5.1"], Voice.SELF, A,
                                          people["learner"], evidence=[mine.id])
    assert [e.id for e in services.history(db_session, people["learner"].id)[0].evidence] == [mine.id]
    assert recorded.session_id is None


# --- Readiness --------------------------------------------------------------------------------------

# Exactly the B2i thresholds: D1 3/4, D2 3/4, D3 2/3, D4 3/4, D5 2/3.
AT_THRESHOLD = {"D1.1": A, "D1.2": A, "D1.3": A, "D1.4": C,
                "D2.1": A, "D2.2": A, "D2.3": A,
                "D3.1": A, "D3.2": A, "D3.3": N,
                "D4.1": A, "D4.2": A, "D4.3": A,
                "D5.1": A, "D5.2": A}


def test_rule_comes_from_the_framework_data(db_session: Session, people: Any) -> None:
    readiness = readiness_of(db_session, people)
    assert [(d.domain.code, d.required, d.total) for d in readiness.domains] == [
        ("D1", 3, 4), ("D2", 3, 4), ("D3", 2, 3), ("D4", 3, 4), ("D5", 2, 3)]
    assert not readiness.ready and readiness.missing == 13


def test_ready_exactly_at_every_threshold(db_session: Session, people: Any, b2i: Any) -> None:
    judge(db_session, people, b2i, Voice.ANIMATOR, AT_THRESHOLD)
    readiness = readiness_of(db_session, people)
    assert readiness.ready and readiness.missing == 0
    assert [len(d.validated) for d in readiness.domains] == [3, 3, 2, 3, 2]


@pytest.mark.parametrize("short", ["D1.3", "D2.1", "D3.2", "D4.3", "D5.1"])
def test_one_domain_one_short_is_not_ready_and_says_what_is_missing(db_session: Session, people: Any, b2i: Any,
                                                                    short: str) -> None:
    judge(db_session, people, b2i, Voice.ANIMATOR, {**AT_THRESHOLD, short: C})
    readiness = readiness_of(db_session, people)
    assert not readiness.ready and readiness.missing == 1
    [domain] = readiness.domains_short
    assert domain.domain.code == short.split(".")[0] and domain.missing == 1
    assert short in [c.code for c in domain.to_validate]


def test_extra_competences_in_one_domain_do_not_make_up_for_another(db_session: Session, people: Any,
                                                                    b2i: Any) -> None:
    judge(db_session, people, b2i, Voice.ANIMATOR, {**AT_THRESHOLD, "D1.4": A, "D3.3": A, "D5.1": N})
    readiness = readiness_of(db_session, people)
    assert not readiness.ready and [d.domain.code for d in readiness.domains_short] == ["D5"]


def test_assessor_overrides_the_animator_both_ways(db_session: Session, people: Any, b2i: Any) -> None:
    judge(db_session, people, b2i, Voice.ANIMATOR, AT_THRESHOLD)
    later = T0 + dt.timedelta(days=30)
    judge(db_session, people, b2i, Voice.ASSESSOR, {"D4.2": C}, at=later)  # the assessor disagrees
    readiness = readiness_of(db_session, people)
    assert not readiness.ready and [d.domain.code for d in readiness.domains_short] == ["D4"]
    judge(db_session, people, b2i, Voice.ASSESSOR, {"D4.4": A}, at=later)  # and validates another one
    assert readiness_of(db_session, people).ready
    # An animator's later judgement does not undo the assessor's decision.
    judge(db_session, people, b2i, Voice.ANIMATOR, {"D4.4": N}, at=later + dt.timedelta(days=1))
    profile = services.learner_profile(db_session, people["learner"].id)
    assert profile.readiness.ready and profile.assessor_involved
    assert profile.states[b2i["D4.4"].id].animator.level == N


def test_self_assessment_never_counts_for_readiness(db_session: Session, people: Any, b2i: Any) -> None:
    judge(db_session, people, b2i, Voice.SELF, {code: A for code in b2i})
    assert readiness_of(db_session, people).missing == 13


def test_framework_without_a_rule_has_no_readiness(db_session: Session) -> None:
    pix = latest_framework(db_session, "pix-crcn-2019")
    assert services.readiness(services.load_framework_tree(db_session, pix.id), {}) is None


def test_a_domain_absent_from_the_rule_needs_all_its_competences(db_session: Session) -> None:
    framework = services.certification_framework(db_session)
    rule = framework.certification_rule
    framework.certification_rule = {"min_validated_per_domain": {"D1": 3}, "all_domains_required": True}
    try:
        d5 = framework.domains[4]
        readiness = services.readiness(framework, {c.id: A for c in d5.competences})
        assert [(d.domain.code, d.required) for d in readiness.domains][-1] == ("D5", 3)
        assert readiness.for_domain(d5).met
    finally:
        framework.certification_rule = rule  # the tree is kept for the whole application (read-only)


# --- Progress and the Pix bridge ----------------------------------------------------------------------


def test_progress_since_the_positioning_interview(db_session: Session, people: Any, b2i: Any) -> None:
    learner, epm = people["learner"], people["epm"]
    enrolment = factories.enrolment(db_session, factories.ticket(db_session), epm, learner)
    profile = services.learner_profile(db_session, learner.id)
    assert profile.positioning is None and profile.progress == []

    db_session.add(PositioningInterview(enrolment_id=enrolment.id, held_on=dt.date(2026, 3, 1)))
    judge(db_session, people, b2i, Voice.SELF, {"D1.1": N, "D1.2": C})
    judge(db_session, people, b2i, Voice.ANIMATOR, {"D1.2": N, "D5.1": A})  # at the interview
    workshop = factories.workshop(db_session, epm, T0 + dt.timedelta(days=7))
    factories.attend(db_session, workshop, enrolment, AttendanceStatus.PRESENT)
    profile = services.learner_profile(db_session, learner.id)
    assert profile.positioning.first_workshop_at == workshop.starts_at and profile.progress == []

    at_workshop = workshop.starts_at + dt.timedelta(minutes=100)
    judge(db_session, people, b2i, Voice.ANIMATOR, {"D1.1": A, "D1.2": C, "D5.1": A, "D2.1": N}, at=at_workshop)
    profile = services.learner_profile(db_session, learner.id)
    assert profile.states[b2i["D1.2"].id].at_positioning == N  # the animator's level prevails over the self one
    assert profile.states[b2i["D1.1"].id].at_positioning == N  # the learner's own, when the animator had none
    assert sorted((s.competence.code, s.level) for s in profile.progress) == [("D1.1", A), ("D1.2", C)]


def test_each_b2i_competence_shows_its_indicative_pix_competences(db_session: Session, people: Any,
                                                                  b2i: Any) -> None:
    judge(db_session, people, b2i, Voice.ANIMATOR, {"D1.1": A, "D1.4": C})
    profile = services.learner_profile(db_session, people["learner"].id)
    bridge = profile.bridge
    assert bridge is not None and not bridge.official and "indicative" in bridge.mapping.note
    assert [c.code for c in bridge.targets_of[b2i["D1.1"].id]] == ["5.1", "5.2"]
    assert all(bridge.targets_of.get(c.id) for c in b2i.values())
    links = {link.competence.code: link for _domain, links in bridge.profile(profile.states) for link in links}
    assert len(links) == 16
    assert sorted(s.competence.code for s in links["5.2"].related) == ["D1.1", "D1.3", "D1.4"]
    assert links["5.2"].acquired == 1 and links["5.1"].acquired == 1


def test_learner_profile_queries_do_not_grow_with_history(db_session: Session, people: Any, b2i: Any,
                                                          count_queries: Any) -> None:
    def profile_queries() -> int:
        db_session.expire_all()
        with count_queries() as counter:
            services.learner_profile(db_session, people["learner"].id)
        return counter.count

    judge(db_session, people, b2i, Voice.ANIMATOR, {"D1.1": C})
    small = profile_queries()
    for day in range(1, 6):
        judge(db_session, people, b2i, Voice.ANIMATOR, {code: C for code in b2i}, at=T0 + dt.timedelta(days=day))
        judge(db_session, people, b2i, Voice.SELF, {code: A for code in b2i}, at=T0 + dt.timedelta(days=day))
    assert profile_queries() == small


# --- Everyday words ----------------------------------------------------------------------------------------


def _words_file(tmp_path: Any, name: str, document: dict[str, Any]) -> Any:
    import yaml

    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("code", ["b2i-adultes-2010", "pix-crcn-2019"])
def test_every_domain_and_competence_has_everyday_words_and_an_example(db_session: Session, code: str) -> None:
    framework = services.load_framework_tree(db_session, latest_framework(db_session, code).id)
    words = services.plain_words(db_session, code)
    for domain in framework.domains:
        assert words.has_own(domain) and words.label(domain) != domain.title, domain.code
        assert set(words.domains[domain.code]) == {"label_fr", "label_en"}, domain.code
        for competence in domain.competences:
            entry = words.competences[competence.code]
            assert set(entry) == {"label_fr", "label_en", "example_fr", "example_en"}, competence.code
            assert len(entry["label_fr"]) <= 60 and "·" not in entry["label_fr"] + entry["example_fr"]
            assert entry["example_fr"].startswith("Je sais ") and entry["example_fr"].endswith("."), competence.code
            assert entry["example_en"].startswith(("I can ", "I know ")), competence.code
    assert len(words.competences) == {"b2i-adultes-2010": 18, "pix-crcn-2019": 16}[code]


def test_everyday_words_in_the_readers_language_the_official_title_otherwise(app: Any, db_session: Session,
                                                                             b2i: Any) -> None:
    from flask_babel import force_locale

    words = services.plain_words(db_session, B2I_CODE)
    with app.test_request_context():
        assert words.label(b2i["D5.2"]) == "Envoyer des documents"
        assert words.example(b2i["D5.2"]) == "Je sais envoyer un courriel avec une photo."
        with force_locale("en"):
            assert words.label(b2i["D5.2"]) == "Sending documents"
            assert words.example(b2i["D5.2"]) == "I can send an email with a photo."
    french_only = services.Words({}, {"D5.2": {"label_fr": "Envoyer", "example_fr": "Je sais envoyer."}})
    with app.test_request_context(), force_locale("en"):
        assert french_only.label(b2i["D5.2"]) == "Envoyer" and french_only.example(b2i["D5.2"]) == "Je sais envoyer."
        assert french_only.label(b2i["D1.1"]) == b2i["D1.1"].title and french_only.example(b2i["D1.1"]) == ""
    assert services.NO_WORDS.label(b2i["D4.1"]) == "Concevoir une démarche de recherche d'informations et la mettre " \
                                                   "en œuvre"


def test_new_words_load_onto_the_loaded_version_without_touching_it_or_its_assessments(
        db_session: Session, people: Any, b2i: Any, tmp_path: Any) -> None:
    from competences import loader
    from competences.models import Framework, PlainWords

    judge(db_session, people, b2i, Voice.ANIMATOR, {"D1.1": A})
    frameworks_before = db_session.scalar(sa.select(sa.func.count(Framework.id)))
    rows_before = db_session.scalar(sa.select(sa.func.count(PlainWords.id)))
    bundled = loader.FRAMEWORKS_DIR / "b2i-adultes-2010.plain-words.yaml"
    assert not loader.load_plain_words(db_session, bundled).created  # the same file again: nothing
    path = _words_file(tmp_path, "better.plain-words.yaml", {"plain_words": {
        "framework": B2I_CODE, "domains": {"D1": {"label_fr": "L'ordinateur"}},
        "competences": {"D1.1": {"label_fr": "Connaître son ordinateur", "example_fr": "Je sais allumer l'écran."}}}})
    result = loader.load_plain_words(db_session, path)
    assert result.created and result.label == "b2i-adultes-2010 (everyday words)"
    assert not loader.load_plain_words(db_session, path).created
    assert db_session.scalar(sa.select(sa.func.count(PlainWords.id))) == rows_before + 1
    assert db_session.scalar(sa.select(sa.func.count(Framework.id))) == frameworks_before
    profile = services.learner_profile(db_session, people["learner"].id)
    assert profile is not None and profile.states[b2i["D1.1"].id].level == A  # the judgement is still there
    assert profile.words.label(b2i["D1.1"]) == "Connaître son ordinateur"
    assert profile.words.label(b2i["D1.2"]) == b2i["D1.2"].title  # not in the new file: the official wording
    assert services.plain_words(db_session, B2I_CODE).competences["D1.1"]["example_fr"] == "Je sais allumer l'écran."


@pytest.mark.parametrize(("document", "message"), [
    ({"plain_words": {"framework": "b2i-inconnu", "competences": {}}}, "load the framework b2i-inconnu first"),
    ({"plain_words": {"framework": B2I_CODE, "competences": {"D9.9": {"label_fr": "x", "example_fr": "Je sais."}}}},
     "unknown code D9.9"),
    ({"plain_words": {"framework": B2I_CODE, "domains": {"D1.1": {"label_fr": "x"}}}}, "unknown code D1.1"),
    ({"plain_words": {"framework": B2I_CODE, "competences": {"D1.1": {"label_fr": "Sans exemple"}}}},
     "missing 'example_fr'"),
    ({"plain_words": {"framework": B2I_CODE, "competences": {"D1.1": {"label_fr": "x" * 81, "example_fr": "Je."}}}},
     "label_fr is longer than 80 characters"),
    ({"plain_words": {"framework": B2I_CODE, "competences": ["D1.1"]}}, "expected a mapping of codes"),
])
def test_everyday_words_that_do_not_fit_the_framework_are_refused(db_session: Session, tmp_path: Any,
                                                                  document: dict[str, Any], message: str) -> None:
    from competences import loader

    with pytest.raises(loader.FrameworkDataError, match=message):
        loader.load_plain_words(db_session, _words_file(tmp_path, "bad.plain-words.yaml", document))


def test_data_files_load_frameworks_first_then_their_words_then_mappings(db_session: Session, tmp_path: Any) -> None:
    from competences import loader

    words = _words_file(tmp_path, "a.plain-words.yaml", {"plain_words": {
        "framework": "essai-2026", "competences": {"E1": {"label_fr": "Essayer", "example_fr": "Je sais essayer."}}}})
    framework = _words_file(tmp_path, "z.yaml", {"framework": {
        "code": "essai-2026", "version": "1", "title_fr": "Essai",
        "domains": [{"code": "E", "title_fr": "Essais", "competences": [{"code": "E1", "title_fr": "Essayer"}]}]}})
    results = loader.load_files(db_session, [words, framework])
    assert [r.label for r in results] == ["essai-2026 (1)", "essai-2026 (everyday words)"]
    with pytest.raises(loader.FrameworkDataError, match="expected 'framework', 'plain_words' or 'mapping'"):
        loader.load_files(db_session, [_words_file(tmp_path, "odd.yaml", {"something": {}})])


def test_the_certification_framework_and_its_words_come_in_one_query_once_kept(
        app: Any, db_session: Session, count_queries: Any) -> None:
    with app.app_context():  # where the trees and words are kept
        services.certification_reference(db_session)
        with count_queries() as counter:
            reference = services.certification_reference(db_session)
    assert reference is not None and reference[0].code == B2I_CODE
    assert reference[1].competences["D5.2"]["label_fr"] == "Envoyer des documents"
    assert counter.count == 1
