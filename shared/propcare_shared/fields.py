"""marshmallow fields shared by every schema: times in UTC with a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import fields

from propcare_shared.clock import isoformat_z


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 time that must carry an offset; loaded as UTC, dumped with ``Z``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return isoformat_z(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)
