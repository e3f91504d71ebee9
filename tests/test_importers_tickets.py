"""Prescribers' spreadsheets: every encoding, separator, date and header quirk; XLSX; problems by line;
duplicates; all or nothing (a bad row at line 9 999 changes nothing); the command."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from importers import tickets as ticket_importer
from importers.apply_tickets import check_tickets, import_tickets
from importers.errors import ImportRefused
from importers.tickets import parse_ticket_file
from portfolio.audit.models import AuditEvent
from portfolio.orgs.models import OrgKind
from portfolio.tickets import reference
from portfolio.tickets.models import Ticket, TicketSerial, TicketStatus
from tests import factories

FIXTURES = Path(__file__).parent / "fixtures" / "importers"
TODAY = dt.date(2026, 3, 15)
CATEGORIES = {
    "minima-sociaux": "Allocataires de minima sociaux éloignés de l'emploi",
    "femmes-isolees": "Femmes isolées avec des enfants à charge",
    "seniors": "Séniors : retraités ou futurs retraités",
    "conjoints-independants": "Conjoints d'artisans, commerçants, agriculteurs",
    "parents-eleves": "Parents d'élèves (espaces numériques de travail des collèges)",
}
HEADER = ["Nom", "Prénom", "Date de naissance", "Commune", "Public"]


def parse(data: bytes, filename: str = "liste.csv", **kwargs: Any) -> ticket_importer.TicketFile:
    return parse_ticket_file(data, filename, CATEGORIES, TODAY, **kwargs)


def csv_bytes(rows: list[list[str]], delimiter: str = ";", encoding: str = "utf-8", newline: str = "\n") -> bytes:
    return newline.join(delimiter.join(row) for row in rows).encode(encoding) + newline.encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def summary(parsed: ticket_importer.TicketFile) -> list[tuple[int, str, str, dt.date, str, str]]:
    return [(r.line, r.holder.last_name, r.holder.first_name, r.holder.birth_date, r.holder.commune,
             r.holder.public_category) for r in parsed.rows]


# --- The hand-made fixtures ---------------------------------------------------------------------------


def test_excel_french_windows_export_cp1252_semicolons_title_row_and_blank_lines() -> None:
    parsed = parse((FIXTURES / "caf-cp1252-semicolons.csv").read_bytes())
    assert (parsed.encoding, parsed.delimiter) == ("Windows-1252", ";")
    assert parsed.problems == []
    assert summary(parsed) == [
        (4, "DELMAS", "Jean", dt.date(1951, 3, 14), "Cahors", "seniors"),
        (5, "Benali", "Fatima", dt.date(1984, 7, 2), "Figeac", "femmes-isolees"),
        (7, "Carrière", "Louis", dt.date(1958, 11, 23), "Gourdon", "seniors"),
        (8, "Lafon", "Odile", dt.date(1962, 5, 9), "Souillac", "conjoints-independants"),
    ]
    assert parsed.rows[1].holder.phone == "06.12.34.56.78"
    assert parsed.rows[1].holder.email == "fatima.benali@example.fr"
    assert parsed.columns["birth_date"] == "Né(e) le" and parsed.columns["email"] == "E-mail"


def test_libreoffice_export_utf8_bom_commas_and_quoted_comma() -> None:
    parsed = parse((FIXTURES / "libreoffice-utf8-bom-commas.csv").read_bytes())
    assert (parsed.encoding, parsed.delimiter) == ("UTF-8 (BOM)", ",")
    assert parsed.problems == []
    assert [r.holder.last_name for r in parsed.rows] == ["Vayssié", "Roques"]  # the BOM is not in « Nom »
    assert parsed.rows[1].holder.commune == "Cahors, quartier de la gare"
    assert parsed.rows[1].holder.first_name == "Kévin"


def test_pasted_tabs_with_capitals_nbsp_and_trailing_tabs() -> None:
    parsed = parse((FIXTURES / "pasted-tabs-utf8.csv").read_bytes())
    assert parsed.delimiter == "\t" and parsed.problems == []
    assert summary(parsed) == [
        (2, "Pons", "Annie", dt.date(1947, 9, 17), "Gramat", "seniors"),
        (4, "Bouscarel", "Élise", dt.date(1949, 10, 2), "Luzech", "parents-eleves"),
    ]


# --- Encodings and separators -------------------------------------------------------------------------

PEOPLE = [HEADER, ["Lacombe", "Josette-Éléonore", "05/06/1940", "Saint-Céré", "seniors"],
          ["Ñúñez", "Zoé", "29/02/1952", "Bretenoux", "femmes-isolees"]]


@pytest.mark.parametrize("encoding,expected", [
    ("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 (BOM)"), ("cp1252", "Windows-1252"), ("utf-16", "UTF-16"),
])
@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_every_encoding_and_separator_reads_the_same(encoding: str, expected: str, delimiter: str,
                                                     newline: str) -> None:
    parsed = parse(csv_bytes(PEOPLE, delimiter, encoding, newline))
    assert parsed.encoding == expected and parsed.delimiter == delimiter
    assert parsed.problems == []
    assert [(r.holder.first_name, r.holder.commune, r.holder.birth_date) for r in parsed.rows] == [
        ("Josette-Éléonore", "Saint-Céré", dt.date(1940, 6, 5)), ("Zoé", "Bretenoux", dt.date(1952, 2, 29))]


def test_a_comma_inside_a_field_does_not_fool_the_separator_sniffing() -> None:
    rows = [HEADER, ["Dupont, épouse Martin", "Marie", "01/01/1950", "Cahors", "seniors"]]
    parsed = parse(csv_bytes(rows, ";"))
    assert parsed.delimiter == ";" and parsed.rows[0].holder.last_name == "Dupont, épouse Martin"


# --- Dates, spaces, blank lines, headers ------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["14/03/1951", "14-03-1951", "14.03.1951", "1951-03-14", "  14/03/1951  "])
def test_french_dates_and_their_variants(typed: str) -> None:
    parsed = parse(csv_bytes([HEADER, ["Delmas", "Jean", typed, "Cahors", "seniors"]]))
    assert parsed.rows[0].holder.birth_date == dt.date(1951, 3, 14)


@pytest.mark.parametrize("typed", ["31/02/1984", "14/03/51", "03/14/1951", "demain", "14/03/2090", "01/01/1899"])
def test_a_wrong_birth_date_is_reported_with_its_line(typed: str) -> None:
    parsed = parse(csv_bytes([HEADER, ["Delmas", "Jean", "14/03/1951", "Cahors", "seniors"],
                              ["Pons", "Annie", typed, "Gramat", "seniors"]]))
    assert [str(p) for p in parsed.problems] == [
        f"Ligne 3 : « {typed} » n'est pas une date de naissance (JJ/MM/AAAA)."]
    assert len(parsed.rows) == 1


@pytest.mark.parametrize("headers", [
    ["Nom de famille", "Prénom", "Date de naissance", "Commune", "Public"],
    ["NOM", "PRÉNOM", "DATE DE NAISSANCE", "VILLE", "CATÉGORIE"],
    ["Nom d'usage", "Prénoms", "Né(e) le", "Commune de résidence", "Public cible"],
    [" nom ", "prenom", "date naissance", "localité", "type de public"],
    ["Nom *", "Prénom *", ["Date de naissance", "JJ/MM/AAAA)"][0], "Commune", "Public visé"],
    ["Last name", "First name", "Date of birth", "City", "Public"],
])
def test_header_names_and_their_usual_variants(headers: list[str]) -> None:
    parsed = parse(csv_bytes([headers, ["Delmas", "Jean", "14/03/1951", "Cahors", "seniors"]]))
    assert parsed.problems == [] and len(parsed.rows) == 1


def test_columns_in_any_order_with_extra_columns_phone_and_email_variants() -> None:
    rows = [["N° dossier", "Courriel", "Public", "Commune", "Date de naissance", "Prénom", "Nom", "Portable"],
            ["A-12", "jean@example.fr", "seniors", "Cahors", "14/03/1951", "Jean", "Delmas", "06 12 34 56 78"]]
    parsed = parse(csv_bytes(rows))
    holder = parsed.rows[0].holder
    assert (holder.last_name, holder.email, holder.phone) == ("Delmas", "jean@example.fr", "06 12 34 56 78")
    assert parsed.ignored_columns == ["N° dossier"]


def test_stray_spaces_are_trimmed_and_inner_spaces_collapsed() -> None:
    parsed = parse(csv_bytes([HEADER, ["  Le  Goff ", " Anne\u00a0Marie ", " 01/02/1960 ", " Cahors ", " seniors "]]))
    holder = parsed.rows[0].holder
    assert (holder.last_name, holder.first_name, holder.commune) == ("Le Goff", "Anne Marie", "Cahors")


def test_line_numbers_count_blank_lines_and_quoted_line_breaks() -> None:
    text = ('Nom;Prénom;Date de naissance;Commune;Public\n'
            '\n'
            '"Delmas";"Jean";14/03/1951;"Cahors\nBas";seniors\n'
            '\n'
            'Pons;Annie;99/99/1999;Gramat;seniors\n')
    parsed = parse(text.encode())
    assert parsed.rows[0].line == 3 and parsed.rows[0].holder.commune == "Cahors Bas"
    assert [p.line for p in parsed.problems] == [6]


@pytest.mark.parametrize("row,reason", [
    (["", "Jean", "14/03/1951", "Cahors", "seniors"], "il faut au moins le nom"),
    (["Delmas", "Jean", "14/03/1951", "", "seniors"], "il faut au moins le nom"),
    (["Delmas", "Jean", "14/03/1951", "Cahors", "martiens"], "« martiens » n'est pas un public connu"),
    (["Delmas", "Jean", "14/03/1951", "Cahors", ""], "le public n'est pas indiqué"),
    (["D" * 101, "Jean", "14/03/1951", "Cahors", "seniors"], "est trop long (100 caractères au plus)"),
])
def test_each_refused_row_says_why(row: list[str], reason: str) -> None:
    parsed = parse(csv_bytes([HEADER, row]))
    assert parsed.rows == [] and parsed.problems[0].line == 2 and reason in parsed.problems[0].reason


def test_phone_and_email_are_checked_like_the_issuing_form() -> None:
    rows = [HEADER + ["Téléphone", "Courriel"],
            ["Delmas", "Jean", "14/03/1951", "Cahors", "seniors", "appeler le soir", ""],
            ["Pons", "Annie", "17/09/1947", "Gramat", "seniors", "", "annie@"]]
    parsed = parse(csv_bytes(rows))
    assert [(p.line, p.reason) for p in parsed.problems] == [
        (2, "« appeler le soir » n'est pas un numéro de téléphone."),
        (3, "« annie@ » n'est pas une adresse électronique.")]


@pytest.mark.parametrize("typed,code", [
    ("seniors", "seniors"), ("SENIORS", "seniors"), ("Séniors", "seniors"),
    ("Séniors : retraités ou futurs retraités", "seniors"), ("femmes isolées", "femmes-isolees"),
    ("minima", "minima-sociaux"), ("Allocataires de minima sociaux", "minima-sociaux"),
])
def test_public_by_code_label_or_the_labels_beginning(typed: str, code: str) -> None:
    parsed = parse(csv_bytes([HEADER, ["Delmas", "Jean", "14/03/1951", "Cahors", typed]]))
    assert parsed.rows[0].holder.public_category == code


def test_an_ambiguous_beginning_of_label_is_refused() -> None:
    parsed = parse(csv_bytes([HEADER, ["Delmas", "Jean", "14/03/1951", "Cahors", "parents"]],),
                   filename="x.csv")
    assert parsed.rows[0].holder.public_category == "parents-eleves"  # one label starts so
    ambiguous = parse_ticket_file(csv_bytes([HEADER, ["Delmas", "Jean", "14/03/1951", "Cahors", "Conj"]]), "x.csv",
                                  {**CATEGORIES, "conjoints-2": "Conjoints d'agriculteurs"}, TODAY)
    assert ambiguous.rows == [] and "n'est pas un public connu" in ambiguous.problems[0].reason


def test_without_a_public_column_the_default_category_applies() -> None:
    rows = [HEADER[:4], ["Delmas", "Jean", "14/03/1951", "Cahors"]]
    with pytest.raises(ImportRefused, match="Il manque des colonnes : Public"):
        parse(csv_bytes(rows))
    assert parse(csv_bytes(rows), default_category="seniors").rows[0].holder.public_category == "seniors"
    # a row naming its public keeps it; a row without one gets the default
    rows = [HEADER, ["Delmas", "Jean", "14/03/1951", "Cahors", ""], ["Pons", "Annie", "17/09/1947", "Gramat",
                                                                     "minima-sociaux"]]
    parsed = parse(csv_bytes(rows), default_category="seniors")
    assert [r.holder.public_category for r in parsed.rows] == ["seniors", "minima-sociaux"]


def test_missing_columns_are_named() -> None:
    with pytest.raises(ImportRefused) as refused:
        parse(csv_bytes([["Nom", "Prénom", "Public"], ["Delmas", "Jean", "seniors"]]))
    assert "Il manque des colonnes : Date de naissance, Commune." in str(refused.value)


@pytest.mark.parametrize("data,reason", [
    (b"", "Le fichier est vide"),
    (b"bonjour;au revoir\n1;2\n", "Je ne trouve pas la ligne des titres"),
    (b"Nom;Pr\xc3\xa9nom;Date de naissance;Commune;Public\n", "ne contient personne"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel ancien (.xls)"),
    (b"PK\x03\x04garbage", "archive ZIP est abîmée"),
])
def test_files_that_cannot_be_read_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImportRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse(data)


def test_a_quote_left_open_names_its_line() -> None:
    text = ('Nom;Prénom;Date de naissance;Commune;Public\nDelmas;Jean;14/03/1951;Cahors;seniors\n'
            'Pons;"Annie;17/09/1947;Gramat;seniors\nLafon;Odile;09/05/1962;Souillac;seniors\n')
    with pytest.raises(ImportRefused) as refused:
        parse(text.encode())
    assert refused.value.line == 3 and str(refused.value).startswith("Ligne 3 : cette ligne est illisible")


def test_size_and_row_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ticket_importer, "MAX_ROWS", 3)
    rows = [HEADER] + [[f"Nom{i}", "Jean", "14/03/1951", "Cahors", "seniors"] for i in range(4)]
    with pytest.raises(ImportRefused, match="plus de 3 lignes"):
        parse(csv_bytes(rows))
    monkeypatch.setattr(ticket_importer, "MAX_BYTES", 100)
    with pytest.raises(ImportRefused, match="trop lourd"):
        parse(b"x" * 101)


# --- Duplicates within the file -------------------------------------------------------------------------


def test_the_same_person_twice_in_the_file_is_caught_whatever_the_accents_case_and_hyphens() -> None:
    rows = [HEADER, ["Saint-Éloi", "Jean-Pierre", "14/03/1951", "Cahors", "seniors"],
            ["Delmas", "Jean", "14/03/1951", "Cahors", "seniors"],
            ["SAINT ELOI", "jean pierre", "1951-03-14", "Figeac", "seniors"],
            ["Saint-Éloi", "Jean-Pierre", "15/03/1951", "Cahors", "seniors"]]  # born another day: someone else
    parsed = parse(csv_bytes(rows))
    assert [r.line for r in parsed.rows] == [2, 3, 5]
    assert [(p.line, p.reason) for p in parsed.problems] == [
        (4, "même personne que la ligne 2 (nom, prénom et date de naissance) : un seul ticket par personne.")]


# --- XLSX ---------------------------------------------------------------------------------------------


def test_xlsx_real_dates_text_dates_date_serials_and_phone_numbers_that_lost_their_zero() -> None:
    data = xlsx_bytes([
        ["Bénéficiaires CAF — avril 2026"],
        [],
        ["Nom", "Prénom", "Date de naissance", "Commune", "Téléphone", "Public"],
        ["Delmas", "Jean", dt.datetime(1951, 3, 14), "Cahors", 565221100, "seniors"],
        ["Benali", "Fatima", "02/07/1984", "Figeac", "06 12 34 56 78", "Femmes isolées"],
        [None, None, None, None, None, None],
        ["Carrière", "Louis", 21512, "Gourdon", None, "seniors"],  # 23/11/1958 as a number without its format
        ["Pons", "Annie", "17/09/47", "Gramat", None, "seniors"],
    ])
    parsed = parse(data, filename="liste.xlsx")
    assert parsed.kind == "xlsx"
    assert summary(parsed) == [
        (4, "Delmas", "Jean", dt.date(1951, 3, 14), "Cahors", "seniors"),
        (5, "Benali", "Fatima", dt.date(1984, 7, 2), "Figeac", "femmes-isolees"),
        (7, "Carrière", "Louis", dt.date(1958, 11, 23), "Gourdon", "seniors"),
    ]
    assert parsed.rows[0].holder.phone == "0565221100"
    assert [(p.line, p.reason) for p in parsed.problems] == [
        (8, "« 17/09/47 » n'est pas une date de naissance (JJ/MM/AAAA).")]


def test_an_opendocument_spreadsheet_is_refused_with_what_to_do() -> None:
    out = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(ImportRefused, match=r"OpenDocument \(.ods\) : enregistrez-le au format .xlsx ou .csv"):
        parse(out.getvalue(), filename="liste.ods")


def test_a_damaged_workbook_is_refused() -> None:
    import zipfile

    good = xlsx_bytes([HEADER, ["Delmas", "Jean", "14/03/1951", "Cahors", "seniors"]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(out, "w") as damaged:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            damaged.writestr(info, content)
    with pytest.raises(ImportRefused, match="classeur Excel est abîmé"):
        parse(out.getvalue(), filename="liste.xlsx")


# --- Against the database: active tickets, all or nothing, only the valid rows ----------------------------


def _people(count: int, bad_line: int | None = None) -> bytes:
    lines = ["Nom;Prénom;Date de naissance;Commune;Public"]
    for n in range(2, count + 2):
        born = "31/02/1980" if n == bad_line else f"{1 + n % 28:02d}/{1 + n % 12:02d}/{1940 + n % 50}"
        lines.append(f"Nom{n};Prénom{n};{born};Cahors;seniors")
    return ("\n".join(lines) + "\n").encode()


def _counts(session: Session) -> tuple[int, int]:
    tickets = session.scalar(sa.select(sa.func.count(Ticket.id))) or 0
    serial = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(TicketSerial.last_serial), 0))) or 0
    return tickets, serial


def test_a_bad_row_at_line_9999_leaves_the_database_unchanged(db_session: Session) -> None:
    prescriber = factories.organisation(db_session, OrgKind.PRESCRIBER)
    before = _counts(db_session)
    parsed = parse(_people(9_998, bad_line=9_999))
    assert parsed.data_rows == 9_998 and [p.line for p in parsed.problems] == [9_999]
    check = check_tickets(db_session, parsed, TODAY)
    with pytest.raises(ImportRefused, match="Le fichier a 1 problème : aucun ticket n'a été émis."):
        import_tickets(db_session, factories.scheme(db_session), prescriber, check, TODAY)
    db_session.flush()
    assert _counts(db_session) == before


def test_a_valid_file_issues_every_ticket_with_consecutive_references_and_one_audit_event(
        db_session: Session) -> None:
    prescriber = factories.organisation(db_session, OrgKind.PRESCRIBER)
    user = factories.user(db_session)
    check = check_tickets(db_session, parse(_people(300)), TODAY)
    assert check.valid
    references = import_tickets(db_session, factories.scheme(db_session), prescriber, check, TODAY, user)
    serials = [reference.parse(r).serial for r in references]
    assert serials == list(range(serials[0], serials[0] + 300))
    stored = db_session.scalars(sa.select(Ticket).where(Ticket.prescriber_id == prescriber.id)
                                .order_by(Ticket.reference)).all()
    assert [t.reference for t in stored] == references
    first = stored[0]
    assert (first.last_name, first.status, first.issued_by_id, first.expires_on) == (
        "Nom2", TicketStatus.ISSUED.value, user.id, dt.date(2027, 3, 14))
    event = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "ticket.import")).one()
    assert event.details == {"file": "liste.csv", "issued": 300, "left_out": 0}
    # the one-by-one path carries on after the bulk one
    from portfolio.tickets.services import Holder, issue_tickets

    [after] = issue_tickets(db_session, factories.scheme(db_session), prescriber,
                            [Holder("Delmas", "Jean", dt.date(1951, 3, 14), "Cahors", "seniors")], TODAY)
    assert reference.parse(after.reference).serial == serials[-1] + 1


def test_only_the_valid_rows_when_asked_explicitly(db_session: Session) -> None:
    prescriber = factories.organisation(db_session, OrgKind.PRESCRIBER)
    check = check_tickets(db_session, parse(_people(5, bad_line=4)), TODAY)
    assert [p.line for p in check.problems] == [4] and len(check.importable) == 4
    references = import_tickets(db_session, factories.scheme(db_session), prescriber, check, TODAY, valid_only=True)
    names = db_session.scalars(sa.select(Ticket.last_name).where(Ticket.reference.in_(references))
                               .order_by(Ticket.reference)).all()
    assert names == ["Nom2", "Nom3", "Nom5", "Nom6"]


def test_a_person_who_already_holds_an_active_ticket_is_caught(db_session: Session) -> None:
    prescriber = factories.organisation(db_session, OrgKind.PRESCRIBER)
    factories.ticket(db_session, last_name="Saint-Éloi", first_name="Jean-Pierre", birth_date=dt.date(1951, 3, 14),
                     issued_on=TODAY - dt.timedelta(days=30))
    factories.ticket(db_session, last_name="Pons", first_name="Annie", birth_date=dt.date(1947, 9, 17),
                     issued_on=TODAY - dt.timedelta(days=30), status=TicketStatus.CANCELLED.value)
    factories.ticket(db_session, last_name="Lafon", first_name="Odile", birth_date=dt.date(1962, 5, 9),
                     issued_on=TODAY - dt.timedelta(days=400))  # expired: may get a new one
    rows = [HEADER, ["SAINT ELOI", "Jean Pierre", "14/03/1951", "Cahors", "seniors"],
            ["Pons", "Annie", "17/09/1947", "Gramat", "seniors"], ["Lafon", "Odile", "09/05/1962", "Souillac",
                                                                     "seniors"]]
    check = check_tickets(db_session, parse(csv_bytes(rows)), TODAY)
    assert [(p.line, p.reason) for p in check.problems] == [
        (2, "cette personne a déjà un Ticket Net en cours de validité.")]
    assert [r.holder.last_name for r in check.importable] == ["Pons", "Lafon"]
    with pytest.raises(ImportRefused):
        import_tickets(db_session, factories.scheme(db_session), prescriber, check, TODAY)


def test_nothing_valid_is_refused_even_with_valid_only(db_session: Session) -> None:
    prescriber = factories.organisation(db_session, OrgKind.PRESCRIBER)
    check = check_tickets(db_session, parse(csv_bytes([HEADER, ["Delmas", "Jean", "31/02/1951", "Cahors",
                                                                 "seniors"]])), TODAY)
    with pytest.raises(ImportRefused, match="Aucune ligne valide"):
        import_tickets(db_session, factories.scheme(db_session), prescriber, check, TODAY, valid_only=True)


# --- The command ---------------------------------------------------------------------------------------


@pytest.fixture
def prescriber_code(db_session: Session) -> str:
    code = factories.organisation(db_session, OrgKind.PRESCRIBER).code
    db_session.commit()
    return code


def _tickets_of(db_session: Session, code: str) -> int:
    from portfolio.orgs.models import Organisation

    db_session.expire_all()
    return db_session.scalar(sa.select(sa.func.count(Ticket.id)).join(
        Organisation, Organisation.id == Ticket.prescriber_id).where(Organisation.code == code)) or 0


def test_command_dry_run_lists_every_problem_with_file_and_line(runner: Any, tmp_path: Path, db_session: Session,
                                                                prescriber_code: str) -> None:
    path = tmp_path / "liste.csv"
    path.write_bytes(_people(6, bad_line=3) + b"Pons;Annie;17/09/1947;Gramat;martiens\n")
    result = runner.invoke(args=["import", "tickets", str(path), "--prescriber", prescriber_code, "--dry-run"])
    assert result.exit_code == 1
    assert f"{path}, ligne 3 : « 31/02/1980 » n'est pas une date de naissance (JJ/MM/AAAA)." in result.output
    assert f"{path}, ligne 8 : « martiens » n'est pas un public connu" in result.output
    assert "7 lignes lues (csv, UTF-8), 5 valides, 2 avec un problème." in result.output
    assert _tickets_of(db_session, prescriber_code) == 0


def test_command_refuses_a_file_with_problems_and_issues_a_clean_one(runner: Any, tmp_path: Path,
                                                                     db_session: Session, prescriber_code: str) -> None:
    path = tmp_path / "liste.csv"
    path.write_bytes(_people(4, bad_line=5))
    refused = runner.invoke(args=["import", "tickets", str(path), "--prescriber", prescriber_code])
    assert refused.exit_code == 1 and "aucun ticket n'a été émis" in refused.output
    assert _tickets_of(db_session, prescriber_code) == 0
    valid_only = runner.invoke(args=["import", "tickets", str(path), "--prescriber", prescriber_code,
                                     "--valid-only"])
    assert valid_only.exit_code == 0, valid_only.output
    assert "3 tickets émis" in valid_only.output and _tickets_of(db_session, prescriber_code) == 3
    again = runner.invoke(args=["import", "tickets", str(path), "--prescriber", prescriber_code, "--valid-only"])
    assert "cette personne a déjà un Ticket Net" in again.output  # the same people cannot get a second one
    assert _tickets_of(db_session, prescriber_code) == 3


def test_command_usage_and_unreadable_files(runner: Any, tmp_path: Path, prescriber_code: str) -> None:
    path = tmp_path / "vieux.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    unreadable = runner.invoke(args=["import", "tickets", str(path), "--prescriber", prescriber_code])
    assert unreadable.exit_code == 1 and f"Erreur : {path} : C'est un fichier Excel ancien" in unreadable.output
    assert runner.invoke(args=["import", "tickets", str(path), "--prescriber", "nope"]).exit_code == 2
    assert runner.invoke(args=["import", "tickets", str(path), "--prescriber", prescriber_code,
                               "--public", "martiens"]).exit_code == 2
    assert runner.invoke(args=["import", "tickets", str(tmp_path / "absent.csv"), "--prescriber",
                               prescriber_code]).exit_code == 2
