"""Benchmark: a prescriber's spreadsheet of 100 000 people, validated and imported.

    .venv/bin/python bench/import_tickets.py [--rows 100000] [--database-url URL] [--xlsx]

Builds a fresh database (a temporary SQLite file unless --database-url names an empty PostgreSQL
database, which it resets), runs ``ticketnet init``, writes a realistic CSV (Windows-1252, semicolons,
French dates, accents) and times each step as ``ticketnet import tickets`` runs them: parse the file,
check it against the database (people already holding a ticket), issue the tickets (serials reserved in
one step, rows inserted by chunks), commit. The figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

FIRST = ["Jean", "Marie", "Élise", "Rémi", "Fatima", "Louis", "Odile", "Kévin", "Annie", "Gérard", "Josette", "Zoé"]
LAST = ["Delmas", "Benali", "Carrière", "Lafon", "Roques", "Pons", "Vayssié", "Bouscarel", "Lacombe", "Costes"]
COMMUNES = ["Cahors", "Figeac", "Gourdon", "Souillac", "Gramat", "Saint-Céré", "Luzech", "Martel", "Lalbenque"]
PUBLICS = ["seniors", "minima-sociaux", "Femmes isolées", "parents-eleves", "salaries-peu-qualifies"]


def people_csv(rows: int, seed: int = 46) -> bytes:
    rng = random.Random(seed)
    lines = ["Nom;Prénom;Date de naissance;Commune;Téléphone;Courriel;Public"]
    for n in range(rows):
        born = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1935, 2000)}"
        phone = f"05 65 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}" if n % 3 else ""
        lines.append(f"{rng.choice(LAST)}-{n};{rng.choice(FIRST)};{born};{rng.choice(COMMUNES)};{phone};;"
                     f"{rng.choice(PUBLICS)}")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def as_xlsx(data: bytes) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for line in data.decode("cp1252").splitlines():
        sheet.append(line.split(";"))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="an empty database to use (it is reset); default: temporary SQLite")
    parser.add_argument("--xlsx", action="store_true", help="send the same people as an XLSX workbook")
    args = parser.parse_args()

    from importers.apply_tickets import check_tickets, import_tickets
    from importers.tickets import parse_ticket_file
    from portfolio import create_app
    from portfolio.bootstrap import initialise
    from portfolio.catalogue.scheme import current_scheme
    from portfolio.extensions import db
    from portfolio.orgs.models import Organisation, OrgKind
    from portfolio.tickets.models import Ticket
    from portfolio.timeutil import local_today
    from tests.databases import reset_database

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        reset_database(url)
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder, "SECRET_KEY": "bench"})
        initialise(app)
        data = people_csv(args.rows)
        if args.xlsx:
            data = as_xlsx(data)
        kind = "XLSX" if args.xlsx else "CSV"
        print(f"{args.rows} rows, {kind} of {len(data) / 1e6:.1f} MB, on {url.split(':')[0]}")
        with app.app_context():
            session = db.session
            prescriber = Organisation(kind=OrgKind.PRESCRIBER.value, code="bench", name="Bench")
            session.add(prescriber)
            session.commit()
            scheme, today = current_scheme(session), local_today()
            timings: list[tuple[str, float]] = []
            started = time.perf_counter()
            parsed = parse_ticket_file(data, "bench.csv", scheme.public_categories, today)
            timings.append(("parse and validate", time.perf_counter() - started))
            step = time.perf_counter()
            check = check_tickets(session, parsed, today)
            timings.append(("check against the database", time.perf_counter() - step))
            step = time.perf_counter()
            references = import_tickets(session, scheme, prescriber, check, today)
            timings.append(("issue (bulk insert)", time.perf_counter() - step))
            step = time.perf_counter()
            session.commit()
            timings.append(("commit", time.perf_counter() - step))
            total = time.perf_counter() - started
            stored = session.scalar(sa.select(sa.func.count(Ticket.id)))
        db.state(app).engine.dispose()
        if args.database_url:
            reset_database(url)
    assert len(references) == args.rows == stored and not check.problems, "not every row was imported"
    for label, seconds in timings:
        print(f"  {label:<28} {seconds:6.2f} s")
    print(f"  {'total':<28} {total:6.2f} s  ({args.rows / total:,.0f} rows/s)")


if __name__ == "__main__":
    main()
