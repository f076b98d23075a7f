"""Fixed-window rate limits kept in the service's own MongoDB, shared by every web process.

Each limited request increments one counter document per key and window (an atomic ``$inc`` with
upsert); a TTL index removes the windows that ended. Above the limit the answer is 429 with
``Retry-After`` and nothing else happens. Keys never hold a phone or an address in clear: callers
pass them through ``hashed``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import request
from pymongo import ReturnDocument
from pymongo.database import Database

from propcare_shared.context import RATE_LIMITS, current_context
from propcare_shared.http.errors import Problem

COLLECTION = RATE_LIMITS  # indexed by the kernel (``propcare_shared.context.KERNEL_INDEXES``)
DETAIL = "Too many requests from here in a short time; please call the service desk or try again later."


def hashed(kind: str, value: str) -> str:
    """Return a counter key for a value that must not be stored in clear."""
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def hit(database: Database, *, key: str, window: timedelta, now: datetime) -> int:
    """Count one request under ``key`` in the current fixed window; return the window's count."""
    seconds = max(int(window.total_seconds()), 1)
    start = int(now.timestamp()) // seconds * seconds
    counter = database[COLLECTION].find_one_and_update(
        {"_id": f"{key}:{start}"},
        {"$inc": {"count": 1}, "$setOnInsert": {"expires_at": datetime.fromtimestamp(start + seconds, tz=now.tzinfo)}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    return int(counter["count"]) if counter else 1


def enforce(limits: dict[str, int], *, detail: str = DETAIL) -> None:
    """Count this request under each key; refuse with 429 when any key went over its limit."""
    context = current_context()
    window = timedelta(seconds=context.settings.resident_limit_window)
    now = context.clock()
    for key, limit in limits.items():
        if hit(context.database, key=key, window=window, now=now) > limit:
            raise Problem(429, "Too Many Requests", detail=detail, headers={"Retry-After": str(int(window.total_seconds()))})


def limit_lookups(kind: str) -> None:
    """Rate-limit a credential lookup without a JWT (a tracking or survey token) per client address."""
    settings = current_context().settings
    enforce({hashed(f"{kind}-address", request.remote_addr or "unknown"): settings.lookup_limit_per_address})
