"""marshmallow schemas of Open311: a GeoReport request as posted, the list's filters, and API keys.

GeoReport clients send every field as form text and often send optional fields empty: an empty
field counts as absent. Fields the standard allows and we do not use (``attribute[...]``) are
ignored, never refused.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from intake.domain.people import Phone
from intake.open311.mapping import REQUEST_STATES
from propcare_shared.fields import UtcDateTime
from propcare_shared.http.pagination import PageArgs
from propcare_shared.vocabulary import SUBCATEGORIES

SERVICE_CODE = validate.OneOf(tuple(SUBCATEGORIES), error="Unknown service_code {input!r}; GET services.json lists them.")
JURISDICTION = validate.Length(min=1, max=16)


class _Form(Schema):
    """Form text where an empty field is an absent one and unknown fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _blank_is_absent(self, data: Any, **_: Any) -> Any:
        if not hasattr(data, "items"):
            return data
        return {key: value for key, value in data.items() if not (isinstance(value, str) and not value.strip())}


class RequestIn(_Form):
    """A service request as a GeoReport client posts it (``POST requests.json``), without its ``api_key``."""

    jurisdiction_id = fields.String(required=True, validate=JURISDICTION, metadata={"description": "The estate's code."})
    service_code = fields.String(required=True, validate=SERVICE_CODE)
    lat = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(min=-90, max=90))
    long = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(min=-180, max=180))
    address_string = fields.String(load_default=None, validate=validate.Length(max=500))
    address_id = fields.String(load_default=None, validate=validate.Length(max=128))
    email = fields.Email(load_default=None, validate=validate.Length(max=254))
    device_id = fields.String(load_default=None, validate=validate.Length(max=128))
    account_id = fields.String(load_default=None, validate=validate.Length(max=128))
    first_name = fields.String(load_default=None, validate=validate.Length(max=50))
    last_name = fields.String(load_default=None, validate=validate.Length(max=50))
    phone = Phone(load_default=None, metadata={"description": "Any way a person writes it; kept in E.164 (+86…)."})
    description = fields.String(required=True, validate=validate.Length(min=2, max=2000))
    media_url = fields.Url(load_default=None, schemes={"http", "https"}, validate=validate.Length(max=2000))
    locale = fields.String(
        load_default=None, validate=validate.Length(max=16), metadata={"description": "zh-CN or en: the reporter's language."}
    )

    @validates_schema
    def _a_location(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("lat") is None) != (data.get("long") is None):
            raise ValidationError("Send lat and long together.", "lat" if data.get("lat") is None else "long")
        if data.get("lat") is None and not data.get("address_string") and not data.get("address_id"):
            raise ValidationError("A location is required: lat and long, address_string or address_id.", "address_string")


class RequestsArgs(_Form):
    """The filters of ``GET requests.json``; ``service_request_id`` overrides the others."""

    service_request_id = fields.String(load_default=None, validate=validate.Length(max=2000))
    service_code = fields.String(load_default=None, validate=SERVICE_CODE)
    start_date = UtcDateTime(load_default=None)
    end_date = UtcDateTime(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(REQUEST_STATES))
    jurisdiction_id = fields.String(load_default=None, validate=JURISDICTION)
    locale = fields.String(load_default=None, validate=validate.Length(max=16))

    @validates_schema
    def _dates_in_order(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            raise ValidationError("Must not be before start_date.", "end_date")


class KeyIn(Schema):
    """A key to issue: the client's name and the estates it may file for (``POST /api/v1/open311/keys``)."""

    client_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    estate_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)), required=True, validate=validate.Length(min=1, max=200)
    )
    rate_limit = fields.Integer(
        load_default=60,
        validate=validate.Range(min=1, max=10000),
        metadata={"description": "Requests the key may file per rate-limit window (RESIDENT_LIMIT_WINDOW)."},
    )


class KeyOut(Schema):
    """An issued key as listed: never the key itself."""

    key_id = fields.String(attribute="_id")
    client_name = fields.String()
    estate_ids = fields.List(fields.String())
    rate_limit = fields.Integer()
    created_at = UtcDateTime()
    created_by = fields.String()
    revoked_at = UtcDateTime(allow_none=True)


class KeyCreated(KeyOut):
    """A key just issued: the only answer that shows ``api_key``."""

    api_key = fields.String()


class KeyPage(Schema):
    """A page of keys."""

    items = fields.List(fields.Nested(KeyOut))
    next_cursor = fields.String(allow_none=True)


class KeyListArgs(PageArgs):
    """The query arguments of the key list."""


# OpenAPI of the GeoReport routes: the standard's shapes (arrays; errors as ``[{"code", "description"}]``) ----------

_ERRORS = {
    "type": "array",
    "items": {"type": "object", "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}},
}
_OBJECTS = {"type": "array", "items": {"type": "object"}}


def georeport_doc(status: int, *, array: bool = True, description: str) -> dict[str, Any]:
    """Return a GeoReport route's documented answers: its success (an array, or the discovery object) and the standard's error array."""
    success = _OBJECTS if array else {"type": "object"}
    return {
        "responses": {
            str(status): {"description": description, "content": {"application/json": {"schema": success}}},
            "default": {"description": "The standard's error array.", "content": {"application/json": {"schema": _ERRORS}}},
        }
    }
