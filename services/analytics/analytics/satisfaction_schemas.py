"""marshmallow schemas of the satisfaction figures and the hotspot settings (docs/API.md, Analytics).

The period of ``GET /analytics/satisfaction`` is ``month`` (a calendar month in Asia/Shanghai) or
``from``/``to`` (as ``/kpis``: a date is local midnight), never both; without ``campaign_id`` it
defaults to the 30 days up to now, with one it defaults to all the campaign's answers.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from analytics.domain.hotspot_settings import MAX_DAYS, MAX_THRESHOLD, MIN_DAYS, MIN_THRESHOLD
from analytics.schemas import PeriodBound, ScopeField
from propcare_shared.fields import UtcDateTime

_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class SatisfactionArgs(Schema):
    """The query of ``GET /analytics/satisfaction``."""

    scope = ScopeField(required=True, metadata={"description": "estate:<id>, region:<id> or group:<id>"})
    campaign_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100), metadata={"description": "One campaign."})
    month = fields.String(
        load_default=None,
        validate=validate.Regexp(_MONTH, error="Must be a month as YYYY-MM."),
        metadata={"description": "A calendar month in Asia/Shanghai; instead of from/to."},
    )
    from_ = PeriodBound(data_key="from", load_default=None, metadata={"description": "Start (inclusive)."})
    to = PeriodBound(end_of_day=True, load_default=None, metadata={"description": "End (exclusive; a date includes that day)."})

    @validates_schema
    def one_period(self, values: dict[str, Any], **_: Any) -> None:
        """Refuse a month given with from/to, and a period that ends before it starts."""
        if values.get("month") and (values.get("from_") or values.get("to")):
            raise ValidationError({"month": ["Give either `month` or `from`/`to`, not both."]})
        if values.get("from_") and values.get("to") and values["from_"] > values["to"]:
            raise ValidationError({"from": ["Must not be after `to`."], "to": ["Must not be before `from`."]})


class DimensionOut(Schema):
    """One dimension: how many answers scored it, its mean (1-5) and its weight (Pearson r with overall)."""

    id = fields.String()
    n = fields.Integer()
    mean = fields.Float(allow_none=True)
    weight = fields.Float(allow_none=True)


class CellOut(Schema):
    """One cell of a cross table; below the minimum ``too_small`` and null figures."""

    n = fields.Integer()
    overall_mean = fields.Float(allow_none=True)
    nps = fields.Float(allow_none=True)
    too_small = fields.Boolean()


class PriorityOut(Schema):
    """One dimension in the priority matrix."""

    dimension = fields.String()
    weight = fields.Float(allow_none=True)
    score = fields.Float(allow_none=True)
    quadrant = fields.String(metadata={"description": "fix_first, keep, watch, low_priority or unrated"})


class MonthOut(Schema):
    """One calendar month of answers."""

    month = fields.String()
    responses = fields.Integer()
    overall_mean = fields.Float(allow_none=True)
    nps = fields.Float(allow_none=True)


class SatisfactionOut(Schema):
    """The satisfaction figures of a campaign, or of a scope over a period (definitions: docs/ANALYTICS.md)."""

    scope = fields.String()
    campaign_id = fields.String(allow_none=True)
    campaigns = fields.List(fields.String(), metadata={"description": "the campaigns whose answers are counted"})
    from_ = UtcDateTime(data_key="from", allow_none=True)
    to = UtcDateTime(allow_none=True)
    generated_at = UtcDateTime()
    responses = fields.Integer()
    overall_mean = fields.Float(allow_none=True)
    nps = fields.Float(allow_none=True)
    promoters = fields.Integer()
    passives = fields.Integer()
    detractors = fields.Integer()
    dimensions = fields.List(fields.Nested(DimensionOut))
    cross_tables = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Nested(CellOut)))
    complaint_handling_r = fields.Float(allow_none=True)
    priority_matrix = fields.List(fields.Nested(PriorityOut))
    by_month = fields.List(fields.Nested(MonthOut))
    min_cell = fields.Integer(metadata={"description": "cells of fewer answers are too small"})


class HotspotSettingIn(Schema):
    """A scope's own hotspot figures; a figure left out is inherited from the wider scope."""

    threshold = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=MIN_THRESHOLD, max=MAX_THRESHOLD),
        metadata={"description": "complaints of one subcategory in one building that make a hotspot"},
    )
    days = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=MIN_DAYS, max=MAX_DAYS),
        metadata={"description": "the window they fall in"},
    )

    @validates_schema
    def some_figure(self, values: dict[str, Any], **_: Any) -> None:
        """Refuse a body that sets nothing."""
        if values.get("threshold") is None and values.get("days") is None:
            raise ValidationError({"threshold": ["Give `threshold`, `days` or both."]})


class FiguresOut(Schema):
    """A threshold and a window."""

    threshold = fields.Integer(allow_none=True)
    days = fields.Integer(allow_none=True)


class InheritedOut(Schema):
    """Where each figure in force comes from: a scope, or ``default``."""

    threshold = fields.String()
    days = fields.String()


class HotspotSettingOut(Schema):
    """The hotspot figures in force at a scope, where each comes from, and the scope's own."""

    scope = fields.String()
    threshold = fields.Integer()
    days = fields.Integer()
    inherited_from = fields.Nested(InheritedOut)
    own = fields.Nested(FiguresOut)
