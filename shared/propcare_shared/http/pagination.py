"""Cursor pagination: ``?limit=`` (default 50, max 500) and an opaque ``cursor``."""

from __future__ import annotations

import base64
import json
from typing import Any

from marshmallow import Schema, fields, validate
from pymongo import DESCENDING
from pymongo.collection import Collection

from propcare_shared.http.errors import Problem


class PageArgs(Schema):
    """The query arguments of every list endpoint."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None)


def encode_cursor(last_id: Any) -> str:
    """Make an opaque cursor from the last id of a page."""
    return base64.urlsafe_b64encode(json.dumps({"after": str(last_id)}).encode()).decode()


def decode_cursor(cursor: str) -> str:
    """Read a cursor; a cursor that was not made here is a 422."""
    try:
        return str(json.loads(base64.urlsafe_b64decode(cursor.encode()))["after"])
    except (ValueError, KeyError, TypeError):
        raise Problem(422, "Invalid request", errors={"cursor": ["Not a cursor returned by this API."]}) from None


def paginate(
    collection: Collection, query: dict[str, Any], *, limit: int, cursor: str | None, projection: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Return one page of documents, newest ``_id`` first, and the cursor of the next page."""
    if cursor:
        query = {"$and": [query, {"_id": {"$lt": decode_cursor(cursor)}}]}
    documents = list(collection.find(query, projection).sort("_id", DESCENDING).limit(limit + 1))
    next_cursor = encode_cursor(documents[limit - 1]["_id"]) if len(documents) > limit else None
    return documents[:limit], next_cursor
