"""The period a report covers: ``[start, end)``, by default the 30 days up to now.

Pure. A period that ends before it starts is refused with ``PeriodOutOfOrder`` (the routes' problem
table answers it as a 422 on ``from``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

DEFAULT_PERIOD = timedelta(days=30)


class PeriodOutOfOrder(ValueError):
    """Raised for a period that ends before it starts."""


def period(*, start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """Return ``[start, end)``: ``end`` defaults to now and ``start`` to ``DEFAULT_PERIOD`` before ``end``."""
    end = end or now
    start = start or end - DEFAULT_PERIOD
    if start > end:
        raise PeriodOutOfOrder(f"the period starts at {start.isoformat()}, after its end {end.isoformat()}")
    return start, end
