"""Survey's HTTP API and pages (API.md, Surveys): the resident's follow-up page and answer, staff
recording a phone answer, and the invitation list.

The resident needs no JWT: the signed token in the link is the credential. A token with a bad
signature is a 404 before any read; an expired or withdrawn invitation is a 410; a second answer is
a 409 (the answer is a conditional update, so two at once give one 201 and one 409). The page works
without JavaScript: its form posts to ``/s/{token}`` and gets a page back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, current_app, jsonify, request
from flask_smorest import Blueprint
from jinja2 import Environment, PackageLoader, select_autoescape
from marshmallow import ValidationError

from propcare_shared.http.app import ServiceContext
from propcare_shared.http.auth import STAFF_ROLES, authenticated, current_principal, require_scope
from propcare_shared.http.errors import Problem
from propcare_shared.http.idempotency import idempotent
from survey import followups
from survey.metrics import SURVEY_RESPONSES
from survey.schemas import AnswerIn, AnswerOut, InvitationListArgs, InvitationPage, StaffAnswerIn
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
}

surveys = Blueprint("surveys", __name__, url_prefix="/api/v1/surveys", description="Follow-up surveys: invitations and answers.")
pages = Blueprint("survey_pages", __name__, url_prefix="/s", description="The resident's survey page.")
BLUEPRINTS = (surveys, pages)
# People only: a machine client (role ``service``) neither records a resident's answer nor reads the links.
SURVEY_STAFF_ROLES = tuple(role for role in STAFF_ROLES if role != "service")
_templates = Environment(loader=PackageLoader("survey", "templates"), autoescape=select_autoescape(["html", "j2"]))


def _context() -> ServiceContext:
    return current_app.extensions["propcare"]


def _store() -> SurveyStore:
    context = _context()
    return SurveyStore(context.database, clock=context.clock)


def _record(invitation_id: str, values: Mapping[str, Any], *, channel: str) -> dict[str, Any]:
    """Record an answer; raise ``Problem`` 404, 409 or 410 when it cannot be."""
    context = _context()
    store = _store()
    try:
        response = context.uow.run(
            lambda tx: followups.answer(tx, store=store, invitation_id=invitation_id, values=values, channel=channel, now=context.clock())
        )
    except followups.InvitationNotFound:
        raise Problem(404, "Not Found", detail="No such survey invitation.") from None
    except followups.AlreadyAnswered:
        raise Problem(409, "Conflict", detail="This survey was answered already.") from None
    except followups.InvitationClosed:
        raise Problem(410, "Gone", detail="This survey has expired or was withdrawn.") from None
    SURVEY_RESPONSES.labels(response["kind"]).inc()
    return response


def _created(response: Mapping[str, Any]) -> Response:
    """Return the 201 of a recorded answer, ready for ``@idempotent`` to store and replay."""
    created = jsonify(AnswerOut().dump(response))
    created.status_code = 201
    return created


def _invitation_from_token(token: str) -> str:
    invitation_id = invitation_of(_context().settings.jwt_secret, token)
    if invitation_id is None:
        raise Problem(404, "Not Found", detail="This survey link is not valid.")
    return invitation_id


@surveys.route("/<token>/responses", methods=["POST"])
@surveys.arguments(AnswerIn)
@surveys.response(201, AnswerOut)
@idempotent
def post_response(values: dict[str, Any], token: str) -> Response:
    """Answer a follow-up survey with the token of its link (no JWT)."""
    return _created(_record(_invitation_from_token(token), values, channel="online"))


@surveys.route("/invitations/<invitation_id>/responses", methods=["POST"])
@authenticated(roles=SURVEY_STAFF_ROLES)
@surveys.arguments(StaffAnswerIn)
@surveys.response(201, AnswerOut)
@idempotent
def post_staff_response(values: dict[str, Any], invitation_id: str) -> Response:
    """Record the answer a resident gave on the phone (or on paper, or at a visit)."""
    invitation = _store().invitation(invitation_id)
    if invitation is None:
        raise Problem(404, "Not Found", detail="No such survey invitation.")
    require_scope(group_id=invitation.get("group_id"), region_id=invitation.get("region_id"), estate_id=invitation.get("estate_id"))
    channel = values.pop("channel")
    return _created(_record(invitation_id, values, channel=channel))


@surveys.route("", methods=["GET"])
@authenticated(roles=SURVEY_STAFF_ROLES)
@surveys.arguments(InvitationListArgs, location="query")
@surveys.response(200, InvitationPage)
def list_invitations(args: dict[str, Any]) -> dict[str, Any]:
    """List invitations within the caller's scope, newest first, with their status and link."""
    query = {key: args[key] for key in ("complaint_id", "estate_id", "status") if args.get(key)}
    items, next_cursor = _store().list_invitations(
        query={"$and": [query, current_principal().query()]}, limit=args["limit"], cursor=args["cursor"]
    )
    settings = _context().settings
    return {"items": [{**item, "link": followups.link_of(settings, item["_id"])} for item in items], "next_cursor": next_cursor}


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


@pages.route("/<token>", methods=["GET", "POST"])
@pages.doc(exclude=True)
def survey_page(token: str) -> Response:
    """Show the follow-up page, or record the answer its form posts and thank the resident."""
    store = _store()
    invitation_id = invitation_of(_context().settings.jwt_secret, token)
    invitation = store.invitation(invitation_id) if invitation_id else None
    if invitation is None:
        return _notice(404)
    if request.method == "GET":
        if invitation["status"] == "answered":
            return _notice(409)
        if invitation["status"] != "pending" or invitation["expires_at"] <= _context().clock():
            return _notice(410)
        return _page("survey.html.j2", 200, action=f"/s/{token}", ticket_no=invitation.get("ticket_no"), questions=QUESTIONS, errors=None)
    try:
        values = AnswerIn().load(_form_values(request.form))
    except ValidationError as error:
        return _page(
            "survey.html.j2", 422, action=f"/s/{token}", ticket_no=invitation.get("ticket_no"), questions=QUESTIONS, errors=error.messages
        )
    try:
        _record(invitation["_id"], values, channel="online")
    except Problem as problem:
        return _notice(problem.status)
    return _notice(201)
