"""The ``ticketnet`` command: init, frameworks, demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from portfolio import create_app
from portfolio.bootstrap import initialise
from portfolio.db import Base
from portfolio.extensions import db
from tests.conftest import app_overrides
from tests.databases import fresh_database


def table_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def fresh_app(url: str, instance: Path) -> Flask:
    return create_app(app_overrides(url, instance))


def test_init_is_idempotent(fresh_database_url: str, tmp_path: Path) -> None:
    app = fresh_app(fresh_database_url, tmp_path)
    first = initialise(app)
    assert first.revision_before is None and first.revision_after is not None
    assert first.changed and first.modules_created == 20
    engine = db.state(app).engine
    after_first = table_counts(engine)
    assert after_first["framework"] == 2 and after_first["competence"] == 18 + 16
    assert after_first["capacity"] == 51 and after_first["module"] == 20 and after_first["scheme_config"] == 1

    second = initialise(app)
    assert not second.changed
    assert all(not r.created for r in second.loaded)
    assert table_counts(engine) == after_first
    engine.dispose()


def test_init_command_output(fresh_database_url: str, tmp_path: Path) -> None:
    app = fresh_app(fresh_database_url, tmp_path)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "Initialisation terminée" in first.output
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0 and "Rien n'a changé" in second.output
    db.state(app).engine.dispose()


def test_frameworks_list_prints_codes_and_numbers(runner: Any) -> None:
    result = runner.invoke(args=["frameworks", "list"])
    assert result.exit_code == 0
    lines = {line.split("\t")[0]: line for line in result.output.splitlines()}
    assert "5 domaines\t18 compétences\t51 capacités" in lines["b2i-adultes-2010"]
    assert "5 domaines\t16 compétences\t0 capacités" in lines["pix-crcn-2019"]


def test_frameworks_show(runner: Any) -> None:
    result = runner.invoke(args=["frameworks", "show", "b2i-adultes-2010"])
    assert result.exit_code == 0
    assert "D3 Traitement et production (à valider : 2/3)" in result.output
    assert "    D5.3.3 Elaborer un document de manière collective" in result.output
    unknown = runner.invoke(args=["frameworks", "show", "nope"])
    assert unknown.exit_code == 1 and "référentiel inconnu" in unknown.output


def test_demo_prints_one_account_per_role_and_changes_nothing_the_second_time(fresh_database_url: str,
                                                                               tmp_path: Path) -> None:
    app = fresh_app(fresh_database_url, tmp_path)
    initialise(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--json", "--password", "demo-password-123"])
    assert result.exit_code == 0, result.output
    accounts = json.loads(result.output)
    assert {a["role"] for a in accounts} == {"beneficiary", "animator", "prescriber", "assessor", "coordinator",
                                             "admin"}
    assert all(set(a) == {"role", "username", "password", "organisation"} for a in accounts)
    assert all(a["password"] == "demo-password-123" for a in accounts)
    engine = db.state(app).engine
    counts = table_counts(engine)
    assert counts["organisation"] == 8 and counts["ticket"] >= 7

    again = runner.invoke(args=["demo", "--json", "--password", "demo-password-123"])
    assert again.exit_code == 0 and json.loads(again.output) == accounts
    assert table_counts(engine) == counts
    other = runner.invoke(args=["demo", "--json", "--password", "not-the-same-one"])
    assert all(a["password"] is None for a in json.loads(other.output))  # unknown, never a wrong one
    assert table_counts(engine) == counts

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/login", data={"csrf_token": token, "username": "marie.dupont",
                                           "password": "demo-password-123"})
    assert response.headers["Location"] == "/moi"
    engine.dispose()


def test_demo_default_passwords_are_stable_and_printed(fresh_database_url: str, tmp_path: Path) -> None:
    app = fresh_app(fresh_database_url, tmp_path)
    initialise(app)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == second.exit_code == 0
    assert first.output == second.output
    assert "marie.dupont" in first.output and "(inchangé" not in first.output
    db.state(app).engine.dispose()


def test_demo_refuses_an_uninitialised_database(fresh_database_url: str, tmp_path: Path) -> None:
    app = fresh_app(fresh_database_url, tmp_path)
    from portfolio import migrate

    migrate.upgrade(app)
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1 and "ticketnet init" in result.output
    db.state(app).engine.dispose()


def scale_snapshot(engine: sa.Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(
            "SELECT u.username, u.first_name, t.reference, t.issued_on, t.status, "
            "(SELECT COUNT(*) FROM journal_entry j WHERE j.owner_id = u.id), "
            "(SELECT COUNT(*) FROM assessment a WHERE a.learner_id = u.id) "
            "FROM user_account u JOIN ticket t ON t.beneficiary_id = u.id "
            "WHERE u.username LIKE 'apprenant.s%' ORDER BY u.id"))]


def run_scale(url: str, instance: Path) -> tuple[list[tuple[Any, ...]], dict[str, int], Flask]:
    app = fresh_app(url, instance)
    initialise(app)
    result = app.test_cli_runner().invoke(args=["demo", "--scale", "23", "--seed", "7"])
    assert result.exit_code == 0, result.output
    engine = db.state(app).engine
    return scale_snapshot(engine), table_counts(engine), app


def test_demo_scale_is_complete_and_deterministic(database_url: str, tmp_path: Path) -> None:
    with fresh_database(database_url) as first_url:
        snapshot, counts, app = run_scale(first_url, tmp_path / "a")
        assert len(snapshot) == 23
        assert all(entries == 10 and assessments == 20 for *_, entries, assessments in snapshot)
        from portfolio.demo.stories import OTHER_TICKETS

        registered_in_base_demo = sum(1 for story in OTHER_TICKETS if story[-1]) + 3  # and Marie, Paul, Lucie
        assert counts["positioning_interview"] == 23 + registered_in_base_demo
        assert counts["attendance"] > 23 and counts["workshop_session"] > 0
        assert app.test_cli_runner().invoke(args=["demo", "--scale", "23", "--seed", "7"]).exit_code == 0
        assert table_counts(db.state(app).engine) == counts  # the same seed again changes nothing
        db.state(app).engine.dispose()
    with fresh_database(database_url) as second_url:
        again, _counts, app = run_scale(second_url, tmp_path / "b")
        db.state(app).engine.dispose()
    assert again == snapshot


def _framework_copy(tmp_path: Path, name: str, change: Any) -> Path:
    import yaml

    from competences.loader import FRAMEWORKS_DIR

    document = yaml.safe_load((FRAMEWORKS_DIR / "b2i-adultes-2010.yaml").read_text(encoding="utf-8"))
    change(document["framework"])
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_frameworks_import_a_new_version_without_a_code_change(runner: Any, tmp_path: Path) -> None:
    def new_version(framework: dict[str, Any]) -> None:
        framework["version"] = "révision 2026 (essai)"
        framework["domains"][0]["title_fr"] = "Environnement numérique"

    path = _framework_copy(tmp_path, "b2i-2026.yaml", new_version)
    first = runner.invoke(args=["frameworks", "import", str(path)])
    assert first.exit_code == 0, first.output
    assert "b2i-adultes-2010 (révision 2026 (essai)) : chargé" in first.output
    listed = [line for line in runner.invoke(args=["frameworks", "list"]).output.splitlines()
              if line.startswith("b2i-adultes-2010\t")]
    assert len(listed) == 2 and any(line.endswith("révision 2026 (essai)") for line in listed)
    shown = runner.invoke(args=["frameworks", "show", "b2i-adultes-2010"]).output
    assert "Version : révision 2026 (essai)" in shown and "D1 Environnement numérique" in shown
    again = runner.invoke(args=["frameworks", "import", str(path)])
    assert again.exit_code == 0 and "déjà présent" in again.output


def test_frameworks_import_refuses_to_change_a_loaded_version(runner: Any, tmp_path: Path) -> None:
    def same_version_other_content(framework: dict[str, Any]) -> None:
        framework["domains"][0]["title_fr"] = "Un autre titre"

    path = _framework_copy(tmp_path, "b2i-changed.yaml", same_version_other_content)
    result = runner.invoke(args=["frameworks", "import", str(path)])
    assert result.exit_code == 1
    assert "never changed in place" in result.output and "b2i-changed.yaml" in result.output
    shown = runner.invoke(args=["frameworks", "show", "b2i-adultes-2010"]).output
    assert "D1 Environnement informatique" in shown and "Un autre titre" not in shown
    missing = runner.invoke(args=["frameworks", "import", str(tmp_path / "absent.yaml")])
    assert missing.exit_code == 2


def test_frameworks_import_refuses_yaml_aliases(runner: Any, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text('a: &a ["x", "x"]\nb: &b [*a, *a]\nc: &c [*b, *b]\nframework: {code: x, version: "1"}\n')
    result = runner.invoke(args=["frameworks", "import", str(bomb)])
    assert result.exit_code == 1 and "aliases" in result.output


def test_init_creates_the_folder_of_a_new_sqlite_database(tmp_path: Path) -> None:
    database = tmp_path / "not" / "yet" / "there.sqlite3"
    app = fresh_app(f"sqlite:///{database}", tmp_path / "instance")
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert database.is_file()
    db.state(app).engine.dispose()


def test_frameworks_import_loads_everyday_words_onto_the_loaded_version(runner: Any, tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "b2i.plain-words.yaml"
    path.write_text(yaml.safe_dump({"plain_words": {"framework": "b2i-adultes-2010", "competences": {
        "D5.2": {"label_fr": "Envoyer un document", "example_fr": "Je sais joindre une photo à un courriel."}}}},
        allow_unicode=True), encoding="utf-8")
    first = runner.invoke(args=["frameworks", "import", str(path)])
    assert first.exit_code == 0, first.output
    assert "Référentiel b2i-adultes-2010 (everyday words) : chargé" in first.output
    listed = [line for line in runner.invoke(args=["frameworks", "list"]).output.splitlines()
              if line.startswith("b2i-adultes-2010\t")]
    assert len(listed) == 1  # no new version of the framework
    again = runner.invoke(args=["frameworks", "import", str(path)])
    assert again.exit_code == 0 and "déjà présent" in again.output
    bad = tmp_path / "bad.plain-words.yaml"
    bad.write_text("plain_words:\n  framework: b2i-adultes-2010\n  competences:\n    D9.9: {label_fr: x}\n",
                   encoding="utf-8")
    refused = runner.invoke(args=["frameworks", "import", str(bad)])
    assert refused.exit_code == 1 and "unknown code D9.9" in refused.output
