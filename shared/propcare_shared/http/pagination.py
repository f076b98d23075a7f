"""The query arguments of every list endpoint: ``?limit=`` (default 50, max 500) and an opaque ``cursor``.

The paging itself is ``propcare_shared.pagination`` (stores use it); a bad cursor is a 422 on ``cursor``.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class PageArgs(Schema):
    """The query arguments of every list endpoint."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None)
