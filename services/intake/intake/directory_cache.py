"""A small per-process cache of the directory's estates and households, for the complaint write path.

Filing a complaint reads its estate (code, time zone, tenancy) and its household (by address or id)
on every request. Both change rarely and only through intake's own directory writes (``PUT`` an
estate, a households import), so each process keeps what it read for ``DIRECTORY_CACHE_SECONDS``
(5 s) and drops an estate's entries at once when this process writes that estate or its households
(``IntakeStore.put_estate`` / ``upsert_households``). Another process (the other gunicorn workers,
the import thread of another pod) sees the change when its entry expires: at most 5 s late.

What that staleness may do, and why it is acceptable:
- an estate renamed or moved to another region: a complaint filed within 5 s carries the region it
  had a moment before. Dispatch and analytics learn the move from ``directory.estate.upserted``
  through the bus, which is itself seconds late, so the platform already treats a directory change
  as taking effect "shortly"; a region move is an administrative act, not a burst;
- an estate's code changed: a ticket may still start with the old code for 5 s. The old code stays
  reserved for this estate (``estate_codes``) and the counter is keyed by estate id, so the number is
  still unique;
- a time zone changed: the local date of a ticket may follow the old zone for 5 s (still unique, as
  the counter is per estate and date);
- households imported: a complaint at a new address within 5 s is filed without its household (as if
  the import had come a moment later); one at an address whose household type changed uses the old
  type for its priority;
- an estate deactivated: the directory has no deactivation today (estates are only put). Should one
  be added, it must call ``forget_estate`` on write and accept up to 5 s of complaints afterwards, or
  the write path must read the estate uncached.

The cache is bounded (``MAX_ENTRIES`` per kind, least recently used dropped first), so its memory does
not grow with traffic. Misses are cached too (an address without a household is the common case for
visitors and common areas); an unknown estate is never cached, so an estate just created elsewhere
is found at once. Keyed per database, so two services' contexts in one process (tests, the
one-process runner) never share entries.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from pymongo.database import Database

DIRECTORY_CACHE_SECONDS = 5.0
MAX_ENTRIES = 4096
_MISSING = object()


class _Expiring:
    """A bounded LRU map whose entries expire ``ttl`` seconds after they were stored."""

    def __init__(self, *, ttl: float, now: Callable[[], float], max_entries: int) -> None:
        self.ttl = ttl
        self.now = now
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        found = self._entries.get(key)
        if found is None:
            return _MISSING
        expires, value = found
        if self.now() >= expires:
            del self._entries[key]
            return _MISSING
        self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        self._entries[key] = (self.now() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def drop(self, matches: Callable[[Hashable], bool]) -> None:
        for key in [key for key in self._entries if matches(key)]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)


class DirectoryCache:
    """Estates by id and households by address or id, each for ``ttl`` seconds; thread-safe (gthread workers)."""

    def __init__(
        self, *, ttl: float = DIRECTORY_CACHE_SECONDS, now: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES
    ) -> None:
        self._lock = threading.Lock()
        self.now = now
        """Seconds of a monotonic clock (tests replace it to pass the TTL without waiting)."""
        self.estates = _Expiring(ttl=ttl, now=lambda: self.now(), max_entries=max_entries)
        self.households = _Expiring(ttl=ttl, now=lambda: self.now(), max_entries=max_entries)

    def estate(self, estate_id: str, load: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
        """Return a cached estate, or ``load`` it (an unknown estate is not cached)."""
        with self._lock:
            found = self.estates.get(estate_id)
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
        loaded = load()
        if loaded is not None:
            with self._lock:
                self.estates.put(estate_id, loaded)
        return loaded

    def household(self, estate_id: str, key: Hashable, load: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
        """Return a cached household of an estate (or its cached absence), or ``load`` it."""
        with self._lock:
            found = self.households.get((estate_id, key))
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
        loaded = load()
        with self._lock:
            self.households.put((estate_id, key), loaded)
        return loaded

    def forget_estate(self, estate_id: str) -> None:
        """Drop an estate and every household entry of it (this process wrote them)."""
        with self._lock:
            self.estates.drop(lambda key: key == estate_id)
            self.households.drop(lambda key: isinstance(key, tuple) and key[0] == estate_id)


_caches: weakref.WeakKeyDictionary[Database, DirectoryCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def directory_cache(database: Database) -> DirectoryCache:
    """Return this process's cache of a database's directory."""
    with _caches_lock:
        cache = _caches.get(database)
        if cache is None:
            cache = _caches[database] = DirectoryCache()
        return cache
