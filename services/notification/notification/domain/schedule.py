"""When a message may be sent: quiet hours for residents and back-off between attempts.

Quiet hours are 22:00 to 07:00 in the estate's time zone (docs/PRODUCT.md §8, Quiet hours). A resident message due inside
them waits until 07:00 local, unless it is exempt (an emergency complaint's message). Staff
messages are never held. A retry that would fall inside the quiet hours waits for them to end too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from propcare_shared.vocabulary import DEFAULT_TIMEZONE

QUIET_START = time(22, 0)
QUIET_END = time(7, 0)


def zone(timezone: str | None) -> ZoneInfo:
    """Return the estate's time zone, or ``DEFAULT_TIMEZONE`` when it is missing or unknown."""
    try:
        return ZoneInfo(timezone or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def quiet_hours_end(*, at: datetime, timezone: str | None) -> datetime | None:
    """Return the end of the quiet hours ``at`` falls in (07:00 local, as UTC), or None outside them."""
    local = at.astimezone(zone(timezone))
    if QUIET_END <= local.time() < QUIET_START:
        return None
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=local.tzinfo).astimezone(UTC)


def not_before(*, at: datetime, timezone: str | None, quiet_hours: bool) -> datetime:
    """Return the earliest time a message may go out: ``at``, or 07:00 local when held by quiet hours."""
    if not quiet_hours:
        return at
    return quiet_hours_end(at=at, timezone=timezone) or at


def retry_delay(*, attempts: int, delays: Sequence[float], scale: float) -> timedelta:
    """Return the wait after the ``attempts``-th failed attempt (the last delay repeats)."""
    index = min(max(attempts, 1), len(delays)) - 1
    return timedelta(seconds=delays[index] * scale)
