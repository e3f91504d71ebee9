"""Benchmark: the journal page of a learner with a long journal (keyset pagination).

    .venv/bin/python bench/journal_page.py [--entries 2000] [--requests 50]

Builds a throw-away SQLite database, writes one learner's journal, then times the first page, a page
deep in the journal (keyset), and the entry editor, and counts their SQL queries. Figures go to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portfolio import create_app  # noqa: E402
from portfolio.auth.models import Role  # noqa: E402
from portfolio.bootstrap import initialise  # noqa: E402
from portfolio.extensions import db  # noqa: E402
from portfolio.journal import services  # noqa: E402
from tests import factories  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
                          "INSTANCE_PATH": folder, "UPLOAD_DIR": f"{folder}/uploads", "SECRET_KEY": "bench",
                          "PASSWORD_HASH_PROFILE": "cheapest", "RATELIMIT_ENABLED": False})
        initialise(app)
        with app.app_context():
            learner = factories.user(db.session, Role.BENEFICIARY, username="bench.learner")
            start = dt.date(2020, 1, 1)
            for i in range(args.entries):
                factories.journal_entry(db.session, learner, entry_date=start + dt.timedelta(days=i // 3),
                                        body_md=f"Séance {i} : j'ai appris **quelque chose**.\n\n- un\n- deux")
            db.session.commit()
            middle = services.entries_page(db.session, learner.id, limit=args.entries // 2).next_cursor
        client = app.test_client()
        with app.test_request_context():
            token_page = client.get("/login").get_data(as_text=True)
        token = token_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"csrf_token": token, "username": "bench.learner", "password": factories.PASSWORD})
        queries: list[str] = []
        engine = db.state(app).engine
        sa.event.listen(engine, "before_cursor_execute", lambda *a: queries.append(a[2]))
        for label, url in (("first page", "/journal"), ("deep page (keyset)", f"/journal?apres={middle.encode()}"),
                           ("new entry editor", "/journal/nouveau")):
            times = []
            for _ in range(args.requests):
                queries.clear()
                began = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - began) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code}")
            p95 = sorted(times)[int(len(times) * 0.95) - 1]
            print(f"{label:<22} median {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms"
                  f"  {len(queries)} queries  {len(response.data) / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
