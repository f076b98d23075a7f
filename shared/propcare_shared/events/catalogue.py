"""The catalogue of event types: one data schema per type, declared once for every service.

Events carry ids and what consumers need, nothing more. No name or phone travels in clear: the
reporter's contact in ``complaint.received`` and a household's in ``directory.households.imported``
is ``contact``, sealed by intake with
``PERSONAL_DATA_KEYS`` (``propcare_shared.sealing``) for notification, the only consumer given the
keys; queues, parked messages and replays show only the sealed text. The reporter's role (owner,
tenant, other) is not personal and travels in clear. docs/EVENTS.md lists the catalogue.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

from propcare_shared.fields import UtcDateTime
from propcare_shared.vocabulary import DEFAULT_TIMEZONE


class EventData(Schema):
    """Base of every payload schema: unknown fields from newer producers are ignored on read."""

    class Meta:
        unknown = EXCLUDE


class ComplaintReceived(EventData):
    complaint_id = fields.String(required=True)
    ticket_no = fields.String(required=True)
    channel = fields.String(required=True)
    building = fields.String(allow_none=True, load_default=None)
    unit = fields.String(allow_none=True, load_default=None)
    room = fields.String(allow_none=True, load_default=None)
    household_id = fields.String(allow_none=True, load_default=None)
    household_type = fields.String(allow_none=True, load_default=None)
    age_band = fields.String(allow_none=True, load_default=None)
    description = fields.String(required=True)
    demand = fields.String(allow_none=True, load_default=None)
    category_hint = fields.String(allow_none=True, load_default=None)
    expected_by = UtcDateTime(allow_none=True, load_default=None)
    first_responder_id = fields.String(allow_none=True, load_default=None)
    received_at = UtcDateTime(required=True)
    timezone = fields.String(load_default=DEFAULT_TIMEZONE)
    language = fields.String(load_default="zh-CN")
    reporter_role = fields.String(allow_none=True, load_default=None)
    contact = fields.String(allow_none=True, load_default=None, metadata={"description": "sealed {name, phone, email}"})
    hotline_ticket_id = fields.String(allow_none=True, load_default=None)
    hotline_deadline = UtcDateTime(allow_none=True, load_default=None)
    urgent = fields.Boolean(load_default=False, metadata={"description": "a transfer the hotline marked urgent: the top tier's clock"})


class ComplaintUpdatedByResident(EventData):
    complaint_id = fields.String(required=True)
    note = fields.String(required=True)


class WorkOrderChanged(EventData):
    """Every ``complaint.*`` fact dispatch emits shares this shape."""

    complaint_id = fields.String(required=True)
    ticket_no = fields.String(required=True)
    status = fields.String(required=True)
    action = fields.String(required=True)
    at = UtcDateTime(required=True)
    actor_id = fields.String(allow_none=True, load_default=None)
    note = fields.String(allow_none=True, load_default=None)
    channel = fields.String(allow_none=True, load_default=None)
    category = fields.String(allow_none=True, load_default=None)
    subcategory = fields.String(allow_none=True, load_default=None)
    tier = fields.String(allow_none=True, load_default=None)
    department = fields.String(allow_none=True, load_default=None)
    assignee_id = fields.String(allow_none=True, load_default=None)
    confidence = fields.Float(allow_none=True, load_default=None)
    needs_review = fields.Boolean(load_default=False)
    matched = fields.List(fields.String(), load_default=list)
    deadlines = fields.Dict(keys=fields.String(), values=UtcDateTime(allow_none=True), load_default=dict)
    targets_met = fields.Dict(keys=fields.String(), values=fields.Boolean(), load_default=dict)
    escalation_level = fields.Integer(load_default=0)
    reason = fields.String(allow_none=True, load_default=None)
    resolution = fields.String(allow_none=True, load_default=None)
    received_at = UtcDateTime(allow_none=True, load_default=None)
    repeat = fields.Boolean(load_default=False)


class SlaAlert(EventData):
    complaint_id = fields.String(required=True)
    ticket_no = fields.String(required=True)
    target = fields.String(required=True)
    tier = fields.String(required=True)
    due_at = UtcDateTime(required=True)
    at = UtcDateTime(required=True)
    level = fields.Integer(load_default=0)
    notify_roles = fields.List(fields.String(), load_default=list)
    assignee_id = fields.String(allow_none=True, load_default=None)
    department = fields.String(allow_none=True, load_default=None)


class SurveyInvited(EventData):
    invitation_id = fields.String(required=True)
    kind = fields.String(required=True)
    link = fields.String(required=True)
    expires_at = UtcDateTime(required=True)
    channel = fields.String(allow_none=True, load_default=None)
    complaint_id = fields.String(allow_none=True, load_default=None)
    campaign_id = fields.String(allow_none=True, load_default=None)
    household_id = fields.String(allow_none=True, load_default=None)
    reminder = fields.Boolean(load_default=False)


class SurveyAnswered(EventData):
    """A follow-up survey answered (or closed unanswered after its reminder); campaign answers are ``campaign.response_recorded``."""

    invitation_id = fields.String(required=True)
    kind = fields.String(required=True)
    channel = fields.String(allow_none=True, load_default=None)
    complaint_id = fields.String(allow_none=True, load_default=None)
    solved = fields.Boolean(allow_none=True, load_default=None)
    scores = fields.Dict(keys=fields.String(), values=fields.Float(), load_default=dict)
    satisfied = fields.Boolean(required=True)
    answered_at = UtcDateTime(required=True)
    auto_closed = fields.Boolean(load_default=False)


class QuestionnaireDimension(EventData):
    """A dimension of a campaign's questionnaire: its id and its questions' ids (no texts)."""

    id = fields.String(required=True)
    questions = fields.List(fields.String(), required=True)


class CampaignChanged(EventData):
    """A satisfaction campaign started or closed: what analytics needs to read its answers, no household."""

    campaign_id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "regular, special or churn"})
    questionnaire_id = fields.String(allow_none=True, load_default=None)
    sample_size = fields.Integer(load_default=0)
    strata = fields.List(fields.String(), load_default=list)
    channels = fields.Dict(
        keys=fields.String(), values=fields.Integer(), load_default=dict, metadata={"description": "invitations per channel"}
    )
    dimensions = fields.List(fields.Nested(QuestionnaireDimension), load_default=list)
    complaint_handling_question = fields.String(allow_none=True, load_default=None)
    opens_at = UtcDateTime(allow_none=True, load_default=None)
    closes_at = UtcDateTime(allow_none=True, load_default=None)
    responded = fields.Integer(load_default=0, metadata={"description": "closed: the answers recorded"})


class CampaignResponseRecorded(EventData):
    """One campaign invitation answered, by any path; no household id, name, phone or comment."""

    campaign_id = fields.String(required=True)
    invitation_id = fields.String(required=True)
    channel = fields.String(required=True, metadata={"description": "online, offline or phone"})
    source = fields.String(required=True, metadata={"description": "online, staff or import"})
    household_type = fields.String(allow_none=True, load_default=None)
    age_band = fields.String(allow_none=True, load_default=None)
    answers = fields.Dict(keys=fields.String(), values=fields.Integer(), load_default=dict, metadata={"description": "question id → 1-5"})
    overall = fields.Integer(required=True, metadata={"description": "1-10"})
    recommend = fields.Integer(required=True, metadata={"description": "0-10"})
    answered_at = UtcDateTime(required=True)


class NotificationOutcome(EventData):
    message_id = fields.String(required=True)
    kind = fields.String(required=True)
    channel = fields.String(required=True)
    provider = fields.String(required=True)
    complaint_id = fields.String(allow_none=True, load_default=None)
    attempts = fields.Integer(load_default=1)
    error = fields.String(allow_none=True, load_default=None)


class EstateUpserted(EventData):
    estate_id = fields.String(required=True)
    name = fields.String(required=True)
    code = fields.String(required=True)
    region_id = fields.String(required=True)
    group_id = fields.String(required=True)
    timezone = fields.String(load_default=DEFAULT_TIMEZONE)


class Household(EventData):
    household_id = fields.String(required=True)
    building = fields.String(required=True)
    unit = fields.String(allow_none=True, load_default=None)
    room = fields.String(required=True)
    household_type = fields.String(required=True)
    age_band = fields.String(allow_none=True, load_default=None)
    contact = fields.String(allow_none=True, load_default=None, metadata={"description": "sealed {name, phone}, for notification"})


class HouseholdsImported(EventData):
    """Households; their residents' names and phones only sealed (``contact``), for notification."""

    households = fields.List(fields.Nested(Household), required=True)


class HotspotDetected(EventData):
    location = fields.String(required=True)
    building = fields.String(allow_none=True, load_default=None)
    subcategory = fields.String(required=True)
    count = fields.Integer(required=True)
    days = fields.Integer(required=True)
    threshold = fields.Integer(required=True)
    window_start = UtcDateTime(allow_none=True, load_default=None)
    window_end = UtcDateTime(allow_none=True, load_default=None)
    complaint_ids = fields.List(fields.String(), load_default=list)


class HotlineActed(EventData):
    """What the property company did with a 12345 transfer: signed for it, returned it, asked for more time."""

    hotline_ticket_id = fields.String(required=True)
    complaint_id = fields.String(allow_none=True, load_default=None)
    at = UtcDateTime(required=True)
    actor_id = fields.String(allow_none=True, load_default=None)
    reason = fields.String(allow_none=True, load_default=None)
    until = UtcDateTime(allow_none=True, load_default=None, metadata={"description": "extension_requested: the new date"})


class HotlineSatisfaction(EventData):
    """The hotline's own follow-up call (回访) result for a transfer."""

    hotline_ticket_id = fields.String(required=True)
    complaint_id = fields.String(required=True)
    result = fields.String(required=True, metadata={"description": "satisfied, basically_satisfied or dissatisfied"})
    comment = fields.String(allow_none=True, load_default=None)
    at = UtcDateTime(required=True)


class HotlineCallbackUpdated(EventData):
    """The delivery state of one callback to the hotline (notification tells intake, which lists it)."""

    hotline_ticket_id = fields.String(required=True)
    callback_id = fields.String(required=True)
    event = fields.String(required=True, metadata={"description": "accepted, returned, extension_requested, progress or completed"})
    state = fields.String(required=True, metadata={"description": "pending, delivered or failing"})
    attempts = fields.Integer(load_default=0)
    last_error = fields.String(allow_none=True, load_default=None)
    at = UtcDateTime(required=True)


class CallLogged(EventData):
    """An agent's call to a resident about a complaint and its outcome (notification's call list); no phone."""

    call_task_id = fields.String(required=True)
    complaint_id = fields.String(required=True)
    ticket_no = fields.String(allow_none=True, load_default=None)
    kind = fields.String(required=True, metadata={"description": "the message the call stands beside, e.g. acknowledgement"})
    outcome = fields.String(required=True, metadata={"description": "reached, no_answer or wrong_number"})
    note = fields.String(allow_none=True, load_default=None)
    attempt = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "open (to call again at next_due_at) or done"})
    next_due_at = UtcDateTime(allow_none=True, load_default=None)
    actor_id = fields.String(allow_none=True, load_default=None)
    at = UtcDateTime(required=True)


WORK_ORDER_EVENTS = (
    "complaint.classified",
    "complaint.assigned",
    "complaint.accepted",
    "complaint.responded",
    "complaint.arrived",
    "complaint.plan_submitted",
    "complaint.progress_updated",
    "complaint.on_hold",
    "complaint.resumed",
    "complaint.resolved",
    "complaint.reopened",
    "complaint.closed",
    "complaint.cancelled",
    "complaint.escalated",
    "complaint.reassigned",
    "complaint.reclassified",
)

CATALOGUE: dict[str, type[EventData]] = {
    "complaint.received": ComplaintReceived,
    "complaint.updated_by_resident": ComplaintUpdatedByResident,
    **{event_type: WorkOrderChanged for event_type in WORK_ORDER_EVENTS},
    "sla.warning": SlaAlert,
    "sla.breached": SlaAlert,
    "survey.invited": SurveyInvited,
    "survey.completed": SurveyAnswered,
    "survey.dissatisfied": SurveyAnswered,
    "campaign.started": CampaignChanged,
    "campaign.closed": CampaignChanged,
    "campaign.response_recorded": CampaignResponseRecorded,
    "notification.sent": NotificationOutcome,
    "notification.failed": NotificationOutcome,
    "directory.estate.upserted": EstateUpserted,
    "directory.households.imported": HouseholdsImported,
    "hotspot.detected": HotspotDetected,
    "hotline.accepted": HotlineActed,
    "hotline.returned": HotlineActed,
    "hotline.extension_requested": HotlineActed,
    "hotline.satisfaction_reported": HotlineSatisfaction,
    "hotline.callback_updated": HotlineCallbackUpdated,
    "notification.call_logged": CallLogged,
}


class UnknownEventType(KeyError):
    """Raised for an event type the catalogue does not declare."""


def schema_for(event_type: str) -> type[EventData]:
    """Return the data schema of an event type."""
    try:
        return CATALOGUE[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None
