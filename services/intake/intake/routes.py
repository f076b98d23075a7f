"""Intake's HTTP API (docs/API.md, Intake): estates, households, complaints, tracking.

Views parse with a schema, check the caller, call ``complaints`` or the store inside a unit of work
and dump with a schema; the domain's refusals (a code or an ``external_ref`` taken, an unusable
households file, a refused upload) are answered by one table, ``PROBLEMS``. The kernel's scope rule
decides every read and write: lists filter with ``Principal.query`` (an ``estate_id`` filter outside
the caller's scope is refused, never answered with an empty page), and a single estate or complaint
of another group, or none at all, is a 404, one of the caller's group outside their regions or
estates a 403 (``require_visible``).

``POST /complaints`` is open to residents without a token on the resident channels (rate-limited
per client address and per E.164 phone) and to staff with one; a refused complaint leaves no write
and no event. ``Idempotency-Key`` replays run after those checks, per caller. A resident sees their
complaint only through its tracking token (lookups rate-limited per client address), and then no
staff ids and no other person's data.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_smorest import Blueprint

from intake import complaints
from intake.attachments import MAX_PER_COMPLAINT, AttachmentRefused, accept_upload, refused_when_full
from intake.config import config_of
from intake.domain.households import UnusableImport, decode_import, read_rows
from intake.domain.tickets import token_digest
from intake.hotline_api import hotline_api
from intake.imports import ImportJobs, ImportRun, run_import, start_import_thread
from intake.imports import shown as import_view
from intake.open311.routes import BLUEPRINTS as OPEN311_BLUEPRINTS
from intake.resident_pages import pages as resident_pages
from intake.schemas import (
    AttachmentOut,
    ComplaintCreated,
    ComplaintIn,
    ComplaintListArgs,
    ComplaintOut,
    ComplaintPage,
    EstateIn,
    EstateOut,
    ImportOut,
    TrackOut,
)
from intake.store import CodeTaken, IntakeStore, ReferenceTaken
from propcare_shared.context import current_context, current_store
from propcare_shared.events.outbox import Transaction
from propcare_shared.http.app import request_deadline
from propcare_shared.http.auth import (
    STAFF_ROLES,
    Principal,
    authenticated,
    current_principal,
    optional_principal,
    require_scope,
    require_visible,
    scoped_query,
)
from propcare_shared.http.errors import Problem, ProblemMap
from propcare_shared.http.idempotency import replayable
from propcare_shared.http.ratelimit import enforce, hashed, limit_lookups
from propcare_shared.sealing import Sealer
from propcare_shared.tenancy import Tenancy
from propcare_shared.vocabulary import RESIDENT_CHANNELS

DIRECTORY_ADMINS = ("manager", "regional_ops", "group_admin", "service")
JSON_LINES_TYPES = ("application/x-ndjson", "application/jsonlines")
# A file of up to IMPORT_SYNC_ROWS rows is imported before the answer: its own deadline, under the gateway's 60 s.
IMPORT_DEADLINE_SECONDS = 50.0
COMPLAINT_CREATED = ComplaintCreated()
"""One instance for every answer: making a marshmallow schema copies its fields (0.3 ms a request); ``dump`` keeps no state."""
RESIDENT_LIMIT_DETAIL = "Too many complaints from here in a short time; please call the service desk or try again later."

estates = Blueprint("estates", __name__, url_prefix="/api/v1/estates", description="The directory: estates and their households.")
complaints_api = Blueprint("complaints", __name__, url_prefix="/api/v1/complaints", description="Complaints as received, and their status.")
track = Blueprint("track", __name__, url_prefix="/api/v1/track", description="A resident's view of their complaint, by tracking token.")
BLUEPRINTS = (estates, complaints_api, track, hotline_api, *OPEN311_BLUEPRINTS, resident_pages)


# the domain's refusals ---------------------------------------------------------------------------


def _code_taken(taken: CodeTaken) -> Problem:
    return Problem(
        409,
        "Conflict",
        detail="Estate codes are unique across the deployment: they start every ticket number.",
        errors={"code": [f"The code {taken.code!r} belongs to another estate."]},
    )


def _unusable_import(unusable: UnusableImport) -> Problem:
    return Problem(422, "Invalid request", detail=unusable.detail, errors={"file": [unusable.reason]})


def _attachment_refused(refused: AttachmentRefused) -> Problem:
    return Problem(refused.status, refused.title, detail=refused.detail, errors={"file": [refused.detail]})


def _reference_taken(taken: ReferenceTaken) -> Problem:
    """Return the 409 of a reused ``external_ref``, naming the complaint only to staff who may see it."""
    existing = current_store(IntakeStore).complaint_by_external_ref(group_id=taken.group_id, external_ref=taken.external_ref)
    principal = optional_principal()
    shown = existing is not None and principal is not None and principal.sees(Tenancy.of(existing))
    return Problem(
        409,
        "Conflict",
        detail="A complaint with this external_ref exists already.",
        errors={"external_ref": ["Already used."]},
        complaint_id=existing["_id"] if existing is not None and shown else None,
    )


PROBLEMS: ProblemMap = {
    CodeTaken: _code_taken,
    ReferenceTaken: _reference_taken,
    UnusableImport: _unusable_import,
    AttachmentRefused: _attachment_refused,
}
"""How intake's domain refusals are answered (the kernel registers this table on the app)."""


def _estate_view(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "estate_id": document["_id"],
        **{key: document.get(key) for key in ("name", "code", "region_id", "group_id", "timezone", "updated_at")},
    }


def _visible_estate(store: IntakeStore, estate_id: str) -> dict[str, Any]:
    """Return an estate the caller may see: 404 when missing or of another group, 403 outside their scope."""
    return require_visible(store.estate(estate_id), what="estate", identifier=estate_id, estate_key="_id")


def _visible_complaint(store: IntakeStore, complaint_id: str) -> dict[str, Any]:
    """Return a complaint the caller may see: 404 when missing or of another group, 403 outside their scope."""
    return require_visible(store.complaint(complaint_id), what="complaint", identifier=complaint_id)


# directory ---------------------------------------------------------------------------------------


@estates.route("/<estate_id>", methods=["PUT"])
@authenticated(roles=DIRECTORY_ADMINS)
@estates.arguments(EstateIn)
@estates.response(200, EstateOut)
@estates.alt_response(201, schema=EstateOut, description="Created")
def put_estate(values: dict[str, Any], estate_id: str) -> tuple[dict[str, Any], int]:
    """Create or replace an estate of the caller's group and emit ``directory.estate.upserted``."""
    principal = current_principal()
    store = current_store(IntakeStore)
    if store.estate(estate_id) is not None:
        _visible_estate(store, estate_id)
    if values["group_id"] != principal.group_id:
        raise Problem(
            422,
            "Invalid request",
            detail="An estate is put into the caller's own group only.",
            errors={"group_id": [f"Must be your group {principal.group_id!r}."]},
        )
    require_scope(group_id=values["group_id"], region_id=values["region_id"], estate_id=estate_id)

    def work(tx: Transaction) -> tuple[dict[str, Any], bool]:
        document, created = store.put_estate(estate_id=estate_id, values=values, session=tx.session)
        tx.emit(
            "directory.estate.upserted",
            data={"estate_id": estate_id, **{key: values[key] for key in ("name", "code", "region_id", "group_id", "timezone")}},
            tenancy=Tenancy.of(document, estate_key="_id"),
        )
        return document, created

    document, created = current_context().uow.run(work)
    return _estate_view(document), 201 if created else 200


@estates.route("/<estate_id>", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@estates.response(200, EstateOut)
def get_estate(estate_id: str) -> dict[str, Any]:
    """Return an estate of the directory."""
    return _estate_view(_visible_estate(current_store(IntakeStore), estate_id))


@estates.route("/<estate_id>/households:import", methods=["POST"])
@request_deadline(IMPORT_DEADLINE_SECONDS)
@authenticated(roles=DIRECTORY_ADMINS)
@estates.response(200, ImportOut)
@estates.alt_response(202, schema=ImportOut, description="A large file: imported in batches after the answer; follow the Location.")
@estates.doc(requestBody={"content": {"text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}}})
def import_households(estate_id: str) -> Any:
    """Create or update an estate's households from CSV or JSON lines, in batches; refused rows come back with reasons.

    Up to ``IMPORT_SYNC_ROWS`` rows are imported before the answer (200); a larger file is answered
    with 202 and its import, whose progress ``GET .../households/imports/{import_id}`` shows
    (``intake.imports``). The households go out in ``directory.households.imported`` with names and
    phones only sealed, for notification.
    """
    store = current_store(IntakeStore)
    context = current_context()
    config = config_of(context)
    estate = _visible_estate(store, estate_id)
    if request.mimetype not in (*JSON_LINES_TYPES, "text/csv"):
        raise Problem(415, "Unsupported Media Type", detail="Send text/csv or application/x-ndjson.")
    rows = read_rows(decode_import(request.get_data()), json_lines=request.mimetype in JSON_LINES_TYPES)
    jobs = ImportJobs(store.database)
    job = jobs.create(estate=estate, rows=len(rows), now=context.clock())
    run = ImportRun(
        store=store, uow=context.uow, clock=context.clock, seal=Sealer(config.personal_data_keys).seal, batch_rows=config.import_batch_rows
    )
    location = {"Location": f"/api/v1/estates/{estate_id}/households/imports/{job['_id']}"}
    if len(rows) > config.import_sync_rows:
        start_import_thread(run, jobs, job=job, estate=estate, rows=rows)
        return import_view(job, now=context.clock()), 202, location
    return import_view(run_import(run, jobs, job=job, estate=estate, rows=rows), now=context.clock()), 200, location


@estates.route("/<estate_id>/households/imports/<import_id>", methods=["GET"])
@authenticated(roles=DIRECTORY_ADMINS)
@estates.response(200, ImportOut)
def get_import(estate_id: str, import_id: str) -> dict[str, Any]:
    """Return a households import of an estate: its status and the rows processed, created, updated and refused so far."""
    store = current_store(IntakeStore)
    _visible_estate(store, estate_id)
    job = ImportJobs(store.database).get(import_id)
    if job is None or job["estate_id"] != estate_id:
        raise Problem(404, "Not Found", detail=f"No import {import_id!r} of this estate.")
    return import_view(job, now=current_context().clock())


# complaints --------------------------------------------------------------------------------------


def _estate_of_complaint(store: IntakeStore, estate_id: str, principal: Principal | None) -> dict[str, Any]:
    """Return the estate a complaint is posted to; to staff, another group's estate is as unknown as a missing one.

    Read through the per-process directory cache (``intake.directory_cache``): a directory change
    reaches this check within 5 s, an estate created a moment ago is found at once.
    """
    estate = store.cached_estate(estate_id)
    if estate is None or (principal is not None and estate["group_id"] != principal.group_id):
        raise Problem(
            422, "Invalid request", detail="No such estate in the directory.", errors={"estate_id": [f"Unknown estate {estate_id!r}."]}
        )
    if principal is not None:
        require_visible(estate, what="estate", identifier=estate_id, estate_key="_id")
    return estate


def _limit_resident(*, phone: str) -> None:
    """Refuse with 429 a resident who posted too often from one address or with one phone (E.164)."""
    config = config_of(current_context())
    enforce(
        {
            hashed("resident-address", request.remote_addr or "unknown"): config.resident_limit_per_address,
            hashed("resident-phone", phone): config.resident_limit_per_phone,
        },
        detail=RESIDENT_LIMIT_DETAIL,
    )


@complaints_api.route("", methods=["POST"])
@complaints_api.arguments(ComplaintIn)
@complaints_api.response(201, ComplaintCreated)
def post_complaint(values: dict[str, Any]) -> Response:
    """Receive a complaint: residents without a token on the resident channels, staff with one."""
    store = current_store(IntakeStore)
    principal = optional_principal()
    if principal is None and values["channel"] not in RESIDENT_CHANNELS:
        raise Problem(401, "Unauthorized", detail=f"Only staff enter complaints on the channel {values['channel']!r}; send a bearer token.")
    estate = _estate_of_complaint(store, values["estate_id"], principal)
    if principal is None:
        values["first_responder_id"] = None
        _limit_resident(phone=values["reporter"]["phone"])
    actor_id = principal.sub if principal is not None else None
    return replayable(lambda: _receive(store, estate=estate, values=values, actor_id=actor_id))


def _receive(store: IntakeStore, *, estate: dict[str, Any], values: dict[str, Any], actor_id: str | None) -> Response:
    context = current_context()
    sealer = Sealer(config_of(context).personal_data_keys)
    received = context.uow.run(
        lambda tx: complaints.receive(tx, store=store, estate=estate, values=values, now=context.clock(), actor_id=actor_id, sealer=sealer)
    )
    complaint = received.complaint
    body = COMPLAINT_CREATED.dump({**complaint, "id": complaint["_id"], "tracking_token": received.tracking_token})
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/complaints/{complaint['_id']}"
    return response


@complaints_api.route("/<complaint_id>", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@complaints_api.response(200, ComplaintOut)
def get_complaint(complaint_id: str) -> dict[str, Any]:
    """Return a complaint with the status dispatch reached and its timeline."""
    store = current_store(IntakeStore)
    complaint = _visible_complaint(store, complaint_id)
    return {**complaint, "timeline": store.timeline(complaint_id, complaint=complaint)}


@complaints_api.route("", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@complaints_api.arguments(ComplaintListArgs, location="query")
@complaints_api.response(200, ComplaintPage)
def list_complaints(args: dict[str, Any]) -> dict[str, Any]:
    """List the complaints within the caller's scope, newest first, with filters; an estate outside it is refused."""
    store = current_store(IntakeStore)
    estate_id = args.get("estate_id")
    scope = scoped_query(estate_id=estate_id, estate=store.estate(estate_id) if estate_id else None)
    query: dict[str, Any] = {key: args[key] for key in ("status", "channel") if args.get(key)}
    received: dict[str, Any] = {}
    if args.get("from_"):
        received["$gte"] = args["from_"]
    if args.get("to"):
        received["$lt"] = args["to"]
    if received:
        query["received_at"] = received
    items, next_cursor = store.list_complaints(query={"$and": [query, scope]}, limit=args["limit"], cursor=args["cursor"])
    return {"items": items, "next_cursor": next_cursor}


@complaints_api.route("/<complaint_id>/attachments", methods=["POST"])
@complaints_api.response(201, AttachmentOut)
def post_attachment(complaint_id: str) -> Response:
    """Attach a photo or video: staff with a token, or the resident with ``X-Tracking-Token``."""
    store = current_store(IntakeStore)
    token = request.headers.get("X-Tracking-Token")
    if token:
        limit_lookups("track")
        complaint = store.complaint_by_token(token_digest(token))
        if complaint is None or complaint["_id"] != complaint_id:
            raise Problem(404, "Not Found", detail="No complaint for this tracking token.")
    else:
        if optional_principal() is None:
            raise Problem(401, "Unauthorized", detail="Send a bearer token, or the tracking token in X-Tracking-Token.")
        _visible_complaint(store, complaint_id)
    return replayable(lambda: _attach(store, complaint_id=complaint_id))


def _attach(store: IntakeStore, *, complaint_id: str) -> Response:
    """Store an upload in a slot reserved first, so that concurrent uploads never pass the limit."""
    upload = accept_upload(request.files.get("file"))
    if not store.reserve_attachment_slot(complaint_id=complaint_id, limit=MAX_PER_COMPLAINT):
        raise refused_when_full()
    try:
        attachment = store.store_attachment(
            complaint_id=complaint_id, filename=upload.filename, content_type=upload.content_type, stream=upload.stream
        )
    except BaseException:
        store.release_attachment_slot(complaint_id=complaint_id)
        raise
    response = jsonify(AttachmentOut().dump(attachment))
    response.status_code = 201
    return response


# resident tracking -------------------------------------------------------------------------------


@track.route("/<tracking_token>", methods=["GET"])
@track.response(200, TrackOut)
def get_tracked(tracking_token: str) -> dict[str, Any]:
    """Return a resident's own complaint: status, time limits and timeline, nothing about staff."""
    limit_lookups("track")
    store = current_store(IntakeStore)
    complaint = store.complaint_by_token(token_digest(tracking_token))
    if complaint is None:
        raise Problem(404, "Not Found", detail="No complaint for this tracking token.")
    return {**complaint, "timeline": store.timeline(complaint["_id"], complaint=complaint)}
