"""Benchmark: the certification-readiness export of a training body with N candidates.

    .venv/bin/python bench/readiness_export.py [--candidates 1000] [--database-url URL] [--pdf 20]

Builds a throw-away SQLite database (or uses an empty database at URL), loads the demo and ``demo --scale N``
(N learners with full histories), has every one of them send their evidence file to the GRETA (through
``portfolio.sharing.submissions.send``), then times ``ticketnet export readiness`` in CSV and JSON for all of
them, and the PDF of a few candidates. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portfolio import create_app  # noqa: E402
from portfolio.auth.models import Membership, Role, User  # noqa: E402
from portfolio.bootstrap import initialise  # noqa: E402
from portfolio.db import utcnow  # noqa: E402
from portfolio.extensions import db  # noqa: E402
from portfolio.orgs.models import Organisation  # noqa: E402
from portfolio.sharing import submissions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--pdf", type=int, default=20, help="how many candidates' PDFs to time")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder, "UPLOAD_DIR": f"{folder}/uploads",
                          "SECRET_KEY": "bench" * 8, "PASSWORD_HASH_PROFILE": "cheapest", "RATELIMIT_ENABLED": False})
        initialise(app)
        runner = app.test_cli_runner()
        started = time.perf_counter()
        result = runner.invoke(args=["demo", "--scale", str(args.candidates), "--password", "bench bench bench"])
        assert result.exit_code == 0, result.output
        print(f"demo --scale {args.candidates}: {time.perf_counter() - started:.1f} s")
        with app.test_request_context():
            greta = db.session.scalar(sa.select(Organisation).where(Organisation.code == "greta-quercy-rouergue"))
            learners = db.session.scalars(
                sa.select(User).join(Membership, Membership.user_id == User.id)
                .where(Membership.role == Role.BENEFICIARY.value, User.username.like("apprenant.s%"))
                .order_by(User.id).limit(args.candidates)).all()
            started = time.perf_counter()
            for learner in learners:
                submissions.send(db.session, learner, greta.id, utcnow())
            db.session.commit()
            print(f"{len(learners)} files sent (snapshots): {time.perf_counter() - started:.1f} s")
        for fmt in ("csv", "json"):
            out = Path(folder) / f"readiness.{fmt}"
            started = time.perf_counter()
            result = runner.invoke(args=["export", "readiness", "--org", "greta-quercy-rouergue", "--format", fmt,
                                         "-o", str(out)])
            elapsed = time.perf_counter() - started
            assert result.exit_code == 0, result.output
            print(f"export {fmt}: {result.output.strip()} in {elapsed:.2f} s, {out.stat().st_size / 1e6:.1f} MB")
        with app.test_request_context():
            from portfolio.sharing import readiness
            
            records = readiness.candidates(db.session, greta.id, readiness.evidence_link)[: args.pdf]
            started = time.perf_counter()
            sizes = [len(readiness.candidate_pdf(r)) for r in records]
            elapsed = time.perf_counter() - started
            print(f"pdf, one document at a time (web): {len(records)} candidates in {elapsed:.1f} s "
                  f"({elapsed / max(len(records), 1):.2f} s each, "
                  f"{sum(sizes) / max(len(sizes), 1) / 1024:.0f} KiB each)")
        out = Path(folder) / "pdf"
        started = time.perf_counter()
        result = runner.invoke(args=["export", "readiness", "--org", "greta-quercy-rouergue", "--format", "pdf",
                                     "-o", str(out)])
        assert result.exit_code == 0, result.output
        files = list(out.iterdir())
        print(f"export pdf (laid out 100 at a time): {len(files)} files in {time.perf_counter() - started:.1f} s, "
              f"{sum(f.stat().st_size for f in files) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
