"""Benchmark: how long the coordination pages take on a large SQLite database.

Builds a throw-away SQLite instance (``ticketnet init``, the demo, then ``demo --scale N``), signs in as
the demo coordinator and times each page through the WSGI application (no network), several runs after
one warm-up, and prints the median, the fastest and the slowest run (wall clock), the median CPU time of
the process (SQLite runs inside it: on a machine shared with other work, this is what the request costs
on an idle core), and the number of SQL queries.

    .venv/bin/python bench/dashboard.py                 # 20 000 learners, 7 runs, the dashboard
    .venv/bin/python bench/dashboard.py --scale 2000 --runs 5 --all-pages
    .venv/bin/python bench/dashboard.py --keep /tmp/scale   # keep the database to run again with --reuse

Figures are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portfolio import create_app  # noqa: E402
from portfolio.extensions import db  # noqa: E402

PAGES = {
    "dashboard": "/coordination/tableau-de-bord",
    "competences": "/coordination/tableau-de-bord/competences",
    "payments": "/coordination/paiements",
    "anomalies": "/coordination/anomalies",
    "prescriber": "/prescripteur/bilan",
}


def build(instance: Path, scale: int, seed: int) -> None:
    from portfolio.auth.passwords import hash_password
    from portfolio.bootstrap import initialise
    from portfolio.demo import create_demo
    from portfolio.demo.scale import add_scale
    from portfolio.timeutil import local_today

    app = make_app(instance)
    initialise(app)
    started = time.monotonic()
    with app.app_context():
        create_demo(db.session, app.config["SECRET_KEY"], "bench-password")
        db.session.commit()
        report = add_scale(db.session, scale, seed, local_today(), hash_password("bench-password"))
        db.session.commit()
    print(f"built {report.learners} learners in {report.epms} EPMs ({sum(report.rows.values())} rows) "
          f"in {time.monotonic() - started:.0f} s", file=sys.stderr)
    db.state(app).engine.dispose()


def make_app(instance: Path):  # type: ignore[no-untyped-def]
    return create_app({
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite3'}",
        "SECRET_KEY": "benchmark-secret-key-not-for-production",
        "PASSWORD_HASH_PROFILE": "cheapest",
        "RATELIMIT_ENABLED": False,
    })


def time_pages(instance: Path, pages: list[str], runs: int) -> None:
    from portfolio.auth.models import User

    app = make_app(instance)
    engine = db.state(app).engine
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with app.app_context():
        users = {name: db.session.scalar(sa.select(User).where(User.username == name))
                 for name in ("coordination", "prescripteur.cg46")}
    print(f"{'page':<12} {'median':>8} {'min':>8} {'max':>8} {'cpu med':>8} {'queries':>8} {'bytes':>8}")
    for name in pages:
        client = app.test_client()
        user = users["prescripteur.cg46" if name == "prescriber" else "coordination"]
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = user.get_id(), True
        assert client.get(PAGES[name]).status_code == 200  # warm-up: caches, templates, SQLite pages
        timings, cpu = [], []
        for _ in range(runs):
            statements.clear()
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(PAGES[name])
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200
        print(f"{name:<12} {statistics.median(timings):>6.0f}ms {min(timings):>6.0f}ms {max(timings):>6.0f}ms "
              f"{statistics.median(cpu):>6.0f}ms {len(statements):>8} {len(response.data):>8}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=20_000, help="learners added by demo --scale (20000)")
    parser.add_argument("--seed", type=int, default=46)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--all-pages", action="store_true", help="time every coordination page, not only the dashboard")
    parser.add_argument("--keep", type=Path, help="build into this folder and keep it")
    parser.add_argument("--reuse", type=Path, help="time an instance folder built before with --keep")
    args = parser.parse_args()
    pages = list(PAGES) if args.all_pages else ["dashboard"]
    if args.reuse:
        time_pages(args.reuse, pages, args.runs)
        return
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        build(args.keep, args.scale, args.seed)
        time_pages(args.keep, pages, args.runs)
        return
    with tempfile.TemporaryDirectory(prefix="ticketnet-bench-") as folder:
        build(Path(folder), args.scale, args.seed)
        time_pages(Path(folder), pages, args.runs)


if __name__ == "__main__":
    main()
