"""marshmallow schemas of analytics' HTTP API (docs/API.md, Analytics).

Periods: ``from`` and ``to`` take an ISO 8601 time with an offset, or a date. A date means local
midnight in ``REPORT_TIMEZONE`` (the default estate time zone, docs/PRODUCT.md §7): ``from=2026-11-01`` starts at the
beginning of 1 November and ``to=2026-11-30`` ends at the end of 30 November. The period is
``[from, to)``; ``from`` after ``to`` is a 422.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from propcare_shared.fields import UtcDateTime
from propcare_shared.scope import InvalidScope, Scope, parse_scope
from propcare_shared.vocabulary import DEFAULT_TIMEZONE

REPORT_TIMEZONE = DEFAULT_TIMEZONE
"""The time zone a period's dates are read in: the default estate time zone, until groups name their own."""
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ScopeField(fields.Field):
    """``estate:<id>``, ``region:<id>`` or ``group:<id>``, loaded as a ``Scope``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Scope:
        if not isinstance(value, str):
            raise ValidationError("Must be a string such as estate:NS01.")
        try:
            return parse_scope(value)
        except InvalidScope as exc:
            raise ValidationError(str(exc)) from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value)


class PeriodBound(UtcDateTime):
    """A time with an offset, or a date read as local midnight of that day (``end_of_day``: of the next day)."""

    def __init__(self, *, end_of_day: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.end_of_day = end_of_day

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, str) and _DATE.match(value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise ValidationError("Not a valid date.") from None
            if self.end_of_day:
                day += timedelta(days=1)
            return datetime.combine(day, time.min, tzinfo=ZoneInfo(REPORT_TIMEZONE)).astimezone(ZoneInfo("UTC"))
        return super()._deserialize(value, attr, data, **kwargs)


class KpiArgs(Schema):
    """The query of ``GET /analytics/kpis``."""

    scope = ScopeField(required=True, metadata={"description": "estate:<id>, region:<id> or group:<id>"})
    from_ = PeriodBound(data_key="from", load_default=None, metadata={"description": "Start (inclusive); default 30 days before `to`."})
    to = PeriodBound(
        end_of_day=True, load_default=None, metadata={"description": "End (exclusive; a date includes that day); default now."}
    )

    @validates_schema
    def period_in_order(self, values: dict[str, Any], **_: Any) -> None:
        """Refuse a period that ends before it starts."""
        if values.get("from_") and values.get("to") and values["from_"] > values["to"]:
            raise ValidationError({"from": ["Must not be after `to`."], "to": ["Must not be before `from`."]})


class HotspotArgs(Schema):
    """The query of ``GET /analytics/hotspots``."""

    scope = ScopeField(required=True, metadata={"description": "estate:<id>, region:<id> or group:<id>"})
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=366), metadata={"description": "The last N days up to now."})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=500))


class MonthlyReportArgs(Schema):
    """The query of ``GET /analytics/reports/monthly``."""

    scope = ScopeField(required=True, metadata={"description": "estate:<id>, region:<id> or group:<id>"})
    month = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="Must be a month as YYYY-MM."),
        metadata={"description": "A calendar month in Asia/Shanghai, YYYY-MM; not in the future."},
    )
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "html")))


class TimeSummaryOut(Schema):
    """Durations in seconds: how many, mean, median and 90th percentile."""

    count = fields.Integer()
    mean = fields.Float(allow_none=True)
    p50 = fields.Float(allow_none=True)
    p90 = fields.Float(allow_none=True)


class OnTimeOut(Schema):
    """One target of one tier: share met on time, the counts and the traffic light."""

    rate = fields.Float(allow_none=True)
    met = fields.Integer()
    breached = fields.Integer()
    light = fields.String(
        allow_none=True, metadata={"description": "green ≥ 95 %, yellow 90-95 %, red < 90 %; null when nothing was measured"}
    )


class VolumeOut(Schema):
    """Complaints received in the period, and their counts by category, subcategory, channel and tier."""

    total = fields.Integer()
    cancelled = fields.Integer()
    by_category = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_subcategory = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_channel = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_tier = fields.Dict(keys=fields.String(), values=fields.Integer())


class SurveyOut(Schema):
    """Follow-up surveys of the period's complaints."""

    invited = fields.Integer()
    answered = fields.Integer()
    response_rate = fields.Float(allow_none=True)
    csat_mean = fields.Float(allow_none=True)
    csat_share_4_5 = fields.Float(allow_none=True)


class KpisOut(Schema):
    """The complaint-handling KPIs of one scope and period (definitions: ``analytics.domain.kpis``)."""

    scope = fields.String()
    from_ = UtcDateTime(data_key="from")
    to = UtcDateTime()
    generated_at = UtcDateTime()
    volume = fields.Nested(VolumeOut)
    resolution_rate = fields.Float(allow_none=True)
    on_time = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Nested(OnTimeOut)))
    response_time = fields.Nested(TimeSummaryOut)
    resolution_time = fields.Nested(TimeSummaryOut)
    reopen_rate = fields.Float(allow_none=True)
    survey = fields.Nested(SurveyOut)


class HotspotOut(Schema):
    """One (estate, building, subcategory) with its complaints in the window."""

    estate_id = fields.String()
    building = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    subcategory = fields.String()
    count = fields.Integer()
    share = fields.Float(metadata={"description": "count ÷ all complaints of the scope in the window"})
    threshold = fields.Integer(metadata={"description": "the hotspot threshold in force at this estate"})
    threshold_days = fields.Integer(metadata={"description": "the hotspot window in force at this estate, in days"})
    reaches_threshold = fields.Boolean(metadata={"description": "count ≥ this estate's threshold"})
    last_detected_at = UtcDateTime(allow_none=True, metadata={"description": "when hotspot.detected last announced it, if in the window"})


class HotspotsOut(Schema):
    """The busiest locations x subcategories of a scope in the last ``days`` days."""

    scope = fields.String()
    from_ = UtcDateTime(data_key="from")
    to = UtcDateTime()
    days = fields.Integer()
    threshold = fields.Integer(metadata={"description": "the hotspot threshold in force at the scope"})
    threshold_days = fields.Integer(metadata={"description": "the hotspot window in force at the scope, in days"})
    total = fields.Integer()
    items = fields.List(fields.Nested(HotspotOut))
