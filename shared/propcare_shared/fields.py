"""marshmallow fields shared by every schema: times in UTC with a ``Z``.

A time is accepted only between ``EARLIEST`` and ``LATEST`` (UTC). Python's datetimes end at years
1 and 9999: ``0001-01-01T00:00:00+14:00`` has no UTC form at all, and ``9999-12-31T23:00:00Z`` has
one but no deadline, window end or month after it can be computed. Such a time is never a real
complaint, filter or campaign date, so it is a field error (422) here instead of an overflow (a
500) in whichever computation meets it first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError, fields

from propcare_shared.clock import isoformat_z

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = f"Out of range: a time from {EARLIEST:%Y-%m-%d} up to (not including) {LATEST:%Y-%m-%d}, UTC."


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 time that must carry an offset; loaded as UTC within ``EARLIEST``-``LATEST``, dumped with ``Z``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return isoformat_z(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        loaded = super()._deserialize(value, attr, data, **kwargs)
        try:
            in_utc = loaded.astimezone(UTC)
        except OverflowError:
            raise ValidationError(OUT_OF_RANGE) from None
        if not EARLIEST <= in_utc < LATEST:
            raise ValidationError(OUT_OF_RANGE)
        return in_utc
