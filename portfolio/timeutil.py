"""The local clock: the scheme lives in Europe/Paris time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Europe/Paris")


def local_now() -> dt.datetime:
    return dt.datetime.now(LOCAL_TZ)


def local_today() -> dt.date:
    return local_now().date()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day when it has no such day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate_day in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate_day))
        except ValueError:
            continue
    raise AssertionError("unreachable")
