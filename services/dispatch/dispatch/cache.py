"""An in-process copy of what routing a received complaint reads: the estate, its staff, its grids, its policy.

Why: handling ``complaint.received`` read these four from MongoDB inside its transaction, five round
trips of about fourteen (docs/PERFORMANCE.md, "Workers"), for data that changes a few times a day
while complaints arrive by the second.

How it stays current:
- every entry lives ``ROUTING_CACHE_SECONDS`` (``DispatchConfig.routing_cache_seconds``, 5 s by
  default) from when it was read, measured on the monotonic clock (a frozen service clock in tests
  does not freeze the cache);
- dispatch's own writes drop the entries they change as soon as they are committed: the estate copy
  when this process applies ``directory.estate.upserted`` (``dispatch.handlers``), an estate's staff
  and grids when this process writes them (``DirectoryStore.put_staff``, ``put_grid``), every policy
  when this process writes a policy or a calendar (``PolicyStore``);
- a read that started before an invalidation is not stored (a generation counter), so a lane that
  read the old value while another lane committed the new one cannot put the old one back.

The staleness allowed: staff, grids, policies and calendars are written by dispatch's web process,
the estate copy by whichever worker replica took the event; another process learns of a change when
its entry expires. So for up to ``ROUTING_CACHE_SECONDS`` after a change a worker may still route by
the old directory: a staff member deactivated or taken off duty may still be given an order, a new
one not yet; a complaint may be timed by the previous policy. Why that is acceptable: the same
complaint received a moment before the change would have had the same outcome; an assignee who is
not there is visible on the order and the response target escalates an order nobody takes up, and
supervisors reassign. It is a window of seconds, against a directory edited a few times a day. What
is never cached: open counts (the load balance of routing), the repeat counts, the order itself.
Actions on an order (``work_orders.act``, a person assigning by hand) read the directory directly.

Bounded: one entry per estate and kind, and one per scope chain; at ``MAX_ENTRIES`` the oldest
entries are dropped (an estate group of thousands of estates fits).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_SECONDS = 5.0
MAX_ENTRIES = 20_000

ESTATE = "estate"
STAFF = "staff"
GRIDS = "grids"
POLICY = "policy"


class RoutingCache:
    """Entries keyed by (kind, key), each kept ``seconds`` at most; thread-safe, for the lanes of one worker."""

    def __init__(
        self, *, seconds: float = DEFAULT_SECONDS, max_entries: int = MAX_ENTRIES, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._now = now
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, Hashable], tuple[float, Any]] = OrderedDict()
        self._generation = 0

    def get(self, kind: str, key: Hashable, load: Callable[[], T]) -> T:
        """Return the entry, or ``load()`` it (outside the lock) and keep it unless invalidated meanwhile."""
        if self.seconds <= 0:
            return load()
        with self._lock:
            entry = self._entries.get((kind, key))
            now = self._now()
            if entry is not None and entry[0] > now:
                value: T = entry[1]
                return value
            generation = self._generation
        value = load()
        with self._lock:
            if generation == self._generation:
                self._entries[(kind, key)] = (now + self.seconds, value)
                self._entries.move_to_end((kind, key))
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value

    def invalidate(self, kind: str, key: Hashable | None = None) -> None:
        """Drop one entry, or every entry of a kind (``key`` None); reads in flight are not kept."""
        with self._lock:
            self._generation += 1
            if key is not None:
                self._entries.pop((kind, key), None)
                return
            for stale in [entry for entry in self._entries if entry[0] == kind]:
                del self._entries[stale]

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._generation += 1
            self._entries.clear()


_CACHES: dict[str, RoutingCache] = {}
_CACHES_LOCK = threading.Lock()


def routing_cache(database_name: str, *, seconds: float | None = None) -> RoutingCache:
    """Return the process's cache of a database (one per database name: a process talks to one deployment).

    ``seconds`` sets its lifetime when given (the worker's configuration); every store of the process
    shares the cache, so a write by one context is seen by the routing of another in the same process.
    """
    with _CACHES_LOCK:
        cache = _CACHES.get(database_name)
        if cache is None:
            cache = _CACHES[database_name] = RoutingCache(seconds=DEFAULT_SECONDS if seconds is None else seconds)
        elif seconds is not None:
            cache.seconds = seconds
        return cache
