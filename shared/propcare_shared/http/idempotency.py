"""``Idempotency-Key`` on POSTs that create something.

A key belongs to its caller: the same caller (a token's group and ``sub``; without a token, the
client address) sending the same key to the same route with the same body gets the first response
again; the same key with another body is a 409. Another caller's key is another key: nobody gets
a response stored for someone else. Authentication and the scope check run before any replay:
``authenticated`` decorators come first, and a view that checks its scope in its body calls
``replayable`` after the check (``idempotent`` is for views whose checks all run in decorators).

A key is claimed before the work runs (unique index), so two concurrent requests with one key do not
both create; a claim whose request died is taken over after ``STALE_AFTER``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Response, make_response, request
from flask.typing import ResponseReturnValue
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from propcare_shared.clock import utcnow
from propcare_shared.context import IDEMPOTENT_REQUESTS, current_context
from propcare_shared.http.auth import optional_principal
from propcare_shared.http.errors import Problem

COLLECTION = IDEMPOTENT_REQUESTS  # indexed by the kernel (``propcare_shared.context.KERNEL_INDEXES``)
STALE_AFTER = timedelta(seconds=60)
F = TypeVar("F", bound=Callable[..., Any])


def _caller() -> str:
    principal = optional_principal()
    if principal is not None:
        return f"token:{principal.key}"
    return f"address:{request.remote_addr or 'unknown'}"


def replayable(create: Callable[[], ResponseReturnValue]) -> Response:
    """Run ``create`` once per ``Idempotency-Key`` of this caller and route, and replay its response afterwards."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return make_response(create())
    database: Database = current_context().database
    claim = {"key": key, "route": f"{request.method} {request.path}", "caller": _caller()}
    body_hash = hashlib.sha256(request.get_data()).hexdigest()
    now = utcnow()
    try:
        database[COLLECTION].insert_one({**claim, "body_hash": body_hash, "state": "pending", "created_at": now})
    except DuplicateKeyError:
        existing = database[COLLECTION].find_one(claim) or {}
        if existing.get("body_hash") != body_hash:
            raise Problem(409, "Conflict", detail="This Idempotency-Key was used with another request body.") from None
        if existing.get("state") == "done":
            replay = Response(existing["body"], status=existing["status"], mimetype=existing["mimetype"])
            for name, value in (existing.get("headers") or {}).items():
                replay.headers[name] = value
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        taken = database[COLLECTION].find_one_and_update(
            {**claim, "state": "pending", "created_at": {"$lt": now - STALE_AFTER}}, {"$set": {"created_at": now}}
        )
        if taken is None:
            raise Problem(409, "Conflict", detail="A request with this Idempotency-Key is still being processed.") from None
    try:
        response = make_response(create())
    except BaseException:
        database[COLLECTION].delete_one({**claim, "state": "pending"})
        raise
    if response.status_code < 500:
        kept = {name: value for name, value in response.headers.items() if name in {"Location"}}
        database[COLLECTION].update_one(
            claim,
            {
                "$set": {
                    "state": "done",
                    "status": response.status_code,
                    "body": response.get_data(),
                    "mimetype": response.mimetype,
                    "headers": kept,
                }
            },
        )
    else:
        database[COLLECTION].delete_one(claim)
    return response


def idempotent(view: F) -> F:
    """Make a creating POST replay its first response for a repeated ``Idempotency-Key`` of the same caller.

    Only for views whose authentication and scope checks all run in decorators above this one.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return replayable(lambda: view(*args, **kwargs))

    return wrapper  # type: ignore[return-value]
