"""Working days: the official Chinese calendar plus an operator's own closures and extra working days.

Pure, no I/O. The official calendar (public holidays and the weekend days made working days, 调休)
comes from ``chinesecalendar``, which ships data for a fixed range of years only
(``OFFICIAL_CALENDAR_YEARS``, 2004-2026 in 1.11.0). For any other year the official calendar falls
back to Monday-Friday with no public holidays, so deadlines keep being computed but ignore that
year's holidays and make-up days until the library is upgraded; operators bridge the gap with
closures and extra working days (``official_calendar_covers`` tells callers which case applies).

Precedence for one day: an operator's extra working day beats everything, then an operator's
closure, then the official calendar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import chinese_calendar
from chinese_calendar.constants import holidays as _official_holidays

OFFICIAL_CALENDAR_YEARS: range = range(min(_official_holidays).year, max(_official_holidays).year + 1)
"""The years for which ``chinesecalendar`` has official data; other years fall back to Monday-Friday."""

FALLBACK_WORKING_WEEKDAYS = frozenset({0, 1, 2, 3, 4})
"""Monday-Friday (``date.weekday()``), the working week used for years without official data."""


def official_calendar_covers(year: int) -> bool:
    """Return whether the official calendar has data for a year (otherwise Monday-Friday applies)."""
    return year in OFFICIAL_CALENDAR_YEARS


def official_is_working_day(day: date) -> bool:
    """Return whether a day is an official working day in mainland China (Monday-Friday beyond the data)."""
    _require_date(day)
    if official_calendar_covers(day.year):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() in FALLBACK_WORKING_WEEKDAYS


def _require_date(day: object) -> None:
    # A datetime is a date subclass but never equals a date in a set lookup: refuse it loudly.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected a datetime.date, got {type(day).__name__}")


def _dates(values: Iterable[date | str]) -> frozenset[date]:
    days: set[date] = set()
    for value in values:
        day = date.fromisoformat(value) if isinstance(value, str) else value
        _require_date(day)
        days.add(day)
    return frozenset(days)


@dataclass(frozen=True)
class WorkingCalendar:
    """The working days of one scope: the official calendar adjusted by operator closures and extra working days.

    Both sets accept ``date`` objects or ISO ``YYYY-MM-DD`` strings and are stored as frozensets of dates.
    """

    closures: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "closures", _dates(self.closures))
        object.__setattr__(self, "extra_working_days", _dates(self.extra_working_days))

    def is_working_day(self, day: date) -> bool:
        """Return whether a day is a working day in this calendar."""
        _require_date(day)
        if day in self.extra_working_days:
            return True
        if day in self.closures:
            return False
        return official_is_working_day(day)

    def add_working_days(self, day: date, n: int) -> date:
        """Return the n-th working day after ``day`` (``day`` itself never counts; n >= 1)."""
        _require_date(day)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a whole number of working days >= 1, got {n!r}")
        current = day
        remaining = n
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def merged(self, other: WorkingCalendar) -> WorkingCalendar:
        """Return this (wider) calendar overridden by ``other`` (narrower): the narrower scope decides a day both name."""
        return WorkingCalendar(
            closures=(self.closures - other.extra_working_days) | other.closures,
            extra_working_days=(self.extra_working_days - other.closures) | other.extra_working_days,
        )
