"""Prescribers' spreadsheets of people to give a ticket to: CSV or XLSX, to holders by line.

``parse_ticket_file(data, filename, categories, today)`` is pure: it reads the bytes, finds the columns
by their French names (and the usual variants), checks every row with the ticket's own rules
(``portfolio.tickets.services.make_holder``) and reports every problem with its line. Whether a person
already holds an active ticket is a question for the database: ``importers.apply_tickets``.

CSV: UTF-8 with or without BOM, UTF-16 with BOM, or Windows-1252; separated by ``;``, ``,`` or tab
(the separator under which the header row is best recognised wins); quoted fields, blank lines, stray
spaces and non-breaking spaces are fine. XLSX: the first sheet; real dates, dates typed as text, and
phone numbers that lost their leading zero are fine. The header row may be below a title row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from importers.errors import ImportRefused, Problem
from importers.safety import MB, OLE_MAGIC, ZIP_MAGIC, ZipLimits, check_size, decode_text, open_zip, read_member
from portfolio.tickets.services import Holder, IdentityKey, TicketRefused, identity_key, make_holder

MAX_BYTES = 20 * MB
MAX_ROWS = 100_000
HEADER_SEARCH_ROWS = 10
XLSX_LIMITS = ZipLimits(max_members=500, max_total_bytes=400 * MB, max_ratio=100, max_member_bytes=350 * MB)
DELIMITERS = (";", "\t", ",")

LAST, FIRST, BIRTH, COMMUNE, PUBLIC, PHONE, EMAIL = (
    "last_name", "first_name", "birth_date", "commune", "public_category", "phone", "email")
REQUIRED = (LAST, FIRST, BIRTH, COMMUNE, PUBLIC)
FIELD_LABELS = {
    LAST: _l("Nom"), FIRST: _l("Prénom"), BIRTH: _l("Date de naissance"), COMMUNE: _l("Commune"),
    PUBLIC: _l("Public"), PHONE: _l("Téléphone"), EMAIL: _l("Courriel"),
}
# Header names as people write them, folded (lower case, no accents, punctuation as spaces).
HEADER_NAMES = {
    LAST: ("nom", "noms", "nom de famille", "nom de naissance", "nom d usage", "nom usuel", "nom patronymique",
           "nom du beneficiaire", "nom beneficiaire", "nom de la personne", "last name", "lastname", "surname"),
    FIRST: ("prenom", "prenoms", "prenom du beneficiaire", "prenom beneficiaire", "prenom de la personne",
            "first name", "firstname"),
    BIRTH: ("date de naissance", "date naissance", "date de naiss", "naissance", "ne le", "ne e le", "nee le",
            "ddn", "birth date", "date of birth", "birthdate", "dob"),
    COMMUNE: ("commune", "commune de residence", "ville", "ville de residence", "localite", "lieu de residence",
              "residence", "city", "town"),
    PUBLIC: ("public", "publics", "categorie", "categorie de public", "categorie du public", "public cible",
             "type de public", "public vise", "categorie publique"),
    PHONE: ("telephone", "tel", "n de telephone", "no de telephone", "numero de telephone", "num telephone",
            "telephone portable", "portable", "mobile", "phone"),
    EMAIL: ("courriel", "e mail", "email", "mail", "mel", "adresse electronique", "adresse mail",
            "adresse e mail", "adresse email", "adresse courriel"),
}
_HEADER_LOOKUP = {name: key for key, names in HEADER_NAMES.items() for name in names}
_SPACES = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
EXCEL_EPOCH = dt.date(1899, 12, 30)


def fold_header(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", plain).strip()


def _fold_word(text: str) -> str:
    return fold_header(text).replace(" ", "")


@dataclass(frozen=True)
class TicketLine:
    line: int
    holder: Holder


@dataclass
class TicketFile:
    """What a spreadsheet holds: the valid rows, the problems by line, and how it was read."""

    filename: str
    kind: str  # "csv" or "xlsx"
    rows: list[TicketLine] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field -> header as written in the file
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""
    data_rows: int = 0  # non-blank rows after the header

    @property
    def holders(self) -> list[Holder]:
        return [row.holder for row in self.rows]


class CategoryMatcher:
    """The public category by its code or its label (or the label's beginning), from the scheme data."""

    def __init__(self, categories: dict[str, str]) -> None:
        self.codes = categories
        self.exact = {_fold_word(code): code for code in categories}
        self.exact.update({_fold_word(label): code for code, label in categories.items()})
        self.labels = [(_fold_word(text), code) for code, label in categories.items() for text in (code, label)]
        self.seen: dict[str, str | None] = {}

    def __call__(self, text: str) -> str | None:
        if text not in self.seen:
            self.seen[text] = self._match(text)
        return self.seen[text]

    def _match(self, text: str) -> str | None:
        folded = _fold_word(text)
        if not folded:
            return None
        if folded in self.exact:
            return self.exact[folded]
        if len(folded) >= 4:
            starts = {code for label, code in self.labels if label.startswith(folded)}
            if len(starts) == 1:
                return starts.pop()
        return None


def parse_ticket_file(
    data: bytes, filename: str, categories: dict[str, str], today: dt.date, default_category: str | None = None,
) -> TicketFile:
    """Read a prescriber's CSV or XLSX file; raises ``ImportRefused`` only when it cannot be read at all."""
    check_size(data, MAX_BYTES)
    if data.startswith(ZIP_MAGIC):
        result = TicketFile(filename, "xlsx")
        rows = _xlsx_rows(data)
    elif data.startswith(OLE_MAGIC):
        raise ImportRefused(_l("C'est un fichier Excel ancien (.xls) : enregistrez-le au format .xlsx ou .csv, "
                               "puis envoyez-le à nouveau."))
    else:
        result = TicketFile(filename, "csv")
        rows = _csv_rows(data, result)
    _read_rows(rows, result, CategoryMatcher(categories), today, default_category)
    return result


# --- Reading the cells ----------------------------------------------------------------------------------


def _csv_rows(data: bytes, result: TicketFile) -> Iterator[tuple[int, Sequence[Any]]]:
    text = decode_text(data)
    result.encoding = _encoding_name(data, text)
    result.delimiter = _sniff_delimiter(text)
    return _csv_lines(text, result.delimiter)


def _encoding_name(data: bytes, text: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "UTF-8 (BOM)"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    return "UTF-8" if text.encode("utf-8", "surrogatepass") == data else "Windows-1252"


def _csv_lines(text: str, delimiter: str) -> Iterator[tuple[int, Sequence[Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=True)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportRefused(_l("cette ligne est illisible : un guillemet (\") est mal placé ou n'est pas fermé."),
                                line=line) from exc
        yield line, cells
        line = reader.line_num + 1


def _sniff_delimiter(text: str) -> str:
    """The separator under which the header row is best recognised (then: the most columns)."""
    head = [line for line in text.splitlines()[:200] if line.strip()][:HEADER_SEARCH_ROWS]
    best, best_score = ";", (-1, -1)
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(head, delimiter=delimiter))
        except csv.Error:
            continue
        score = max(((len(_recognise(row)[0]), len(row)) for row in rows), default=(0, 0))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    archive = open_zip(data, XLSX_LIMITS)
    names = set(archive.namelist())
    if "mimetype" in names and b"opendocument" in read_member(archive, "mimetype"):
        raise ImportRefused(_l("C'est un fichier OpenDocument (.ods) : enregistrez-le au format .xlsx ou .csv, "
                               "puis envoyez-le à nouveau."))
    if "xl/workbook.xml" not in names:
        raise ImportRefused(_l("Ce fichier n'est ni un classeur Excel (.xlsx) ni un fichier CSV."))
    return _xlsx_cells(data)


def _xlsx_cells(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    import openpyxl  # only when a workbook comes

    # openpyxl raises many kinds of errors on a damaged workbook (KeyError, ValueError, zipfile's,
    # its own, XML errors through defusedxml...): each becomes the same French refusal.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no default style", unsupported extensions: harmless here
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                if not workbook.worksheets:
                    raise ImportRefused(_l("Le classeur ne contient aucune feuille."))
                sheet = workbook.worksheets[0]
                yield from enumerate(sheet.iter_rows(values_only=True), start=1)
            finally:
                workbook.close()
    except ImportRefused:
        raise
    except Exception as exc:
        raise ImportRefused(_l("Ce classeur Excel est abîmé ou illisible : enregistrez-le à nouveau, ou en CSV.")) \
            from exc


# --- From cells to holders ----------------------------------------------------------------------------


def _recognise(cells: Sequence[Any]) -> tuple[dict[str, int], list[str]]:
    """Which columns hold which field; the headers we do not use."""
    found: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        text = _cell_text(cell)
        key = _HEADER_LOOKUP.get(fold_header(text))
        if key is not None and key not in found:
            found[key] = index
        elif text:
            ignored.append(text)
    return found, ignored


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is str:
        text = value.strip()
        if "  " in text or "\xa0" in text or "\u202f" in text or "\n" in text or "\t" in text or "\r" in text:
            return _SPACES.sub(" ", text.replace("\xa0", " ").replace("\u202f", " ")).strip()
        return text
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return _SPACES.sub(" ", str(value).replace("\xa0", " ").replace("\u202f", " ")).strip()


def _blank(cells: Sequence[Any]) -> bool:
    return not any(c is not None and (c.strip() if type(c) is str else _cell_text(c)) for c in cells)


def _birth_value(value: Any) -> str | dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 100_000:
        return EXCEL_EPOCH + dt.timedelta(days=int(value))  # a date cell without its date format
    return _cell_text(value)


def _phone_value(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        digits = _cell_text(value)
        return "0" + digits if len(digits) == 9 else digits  # 0565... read as a number loses its zero
    return _cell_text(value)


def _cell_getter(columns: dict[str, int], cells: Sequence[Any]) -> Callable[[str], Any]:
    def cell(key: str) -> Any:
        index = columns.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    return cell


def _read_rows(
    rows: Iterable[tuple[int, Sequence[Any]]], result: TicketFile, match_category: CategoryMatcher, today: dt.date,
    default_category: str | None,
) -> None:
    iterator = iter(rows)
    columns = _find_header(iterator, result)
    missing = [key for key in REQUIRED if key not in columns and not (key == PUBLIC and default_category)]
    if missing:
        raise ImportRefused(_missing_columns(missing))
    seen: dict[IdentityKey, int] = {}
    for line, cells in iterator:
        if _blank(cells):
            continue
        result.data_rows += 1
        if result.data_rows > MAX_ROWS:
            most = f"{MAX_ROWS:,}".replace(",", " ")
            raise ImportRefused(_l("Le fichier a plus de %(max)s lignes : coupez-le en plusieurs fichiers.", max=most))
        cell = _cell_getter(columns, cells)
        public_text = _cell_text(cell(PUBLIC))
        category = match_category(public_text) if public_text else default_category
        if category is None:
            reason = (_l("« %(text)s » n'est pas un public connu (par exemple : %(examples)s).", text=public_text[:60],
                         examples=", ".join(list(match_category.codes)[:3]))
                      if public_text else _l("le public n'est pas indiqué."))
            result.problems.append(Problem(line, str(reason)))
            continue
        try:
            holder = make_holder(_cell_text(cell(LAST)), _cell_text(cell(FIRST)), _birth_value(cell(BIRTH)),
                                 _cell_text(cell(COMMUNE)), category, _phone_value(cell(PHONE)),
                                 _cell_text(cell(EMAIL)), today)
        except TicketRefused as refused:
            result.problems.append(Problem(line, str(refused.message)))
            continue
        key = identity_key(holder.last_name, holder.first_name, holder.birth_date)
        if key in seen:
            result.problems.append(Problem(line, str(_l(
                "même personne que la ligne %(first)s (nom, prénom et date de naissance) : un seul ticket par "
                "personne.", first=seen[key]))))
            continue
        seen[key] = line
        result.rows.append(TicketLine(line, holder))
    if result.data_rows == 0:
        raise ImportRefused(_l("Le fichier ne contient personne sous la ligne des titres."))


def _missing_columns(missing: list[str]) -> str:
    names = ", ".join(str(FIELD_LABELS[key]) for key in missing)
    return str(_l("Il manque des colonnes : %(names)s. La première ligne doit donner le titre de chaque colonne "
                  "(Nom, Prénom, Date de naissance, Commune, Public ; Téléphone et Courriel sont facultatifs).",
                  names=names))


def _find_header(iterator: Iterator[tuple[int, Sequence[Any]]], result: TicketFile) -> dict[str, int]:
    """The first row, among the first non-blank ones, that names at least two of the expected columns."""
    looked = 0
    for _line, cells in iterator:
        if _blank(cells):
            continue
        columns, ignored = _recognise(cells)
        if len(columns) >= 2:
            result.columns = {key: _cell_text(cells[index]) for key, index in columns.items()}
            result.ignored_columns = ignored
            return columns
        looked += 1
        if looked >= HEADER_SEARCH_ROWS:
            break
    raise ImportRefused(_l("Je ne trouve pas la ligne des titres de colonnes. La première ligne doit donner le "
                           "titre de chaque colonne : Nom, Prénom, Date de naissance, Commune, Public."))
