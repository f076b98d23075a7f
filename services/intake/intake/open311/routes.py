"""Open311's HTTP surface: GeoReport v2 at ``/open311/v2/`` and API keys at ``/api/v1/open311/keys``.

GeoReport reads need no credential (the standard's public reads) and show only complaints filed on
the channel ``open311``, without anything of the reporter. ``POST requests.json`` takes an
``api_key``: a missing, unknown or revoked key, or one used for an estate it does not cover, is a 403
before anything is read or written; each key is rate-limited (429) by the kernel's counters. A
request is filed through ``complaints.receive``: the complaint, its GeoReport details, its first
timeline entry and ``complaint.received`` commit together.

Every error under ``/open311`` is the standard's array ``[{"code", "description"}]``: the views raise
the kernel's ``Problem`` like every view, and ``_as_georeport_errors`` rewrites the problem+json
answer (a 422 of field errors becomes the standard's 400); paths no route answers (``.xml``, unknown
resources, other methods) get the array too. Keys are issued by a ``group_admin`` for estates of their
group (the kernel's scope rule, 404 for another group's), shown once and stored as SHA-256 digests.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Response, json, jsonify, request
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from intake import complaints
from intake.config import config_of
from intake.open311 import mapping
from intake.open311.schemas import KeyCreated, KeyIn, KeyListArgs, KeyPage, RequestIn, RequestsArgs, georeport_doc
from intake.open311.store import CHANNEL, Open311Store, key_digest
from intake.store import IntakeStore
from propcare_shared.context import current_context, current_store
from propcare_shared.events.outbox import Transaction
from propcare_shared.http.auth import authenticated, current_principal, not_yours, require_visible
from propcare_shared.http.errors import PROBLEM_JSON, Problem, problem_response
from propcare_shared.http.ratelimit import enforce
from propcare_shared.mongo import new_id
from propcare_shared.sealing import Sealer
from propcare_shared.vocabulary import SUBCATEGORIES

PREFIX = "/open311"
KEY_PREFIX = "o311_"
MAX_REQUESTS = 1000
DEFAULT_SPAN = timedelta(days=90)
KEY_ADMINS = ("group_admin",)
CONTACT = "The property group's service desk (客服中心) of the estate."
KEY_SERVICE = "A group administrator issues keys: POST /api/v1/open311/keys (docs/OPEN311.md)."
KEY_LIMIT_DETAIL = "Too many requests filed with this api_key in a short time; try again later."
# Headers of a kernel answer that still hold on the GeoReport error array.
KEPT_HEADERS = ("Retry-After", "Allow")

open311 = Blueprint("open311", __name__, url_prefix=f"{PREFIX}/v2", description="Open311 GeoReport v2: services and service requests.")
open311_keys = Blueprint("open311_keys", __name__, url_prefix="/api/v1/open311/keys", description="API keys of Open311 clients.")
BLUEPRINTS = (open311, open311_keys)


# errors: the standard's array under /open311 --------------------------------------------------


def _georeport_error(status: int, description: str, headers: Mapping[str, str] | None = None) -> Response:
    response = jsonify(mapping.errors(status, description))
    response.status_code = status
    for name, value in (headers or {}).items():
        if name in KEPT_HEADERS:
            response.headers[name] = value
    return response


@open311.after_request
def _as_georeport_errors(response: Response) -> Response:
    """Answer every error of the GeoReport routes as the standard's array; a 422 of field errors is its 400."""
    if response.mimetype != PROBLEM_JSON:
        return response
    body = json.loads(response.get_data())
    status = 400 if response.status_code == 422 else response.status_code
    return _georeport_error(status, mapping.describe_problem(body), dict(response.headers))


@open311.app_errorhandler(NotFound)
@open311.app_errorhandler(MethodNotAllowed)
def _unrouted(error: HTTPException) -> Response:
    """Answer a path no route serves: the standard's array under ``/open311``, the kernel's problem elsewhere."""
    status = error.code or 404
    if request.path == PREFIX or request.path.startswith(f"{PREFIX}/"):
        if request.path.endswith(".xml"):
            return _georeport_error(404, "Only JSON is served: ask for the .json resource.")
        headers = dict(error.get_headers())
        return _georeport_error(status, "No such resource." if status == 404 else "Method not allowed here.", headers)
    data = getattr(error, "data", None) or {}
    return problem_response(status, error.name, detail=data.get("message") or error.description)


def _load(schema: Schema, data: Mapping[str, Any]) -> dict[str, Any]:
    """Load form or query text with a schema; a refusal is the standard's 400 naming the fields."""
    try:
        return schema.load(dict(data))
    except ValidationError as exc:
        raise Problem(422, "Invalid request", detail="Some fields are missing or invalid.", errors=exc.normalized_messages()) from None


def _jurisdiction(store: Open311Store, code: str) -> dict[str, Any]:
    """Return the estate whose code is ``jurisdiction_id``; 404 when there is none."""
    estate = store.estate_by_code(code)
    if estate is None:
        raise Problem(404, "Not Found", detail=f"No jurisdiction {code!r}.")
    return estate


def _key(store: Open311Store, api_key: str | None) -> dict[str, Any]:
    """Return the live key a client sent; 403 when it is missing, unknown or revoked."""
    if not api_key:
        raise Problem(403, "Forbidden", detail="An api_key is required to post a service request.")
    key = store.key_by_digest(key_digest(api_key))
    if key is None or key.get("revoked_at") is not None:
        raise Problem(403, "Forbidden", detail="The api_key is not valid.")
    return key


# discovery and services --------------------------------------------------------------------------


@open311.route("/discovery.json", methods=["GET"])
@open311.doc(**georeport_doc(200, array=False, description="The service discovery."))
def get_discovery() -> Response:
    """Return the service discovery: one production GeoReport v2 endpoint serving JSON."""
    url = f"{request.host_url.rstrip('/')}{PREFIX}/v2"
    return jsonify(mapping.discovery(url=url, contact=CONTACT, key_service=KEY_SERVICE))


@open311.route("/services.json", methods=["GET"])
@open311.doc(**georeport_doc(200, description="The services."))
def get_services() -> Response:
    """Return the service list: one service per subcategory, named in the locale asked for."""
    if request.args.get("jurisdiction_id"):
        _jurisdiction(current_store(Open311Store), request.args["jurisdiction_id"])
    return jsonify(mapping.services(locale=mapping.locale_of(request.args.get("locale"))))


@open311.route("/services/<service_code>.json", methods=["GET"])
@open311.doc(**georeport_doc(200, array=False, description="A service definition."))
def get_service_definition(service_code: str) -> Response:
    """Return a service's definition: no attributes; an unknown code is a 400."""
    if request.args.get("jurisdiction_id"):
        _jurisdiction(current_store(Open311Store), request.args["jurisdiction_id"])
    if service_code not in SUBCATEGORIES:
        raise Problem(400, "Bad Request", detail=f"Unknown service_code {service_code!r}; GET services.json lists them.")
    return jsonify(mapping.service_definition(service_code))


# service requests ------------------------------------------------------------------------------


@open311.route("/requests.json", methods=["POST"])
@open311.doc(**georeport_doc(201, description="The request filed: its id and token."))
def post_request() -> Response:
    """File a service request with an ``api_key``: a complaint on the channel ``open311``."""
    store = current_store(Open311Store)
    key = _key(store, request.form.get("api_key"))
    enforce({f"open311-key:{key['_id']}": int(key["rate_limit"])}, detail=KEY_LIMIT_DETAIL)
    values = _load(RequestIn(), request.form)
    estate = _jurisdiction(store, values["jurisdiction_id"])
    if estate["_id"] not in key["estate_ids"] or estate["group_id"] != key["group_id"]:
        raise Problem(403, "Forbidden", detail=f"This api_key does not cover the jurisdiction {values['jurisdiction_id']!r}.")
    locale = mapping.locale_of(values["locale"])
    context = current_context()
    sealer = Sealer(config_of(context).personal_data_keys)
    intake_store = current_store(IntakeStore)
    name = " ".join(part for part in (values["first_name"], values["last_name"]) if part) or None
    complaint_values = {
        "channel": CHANNEL,
        "description": values["description"].strip(),
        "category_hint": values["service_code"],
        "language": locale,
        "reporter": {"name": name, "phone": values["phone"], "email": values["email"], "role": "other"},
    }

    def work(tx: Transaction) -> dict[str, Any]:
        received = complaints.receive(
            tx, store=intake_store, estate=estate, values=complaint_values, now=context.clock(), actor_id=None, sealer=sealer
        )
        complaint = received.complaint
        store.insert_request(
            {
                "_id": complaint["_id"],
                "ticket_no": complaint["ticket_no"],
                "estate_id": estate["_id"],
                "group_id": estate["group_id"],
                "estate_name": estate.get("name"),
                "key_id": key["_id"],
                "client_name": key["client_name"],
                **{
                    field: values[field]
                    for field in ("address_string", "address_id", "lat", "long", "media_url", "device_id", "account_id")
                },
                "received_at": complaint["received_at"],
            },
            session=tx.session,
        )
        return complaint

    complaint = context.uow.run(work)
    body = [
        {
            "service_request_id": complaint["ticket_no"],
            "service_notice": mapping.service_notice(estate_name=estate.get("name"), locale=locale),
            "account_id": values["account_id"],
        }
    ]
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = f"{PREFIX}/v2/requests/{complaint['ticket_no']}.json"
    return response


@open311.route("/requests.json", methods=["GET"])
@open311.doc(**georeport_doc(200, description="The service requests."))
def get_requests() -> Response:
    """List service requests, newest first (at most 1000): by id, or by service, dates and status."""
    store = current_store(Open311Store)
    args = _load(RequestsArgs(), request.args)
    query: dict[str, Any] = {}
    if args["jurisdiction_id"]:
        query["estate_id"] = _jurisdiction(store, args["jurisdiction_id"])["_id"]
    if args["service_request_id"]:
        query["ticket_no"] = {"$in": mapping.request_ids(args["service_request_id"])[:MAX_REQUESTS]}
    else:
        start, end = _window(args)
        query["received_at"] = {"$gte": start, "$lte": end}
        if args["service_code"]:
            code = args["service_code"]
            query["$or"] = [{"subcategory": code}, {"subcategory": None, "category_hint": code}]
        if args["status"]:
            query["status"] = mapping.statuses_in(args["status"])
    found = store.open311_complaints(query, limit=MAX_REQUESTS)
    return jsonify(_views(store, found, locale=mapping.locale_of(args["locale"])))


def _window(args: Mapping[str, Any]) -> tuple[Any, Any]:
    """Return the ``requested_datetime`` range: the last 90 days by default, never more than 90 days."""
    start, end = args["start_date"], args["end_date"]
    if start is None and end is None:
        end = current_context().clock()
    if start is None:
        start = end - DEFAULT_SPAN
    if end is None:
        end = start + DEFAULT_SPAN
    if end - start > DEFAULT_SPAN:
        raise Problem(400, "Bad Request", detail="start_date and end_date may span at most 90 days.")
    return start, end


@open311.route("/requests/<service_request_id>.json", methods=["GET"])
@open311.doc(**georeport_doc(200, description="One service request, as a one-element array."))
def get_request(service_request_id: str) -> Response:
    """Return one service request (as a one-element array, like the standard)."""
    store = current_store(Open311Store)
    query: dict[str, Any] = {"ticket_no": service_request_id}
    if request.args.get("jurisdiction_id"):
        query["estate_id"] = _jurisdiction(store, request.args["jurisdiction_id"])["_id"]
    found = store.open311_complaints(query, limit=1)
    if not found:
        raise Problem(404, "Not Found", detail=f"No service request {service_request_id!r}.")
    return jsonify(_views(store, found, locale=mapping.locale_of(request.args.get("locale"))))


def _views(store: Open311Store, found: list[dict[str, Any]], *, locale: str) -> list[dict[str, Any]]:
    details = store.requests_of(complaint["_id"] for complaint in found)
    return [mapping.request_view(complaint, details.get(complaint["_id"]), locale=locale) for complaint in found]


# API keys --------------------------------------------------------------------------------------


@open311_keys.route("", methods=["POST"])
@authenticated(roles=KEY_ADMINS)
@open311_keys.arguments(KeyIn)
@open311_keys.response(201, KeyCreated)
def post_key(values: dict[str, Any]) -> Response:
    """Issue an API key for estates of the caller's group; the key is shown in this answer only."""
    principal = current_principal()
    intake_store = current_store(IntakeStore)
    estate_ids = list(dict.fromkeys(values["estate_ids"]))
    for estate_id in estate_ids:
        require_visible(intake_store.estate(estate_id), what="estate", identifier=estate_id, estate_key="_id")
    api_key = f"{KEY_PREFIX}{secrets.token_urlsafe(32)}"
    key = {
        "_id": new_id(),
        "digest": key_digest(api_key),
        "group_id": principal.group_id,
        "client_name": values["client_name"],
        "estate_ids": estate_ids,
        "rate_limit": values["rate_limit"],
        "created_at": current_context().clock(),
        "created_by": principal.sub,
        "revoked_at": None,
    }
    current_store(Open311Store).insert_key(key)
    response = jsonify(KeyCreated().dump({**key, "api_key": api_key}))
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


@open311_keys.route("", methods=["GET"])
@authenticated(roles=KEY_ADMINS)
@open311_keys.arguments(KeyListArgs, location="query")
@open311_keys.response(200, KeyPage)
def list_keys(args: dict[str, Any]) -> dict[str, Any]:
    """List the keys of the caller's group, newest first, revoked ones included, never a key itself."""
    items, next_cursor = current_store(Open311Store).list_keys(
        group_id=current_principal().group_id, limit=args["limit"], cursor=args["cursor"]
    )
    return {"items": items, "next_cursor": next_cursor}


@open311_keys.route("/<key_id>", methods=["DELETE"])
@authenticated(roles=KEY_ADMINS)
@open311_keys.response(204)
def revoke_key(key_id: str) -> Response:
    """Revoke a key of the caller's group: it files nothing from now on."""
    store = current_store(Open311Store)
    key = store.key(key_id)
    if key is None or key["group_id"] != current_principal().group_id:
        raise not_yours("api key", key_id)
    store.revoke_key(key_id)
    return Response(status=204)
