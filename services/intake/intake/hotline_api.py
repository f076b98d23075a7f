"""The 12345 hotline's HTTP API in intake (docs/API.md "12345 hotline", docs/HOTLINE.md).

Two kinds of caller:
- the hotline platform, which signs its calls (``X-Hotline-Timestamp``, ``X-Hotline-Signature``) and
  carries no JWT: ``POST /transfers`` and ``POST /transfers/{id}/satisfaction``. The signature is
  checked on the raw body before anything is parsed, so an unsigned call learns nothing but 401;
  bodies are at most ``MAX_BODY_BYTES`` (413 beyond);
- staff with a token, within the scope rule: a transfer with an estate is seen and acted on like its
  complaint (``Principal.query``, ``require_visible``); one in triage has no estate and is seen by the
  ``TRIAGE_ROLES`` of the group that triages it, who may assign it an estate of their own scope.
Lists never show a caller's name or phone except masked. The hotline's domain refusals are answered
by this blueprint's own table, ``HOTLINE_PROBLEMS``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from flask import Response, jsonify, request
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from intake import hotline as transfers
from intake.config import config_of
from intake.domain.hotline import (
    ALLOWED,
    OPEN_STATES,
    IllegalAction,
    InvalidValue,
    SignatureRefused,
    body_digest,
    mask_name,
    mask_phone,
    triage_group,
    verify,
)
from intake.hotline_schemas import (
    EstateChoice,
    ExtensionIn,
    ReturnIn,
    SatisfactionIn,
    TransferCreated,
    TransferIn,
    TransferListArgs,
    TransferOut,
    TransferPage,
)
from intake.hotline_store import HotlineStore
from intake.store import IntakeStore
from propcare_shared.context import current_context, current_store
from propcare_shared.http.auth import Principal, authenticated, current_principal, not_yours, require_visible
from propcare_shared.http.errors import Problem, field_errors, problem_response
from propcare_shared.sealing import Sealer

MAX_BODY_BYTES = 64 * 1024
ACTING_ROLES = ("agent", "supervisor", "manager")
"""Who signs for (签收), returns (退单) and asks to extend (延期) a transfer of their scope."""
TRIAGE_ROLES = ("agent", "supervisor", "manager", "group_admin")
"""Who sees the triage of their group and assigns a transfer an estate (of their own scope)."""
READING_ROLES = ("agent", "supervisor", "manager", "regional_ops", "group_admin", "service")

hotline_api = Blueprint("hotline", __name__, url_prefix="/api/v1/hotline", description="12345 government hotline transfers (转办).")


# the hotline's refusals --------------------------------------------------------------------------


def _illegal(error: IllegalAction) -> Response:
    return _problem(Problem(409, "Conflict", detail=error.detail, state=error.state, allowed_actions=_staff_actions(error.allowed)))


def _staff_actions(actions: tuple[str, ...]) -> list[str]:
    """Return the actions staff may take (the follow-up result is the hotline's own call)."""
    return [action for action in actions if action != "satisfaction"]


def _invalid(error: InvalidValue) -> Response:
    return _problem(Problem(422, "Invalid request", detail="Some fields are missing or invalid.", errors={error.field: [error.message]}))


def _signature(error: SignatureRefused) -> Response:
    return _problem(Problem(401, "Unauthorized", detail=error.reason, headers={"WWW-Authenticate": "HMAC-SHA256"}))


def _conflict(error: transfers.TransferConflict) -> Response:
    return _problem(Problem(409, "Conflict", detail=f"The hotline ticket {error.hotline_ticket_id!r} was received with another body."))


def _problem(problem: Problem) -> Response:
    return problem_response(
        problem.status, problem.title, detail=problem.detail, errors=problem.errors, headers=problem.headers, **problem.extra
    )


HOTLINE_PROBLEMS = {
    IllegalAction: _illegal,
    InvalidValue: _invalid,
    SignatureRefused: _signature,
    transfers.TransferConflict: _conflict,
}
"""How the hotline's domain refusals are answered (registered on this blueprint)."""
for _refusal, _to_response in HOTLINE_PROBLEMS.items():
    hotline_api.register_error_handler(_refusal, _to_response)


# helpers -----------------------------------------------------------------------------------------


def _signed_body() -> bytes:
    """Return the raw body of a call the hotline signed; 413 beyond the limit, 401 for a bad signature."""
    request.max_content_length = MAX_BODY_BYTES
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:  # read already (and so not limited) by the kernel's check of JSON bodies
        raise RequestEntityTooLarge()
    context = current_context()
    verify(
        secret=config_of(context).hotline_secret,
        timestamp=request.headers.get("X-Hotline-Timestamp"),
        signature=request.headers.get("X-Hotline-Signature"),
        raw=raw,
        now=context.clock(),
    )
    return raw


def _parsed(raw: bytes, schema: Schema) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return a signed body as sent and as loaded: 400 when not JSON, 422 with field errors when invalid."""
    try:
        body = json.loads(raw)
    except ValueError:
        raise Problem(400, "Malformed JSON", detail="The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise Problem(422, "Invalid request", detail="The body must be a JSON object.")
    try:
        return body, schema.load(body)
    except ValidationError as error:
        raise Problem(422, "Invalid request", detail="Some fields are missing or invalid.", errors=field_errors(error.messages)) from None


def _sealer() -> Sealer:
    return Sealer(config_of(current_context()).personal_data_keys)


def _stored_transfer(hotline_ticket_id: str) -> dict[str, Any]:
    """Return a transfer the caller may see: 404 when missing or another group's, 403 outside their scope or role."""
    principal = current_principal()
    transfer = current_store(HotlineStore).transfer(hotline_ticket_id)
    if transfer is None or transfer.get("group_id") not in _triaged_groups(principal):
        raise not_yours("hotline transfer", hotline_ticket_id)
    if transfer["state"] == "triage" or transfer.get("estate_id") is None:
        if principal.role not in TRIAGE_ROLES:
            raise Problem(403, "Forbidden", detail=f"Transfers in triage are for the roles {', '.join(TRIAGE_ROLES)}.")
        return transfer
    return require_visible(transfer, what="hotline transfer", identifier=hotline_ticket_id)


def _visible_query(principal: Principal) -> dict[str, Any]:
    """Return the transfers a caller sees: those of their scope, and those without an estate their group triages for the triage roles."""
    scope = principal.query()
    if principal.role in TRIAGE_ROLES:
        return {"$or": [scope, {"group_id": {"$in": _triaged_groups(principal)}, "estate_id": None}]}
    return scope


def _triaged_groups(principal: Principal) -> list[str | None]:
    """Return the group ids of the transfers a caller's group triages: its own, and no group when it is the triage group now."""
    configured = config_of(current_context()).hotline_triage_group
    if principal.group_id == triage_group(configured=configured, groups=current_store(HotlineStore).groups()):
        return [principal.group_id, None]
    return [principal.group_id]


def transfer_view(transfer: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """Return a transfer as lists show it: masked caller, overdue flags, allowed actions, callbacks in order."""
    caller = transfer.get("caller") or {}
    open_work = transfer["state"] in (*OPEN_STATES, "triage")
    accepted_at = transfer.get("accepted_at")
    waiting = accepted_at is None and transfer["state"] in ("triage", "received")
    return {
        **transfer,
        "allowed_actions": _staff_actions(ALLOWED.get(transfer["state"], ())),
        "caller": {
            "name": mask_name(caller.get("name")),
            "phone": mask_phone(caller.get("phone")),
            "phone_refused": bool(caller.get("phone_refused")),
        },
        "reply_overdue": open_work and now > transfer["reply_deadline"],
        "accept_overdue": (waiting and now > transfer["accept_due_at"])
        or (accepted_at is not None and accepted_at > transfer["accept_due_at"]),
        "callbacks": sorted((transfer.get("callbacks") or {}).values(), key=lambda callback: (callback.get("at"), callback["callback_id"])),
    }


def _answer(transfer: dict[str, Any], status: int) -> Response:
    response = jsonify(TransferCreated().dump(transfer))
    response.status_code = status
    if transfer.get("complaint_id"):
        response.headers["Location"] = f"/api/v1/complaints/{transfer['complaint_id']}"
    return response


# the hotline's calls -----------------------------------------------------------------------------


@hotline_api.route("/transfers", methods=["POST"])
@hotline_api.response(201, TransferCreated)
@hotline_api.alt_response(200, schema=TransferCreated, description="The same transfer again: the same ids")
@hotline_api.doc(security=[], requestBody={"content": {"application/json": {"schema": TransferIn}}})
def post_transfer() -> Response:
    """Receive a transfer (转办) signed by the hotline: 201 once per ticket id, 200 with the same ids after."""
    raw = _signed_body()
    body, values = _parsed(raw, TransferIn())
    context = current_context()
    filed = transfers.receive_transfer(
        context.uow,
        hotline=current_store(HotlineStore),
        store=current_store(IntakeStore),
        values=values,
        digest=body_digest(body),
        now=context.clock(),
        sealer=_sealer(),
        configured_triage_group=config_of(context).hotline_triage_group,
    )
    return _answer(filed.transfer, 201 if filed.created else 200)


@hotline_api.route("/transfers/<hotline_ticket_id>/satisfaction", methods=["POST"])
@hotline_api.doc(security=[], requestBody={"content": {"application/json": {"schema": SatisfactionIn}}})
def post_satisfaction(hotline_ticket_id: str) -> Response:
    """Record the hotline's follow-up result (回访), signed by the hotline; a replayed call has no second effect."""
    raw = _signed_body()
    _, values = _parsed(raw, SatisfactionIn())
    transfer = current_store(HotlineStore).transfer(hotline_ticket_id)
    if transfer is None:
        raise Problem(404, "Not Found", detail=f"No hotline transfer {hotline_ticket_id!r}.")
    context = current_context()
    signature = (request.headers.get("X-Hotline-Signature") or "").strip().lower()
    followup, created = transfers.report_satisfaction(
        context.uow,
        hotline=current_store(HotlineStore),
        transfer=transfer,
        followup_id=hashlib.sha256(signature.encode()).hexdigest(),
        result=values["result"],
        comment=values["comment"],
        now=context.clock(),
    )
    response = jsonify(
        {
            "hotline_ticket_id": hotline_ticket_id,
            "complaint_id": followup["complaint_id"],
            "result": followup["result"],
            "state": "recorded",
        }
    )
    response.status_code = 201 if created else 200
    return response


# staff -------------------------------------------------------------------------------------------


@hotline_api.route("/transfers", methods=["GET"])
@authenticated(roles=READING_ROLES)
@hotline_api.arguments(TransferListArgs, location="query")
@hotline_api.response(200, TransferPage)
def list_transfers(args: dict[str, Any]) -> dict[str, Any]:
    """List the transfers the caller may see, newest first, with their state, clocks and callbacks."""
    query = _visible_query(current_principal())
    if args.get("state"):
        query = {"$and": [query, {"state": args["state"]}]}
    items, next_cursor = current_store(HotlineStore).list_transfers(query=query, limit=args["limit"], cursor=args["cursor"])
    now = current_context().clock()
    return {"items": [transfer_view(item, now=now) for item in items], "next_cursor": next_cursor}


@hotline_api.route("/transfers/<hotline_ticket_id>", methods=["GET"])
@authenticated(roles=READING_ROLES)
@hotline_api.response(200, TransferOut)
def get_transfer(hotline_ticket_id: str) -> dict[str, Any]:
    """Return one transfer the caller may see."""
    return transfer_view(_stored_transfer(hotline_ticket_id), now=current_context().clock())


@hotline_api.route("/transfers/<hotline_ticket_id>/estate", methods=["POST"])
@authenticated(roles=TRIAGE_ROLES)
@hotline_api.arguments(EstateChoice)
@hotline_api.response(200, TransferCreated)
def assign_estate(values: dict[str, Any], hotline_ticket_id: str) -> Response:
    """Give a triaged transfer an estate of the caller's scope; it becomes a complaint there."""
    transfer = _stored_transfer(hotline_ticket_id)
    estate = require_visible(
        current_store(IntakeStore).estate(values["estate_id"]), what="estate", identifier=values["estate_id"], estate_key="_id"
    )
    context = current_context()
    updated = transfers.assign_estate(
        context.uow,
        store=current_store(IntakeStore),
        hotline=current_store(HotlineStore),
        transfer=transfer,
        estate=estate,
        now=context.clock(),
        actor_id=current_principal().sub,
        sealer=_sealer(),
    )
    return _answer(updated, 200)


def _act(hotline_ticket_id: str, *, action: str, reason: str | None = None, until: datetime | None = None) -> dict[str, Any]:
    transfer = _stored_transfer(hotline_ticket_id)
    if transfer["state"] != "triage" and current_principal().role not in ACTING_ROLES:
        raise Problem(403, "Forbidden", detail=f"Transfers are acted on by the roles {', '.join(ACTING_ROLES)}.")
    context = current_context()
    updated = transfers.act(
        context.uow,
        hotline=current_store(HotlineStore),
        transfer=transfer,
        action=action,
        actor_id=current_principal().sub,
        now=context.clock(),
        reason=reason,
        until=until,
    )
    return transfer_view(updated, now=context.clock())


@hotline_api.route("/transfers/<hotline_ticket_id>/accept", methods=["POST"])
@authenticated(roles=ACTING_ROLES)
@hotline_api.response(200, TransferOut)
def accept(hotline_ticket_id: str) -> dict[str, Any]:
    """Sign for a transfer (签收) and emit ``hotline.accepted``; once only."""
    return _act(hotline_ticket_id, action="accept")


@hotline_api.route("/transfers/<hotline_ticket_id>/return", methods=["POST"])
@authenticated(roles=TRIAGE_ROLES)
@hotline_api.arguments(ReturnIn)
@hotline_api.response(200, TransferOut)
def return_transfer(values: dict[str, Any], hotline_ticket_id: str) -> dict[str, Any]:
    """Return a transfer to the hotline (退单) with a reason and emit ``hotline.returned``; nothing follows it."""
    return _act(hotline_ticket_id, action="return", reason=values["reason"])


@hotline_api.route("/transfers/<hotline_ticket_id>/extension", methods=["POST"])
@authenticated(roles=ACTING_ROLES)
@hotline_api.arguments(ExtensionIn)
@hotline_api.response(200, TransferOut)
def request_extension(values: dict[str, Any], hotline_ticket_id: str) -> dict[str, Any]:
    """Ask the hotline for more time (延期) before the reply deadline and emit ``hotline.extension_requested``."""
    return _act(hotline_ticket_id, action="extension", reason=values["reason"], until=values["until"])
