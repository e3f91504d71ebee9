"""Backups: a consistent snapshot taken while the site serves, restored without loss on SQLite and
PostgreSQL (and from one to the other), and every bad input refused with nothing changed.

The round trip compares a complete dump of every table of the models (ordered rows, JSON ``null`` told
apart from SQL NULL) and the bytes of every uploaded file, on the demo with ``--scale`` learners.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from importers.staging import staging_store
from portfolio import create_app, migrate
from portfolio.audit.models import AuditEvent
from portfolio.auth.models import Membership, Role, User
from portfolio.backup import create_backup
from portfolio.bootstrap import initialise
from portfolio.db import Base, utcnow
from portfolio.extensions import db
from portfolio.journal.models import EntryTag, JournalEntry, Photo
from tests import conftest, factories
from tests.conftest import app_overrides
from tests.databases import fresh_database, is_postgres

SCALE = 12
# Uploaded files, byte for byte: photos under their storage keys (an empty one too), and other files in
# nested folders with non-ASCII names.
PHOTO = "a1/a1b2c3d4e5f60718293a4b5c6d7e8f90.jpg"
EMPTY_PHOTO = "0f/0f1e2d3c4b5a69788796a5b4c3d2e1f0.png"
STAGED = "Nom;Prénom;Date de naissance\nLafon;Odile;02/05/1960\n".encode()
FILES = {
    PHOTO: bytes(range(256)) * 40,
    PHOTO.replace(".jpg", "-thumb.jpg"): b"\xff\xd8\xff" + b"\x00" * 500,
    EMPTY_PHOTO: b"",
    "photos/été/légende.txt": "Le jardin de Marie, en été.".encode(),
}


def database_dump(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the models, ordered by primary key, read through the models' types;
    each JSON column also says whether it is SQL NULL (a JSON ``null`` is not SQL NULL)."""
    dump = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            json_columns = [c for c in table.columns if isinstance(c.type, sa.JSON)]
            statement = sa.select(*table.columns, *[c.is_(None) for c in json_columns]) \
                .order_by(*table.primary_key.columns)
            width = len(table.columns)
            dump[table.name] = [tuple(row[:width]) + tuple(bool(flag) for flag in row[width:])
                                for row in connection.execute(statement)]
    return dump


def upload_files(root: Path) -> dict[str, bytes]:
    """The complete files of an upload folder (not those still being written, ``.name.xxxx.part``, nor the
    spreadsheets of tickets waiting for their confirmation, under ``imports/``)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(".part") and p.relative_to(root).parts[0] != "imports"}


def app_on(url: str, instance: Path) -> Flask:
    return create_app(app_overrides(url, instance))


def cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def _add_rows_the_demo_lacks(app: Flask) -> None:
    """A JSON null and an SQL NULL in the same JSON column, photos with their files, odd text."""
    with app.app_context():
        session = db.session
        marie = session.scalars(sa.select(User).where(User.username == "marie.dupont")).one()
        entry = JournalEntry(owner_id=marie.id, title="Guillemets \" et accents : été 🙂", body_md="a\nb\\c\t",
                             body_html="<p>a<br>b\\c</p>", entry_date=dt.date(2026, 2, 28))
        session.add(entry)
        session.flush()
        for key, thumbnail in ((PHOTO, PHOTO.replace(".jpg", "-thumb.jpg")), (EMPTY_PHOTO, EMPTY_PHOTO)):
            session.add(Photo(owner_id=marie.id, entry_id=entry.id, storage_key=key, thumbnail_key=thumbnail,
                              content_type="image/jpeg", width=640, height=480, size_bytes=len(FILES[key]),
                              alt_text="Le jardin"))
        session.add(AuditEvent(action="test.json-null", details=None))  # the ORM writes a JSON null
        session.flush()
        session.execute(sa.insert(AuditEvent).values(action="test.sql-null", details=sa.null(), created_at=utcnow()))
        session.commit()
    root = Path(app.config["UPLOAD_DIR"])
    for key, content in FILES.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(content)
    (root / "a1" / ".b4d.jpg.1a2b3c4d.part").write_bytes(b"being written: not in the backup")
    staging_store(root).put(1, "liste.csv", STAGED)  # a prescriber's spreadsheet waiting for "Émettre"


EXPORTED_AT = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def learner_exports(app: Flask) -> dict[str, dict[str, bytes]]:
    """Every learner's "Tout télécharger" archive (member name -> bytes), exported at a fixed moment."""
    from portfolio.journal.storage import photo_storage
    from portfolio.privacy.export import build_archive

    exports = {}
    with app.test_request_context():
        learners = db.session.scalars(
            sa.select(User).join(User.memberships).where(Membership.role == Role.BENEFICIARY.value)
            .order_by(User.username).distinct())
        for learner in learners:
            archive = build_archive(db.session, photo_storage(), learner, now=EXPORTED_AT)
            with zipfile.ZipFile(io.BytesIO(archive.data)) as opened:
                exports[learner.username] = {name: opened.read(name) for name in opened.namelist()}
    return exports


@dataclass
class Source:
    app: Flask
    engine: sa.Engine
    dump: dict[str, list[tuple[Any, ...]]]
    files: dict[str, bytes]
    backup: Path
    exports: dict[str, dict[str, bytes]]


@pytest.fixture(scope="module")
def source(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    """The demo with --scale learners and uploaded files, and its backup taken by ``ticketnet backup``."""
    folder = tmp_path_factory.mktemp("source")
    with fresh_database(database_url) as url:
        app = app_on(url, folder / "instance")
        initialise(app)
        assert cli(app, "demo", "--password", "demo-password-123").exit_code == 0
        scaled = cli(app, "demo", "--scale", str(SCALE), "--seed", "11")
        assert scaled.exit_code == 0, scaled.output
        _add_rows_the_demo_lacks(app)
        engine = db.state(app).engine
        backup = folder / "ticketnet.zip"
        result = cli(app, "backup", str(backup))
        assert result.exit_code == 0, result.output
        assert "Sauvegarde écrite" in result.output
        yield Source(app, engine, database_dump(engine), upload_files(Path(app.config["UPLOAD_DIR"])), backup,
                     learner_exports(app))
        engine.dispose()


@pytest.fixture
def target(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An application on a new, empty database of the same kind, with an empty upload folder."""
    with fresh_database(database_url) as url:
        app = app_on(url, tmp_path / "target")
        yield app
        db.state(app).engine.dispose()


def column(table: str, name: str) -> int:
    return Base.metadata.tables[table].columns.keys().index(name)


def test_the_source_holds_what_the_round_trip_must_keep(source: Source) -> None:
    dump = source.dump
    assert len([row for row in dump["user_account"] if row[column("user_account", "username")]
                .startswith("apprenant.s11.")]) == SCALE
    assert len(dump["journal_entry"]) > SCALE * 10 and len(dump["assessment"]) >= SCALE * 20
    action, details = column("audit_event", "action"), column("audit_event", "details")
    nulls = {row[action]: (row[details], row[-1]) for row in dump["audit_event"] if row[action].startswith("test.")}
    assert nulls == {"test.json-null": (None, False), "test.sql-null": (None, True)}  # (value, is SQL NULL)
    assert len(dump["photo"]) == 2
    assert source.files == FILES


def test_manifest_says_version_revision_date_and_counts(source: Source) -> None:
    with zipfile.ZipFile(source.backup) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = set(archive.namelist())
    assert manifest["format"] == "ticketnet-backup" and manifest["format_version"] == 1
    assert manifest["application_version"] == "0.1.0"
    assert manifest["schema_revision"] == migrate.head_revision(source.app)
    assert abs(dt.datetime.fromisoformat(manifest["created_at"]) - utcnow()) < dt.timedelta(minutes=10)
    counts = {table["name"]: table["rows"] for table in manifest["tables"]}
    assert counts == {name: len(rows) for name, rows in source.dump.items()}
    order = [table["name"] for table in manifest["tables"]]
    assert order.index("user_account") < order.index("journal_entry") < order.index("entry_tag")
    assert manifest["uploads"] == {"files": len(FILES), "bytes": sum(len(b) for b in FILES.values())}
    assert {f"uploads/{key}" for key in FILES} | {"manifest.json"} <= names
    assert "database/alembic_version.jsonl" not in names


def test_staged_spreadsheets_are_never_backed_up(source: Source) -> None:
    root = Path(source.app.config["UPLOAD_DIR"])
    assert [p.read_bytes() for p in (root / "imports").glob("*.upload")] == [STAGED]  # on disk, waiting
    with zipfile.ZipFile(source.backup) as archive:
        assert not [name for name in archive.namelist() if name.startswith("uploads/imports/")]
        assert not [name for name in archive.namelist() if STAGED in archive.read(name)]


def test_round_trip_restores_every_row_and_every_file(source: Source, target: Flask) -> None:
    result = cli(target, "restore", str(source.backup))
    assert result.exit_code == 0, result.output
    assert "Restauration terminée" in result.output
    engine = db.state(target).engine
    assert database_dump(engine) == source.dump
    assert upload_files(Path(target.config["UPLOAD_DIR"])) == source.files
    # Every learner's portfolio export ("Tout télécharger": JSON, LEAP2A, offline site, photos) is identical.
    restored = learner_exports(target)
    assert len(restored) > SCALE and restored["marie.dupont"]["portfolio.json"]
    assert restored == source.exports
    assert migrate.current_revision(target) == migrate.head_revision(target)
    # New rows get new ids (PostgreSQL's sequences were moved past the restored ones).
    with target.app_context():
        created = factories.user(db.session, Role.BENEFICIARY)
        db.session.commit()
        assert created.id > max(row[0] for row in source.dump["user_account"])


def test_a_restored_learner_can_sign_in(source: Source, target: Flask) -> None:
    assert cli(target, "restore", str(source.backup)).exit_code == 0
    target.test_client_class = conftest.TestClient
    client = target.test_client()
    response = client.post_form("/login", {"username": "marie.dupont", "password": "demo-password-123"})
    assert response.headers["Location"] == "/moi"
    assert "Bonjour Marie" in client.get("/moi").get_data(as_text=True)


def test_a_backup_moves_between_sqlite_and_postgresql(source: Source, database_url: str, tmp_path: Path) -> None:
    if not is_postgres(database_url):
        pytest.skip("needs PostgreSQL beside SQLite (TICKETNET_TEST_DATABASE_URL)")
    # PostgreSQL -> SQLite
    with fresh_database(f"sqlite:///{tmp_path}/unused.sqlite3") as sqlite_url:
        on_sqlite = app_on(sqlite_url, tmp_path / "sqlite")
        assert cli(on_sqlite, "restore", str(source.backup)).exit_code == 0
        assert database_dump(db.state(on_sqlite).engine) == source.dump
        again = tmp_path / "from-sqlite.zip"
        assert cli(on_sqlite, "backup", str(again)).exit_code == 0
        db.state(on_sqlite).engine.dispose()
    # ... and back: SQLite -> PostgreSQL
    with fresh_database(database_url) as postgres_url:
        on_postgres = app_on(postgres_url, tmp_path / "postgres")
        assert cli(on_postgres, "restore", str(again)).exit_code == 0
        assert database_dump(db.state(on_postgres).engine) == source.dump
        assert upload_files(Path(on_postgres.config["UPLOAD_DIR"])) == source.files
        db.state(on_postgres).engine.dispose()


def test_dry_run_reads_everything_and_changes_nothing(source: Source, target: Flask) -> None:
    result = cli(target, "restore", "--dry-run", str(source.backup))
    assert result.exit_code == 0, result.output
    assert "rien n'a été modifié" in result.output
    assert result.output.split("fichiers")[1].split()[0] == str(len(FILES))
    assert sa.inspect(db.state(target).engine).get_table_names() == []
    assert not Path(target.config["UPLOAD_DIR"]).exists()


def rewrite(backup: Path, into: Path, change: Callable[[str, bytes], bytes | None]) -> Path:
    """A copy of ``backup`` whose members pass through ``change`` (None drops the member)."""
    with zipfile.ZipFile(backup) as original, zipfile.ZipFile(into, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            content = change(info.filename, original.read(info))
            if content is not None:
                copy.writestr(info.filename, content)
    return into


def manifest_change(edit: Callable[[dict[str, Any]], None]) -> Callable[[str, bytes], bytes]:
    def change(name: str, content: bytes) -> bytes:
        if name != "manifest.json":
            return content
        manifest = json.loads(content)
        edit(manifest)
        return json.dumps(manifest).encode()

    return change


def assert_refused(app: Flask, backup: Path, *expected: str) -> None:
    result = cli(app, "restore", str(backup))
    assert result.exit_code == 1, result.output
    assert str(backup) in result.output
    for text in expected:
        assert text in result.output


def test_refuses_a_database_that_is_not_empty(source: Source, target: Flask) -> None:
    initialise(target)  # reference data: frameworks, modules, scheme
    before = database_dump(db.state(target).engine)
    assert_refused(target, source.backup, "n'est pas vide", "rien n'a été modifié")
    assert database_dump(db.state(target).engine) == before


def test_refuses_an_upload_folder_that_is_not_empty(source: Source, target: Flask) -> None:
    stray = Path(target.config["UPLOAD_DIR"]) / "ancienne-photo.jpg"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x")
    assert_refused(target, source.backup, "TICKETNET_UPLOAD_DIR", "n'est pas vide")
    assert sa.inspect(db.state(target).engine).get_table_names() == []


def test_refuses_a_backup_from_a_newer_schema(source: Source, target: Flask, tmp_path: Path) -> None:
    def newer(manifest: dict[str, Any]) -> None:
        manifest["schema_revision"] = "0042_from_the_future"
        manifest["application_version"] = "9.0.0"

    future = rewrite(source.backup, tmp_path / "future.zip", manifest_change(newer))
    assert_refused(target, future, "plus récent", "0042_from_the_future", "Ticket Net 9.0.0")
    assert sa.inspect(db.state(target).engine).get_table_names() == []


def test_refuses_a_newer_backup_format(source: Source, target: Flask, tmp_path: Path) -> None:
    def newer(manifest: dict[str, Any]) -> None:
        manifest["format_version"] = 2

    assert_refused(target, rewrite(source.backup, tmp_path / "v2.zip", manifest_change(newer)), "format 2")


@pytest.mark.parametrize("content", [b"not a zip file", b""])
def test_refuses_a_file_that_is_not_a_backup(target: Flask, tmp_path: Path, content: bytes) -> None:
    bogus = tmp_path / "photo.zip"
    bogus.write_bytes(content)
    assert_refused(target, bogus, "pas une sauvegarde Ticket Net")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as other:
        other.writestr("readme.txt", "hello")
    assert_refused(target, tmp_path / "other.zip", "manifest.json manque")
    assert_refused(target, tmp_path / "missing.zip", "introuvable")


def test_a_damaged_table_is_refused_by_line_and_a_good_file_restores_after(source: Source, target: Flask,
                                                                             tmp_path: Path) -> None:
    def damage(name: str, content: bytes) -> bytes:
        if name != "database/ticket.jsonl":
            return content
        lines = content.split(b"\n")
        lines[2] = b"[1, 2"
        return b"\n".join(lines)

    assert_refused(target, rewrite(source.backup, tmp_path / "damaged.zip", damage),
                   "database/ticket.jsonl, ligne 3", "JSON illisible")

    def tampered(name: str, content: bytes) -> bytes:
        return content.replace(b"Marie", b"Maria") if name == "database/user_account.jsonl" else content

    assert_refused(target, rewrite(source.backup, tmp_path / "tampered.zip", tampered),
                   "database/user_account.jsonl ne correspond pas au manifeste")
    assert_refused(target, rewrite(source.backup, tmp_path / "short.zip",
                                   lambda n, c: None if n == f"uploads/{EMPTY_PHOTO}" else c),
                   "incomplète")
    # Nothing was committed: the same database takes the good backup.
    assert cli(target, "restore", str(source.backup)).exit_code == 0
    assert database_dump(db.state(target).engine) == source.dump


def test_refuses_file_names_that_leave_the_upload_folder(source: Source, target: Flask, tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    shutil.copyfile(source.backup, evil)
    with zipfile.ZipFile(evil, "a") as archive:
        archive.writestr("uploads/../../outside.txt", b"x")
    assert_refused(target, evil, "nom de fichier refusé")
    assert not (tmp_path / "outside.txt").exists()


def test_backup_refuses_an_uninitialised_database_and_a_missing_folder(target: Flask, tmp_path: Path) -> None:
    result = cli(target, "backup", str(tmp_path / "b.zip"))
    assert result.exit_code == 1 and "pas initialisée" in result.output
    assert list(tmp_path.glob("*b.zip*")) == []  # no partial file left behind
    result = cli(target, "backup", str(tmp_path / "nowhere" / "b.zip"))
    assert result.exit_code == 1 and "n'existe pas" in result.output


def test_backup_is_consistent_while_the_site_writes(database_url: str, tmp_path: Path) -> None:
    """Each writer transaction adds an entry, its tag and an audit event; the backup pauses after its first
    table until the writer has committed more, so a backup that read its tables at different moments would
    hold entries without tags or events (or fail to restore)."""
    with fresh_database(database_url) as url:
        app = app_on(url, tmp_path / "live")
        initialise(app)
        with app.app_context():
            owner_id = factories.user(db.session, Role.BENEFICIARY).id
            db.session.commit()
        engine = db.state(app).engine
        committed = 0
        stop = threading.Event()
        failures: list[BaseException] = []

        def write() -> None:
            nonlocal committed
            try:
                while not stop.is_set():
                    now = utcnow()
                    with engine.begin() as connection:
                        entry_id = connection.execute(sa.insert(JournalEntry).values(
                            owner_id=owner_id, title="Écrit pendant la sauvegarde", body_md="", body_html="",
                            entry_date=now.date(), status="draft", visibility="private", created_at=now,
                            updated_at=now)).inserted_primary_key[0]
                        connection.execute(sa.insert(EntryTag).values(entry_id=entry_id, tag="pendant"))
                        connection.execute(sa.insert(AuditEvent).values(
                            action="test.concurrent", target_id=str(entry_id), created_at=now))
                    committed += 1
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                failures.append(exc)

        served = []

        def pause_after_first_table(table: str, rows: int) -> None:
            if served:
                return
            wanted = committed + 3
            for _ in range(600):
                if committed >= wanted or failures:
                    break
                threading.Event().wait(0.05)
            served.append(app.test_client().get("/healthz").status_code)  # the site answers meanwhile

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        try:
            while committed < 2 and not failures:
                threading.Event().wait(0.01)
            at_start = committed
            backup = tmp_path / "live.zip"
            create_backup(app, backup, progress=pause_after_first_table)
            during = committed - at_start
        finally:
            stop.set()
            writer.join(timeout=30)
            engine.dispose()
        assert failures == []
        assert served == [200]
        assert during >= 3, "the writer should have committed while the backup ran"

    with fresh_database(database_url) as restored_url:
        restored = app_on(restored_url, tmp_path / "restored")
        assert cli(restored, "restore", str(backup)).exit_code == 0
        with db.state(restored).engine.connect() as connection:
            def count(criterion: Any) -> int:
                return connection.scalar(sa.select(sa.func.count()).where(criterion))

            entries = count(JournalEntry.title == "Écrit pendant la sauvegarde")
            tags = count(EntryTag.tag == "pendant")
            events = count(AuditEvent.action == "test.concurrent")
        db.state(restored).engine.dispose()
    assert at_start <= entries == tags == events < committed
