"""marshmallow schemas of survey's HTTP API (docs/API.md, Surveys)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from propcare_shared.fields import UtcDateTime
from propcare_shared.http.pagination import PageArgs
from survey.domain.questionnaires import COMPLAINT_HANDLING, OVERALL_SCORES, QUESTION_SCORES, RECOMMEND_SCORES, is_in_use

SCORE = validate.Range(min=1, max=5)
STATUSES = ("pending", "answered", "expired", "withdrawn")
ANSWER_CHANNELS = ("phone", "paper", "visit")


class Scores(Schema):
    """The three scores of a follow-up, 1 to 5 each."""

    result = fields.Integer(required=True, strict=True, validate=SCORE)
    speed = fields.Integer(required=True, strict=True, validate=SCORE)
    attitude = fields.Integer(required=True, strict=True, validate=SCORE)


class AnswerIn(Schema):
    """A resident's answer to a follow-up survey."""

    solved = fields.Boolean(required=True, truthy={True}, falsy={False})
    scores = fields.Nested(Scores, required=True)
    comment = fields.String(load_default="", validate=validate.Length(max=1000))


class StaffAnswerIn(AnswerIn):
    """An answer recorded by staff from a phone call (or a paper form or a visit); the recorder is the token's ``sub``."""

    channel = fields.String(load_default="phone", validate=validate.OneOf(ANSWER_CHANNELS))
    actor_id = fields.String(load_default=None, metadata={"description": "Optional; when sent it must be the token's sub (422 otherwise)."})


class AnswerOut(Schema):
    """A recorded answer."""

    invitation_id = fields.String(attribute="_id")
    satisfied = fields.Boolean()
    answered_at = UtcDateTime()
    channel = fields.String(metadata={"description": "online (the resident, through the link), phone, paper or visit"})
    recorded_by = fields.String(allow_none=True, metadata={"description": "The staff member who recorded it; null for online."})


class InvitationListArgs(PageArgs):
    """Filters of the invitation list."""

    complaint_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    estate_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class InvitationOut(Schema):
    """An invitation with its state; never the resident's link (staff get ``link: null``)."""

    id = fields.String(attribute="_id", dump_only=True, metadata={"description": "The invitation's id, as campaign invitations name it."})
    invitation_id = fields.String(attribute="_id", dump_only=True)
    complaint_id = fields.String(allow_none=True)
    ticket_no = fields.String(allow_none=True)
    estate_id = fields.String(allow_none=True)
    kind = fields.String()
    status = fields.String()
    channel = fields.String(allow_none=True)
    link = fields.String(
        allow_none=True,
        metadata={"description": "Always null: the link is the resident's credential and only the resident gets it."},
    )
    created_at = UtcDateTime()
    reminded_at = UtcDateTime(allow_none=True)
    expires_at = UtcDateTime()
    answered_at = UtcDateTime(allow_none=True)
    answer_channel = fields.String(allow_none=True, metadata={"description": "online, phone, paper or visit once answered"})
    recorded_by = fields.String(allow_none=True, metadata={"description": "The staff member who recorded the answer; null for online."})


class InvitationPage(Schema):
    """One page of invitations."""

    items = fields.List(fields.Nested(InvitationOut))
    next_cursor = fields.String(allow_none=True)


# questionnaires ------------------------------------------------------------------------------

IDENTIFIER = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="Lower-case letters, digits and _, starting with a letter; at most 64.")


class Bilingual(Schema):
    """A text in Simplified Chinese and English, both required."""

    zh_CN = fields.String(data_key="zh-CN", required=True, validate=validate.Length(min=1, max=500))
    en = fields.String(required=True, validate=validate.Length(min=1, max=500))


class QuestionIn(Schema):
    """A question scored 1 to 5."""

    id = fields.String(required=True, validate=IDENTIFIER)
    text = fields.Nested(Bilingual, required=True)
    measures = fields.String(load_default=None, allow_none=True, validate=validate.OneOf([COMPLAINT_HANDLING]))


class DimensionIn(Schema):
    """A dimension of satisfaction and its questions."""

    id = fields.String(required=True, validate=IDENTIFIER)
    title = fields.Nested(Bilingual, required=True)
    questions = fields.List(fields.Nested(QuestionIn), required=True, validate=validate.Length(max=50))


class QuestionnaireIn(Schema):
    """A questionnaire as created or replaced (``overall`` and ``recommend`` are implied)."""

    title = fields.Nested(Bilingual, required=True)
    dimensions = fields.List(fields.Nested(DimensionIn), required=True, validate=validate.Length(max=30))


class QuestionnaireOut(Schema):
    """A stored questionnaire, with its version and the scales of its answers."""

    id = fields.String(attribute="_id")
    group_id = fields.String()
    version = fields.Integer()
    previous_id = fields.String(allow_none=True, metadata={"description": "The version this one was made from; null for version 1."})
    title = fields.Nested(Bilingual)
    dimensions = fields.List(fields.Nested(DimensionIn))
    scales = fields.Method("_scales", metadata={"description": "Each question 1-5, overall 1-10, recommend 0-10."})
    in_use = fields.Method("_in_use", metadata={"description": "True once a campaign uses it: a change then makes a new version."})
    created_at = UtcDateTime()
    updated_at = UtcDateTime()

    def _scales(self, questionnaire: dict[str, Any]) -> dict[str, list[int]]:
        return {
            "question": list(QUESTION_SCORES),
            "overall": list(OVERALL_SCORES),
            "recommend": list(RECOMMEND_SCORES),
        }

    def _in_use(self, questionnaire: dict[str, Any]) -> bool:
        return is_in_use(questionnaire)


class QuestionnairePage(Schema):
    """One page of questionnaires."""

    items = fields.List(fields.Nested(QuestionnaireOut))
    next_cursor = fields.String(allow_none=True)
