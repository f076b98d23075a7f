"""The event envelope of docs/API.md, as an immutable value and a marshmallow schema.

Every event carries the tenancy ids (group, region, estate), the complaint id as its correlation id
where there is one, and ``seq`` to order the events of one complaint. ``data`` is validated against
the schema the catalogue declares for the event type, both when an event is made and when one is read.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from propcare_shared.clock import isoformat_z, utcnow
from propcare_shared.events.catalogue import EventData, schema_for
from propcare_shared.tenancy import Tenancy


@dataclass(frozen=True)
class Event:
    """One fact that happened, as it travels on the bus."""

    id: str
    type: str
    version: int
    occurred_at: datetime
    producer: str
    correlation_id: str | None
    causation_id: str | None
    group_id: str | None
    region_id: str | None
    estate_id: str | None
    seq: int | None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def tenancy(self) -> Tenancy:
        """Return the group, region and estate the event belongs to."""
        return Tenancy(group_id=self.group_id, region_id=self.region_id, estate_id=self.estate_id)

    def to_message(self) -> dict[str, Any]:
        """Return the JSON-ready envelope."""
        return EnvelopeSchema().dump(self)

    def to_document(self) -> dict[str, Any]:
        """Return the envelope as stored in an outbox (datetimes kept native).

        A shallow copy (``data`` copied one level): ``dataclasses.asdict`` deep-copied every value and
        cost half as much as validating the data. The document is encoded to BSON at once by the
        outbox insert; nothing keeps or changes it.
        """
        document = {name: getattr(self, name) for name in _EVENT_FIELDS}
        document["data"] = dict(self.data)
        return document

    @classmethod
    def from_message(cls, body: dict[str, Any]) -> Event:
        """Load and validate an envelope read from the bus."""
        return EnvelopeSchema().load(body)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Event:
        """Rebuild an event stored by ``to_document``."""
        return cls(**{key: document[key] for key in cls.__dataclass_fields__})


class EnvelopeSchema(Schema):
    """The envelope of docs/API.md; ``data`` is checked against the event type's own schema."""

    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=validate.Length(min=1))
    type = fields.String(required=True, validate=validate.Length(min=1))
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=None, format="iso")
    producer = fields.String(required=True)
    correlation_id = fields.String(allow_none=True, load_default=None)
    causation_id = fields.String(allow_none=True, load_default=None)
    group_id = fields.String(allow_none=True, load_default=None)
    region_id = fields.String(allow_none=True, load_default=None)
    estate_id = fields.String(allow_none=True, load_default=None)
    seq = fields.Integer(allow_none=True, load_default=None)
    data = fields.Dict(required=True)

    @post_load
    def make_event(self, values: dict[str, Any], **_: Any) -> Event:
        """Validate the payload against its type's schema and return the event."""
        values["data"] = _validated_data(values["type"], values["data"])
        return Event(**values)

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        result = super().dump(obj, many=many)
        if not many:
            result["occurred_at"] = isoformat_z(obj.occurred_at)
            result["data"] = schema_for(obj.type)().dump(obj.data)
        return result


_EVENT_FIELDS = tuple(item.name for item in dataclasses.fields(Event))
_producer_schemas: dict[str, EventData] = {}
_producer_schemas_lock = threading.Lock()


def _producer_schema(event_type: str) -> EventData:
    """Return one reusable instance of an event type's data schema, for ``new_event``.

    Making a marshmallow schema copies its declared fields (0.4 ms for ``complaint.received``, more
    than validating the data); ``load`` and ``dump`` keep no state on the instance, so one per
    type and process serves every thread.
    """
    schema = _producer_schemas.get(event_type)
    if schema is None:
        with _producer_schemas_lock:
            schema = _producer_schemas.setdefault(event_type, schema_for(event_type)())
    return schema


def _validated_data(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema_for(event_type)().load(data)
    except ValidationError as exc:
        raise ValidationError({"data": exc.messages}) from exc


def new_event(
    event_type: str,
    *,
    producer: str,
    data: dict[str, Any],
    correlation_id: str | None = None,
    causation_id: str | None = None,
    group_id: str | None = None,
    region_id: str | None = None,
    estate_id: str | None = None,
    seq: int | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    """Make an event, validating its data against the catalogue."""
    schema = _producer_schema(event_type)
    undeclared = set(data) - set(schema.fields)
    if undeclared:
        raise ValueError(f"{event_type} does not declare {sorted(undeclared)}; add them to the catalogue")
    loaded = schema.load(schema.dump(data))
    return Event(
        id=str(uuid.uuid4()),
        type=event_type,
        version=1,
        occurred_at=occurred_at or utcnow(),
        producer=producer,
        correlation_id=correlation_id,
        causation_id=causation_id,
        group_id=group_id,
        region_id=region_id,
        estate_id=estate_id,
        seq=seq,
        data=loaded,
    )
