"""Accounting periods: a month (``2026-03``) or a quarter (``2026-Q1``; ``2026-T1`` is accepted too)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask_babel import gettext as _

from portfolio.timeutil import LOCAL_TZ, add_months

_PERIOD = re.compile(r"^\s*(\d{4})-(?:(0[1-9]|1[0-2])|[QqTt]([1-4]))\s*$")


class BadPeriod(ValueError):
    """The text is not a period; the message says what to write, in French."""


@dataclass(frozen=True)
class Period:
    code: str  # canonical: 2026-03 or 2026-Q1
    start: dt.date  # first day
    end: dt.date  # first day after the period

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def is_quarter(self) -> bool:
        return "Q" in self.code

    @property
    def start_utc(self) -> dt.datetime:
        return _local_midnight_utc(self.start)

    @property
    def end_utc(self) -> dt.datetime:
        return _local_midnight_utc(self.end)

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        if self.is_quarter:
            return _("trimestre %(quarter)s de %(year)s", quarter=self.code[-1], year=self.year)
        return _("du %(start)s au %(end)s", start=self.start.strftime("%d/%m/%Y"),
                 end=self.last_day.strftime("%d/%m/%Y"))


def _local_midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


def parse_period(text: str) -> Period:
    match = _PERIOD.match(text or "")
    if match is None:
        raise BadPeriod(_("Période invalide : « %(text)s ». Écrivez un mois (AAAA-MM, par exemple 2026-03) "
                          "ou un trimestre (AAAA-Qn, par exemple 2026-Q1).", text=text))
    year, month, quarter = int(match.group(1)), match.group(2), match.group(3)
    if month:
        start = dt.date(year, int(month), 1)
        return Period(f"{year}-{month}", start, add_months(start, 1))
    start = dt.date(year, 3 * (int(quarter) - 1) + 1, 1)
    return Period(f"{year}-Q{quarter}", start, add_months(start, 3))


def month_period(day: dt.date) -> Period:
    return parse_period(f"{day.year}-{day.month:02d}")
