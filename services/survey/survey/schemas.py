"""marshmallow schemas of survey's HTTP API (docs/API.md, Surveys)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from propcare_shared.fields import UtcDateTime
from propcare_shared.http.pagination import PageArgs
from survey.domain.campaigns import COMMENT_LIMIT, STAFF_CHANNELS
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


FOLLOW_UP_FIELDS = ("solved", "scores")
CAMPAIGN_FIELDS = ("answers", "overall", "recommend")
MISSING = "Missing data for required field."


class ResidentAnswerIn(Schema):
    """An answer to either survey: a follow-up's ``solved`` and ``scores``, or a campaign's ``answers``, ``overall`` and ``recommend``.

    The body's shape is checked here, before the token is looked up; whether it is the shape the
    invitation asks for, and (for a campaign) whether ``answers`` scores exactly its questions 1 to 5,
    once the invitation is known. The loaded answer carries ``shape``: ``follow_up`` or ``campaign``.
    """

    solved = fields.Boolean(truthy={True}, falsy={False})
    scores = fields.Nested(Scores)
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        values=fields.Raw(),
        validate=validate.Length(max=200),
        metadata={"description": "Campaign: question id → 1-5, every question of the questionnaire."},
    )
    overall = fields.Integer(strict=True, validate=validate.Range(min=OVERALL_SCORES[0], max=OVERALL_SCORES[1]))
    recommend = fields.Integer(strict=True, validate=validate.Range(min=RECOMMEND_SCORES[0], max=RECOMMEND_SCORES[1]))
    comment = fields.String(load_default="", validate=validate.Length(max=COMMENT_LIMIT))

    @validates_schema
    def _one_shape(self, data: dict[str, Any], **_kwargs: Any) -> None:
        campaign = any(key in data for key in CAMPAIGN_FIELDS)
        required, foreign = (CAMPAIGN_FIELDS, FOLLOW_UP_FIELDS) if campaign else (FOLLOW_UP_FIELDS, CAMPAIGN_FIELDS)
        errors: dict[str, list[str]] = {field: [MISSING] for field in required if field not in data}
        errors.update({field: ["Not asked together with " + ", ".join(required) + "."] for field in foreign if field in data})
        if errors:
            raise ValidationError(errors)

    @post_load
    def _shape(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {**data, "shape": "campaign" if "answers" in data else "follow_up"}


class StaffAnswerIn(ResidentAnswerIn):
    """An answer recorded by staff from a phone call (or a paper form or a visit); the recorder is the token's ``sub``.

    A follow-up takes ``phone``, ``paper`` or ``visit``; a campaign ``phone`` or ``offline`` (``paper``
    and ``visit`` count as ``offline``).
    """

    channel = fields.String(load_default="phone", validate=validate.OneOf(tuple(STAFF_CHANNELS)))
    actor_id = fields.String(load_default=None, metadata={"description": "Optional; when sent it must be the token's sub (422 otherwise)."})


class AnswerOut(Schema):
    """A recorded answer (``satisfied`` for a follow-up, ``campaign_id`` and ``source`` for a campaign)."""

    invitation_id = fields.String(attribute="_id")
    kind = fields.String()
    campaign_id = fields.String()
    source = fields.String(metadata={"description": "Campaign answers: online, staff or import."})
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
    """An invitation with its state and its link (null for a handler, whose work the follow-up rates)."""

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
        metadata={"description": "The resident's survey link; shown to staff who may record an answer, null for a handler."},
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
