"""How long a backup and a restore take, and how large the file is, for N learners of ``demo --scale``.

    .venv/bin/python bench/backup_restore.py --scale 500
    .venv/bin/python bench/backup_restore.py --scale 500 --database-url postgresql+psycopg://postgres@127.0.0.1/x

The databases are created and dropped by the script (PostgreSQL: next to the one named, which must exist).
Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portfolio import create_app  # noqa: E402
from portfolio.backup import create_backup, restore_backup  # noqa: E402
from portfolio.bootstrap import initialise  # noqa: E402
from portfolio.extensions import db  # noqa: E402
from tests.conftest import app_overrides  # noqa: E402
from tests.databases import fresh_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=500)
    parser.add_argument("--database-url", default="sqlite:///unused.sqlite3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, fresh_database(args.database_url) as source_url:
        work = Path(folder)
        source = create_app(app_overrides(source_url, work / "source"))
        initialise(source)
        runner = source.test_cli_runner()
        runner.invoke(args=["demo", "--password", "bench-password"])
        started = time.perf_counter()
        result = runner.invoke(args=["demo", "--scale", str(args.scale)])
        assert result.exit_code == 0, result.output
        print(f"demo --scale {args.scale}: {time.perf_counter() - started:.1f} s")

        backup = work / "bench.zip"
        started = time.perf_counter()
        manifest = create_backup(source, backup)
        backup_seconds = time.perf_counter() - started
        rows = sum(table["rows"] for table in manifest["tables"])
        print(f"backup: {backup_seconds:.1f} s, {rows} rows, {backup.stat().st_size / 1_000_000:.1f} MB")
        db.state(source).engine.dispose()

        with fresh_database(args.database_url) as target_url:
            target = create_app(app_overrides(target_url, work / "target"))
            started = time.perf_counter()
            restore_backup(target, backup)
            print(f"restore: {time.perf_counter() - started:.1f} s")
            db.state(target).engine.dispose()


if __name__ == "__main__":
    main()
