"""Survey's HTTP API and pages (the API contract, Surveys): the resident's survey page and answer,
staff recording a phone answer, and the invitation list (docs/SURVEYS.md).

One token, one page, one answer route for both surveys: the invitation's ``kind`` decides. A
follow-up takes ``{"solved", "scores"}``, a campaign ``{"answers", "overall", "recommend"}``; the
other shape is a 422 naming the fields the invitation asks for.

The resident needs no JWT: the signed token in the link is the credential. A token with a bad
signature is a 404 before any read; an expired or withdrawn invitation is a 410; a second answer is
a 409 (the answer is a conditional update, so two at once give one 201 and one 409). The page works
without JavaScript: its form posts to ``/s/{token}`` and gets a page back. Every request that looks
a token up (``/s/{token}``, ``POST /api/v1/surveys/{token}/responses``) is counted per client address
first (``limit_lookups``): 429 with ``Retry-After`` above ``LOOKUP_LIMIT_PER_ADDRESS``.

The list gives each invitation's ``link``, as the API contract has it, to the people who may record an
answer (not a ``handler``, whose work the follow-up rates, and not a machine client): they may already
record the resident's answer by phone, so the link grants them nothing more, and it lets an agent send
it again another way. A handler's list answers ``link: null``. Staff routes apply the kernel's one
scope rule: lists filter with the caller's scope (always their group), an ``estate_id`` filter or an
invitation outside it is 404 (another group's, or none) or 403 (their group, outside their regions
or estates). A phone answer is recorded with ``recorded_by`` = the token's ``sub``; the person who
resolved the complaint may not record its answer (403).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from flask import Response, jsonify, request
from flask_smorest import Blueprint
from jinja2 import Environment, PackageLoader, select_autoescape
from marshmallow import ValidationError

from propcare_shared.context import current_context, current_store
from propcare_shared.http.auth import STAFF_ROLES, authenticated, current_principal, require_visible, scoped_query
from propcare_shared.http.errors import Problem, ProblemMap
from propcare_shared.http.idempotency import idempotent, replayable
from propcare_shared.http.ratelimit import limit_lookups
from survey import campaign_pages, campaigns, followups
from survey.campaign_routes import blueprint as campaign_blueprint
from survey.campaign_store import CampaignStore
from survey.domain.campaign_import import TooManyRows, UnreadableImport
from survey.domain.campaigns import CAMPAIGN, STAFF_CHANNELS, InvalidAnswer, NotOpenYet, question_ids
from survey.domain.campaigns import refusal as refusal_of
from survey.domain.questionnaires import InvalidQuestionnaire, QuestionnaireSuperseded
from survey.domain.sampling import SamplingError
from survey.metrics import SURVEY_RESPONSES
from survey.questionnaire_routes import blueprint as questionnaires
from survey.schemas import ANSWER_CHANNELS, AnswerIn, AnswerOut, InvitationListArgs, InvitationPage, ResidentAnswerIn, StaffAnswerIn
from survey.store import SurveyStore
from survey.tokens import invitation_of

QUESTIONS = (
    ("result", "对处理结果的满意度", "Satisfaction with the result"),
    ("speed", "处理速度", "Speed"),
    ("attitude", "服务态度", "Attitude"),
)
NOTICES = {
    201: ("感谢您的反馈", "Thank you", "您的回访已提交。", "Your answer has been recorded."),
    404: ("链接无效", "Link not valid", "请检查短信或消息中的链接。", "Please check the link in your message."),
    409: ("已经提交过了", "Already answered", "这份回访已提交，感谢您。", "This survey was answered already. Thank you."),
    410: (
        "回访已结束",
        "Survey closed",
        "这份回访已过期或已关闭。如有问题请联系客服中心。",
        "This survey has expired or closed. Please call the service desk if anything is wrong.",
    ),
    429: (
        "请稍后再试",
        "Please try again later",
        "短时间内请求过多，请稍后再试或联系客服中心。",
        "Too many requests from here in a short time. Please try again later or call the service desk.",
    ),
}

surveys = Blueprint("surveys", __name__, url_prefix="/api/v1/surveys", description="Follow-up surveys: invitations and answers.")
pages = Blueprint("survey_pages", __name__, url_prefix="/s", description="The resident's survey page.")
BLUEPRINTS = (surveys, pages, questionnaires, campaign_blueprint)
# People only: a machine client (role ``service``) neither records a resident's answer nor reads the links.
SURVEY_STAFF_ROLES = tuple(role for role in STAFF_ROLES if role != "service")
# Handlers are the people whose work the follow-up rates: they never record its answer.
ANSWER_RECORDERS = tuple(role for role in SURVEY_STAFF_ROLES if role != "handler")
F = TypeVar("F", bound=Callable[..., Any])
_templates = Environment(loader=PackageLoader("survey", "templates"), autoescape=select_autoescape(["html", "j2"]))


PROBLEMS: ProblemMap = {
    followups.InvitationNotFound: lambda _: Problem(404, "Not Found", detail="No such survey invitation."),
    followups.AlreadyAnswered: lambda _: Problem(409, "Conflict", detail="This survey was answered already."),
    followups.InvitationClosed: lambda _: Problem(410, "Gone", detail="This survey has expired or was withdrawn."),
    InvalidQuestionnaire: lambda error: Problem(422, "Invalid request", detail="The questionnaire breaks a rule.", errors=error.errors),
    QuestionnaireSuperseded: lambda error: Problem(
        409, "Conflict", detail="This questionnaire has a newer version; change that one.", latest_id=error.latest_id
    ),
    SamplingError: lambda error: Problem(
        422, "Invalid request", detail="Some fields are missing or invalid.", errors={error.field: [error.message]}
    ),
    campaigns.InvalidCampaign: lambda error: Problem(
        422, "Invalid request", detail="Some fields are missing or invalid.", errors=error.errors
    ),
    InvalidAnswer: lambda error: Problem(422, "Invalid request", detail="The answer does not fit the questionnaire.", errors=error.errors),
    NotOpenYet: lambda error: Problem(409, "Conflict", detail="This survey has not opened yet.", opens_at=error.opens_at.isoformat()),
    UnreadableImport: lambda error: Problem(422, "Invalid request", detail=error.errors["file"][0], errors=error.errors),
    TooManyRows: lambda error: Problem(413, "Content Too Large", detail=str(error)),
}
"""How survey's domain refusals are answered (the kernel registers this table on the app)."""
PAGE_STATUSES = {followups.InvitationNotFound: 404, followups.AlreadyAnswered: 409, followups.InvitationClosed: 410}
ASKED = {"follow_up": ("solved", "scores"), CAMPAIGN: ("answers", "overall", "recommend")}


def _require_shape(invitation: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Refuse (422) an answer in the other survey's shape, naming the fields this invitation asks for."""
    kind = CAMPAIGN if invitation.get("kind") == CAMPAIGN else "follow_up"
    if values["shape"] != kind:
        raise Problem(
            422,
            "Invalid request",
            detail="This survey asks other questions.",
            errors={field: ["Missing data for required field."] for field in ASKED[kind]},
        )


def _record(
    invitation_id: str, values: Mapping[str, Any], *, staff_channel: str | None = None, recorded_by: str | None = None
) -> dict[str, Any]:
    """Record an answer (the resident's without ``staff_channel``); the domain's refusals are answered by ``PROBLEMS``."""
    context = current_context()
    store = current_store(SurveyStore)
    invitation = store.invitation(invitation_id)
    if invitation is None:
        raise followups.InvitationNotFound(invitation_id)
    _require_shape(invitation, values)
    answer = {key: value for key, value in values.items() if key != "shape"}
    if invitation.get("kind") == CAMPAIGN:
        channel, source = (STAFF_CHANNELS[staff_channel], "staff") if staff_channel else ("online", "online")
        response = context.uow.run(
            lambda tx: campaigns.answer(
                tx,
                surveys=store,
                store=CampaignStore(context.database),
                invitation_id=invitation_id,
                values=answer,
                channel=channel,
                source=source,
                now=context.clock(),
                recorded_by=recorded_by,
            )
        )
    else:
        if staff_channel is not None and staff_channel not in ANSWER_CHANNELS:
            raise Problem(
                422,
                "Invalid request",
                detail="A follow-up answer is recorded from a phone call, paper or a visit.",
                errors={"channel": [f"Must be one of: {', '.join(ANSWER_CHANNELS)}."]},
            )
        channel = staff_channel or "online"
        response = context.uow.run(
            lambda tx: followups.answer(
                tx, store=store, invitation_id=invitation_id, values=answer, channel=channel, now=context.clock(), recorded_by=recorded_by
            )
        )
    SURVEY_RESPONSES.labels(response["kind"]).inc()
    return response


def _created(response: Mapping[str, Any]) -> Response:
    """Return the 201 of a recorded answer, ready for ``replayable`` to store and replay."""
    created = jsonify(AnswerOut().dump(response))
    created.status_code = 201
    return created


def _invitation_from_token(token: str) -> str:
    invitation_id = invitation_of(current_context().settings.jwt_secret, token)
    if invitation_id is None:
        raise Problem(404, "Not Found", detail="This survey link is not valid.")
    return invitation_id


def _lookup_limited(view: F) -> F:
    """Count a survey-token lookup against the client address's limit (429 above it) before the view runs."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        limit_lookups("survey")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@surveys.route("/<token>/responses", methods=["POST"])
@surveys.arguments(ResidentAnswerIn)
@surveys.response(201, AnswerOut)
@_lookup_limited
@idempotent
def post_response(values: dict[str, Any], token: str) -> Response:
    """Answer a follow-up or campaign survey with the token of its link (no JWT; keys are per client address)."""
    return _created(_record(_invitation_from_token(token), values))


@surveys.route("/invitations/<invitation_id>/responses", methods=["POST"])
@authenticated(roles=ANSWER_RECORDERS)
@surveys.arguments(StaffAnswerIn)
@surveys.response(201, AnswerOut)
def post_staff_response(values: dict[str, Any], invitation_id: str) -> Response:
    """Record the answer a resident gave on the phone (or on paper, or at a visit), as the caller; follow-up or campaign."""
    principal = current_principal()
    invitation = require_visible(current_store(SurveyStore).invitation(invitation_id), what="survey invitation", identifier=invitation_id)
    actor_id = values.pop("actor_id")
    if actor_id is not None and actor_id != principal.sub:
        raise Problem(
            422,
            "Unprocessable Entity",
            detail="The recorder is the caller.",
            errors={"actor_id": ["Must be the caller's own id (the token's sub), or left out."]},
        )
    if invitation.get("resolved_by") and invitation["resolved_by"] == principal.sub:
        raise Problem(403, "Forbidden", detail="Whoever resolved a complaint may not record its follow-up answer; ask a colleague.")
    channel = values.pop("channel")
    return replayable(lambda: _created(_record(invitation_id, values, staff_channel=channel, recorded_by=principal.sub)))


@surveys.route("", methods=["GET"])
@authenticated(roles=SURVEY_STAFF_ROLES)
@surveys.arguments(InvitationListArgs, location="query")
@surveys.response(200, InvitationPage)
def list_invitations(args: dict[str, Any]) -> dict[str, Any]:
    """List invitations within the caller's scope, newest first, with their status and link (null for a handler)."""
    store = current_store(SurveyStore)
    known = store.estate_tenancy(args["estate_id"]) if args["estate_id"] else None
    scope = scoped_query(estate_id=args["estate_id"], estate=known, records_only=True)
    query = {key: args[key] for key in ("complaint_id", "status") if args.get(key)}
    items, next_cursor = store.list_invitations(query={"$and": [scope, query]}, limit=args["limit"], cursor=args["cursor"])
    context = current_context()
    show_links = current_principal().role in ANSWER_RECORDERS
    return {
        "items": [{**item, "link": followups.link_of(context, item["_id"]) if show_links else None} for item in items],
        "next_cursor": next_cursor,
    }


# the resident's page -----------------------------------------------------------------------------


def _page(template: str, status: int, **values: Any) -> Response:
    body = _templates.get_template(template).render(**values)
    page = Response(body, status=status, mimetype="text/html")
    # The token in the address is the resident's credential: keep it out of caches and Referer headers.
    page.headers["Cache-Control"] = "no-store"
    page.headers["Referrer-Policy"] = "no-referrer"
    return page


def _notice(status: int) -> Response:
    title, title_en, message, message_en = NOTICES[status]
    return _page("notice.html.j2", status, title=title, title_en=title_en, message=message, message_en=message_en)


def _form_values(form: Mapping[str, str]) -> dict[str, Any]:
    """Turn the page's form fields into the JSON shape of an answer (the schema then validates it)."""
    solved = {"true": True, "false": False}.get(form.get("solved", ""))
    scores = {key: int(form[key]) if form.get(key, "").isdigit() else form.get(key) for key, _, _ in QUESTIONS}
    return {
        "solved": solved,
        "scores": {key: value for key, value in scores.items() if value is not None},
        "comment": form.get("comment", ""),
    }


def _refusal_notice(refusal: str) -> Response:
    if refusal == "not_open":
        title, title_en, message, message_en = campaign_pages.NOT_OPEN
        return _page("notice.html.j2", 409, title=title, title_en=title_en, message=message, message_en=message_en)
    return _notice({"answered": 409, "closed": 410}[refusal])


def _follow_up_page(token: str, invitation: Mapping[str, Any]) -> Response:
    page = {"action": f"/s/{token}", "ticket_no": invitation.get("ticket_no"), "questions": QUESTIONS}
    if request.method == "GET":
        return _page("survey.html.j2", 200, **page, errors=None)
    try:
        values = {**AnswerIn().load(_form_values(request.form)), "shape": "follow_up"}
    except ValidationError as error:
        return _page("survey.html.j2", 422, **page, errors=error.messages)
    _record(invitation["_id"], values)
    return _notice(201)


def _campaign_page(token: str, invitation: Mapping[str, Any]) -> Response:
    campaign = CampaignStore(current_context().database).campaign(invitation["campaign_id"]) or {}
    questionnaire = current_store(SurveyStore).questionnaire(campaign.get("questionnaire_id", ""))
    if questionnaire is None:
        return _notice(404)
    action = f"/s/{token}"
    if request.method == "GET":
        return _page("campaign.html.j2", 200, **campaign_pages.page_values(questionnaire, action=action))
    form = {key: str(value) for key, value in request.form.items()}
    try:
        values = ResidentAnswerIn().load(campaign_pages.form_values(form, questions=question_ids(campaign["dimensions"])))
        _record(invitation["_id"], values)
    except (ValidationError, InvalidAnswer) as error:
        errors = error.normalized_messages() if isinstance(error, ValidationError) else error.errors
        return _page("campaign.html.j2", 422, **campaign_pages.page_values(questionnaire, action=action, chosen=form, errors=errors))
    return _notice(201)


@pages.route("/<token>", methods=["GET", "POST"])
@pages.doc(exclude=True)
def survey_page(token: str) -> Response:
    """Show the follow-up or campaign page, or record the answer its form posts and thank the resident."""
    try:
        limit_lookups("survey")
    except Problem as refused:
        notice = _notice(refused.status)
        notice.headers.update(refused.headers or {})
        return notice
    store = current_store(SurveyStore)
    invitation_id = invitation_of(current_context().settings.jwt_secret, token)
    invitation = store.invitation(invitation_id) if invitation_id else None
    if invitation is None:
        return _notice(404)
    refusal = refusal_of(invitation=invitation, now=current_context().clock())
    if refusal is not None:
        return _refusal_notice(refusal)
    try:
        if invitation.get("kind") == CAMPAIGN:
            return _campaign_page(token, invitation)
        return _follow_up_page(token, invitation)
    except (followups.InvitationNotFound, followups.AlreadyAnswered, followups.InvitationClosed) as refused:
        return _notice(PAGE_STATUSES[type(refused)])
    except NotOpenYet:
        return _refusal_notice("not_open")
