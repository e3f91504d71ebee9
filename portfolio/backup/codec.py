"""Rows as JSON: how every column value is written to a backup and read back, on any database.

A table's rows are JSON lines, one JSON array per row, values in the order of the manifest's
``columns``. Values are encoded from the column's type, so that a backup taken on SQLite restores into
PostgreSQL and the other way round:

- dates, times and datetimes: ISO 8601 strings (naive datetimes are UTC, as the application writes them);
- decimals: strings; binary: base64 strings;
- JSON columns: ``null`` for SQL NULL, otherwise a one-element array holding the JSON value, so that a
  JSON ``null`` stays distinct from SQL NULL;
- everything else (integers, strings, booleans, floats): as is.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

Codec = Callable[[Any], Any]

JSON_NULL_SUFFIX = "__is_sql_null"


def _same(value: Any) -> Any:
    return value


def _iso(value: Any) -> Any:
    return value.isoformat()


def _to_bytes(value: Any) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def encoder(type_: sa.types.TypeEngine[Any]) -> Codec:
    """From a value read from a column of this type to a JSON value (JSON columns: see ``row_reader``)."""
    if isinstance(type_, sa.DateTime | sa.Date | sa.Time):
        return _iso
    if isinstance(type_, sa.Interval):
        return lambda value: value.total_seconds()
    if isinstance(type_, sa.LargeBinary):
        return _to_bytes
    if isinstance(type_, sa.Float):
        return _same
    if isinstance(type_, sa.Numeric):
        return str
    if isinstance(type_, sa.Uuid):
        return str
    return _same


def decoder(type_: sa.types.TypeEngine[Any]) -> Codec:
    """From a JSON value of a backup to the Python value for a column of this type."""
    if isinstance(type_, sa.JSON):
        return lambda cell: sa.JSON.NULL if cell[0] is None else cell[0]
    if isinstance(type_, sa.DateTime):
        return dt.datetime.fromisoformat
    if isinstance(type_, sa.Date):
        return dt.date.fromisoformat
    if isinstance(type_, sa.Time):
        return dt.time.fromisoformat
    if isinstance(type_, sa.Interval):
        return lambda seconds: dt.timedelta(seconds=seconds)
    if isinstance(type_, sa.LargeBinary):
        return base64.b64decode
    if isinstance(type_, sa.Float):
        return float
    if isinstance(type_, sa.Numeric):
        return decimal.Decimal if type_.asdecimal else float
    if isinstance(type_, sa.Uuid):
        return uuid.UUID if type_.as_uuid else str
    return _same


def table_select(table: sa.Table) -> sa.Select[Any]:
    """Every column of the table, plus an ``IS NULL`` flag per JSON column, ordered by primary key."""
    columns: list[Any] = list(table.columns)
    columns += [c.is_(None).label(c.name + JSON_NULL_SUFFIX) for c in table.columns if isinstance(c.type, sa.JSON)]
    order = list(table.primary_key.columns) or list(table.columns)
    return sa.select(*columns).order_by(*order)


def row_reader(table: sa.Table) -> Callable[[Any], list[Any]]:
    """A function from a row of ``table_select(table)`` to the JSON array written to the backup."""
    plan: list[tuple[str, Codec | None]] = []
    for column in table.columns:
        plan.append((column.name, None if isinstance(column.type, sa.JSON) else encoder(column.type)))

    def read(row: Any) -> list[Any]:
        mapping = row._mapping
        cells = []
        for name, encode in plan:
            value = mapping[name]
            if encode is None:  # JSON: SQL NULL, or the JSON value (a JSON null included) in a one-element list
                cells.append(None if mapping[name + JSON_NULL_SUFFIX] else [value])
            else:
                cells.append(None if value is None else encode(value))
        return cells

    return read


def row_writer(table: sa.Table, columns: list[str]) -> Callable[[list[Any]], dict[str, Any]]:
    """A function from a JSON array of a backup (values in ``columns`` order) to insert parameters."""
    decoders = [decoder(table.c[name].type) for name in columns]

    def write(cells: list[Any]) -> dict[str, Any]:
        if len(cells) != len(columns):
            raise ValueError(f"{len(cells)} valeurs au lieu de {len(columns)}")
        return {name: None if cell is None else decode(cell)
                for name, decode, cell in zip(columns, decoders, cells, strict=True)}

    return write


def json_columns_keep_sql_null(table: sa.Table) -> None:
    """Make ``None`` mean SQL NULL in the table's JSON columns (``JSON.NULL`` writes a JSON null)."""
    for column in table.columns:
        if isinstance(column.type, sa.JSON):
            column.type.none_as_null = True
