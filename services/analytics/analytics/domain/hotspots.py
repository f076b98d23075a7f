"""High-frequency complaint points (高频投诉点, docs/PRODUCT.md §10): when one building keeps complaining of one thing.

Pure. A cluster is the complaints of one (estate, building, subcategory), cancelled ones left out.
A window is ``WINDOW`` long and ends at one of the cluster's complaints; it holds the complaints
received within ``WINDOW`` before that one, both ends included. A window holding ``THRESHOLD`` or
more complaints is a hotspot, identified by its start day: the local date (estate time zone) of its
first complaint. ``hotspot.detected`` is emitted once per (estate, building, subcategory, start day):

- With ``THRESHOLD`` 3 and ``WINDOW`` 30 days (docs/PRODUCT.md §10's example, and the "third complaint of
  the same subcategory in the same building within 30 days" of §6): three lift complaints in building 3
  within 30 days make one hotspot; a fourth in the same window does not announce it again.
- A cluster that persists is announced again once its first complaint has left the window and the
  complaints still inside reach the threshold (a new start day): the problem is still there.
- Whenever a complaint joins a cluster, every window that contains it is checked. The last complaint
  of a window to arrive sees all the others, so the hotspots found do not depend on the order in
  which complaints arrive; the count announced is the window's count when it was first found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

THRESHOLD = 3
WINDOW_DAYS = 30
WINDOW = timedelta(days=WINDOW_DAYS)
MAX_IDS = 50


@dataclass(frozen=True)
class Member:
    """One complaint of a cluster."""

    complaint_id: str
    received_at: datetime


@dataclass(frozen=True)
class Window:
    """A window of a cluster that reached the threshold."""

    start: datetime
    end: datetime
    start_day: date
    members: tuple[Member, ...]

    @property
    def count(self) -> int:
        """Return how many complaints the window holds."""
        return len(self.members)


def windows_reaching_threshold(
    members: Iterable[Member],
    *,
    trigger: datetime,
    timezone: str,
    window: timedelta = WINDOW,
    threshold: int = THRESHOLD,
) -> list[Window]:
    """Return, per start day, the earliest-ending window that contains ``trigger`` and reaches the threshold."""
    ordered = sorted(members, key=lambda member: (member.received_at, member.complaint_id))
    zone = ZoneInfo(timezone)
    found: dict[date, Window] = {}
    for last in ordered:
        end = last.received_at
        if not trigger <= end <= trigger + window:
            continue
        inside = tuple(member for member in ordered if end - window <= member.received_at <= end)
        if len(inside) < threshold:
            continue
        start = inside[0].received_at
        start_day = start.astimezone(zone).date()
        if start_day not in found:
            found[start_day] = Window(start=start, end=end, start_day=start_day, members=inside)
    return sorted(found.values(), key=lambda item: item.start)


def location(*, estate_id: str, building: str) -> str:
    """Return how a hotspot's place is written in its event: ``<estate id>/<building>``."""
    return f"{estate_id}/{building}"
