"""Cursor pagination of MongoDB queries: newest ``_id`` first, and an opaque cursor for the next page.

Stores use it; it knows nothing of HTTP. A cursor that was not made here raises ``InvalidCursor``,
which the HTTP kernel answers as a 422 on ``cursor`` (``propcare_shared.http.errors``).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from pymongo import DESCENDING
from pymongo.collection import Collection


class InvalidCursor(ValueError):
    """Raised for a cursor that was not returned by this API."""

    def __init__(self) -> None:
        super().__init__("Not a cursor returned by this API.")


def encode_cursor(last_id: Any) -> str:
    """Make an opaque cursor from the last id of a page."""
    return base64.urlsafe_b64encode(json.dumps({"after": str(last_id)}).encode()).decode()


def decode_cursor(cursor: str) -> str:
    """Read a cursor; raise ``InvalidCursor`` for one that was not made here."""
    try:
        return str(json.loads(base64.urlsafe_b64decode(cursor.encode()))["after"])
    except (ValueError, KeyError, TypeError):
        raise InvalidCursor() from None


def paginate(
    collection: Collection, query: dict[str, Any], *, limit: int, cursor: str | None, projection: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Return one page of documents, newest ``_id`` first, and the cursor of the next page."""
    if cursor:
        query = {"$and": [query, {"_id": {"$lt": decode_cursor(cursor)}}]}
    documents = list(collection.find(query, projection).sort("_id", DESCENDING).limit(limit + 1))
    next_cursor = encode_cursor(documents[limit - 1]["_id"]) if len(documents) > limit else None
    return documents[:limit], next_cursor
