"""Satisfaction campaigns over HTTP (docs/API.md, Questionnaires and campaigns; docs/SURVEYS.md, Campaigns).

A campaign is its estate's: the estate comes from survey's copy of the directory
(``propcare_shared.directory``), and the kernel's one scope rule answers for it, 404 for another
group's estate (or one survey has not heard of), 403 for one of the caller's group outside their
regions or estates. ``manager``, ``regional_ops`` and ``group_admin`` start a campaign (a manager of
the estate: the estate's scope decides); every staff role reads one; the people who record answers
(not ``handler``, not ``service``) read its invitations and import paper and phone answers.

``POST /api/v1/campaigns`` takes an ``Idempotency-Key``: the scope is checked first, then the key
replays the first 201 (with the same sample and seed). The invitation list gives an online
invitation's ``link``, as the API contract has it, and only to the people who may record answers: they
can already record an answer for that household by phone, so the link grants them nothing more, and
it lets an agent send it again by another way (read it out, a WeChat message). An answer staff take
down goes through ``/api/v1/surveys/invitations/{id}/responses`` as the caller, not through the link.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request, url_for
from flask_smorest import Blueprint

from propcare_shared.context import current_context, current_store
from propcare_shared.directory import EstateCopies
from propcare_shared.http.auth import PEOPLE_ROLES, STAFF_ROLES, authenticated, current_principal, require_visible, scoped_query
from propcare_shared.http.errors import Problem
from propcare_shared.http.idempotency import replayable
from survey import campaigns
from survey.campaign_schemas import (
    CampaignIn,
    CampaignInvitationArgs,
    CampaignInvitationPage,
    CampaignListArgs,
    CampaignOut,
    CampaignPage,
    ImportOut,
)
from survey.campaign_store import CampaignStore
from survey.domain.campaign_import import MAX_BYTES, ImportedAnswer, parse_answers
from survey.domain.campaigns import InvalidAnswer, NotOpenYet, WrongCampaign, question_ids
from survey.followups import AlreadyAnswered, InvitationClosed, InvitationNotFound, link_of
from survey.metrics import SURVEY_RESPONSES
from survey.store import SurveyStore

log = logging.getLogger(__name__)
CREATORS = ("manager", "regional_ops", "group_admin")
RECORDERS = tuple(role for role in PEOPLE_ROLES if role != "handler")
CSV_TYPES = ("text/csv", "application/csv")
ROW_REFUSALS: dict[type[Exception], Callable[[Exception], str]] = {
    InvitationNotFound: lambda _: "unknown invitation",
    WrongCampaign: lambda _: "invitation of another campaign",
    AlreadyAnswered: lambda _: "duplicate: the invitation is answered already",
    InvitationClosed: lambda _: "the invitation is closed (the campaign ended)",
    NotOpenYet: lambda _: "the campaign has not opened yet",
    InvalidAnswer: lambda error: "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.errors.items()),  # type: ignore[attr-defined]
}

blueprint = Blueprint(
    "campaigns", __name__, url_prefix="/api/v1/campaigns", description="Satisfaction campaigns, their samples and answers."
)


def _visible(campaign_id: str) -> dict[str, Any]:
    """Return a campaign within the caller's scope; 404 for another group's or none, 403 outside their regions or estates."""
    return require_visible(current_store(CampaignStore).campaign(campaign_id), what="campaign", identifier=campaign_id)


def _with_progress(campaign: dict[str, Any]) -> dict[str, Any]:
    return campaigns.summary(campaign, counts=current_store(CampaignStore).counts(campaign["_id"]))


@blueprint.route("", methods=["POST"])
@authenticated(roles=CREATORS)
@blueprint.arguments(CampaignIn)
@blueprint.response(201, CampaignOut)
def post_campaign(values: dict[str, Any]) -> Response:
    """Start a campaign: draw the sample of the estate's occupied households and invite them."""
    principal = current_principal()
    context = current_context()
    estate = require_visible(EstateCopies(context.database).get(values["estate_id"]), what="estate", identifier=values["estate_id"])
    questionnaire = current_store(SurveyStore).questionnaire(values["questionnaire_id"])
    if questionnaire is None or questionnaire.get("group_id") != principal.group_id:
        raise Problem(
            422,
            "Invalid request",
            detail="No such questionnaire.",
            errors={"questionnaire_id": [f"Unknown questionnaire {values['questionnaire_id']!r}."]},
        )

    def create() -> Response:
        now = context.clock()
        asked = {
            **values,
            "seed": secrets.randbelow(2**31) if values["seed"] is None else values["seed"],
            "opens_at": values["opens_at"] or now,
        }
        campaign = context.uow.run(
            lambda tx: campaigns.create(
                tx,
                store=current_store(CampaignStore),
                surveys=current_store(SurveyStore),
                context=context,
                estate=estate,
                questionnaire=questionnaire,
                request=asked,
                created_by=principal.sub,
                now=now,
            )
        )
        log.info(
            "campaign started",
            extra={"campaign_id": campaign["_id"], "estate_id": campaign["estate_id"], "sample_size": campaign["sample_size"]},
        )
        created = jsonify(CampaignOut().dump(_with_progress(campaign)))
        created.status_code = 201
        created.headers["Location"] = url_for("campaigns.get_campaign", campaign_id=campaign["_id"])
        return created

    return replayable(create)


@blueprint.route("/<campaign_id>", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@blueprint.response(200, CampaignOut)
def get_campaign(campaign_id: str) -> dict[str, Any]:
    """Return a campaign with its progress: invitations sent, answers, response rate, and each stratum's answers."""
    return _with_progress(_visible(campaign_id))


@blueprint.route("", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@blueprint.arguments(CampaignListArgs, location="query")
@blueprint.response(200, CampaignPage)
def list_campaigns(args: dict[str, Any]) -> dict[str, Any]:
    """List the campaigns within the caller's scope, newest first; an estate filter outside it is 404 or 403."""
    estate = EstateCopies(current_context().database).get(args["estate_id"]) if args["estate_id"] else None
    scope = scoped_query(estate_id=args["estate_id"], estate=estate)
    query = {"status": args["status"]} if args["status"] else {}
    items, next_cursor = current_store(CampaignStore).list_campaigns(
        query={"$and": [scope, query]}, limit=args["limit"], cursor=args["cursor"]
    )
    return {"items": items, "next_cursor": next_cursor}


@blueprint.route("/<campaign_id>/invitations", methods=["GET"])
@authenticated(roles=RECORDERS)
@blueprint.arguments(CampaignInvitationArgs, location="query")
@blueprint.response(200, CampaignInvitationPage)
def list_campaign_invitations(args: dict[str, Any], campaign_id: str) -> dict[str, Any]:
    """List a campaign's invitations with their address, type, channel and status (``?channel=phone&status=pending`` to work from)."""
    campaign = _visible(campaign_id)
    query = {"campaign_id": campaign["_id"], **{key: args[key] for key in ("channel", "status") if args[key]}}
    items, next_cursor = current_store(CampaignStore).list_invitations(query=query, limit=args["limit"], cursor=args["cursor"])
    context = current_context()
    return {
        "items": [{**item, "link": link_of(context, item["_id"]) if item.get("channel") == "online" else None} for item in items],
        "next_cursor": next_cursor,
    }


def _read_upload() -> bytes:
    """Return the uploaded file; 415 when it is not CSV, 413 when it is larger than one import takes."""
    if request.mimetype not in CSV_TYPES:
        raise Problem(415, "Unsupported Media Type", detail="Send the answers as text/csv.")
    too_large = Problem(413, "Content Too Large", detail=f"One import takes at most {MAX_BYTES // 1024 // 1024} MB; split the file.")
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise too_large
    data = request.stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise too_large
    return data


@blueprint.route("/<campaign_id>/responses:import", methods=["POST"])
@authenticated(roles=RECORDERS)
@blueprint.response(200, ImportOut)
@blueprint.doc(requestBody={"content": {"text/csv": {"schema": {"type": "string"}}}})
def import_responses(campaign_id: str) -> dict[str, Any]:
    """Record paper and phone answers from CSV; each row once, refused rows come back with their reasons."""
    campaign = _visible(campaign_id)
    parsed = parse_answers(_read_upload(), questions=question_ids(campaign["dimensions"]))
    context = current_context()
    surveys, store, recorder = current_store(SurveyStore), current_store(CampaignStore), current_principal().sub
    rejected = list(parsed.rejected)

    def record(row: ImportedAnswer) -> None:
        context.uow.run(
            lambda tx: campaigns.answer(
                tx,
                surveys=surveys,
                store=store,
                invitation_id=row.invitation_id,
                values=row.values,
                channel=row.channel,
                source="import",
                now=context.clock(),
                recorded_by=recorder,
                campaign_id=campaign_id,
            )
        )

    imported = 0
    for row in parsed.rows:
        try:
            record(row)
        except tuple(ROW_REFUSALS) as refused:
            rejected.append({"row": row.row, "reason": ROW_REFUSALS[type(refused)](refused)})
            continue
        imported += 1
    SURVEY_RESPONSES.labels("campaign").inc(imported)
    log.info("campaign answers imported", extra={"campaign_id": campaign_id, "imported": imported, "rejected": len(rejected)})
    return {"imported": imported, "rejected": sorted(rejected, key=lambda item: item["row"]), "encoding": parsed.encoding}
