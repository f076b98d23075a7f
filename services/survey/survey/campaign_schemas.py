"""marshmallow schemas of the campaigns API (docs/API.md, Questionnaires and campaigns; docs/SURVEYS.md, Campaigns).

The sample's own rules (a rate from 0.10 to 1, known strata fields, a mix over known channels summing
to 1, an estate with occupied households) are checked once, by ``domain/sampling.py``, and answered
as field errors like these; the period (``closes_at`` after ``opens_at`` and after now) by
``domain/campaigns.py``.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from propcare_shared.fields import UtcDateTime
from propcare_shared.http.pagination import PageArgs
from survey.domain.campaigns import DEFAULT_REMINDER_AFTER_DAYS, KINDS, STATUSES
from survey.domain.sampling import CHANNELS, DEFAULT_CHANNEL_MIX

ID = validate.Length(min=1, max=64)
INVITATION_STATUSES = ("pending", "answered", "expired")


class CampaignIn(Schema):
    """A campaign to start: the estate, the questionnaire, the sample's method and the period."""

    estate_id = fields.String(required=True, validate=ID)
    questionnaire_id = fields.String(required=True, validate=ID)
    kind = fields.String(
        required=True, validate=validate.OneOf(KINDS), metadata={"description": "regular (常规), special (专项), churn (流失)"}
    )
    sample_rate = fields.Float(required=True, allow_nan=False, metadata={"description": "0.10 to 1, of the occupied households"})
    strata = fields.List(
        fields.String(), load_default=list, validate=validate.Length(max=3), metadata={"description": "building, household_type, age_band"}
    )
    channel_mix = fields.Dict(
        keys=fields.String(),
        values=fields.Float(allow_nan=False),
        load_default=lambda: dict(DEFAULT_CHANNEL_MIX),
        metadata={"description": "online, offline, phone; sums to 1"},
    )
    seed = fields.Integer(
        load_default=None,
        strict=True,
        validate=validate.Range(min=0, max=2**53),
        metadata={"description": "Drawn and returned when left out."},
    )
    opens_at = UtcDateTime(load_default=None, metadata={"description": "Defaults to now."})
    closes_at = UtcDateTime(required=True)
    reminder_after_days = fields.Integer(load_default=DEFAULT_REMINDER_AFTER_DAYS, strict=True, validate=validate.Range(min=1, max=60))


class StratumOut(Schema):
    """One stratum of the sample: its key, its occupied households, how many were sampled and answered."""

    key = fields.Dict(keys=fields.String(), values=fields.String())
    households = fields.Integer()
    sampled = fields.Integer()
    responded = fields.Integer()


class DimensionIds(Schema):
    """A dimension of the campaign's questionnaire: its id and its questions' ids."""

    id = fields.String()
    questions = fields.List(fields.String())


class CampaignOut(Schema):
    """A campaign, its sample and (on a single read) its progress."""

    id = fields.String(attribute="_id")
    estate_id = fields.String()
    region_id = fields.String(allow_none=True)
    group_id = fields.String()
    questionnaire_id = fields.String()
    questionnaire_version = fields.Integer(allow_none=True)
    kind = fields.String()
    status = fields.String(metadata={"description": "open or closed"})
    sample_rate = fields.Float()
    strata_fields = fields.List(fields.String(), metadata={"description": "The strata fields asked for (the request's strata)."})
    channel_mix = fields.Dict(keys=fields.String(), values=fields.Float())
    seed = fields.Integer()
    opens_at = UtcDateTime()
    closes_at = UtcDateTime()
    reminder_after_days = fields.Integer()
    sample_size = fields.Integer()
    channels = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "Invitations per channel."})
    dimensions = fields.List(fields.Nested(DimensionIds))
    complaint_handling_question = fields.String(allow_none=True)
    invited = fields.Integer(metadata={"description": "Invitations sent (online) or handed to staff (offline, phone): all once it opened."})
    responded = fields.Integer()
    response_rate = fields.Float(metadata={"description": "responded / sample_size"})
    strata = fields.List(fields.Nested(StratumOut))
    created_by = fields.String()
    created_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)


class CampaignListArgs(PageArgs):
    """Filters of the campaign list."""

    estate_id = fields.String(load_default=None, validate=ID)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class CampaignPage(Schema):
    """One page of campaigns (without progress counts: read one campaign for those)."""

    items = fields.List(fields.Nested(CampaignOut))
    next_cursor = fields.String(allow_none=True)


class CampaignInvitationArgs(PageArgs):
    """Filters of a campaign's invitations: staff take the offline and phone ones still pending to work from."""

    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    status = fields.String(load_default=None, validate=validate.OneOf(INVITATION_STATUSES))


class CampaignInvitationOut(Schema):
    """A household invited to a campaign, where to find it and how far it got, and an online invitation's link."""

    id = fields.String(attribute="_id")
    campaign_id = fields.String()
    building = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    room = fields.String(allow_none=True)
    household_type = fields.String(allow_none=True)
    channel = fields.String()
    status = fields.String()
    link = fields.String(
        allow_none=True,
        metadata={"description": "An online invitation's survey link (staff who may record answers see it); null otherwise."},
    )
    link_sent = fields.Method("_link_sent", metadata={"description": "Online: whether survey.invited went out with the link."})
    invited_at = UtcDateTime(allow_none=True)
    reminded_at = UtcDateTime(allow_none=True)
    answered_at = UtcDateTime(allow_none=True)
    answer_channel = fields.String(allow_none=True)
    answer_source = fields.String(allow_none=True, metadata={"description": "online, staff or import"})

    def _link_sent(self, invitation: dict[str, object]) -> bool:
        return invitation.get("channel") == "online" and invitation.get("invited_at") is not None


class CampaignInvitationPage(Schema):
    """One page of a campaign's invitations."""

    items = fields.List(fields.Nested(CampaignInvitationOut))
    next_cursor = fields.String(allow_none=True)


class ImportOut(Schema):
    """What an import recorded, and the rows it refused with their reasons."""

    imported = fields.Integer()
    rejected = fields.List(fields.Dict(), metadata={"description": "[{row, reason}], rows counted from 1 after the header"})
    encoding = fields.String(metadata={"description": "utf-8, utf-8-sig (with a BOM) or gbk"})
