"""Benchmark: the key pages under load, served by gunicorn, on a database of ``ticketnet demo --scale N``.

    make install-bench
    # once per size: an empty PostgreSQL database, then the data (100 000 learners: about 6 minutes)
    export TICKETNET_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ticketnet_bench_100k
    export TICKETNET_INSTANCE_PATH=/tmp/bench/100k
    .venv/bin/ticketnet init && .venv/bin/ticketnet demo --password bench-pass-2026
    .venv/bin/ticketnet demo --password bench-pass-2026 --scale 100000
    # then, as often as needed
    .venv/bin/python bench/load.py --password bench-pass-2026 [--users 20] [--seconds 30] [--out result.json]

What it does, in order:

1. computes the dashboard's kept figures (``ticketnet stats refresh``, as the deployment's timer does), reads
   the accounts to use from the database (2 000 learners spread over the whole set, 200 animators with
   their past workshops, the GRETA's assessor, the coordinator) and, when the GRETA has fewer than
   ``--candidates`` evidence files, has that many learners send theirs (the readiness export and the
   assessor's queue need them);
2. starts gunicorn on the loopback interface with the deployment's settings (``docs/deploy/gunicorn.conf.py``:
   gthread workers, keep-alive 5 s), ``--workers`` 2 with ``--threads`` 4 here, for two cores;
3. for each page, one after the other, runs locust (``bench/locustfile.py``) headless, twice:
   - *throughput*: ``--users`` people signed in, each asking for that page again as soon as answered: the
     machine's capacity for that page (req/s), compared with ``/healthz`` measured the same way in the same
     run (the framework's floor);
   - *latency*: the same people reading each page ``--think`` seconds on average (from half to one and a half
     times that) before asking again, as people do: p50 / p95 / p99 at ``--users`` concurrent users;
   each for ``--seconds`` seconds, counted after ``--warmup`` seconds (everyone signs in first, and password
   hashing is meant to be slow);
4. times the readiness CSV export of the GRETA's candidates (``ticketnet export readiness``) and the PDF of a
   few candidates;
5. prints a Markdown table (req/s, p50, p95, p99, failures) for docs/benchmarks.md, and writes it as JSON
   with ``--out``.

Locust runs on the same two cores as gunicorn and PostgreSQL: the figures are for this machine as a whole.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portfolio import create_app  # noqa: E402
from portfolio.auth.models import Membership, Role, User  # noqa: E402
from portfolio.db import utcnow  # noqa: E402
from portfolio.enrolment.models import Attendance, AttendanceStatus, WorkshopSession  # noqa: E402
from portfolio.extensions import db  # noqa: E402
from portfolio.orgs.models import Organisation  # noqa: E402
from portfolio.sharing import readiness, submissions  # noqa: E402
from portfolio.sharing.models import Submission  # noqa: E402

GRETA = "greta-quercy-rouergue"
# (label, locust user class, tag, locust request name)
PAGES = (
    ("healthz", "Healthz", "healthz", "/healthz"),
    ("learner: journal", "Learner", "journal", "/journal"),
    ("learner: competences", "Learner", "competences", "/moi/competences"),
    ("learner: home", "Learner", "home", "/moi"),
    ("animator: session grid", "Animator", "grid", "/epm/ateliers/[id]/positionnement"),
    ("animator: save one cell", "Animator", "grid-save", "/epm/ateliers/[id]/positionnement/niveaux"),
    ("assessor: queue", "Assessor", "assessor-queue", "/evaluation"),
    ("coordinator: dashboard", "Coordinator", "dashboard", "/coordination/tableau-de-bord"),
)


def accounts(password: str, candidates: int) -> dict[str, Any]:
    """The accounts locust signs in with; the GRETA's evidence files, sent if missing."""
    app = create_app({"RATELIMIT_ENABLED": False})
    rng = random.Random(7)
    with app.test_request_context():
        session = db.session
        learners = list(session.scalars(
            sa.select(User.username).join(Membership, Membership.user_id == User.id)
            .where(Membership.role == Role.BENEFICIARY.value, User.username.like("apprenant.s%"))
            .order_by(User.id)))
        if not learners:
            raise SystemExit("no learners of 'ticketnet demo --scale': load the data first (see the docstring)")
        animators = session.execute(
            sa.select(User.username, User.id).join(Membership, Membership.user_id == User.id)
            .where(Membership.role == Role.ANIMATOR.value, User.username.like("animateur.s%"))
            .order_by(User.id)).all()
        picked = rng.sample(animators, min(200, len(animators)))
        past = session.execute(
            sa.select(WorkshopSession.animator_id, WorkshopSession.id)
            .where(WorkshopSession.animator_id.in_([a.id for a in picked]), WorkshopSession.starts_at < utcnow(),
                   sa.exists().where(Attendance.session_id == WorkshopSession.id,
                                     Attendance.status == AttendanceStatus.PRESENT.value))).all()
        workshops: dict[int, list[int]] = {}
        for animator_id, workshop_id in past:
            workshops.setdefault(animator_id, []).append(workshop_id)
        greta = session.scalar(sa.select(Organisation).where(Organisation.code == GRETA))
        sent = session.scalar(sa.select(sa.func.count()).select_from(Submission)
                              .where(Submission.organisation_id == greta.id)) or 0
        if sent < candidates:
            started = time.perf_counter()
            have = set(session.scalars(sa.select(Submission.owner_id).where(Submission.organisation_id == greta.id)))
            senders = session.scalars(
                sa.select(User).join(Membership, Membership.user_id == User.id)
                .where(Membership.role == Role.BENEFICIARY.value, User.username.like("apprenant.s%"))
                .order_by(User.id).limit(candidates + len(have))).all()
            for learner in [u for u in senders if u.id not in have][: candidates - sent]:
                submissions.send(session, learner, greta.id, utcnow())
            session.commit()
            print(f"evidence files sent to the GRETA: {candidates - sent} in {time.perf_counter() - started:.1f} s")
        return {
            "password": password,
            "learners": rng.sample(learners, min(2000, len(learners))),
            "animators": [{"username": a.username, "workshops": workshops[a.id]} for a in picked if a.id in workshops],
            "assessor": "evaluateur.greta",
            "coordinator": "coordination",
            "population": len(learners),
        }


def readiness_timings(folder: Path, pdfs: int) -> dict[str, float]:
    """The readiness CSV of every GRETA candidate (through the command line), and a few candidates' PDFs."""
    out = folder / "readiness.csv"
    started = time.perf_counter()
    subprocess.run([str(ROOT / ".venv/bin/ticketnet"), "export", "readiness", "--org", GRETA, "--format", "csv",
                    "-o", str(out)], check=True, capture_output=True)
    csv_seconds = time.perf_counter() - started
    with out.open(encoding="utf-8-sig") as handle:
        rows = sum(1 for _ in csv.reader(handle)) - 1
    app = create_app({"RATELIMIT_ENABLED": False})
    with app.test_request_context():
        greta = db.session.scalar(sa.select(Organisation).where(Organisation.code == GRETA))
        records = readiness.candidates(db.session, greta.id, readiness.evidence_link)[:pdfs]
        started = time.perf_counter()
        for record in records:
            readiness.candidate_pdf(record)
        pdf_seconds = (time.perf_counter() - started) / max(len(records), 1)
    return {"csv_candidates": rows, "csv_seconds": round(csv_seconds, 2), "pdf_seconds_each": round(pdf_seconds, 2),
            "pdf_candidates": len(records)}


def start_gunicorn(port: int, workers: int, threads: int, log: Path) -> subprocess.Popen[bytes]:
    """gunicorn with the deployment's own settings (docs/deploy/gunicorn.conf.py), on the loopback interface."""
    env = dict(os.environ, TICKETNET_SECRET_KEY=secrets.token_hex(32), TICKETNET_RATELIMIT_ENABLED="false",
               TICKETNET_BIND=f"127.0.0.1:{port}", TICKETNET_WORKERS=str(workers), TICKETNET_THREADS=str(threads))
    server = subprocess.Popen(
        # Workers are not recycled during a run (max_requests: 2 000 in production, a restart every few seconds
        # at full load here): the run measures the pages, not gunicorn starting workers.
        [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "docs/deploy/gunicorn.conf.py"), "--max-requests", "0",
         "portfolio:create_app()"],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT)
    for _ in range(60):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"gunicorn did not start: see {log}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else float("nan")


def run_page(port: int, users: int, seconds: int, user_class: str, tag: str, name: str, folder: Path,
             accounts_file: Path, think: float, warmup: int) -> dict[str, Any]:
    """One locust run; only the requests started after the warm-up (sign-ins) count."""
    result = folder / f"{tag}-think{think:g}.json"
    subprocess.run(
        [str(ROOT / ".venv/bin/locust"), "-f", str(ROOT / "bench/locustfile.py"), "--headless", "--only-summary",
         "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{warmup + seconds}s",
         "--host", f"http://127.0.0.1:{port}", "--tags", tag, "--loglevel", "WARNING", user_class],
        env=dict(os.environ, TICKETNET_BENCH_ACCOUNTS=str(accounts_file), TICKETNET_BENCH_THINK=str(think),
                 TICKETNET_BENCH_WARMUP=str(warmup), TICKETNET_BENCH_RESULT=str(result)),
        check=False, capture_output=True)
    found = json.loads(result.read_text(encoding="utf-8"))
    samples = found["requests"].get(name)
    if not samples:
        raise SystemExit(f"locust measured nothing for {name} (see {result})")
    times = [t for t, _failed in samples]
    return {"requests": len(samples), "failures": sum(1 for _t, failed in samples if failed),
            "rps": round(len(samples) / found["seconds"], 1), "p50": percentile(times, 0.50),
            "p95": percentile(times, 0.95), "p99": percentile(times, 0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--password", required=True, help="the password given to 'ticketnet demo'")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=8, help="seconds not counted at the start (sign-ins)")
    parser.add_argument("--think", type=float, default=2.0, help="seconds between two pages (latency runs)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--candidates", type=int, default=1000, help="evidence files at the GRETA")
    parser.add_argument("--pdfs", type=int, default=10, help="candidates whose PDF is timed")
    parser.add_argument("--pages", nargs="*", help="tags of the pages to measure (default: all)")
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    args = parser.parse_args()
    if "TICKETNET_DATABASE_URL" not in os.environ:
        raise SystemExit("set TICKETNET_DATABASE_URL (and TICKETNET_INSTANCE_PATH): see the docstring")

    folder = Path(tempfile.mkdtemp(prefix="ticketnet-load-"))
    accounts_file = folder / "accounts.json"
    subprocess.run([str(ROOT / ".venv/bin/ticketnet"), "stats", "refresh"], check=True)
    found = accounts(args.password, args.candidates)
    accounts_file.write_text(json.dumps(found), encoding="utf-8")
    results: dict[str, Any] = {"learners": found["population"], "users": args.users, "seconds": args.seconds,
                               "think": args.think, "workers": args.workers, "threads": args.threads, "pages": {}}
    server = start_gunicorn(args.port, args.workers, args.threads, folder / "gunicorn.log")
    try:
        for label, user_class, tag, name in PAGES:
            if args.pages and tag not in args.pages:
                continue
            row = {}
            for mode, think in (("throughput", 0.0), ("latency", args.think)):
                row[mode] = figures = run_page(args.port, args.users, args.seconds, user_class, tag, name, folder,
                                               accounts_file, think, args.warmup)
                print(f"{label:26} {mode:10} {figures['rps']:7.1f} req/s  p50 {figures['p50']:5.0f} ms  "
                      f"p95 {figures['p95']:5.0f} ms  p99 {figures['p99']:5.0f} ms  "
                      f"({figures['requests']} requests, {figures['failures']} failed)", flush=True)
            results["pages"][label] = row
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    if not args.pages or "readiness" in args.pages:
        results["readiness"] = readiness_timings(folder, args.pdfs)
    floor = results["pages"].get("healthz", {}).get("throughput", {}).get("rps")
    print(f"\n{found['population']} learners; {args.users} users; gunicorn {args.workers} workers x {args.threads} "
          f"threads; {args.seconds} s a run\n")
    print(f"| page | req/s (no pause) | % of /healthz | p50 | p95 | p99 (users reading {args.think:g} s) | failed |\n"
          "|---|---:|---:|---:|---:|---:|---:|")
    for label, row in results["pages"].items():
        top, calm = row["throughput"], row["latency"]
        share = f"{100 * top['rps'] / floor:.0f} %" if floor else ""
        failed = top["failures"] + calm["failures"]
        print(f"| {label} | {top['rps']:.1f} | {share} | {calm['p50']:.0f} ms | {calm['p95']:.0f} ms "
              f"| {calm['p99']:.0f} ms | {failed} / {top['requests'] + calm['requests']} |")
    if "readiness" in results:
        r = results["readiness"]
        print(f"\nreadiness CSV: {r['csv_candidates']} candidates in {r['csv_seconds']} s; "
              f"PDF: {r['pdf_seconds_each']} s a candidate ({r['pdf_candidates']} timed)")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nlocust's files and gunicorn's log: {folder}")


if __name__ == "__main__":
    main()
