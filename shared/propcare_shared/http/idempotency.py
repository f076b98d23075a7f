"""``Idempotency-Key`` on POSTs that create something.

The same key with the same body returns the first response again; the same key with another body
is a 409. A key is claimed before the view runs (unique index), so two concurrent requests with one
key do not both create; a claim whose request died is taken over after ``STALE_AFTER``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, make_response, request
from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from propcare_shared.clock import utcnow
from propcare_shared.http.errors import Problem
from propcare_shared.mongo import IndexSpec

COLLECTION = "idempotency_keys"
STALE_AFTER = timedelta(seconds=60)
INDEXES = [
    IndexSpec(COLLECTION, [("key", ASCENDING), ("route", ASCENDING)], {"unique": True}),
    IndexSpec(COLLECTION, [("created_at", ASCENDING)], {"expireAfterSeconds": 7 * 24 * 3600}),
]
F = TypeVar("F", bound=Callable[..., Any])


def idempotent(view: F) -> F:
    """Make a creating POST replay its first response for a repeated ``Idempotency-Key``."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if not key:
            return view(*args, **kwargs)
        database: Database = current_app.extensions["propcare"].database
        route = f"{request.method} {request.path}"
        body_hash = hashlib.sha256(request.get_data()).hexdigest()
        now = utcnow()
        try:
            database[COLLECTION].insert_one({"key": key, "route": route, "body_hash": body_hash, "state": "pending", "created_at": now})
        except DuplicateKeyError:
            existing = database[COLLECTION].find_one({"key": key, "route": route}) or {}
            if existing.get("body_hash") != body_hash:
                raise Problem(409, "Conflict", detail="This Idempotency-Key was used with another request body.") from None
            if existing.get("state") == "done":
                replay = Response(existing["body"], status=existing["status"], mimetype=existing["mimetype"])
                replay.headers["Idempotent-Replayed"] = "true"
                return replay
            taken = database[COLLECTION].find_one_and_update(
                {"key": key, "route": route, "state": "pending", "created_at": {"$lt": now - STALE_AFTER}},
                {"$set": {"created_at": now}},
            )
            if taken is None:
                raise Problem(409, "Conflict", detail="A request with this Idempotency-Key is still being processed.") from None
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            database[COLLECTION].delete_one({"key": key, "route": route, "state": "pending"})
            raise
        if response.status_code < 500:
            database[COLLECTION].update_one(
                {"key": key, "route": route},
                {"$set": {"state": "done", "status": response.status_code, "body": response.get_data(), "mimetype": response.mimetype}},
            )
        else:
            database[COLLECTION].delete_one({"key": key, "route": route})
        return response

    return wrapper  # type: ignore[return-value]
