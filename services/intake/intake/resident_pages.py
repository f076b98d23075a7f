"""The residents' pages (docs/RESIDENTS.md): file a complaint at ``/r/{estate_code}``, follow it at ``/r/t/{tracking_token}``.

Phone-first HTML in simplified Chinese and English (``?lang=``, else ``Accept-Language``), served by
intake, working without JavaScript: every form is a plain post that gets a page back, with the
errors next to the fields and the resident's text kept. No external assets; every page is
``no-store`` with ``Referrer-Policy: no-referrer`` (the tracking token in the address is the
resident's credential) and a Content-Security-Policy that allows no script at all.

The routes are public. Filing counts towards the API's resident limits (per client address and per
phone, the same counters as ``POST /api/v1/complaints``); every tracking-token lookup counts towards
the per-address lookup limit, as ``GET /api/v1/track`` does. A token that matches nothing (forged,
mistyped, another complaint's with characters changed) gets one 404 page, the same for all.

Nothing is stored half-way: the form is read and every photo checked before any write; the
complaint and its ``complaint.received`` are one transaction (``complaints.receive``), photos are
stored after it in slots of the complaint. A form's one-time token makes a second post of the same
form (a double tap, a reload) answer with the first ticket (``resident_store``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import Response, redirect, request
from flask_smorest import Blueprint
from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.exceptions import RequestEntityTooLarge

from intake import complaints
from intake.attachments import MAX_PER_COMPLAINT, MAX_PHOTO_BYTES, Upload
from intake.config import config_of
from intake.domain.resident_texts import field_help, texts
from intake.domain.resident_view import choose_language, offer_of, tracking_view
from intake.domain.tickets import token_digest
from intake.resident_forms import (
    MAX_PHOTOS,
    body_hash,
    chosen_files,
    claim_id,
    new_form_token,
    open_for_form,
    read_addition,
    read_complaint,
    seal_for_form,
    usable_form_token,
)
from intake.resident_store import ResidentStore
from intake.resident_updates import add_information
from intake.store import IntakeStore
from propcare_shared.context import current_context, current_store
from propcare_shared.http.errors import Problem
from propcare_shared.http.ratelimit import enforce, hashed, limit_lookups
from propcare_shared.sealing import Sealer
from propcare_shared.vocabulary import DEFAULT_TIMEZONE

pages = Blueprint("resident_pages", __name__, url_prefix="/r", description="The residents' pages: file a complaint, follow it.")
_templates = Environment(loader=PackageLoader("intake", "templates"), autoescape=select_autoescape(["html", "j2"]))
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# A form of 6 photos of 10 MB and its text; the app's 25 MB limit is for the JSON API.
MAX_FORM_BYTES = MAX_PHOTOS * MAX_PHOTO_BYTES + 1024 * 1024
PENDING_WAIT = 5.0
PENDING_POLL = 0.1
KEPT_FIELDS = ("building", "unit", "room", "description", "demand", "name", "phone", "role", "consent", "note")


@pages.before_request
def _allow_photos() -> None:
    if request.method == "POST":
        request.max_content_length = MAX_FORM_BYTES


@pages.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> Response:
    # The body is not read again here: the language comes from the address and the browser only.
    return _notice(413, "too_large", choose_language(request.args.get("lang"), request.accept_languages))


# rendering ---------------------------------------------------------------------------------------


def _language() -> str:
    return choose_language(request.values.get("lang"), request.accept_languages)


def _page(template: str, status: int, *, language: str, switch_href: str | None = None, **values: Any) -> Response:
    other = texts(language)["switch_lang"]
    body = _templates.get_template(template).render(t=texts(language), lang=language, switch_href=switch_href or f"?lang={other}", **values)
    page = Response(body, status=status, mimetype="text/html")
    # The token in the address is the resident's credential: keep it out of caches and Referer headers.
    page.headers["Cache-Control"] = "no-store"
    page.headers["Referrer-Policy"] = "no-referrer"
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    page.headers["X-Content-Type-Options"] = "nosniff"
    return page


def _notice(status: int, key: str, language: str, **values: Any) -> Response:
    t = texts(language)
    return _page("r_notice.html.j2", status, language=language, title=t[f"{key}_title"], message=t[f"{key}_text"], **values)


def _kept(form: Mapping[str, str]) -> dict[str, str]:
    return {key: form.get(key, "") for key in KEPT_FIELDS}


def _busy(refusal: Problem, language: str) -> Response:
    page = _notice(429, "busy", language)
    page.headers.update(refusal.headers or {})
    return page


# choosing the estate and filing ------------------------------------------------------------------


@pages.route("/", methods=["GET"])
def choose_estate() -> Response:
    """Ask for the estate code printed under the estate's QR code (the QR code itself links to ``/r/{code}``)."""
    language = _language()
    code = (request.args.get("code") or "").strip()
    if code:
        return redirect(f"/r/{code}?lang={language}", code=303)  # type: ignore[return-value]
    return _page("r_choose.html.j2", 200, language=language)


def _estate(code: str) -> dict[str, Any] | None:
    return ResidentStore(current_context().database).estate_by_code(code) if code.isalnum() and len(code) <= 16 else None


@pages.route("/<estate_code>", methods=["GET"])
def complaint_form(estate_code: str) -> Response:
    """Show the complaint form of an estate."""
    language = _language()
    estate = _estate(estate_code)
    if estate is None:
        return _notice(404, "estate_unknown", language)
    return _form_page(200, estate=estate, language=language, form_token=new_form_token(), kept={"role": "owner"}, errors={})


def _form_page(status: int, *, estate: Mapping[str, Any], language: str, form_token: str, kept: Mapping[str, str], errors: Any) -> Response:
    return _page(
        "r_form.html.j2",
        status,
        language=language,
        estate=estate,
        action=f"/r/{estate['code']}",
        form_token=form_token,
        kept=kept,
        errors=errors,
        max_photos=MAX_PHOTOS,
    )


@pages.route("/<estate_code>", methods=["POST"])
def file_complaint(estate_code: str) -> Response:
    """File a complaint from the form; a second post of the same form answers with the same ticket."""
    language = _language()
    estate = _estate(estate_code)
    if estate is None:
        return _notice(404, "estate_unknown", language)
    form_token = request.form.get("form_token")
    files = chosen_files(request.files)
    kept = _kept(request.form)
    if not usable_form_token(form_token):
        return _form_page(422, estate=estate, language=language, form_token=new_form_token(), kept=kept, errors={"form_token": [""]})
    assert form_token is not None
    read = read_complaint(request.form, files, estate_id=estate["_id"], language=language)
    if not read.valid:
        return _form_page(422, estate=estate, language=language, form_token=form_token, kept=kept, errors=read.errors)
    config = config_of(current_context())
    limits = {
        hashed("resident-address", request.remote_addr or "unknown"): config.resident_limit_per_address,
        hashed("resident-phone", read.values["reporter"]["phone"]): config.resident_limit_per_phone,
    }

    def work() -> dict[str, Any]:
        return _receive(estate=estate, values=read.values, photos=read.photos, form_token=form_token)

    outcome = _once(form_token, kind="filed", digest=body_hash(request.form, files), limits=limits, work=work, language=language)
    if isinstance(outcome, Response):
        return outcome
    tracking_token = open_for_form(form_token, outcome["sealed"])
    if tracking_token is None:
        return _notice(409, "form_used", language)
    return _page(
        "r_filed.html.j2",
        201,
        language=language,
        switch_href=f"/r/t/{tracking_token}?lang={texts(language)['switch_lang']}",
        ticket_no=outcome["ticket_no"],
        tracking_path=f"/r/t/{tracking_token}",
        tracking_url=f"{request.host_url.rstrip('/')}/r/t/{tracking_token}",
        photos=outcome.get("photos", 0),
    )


def _receive(*, estate: Mapping[str, Any], values: dict[str, Any], photos: list[Upload], form_token: str) -> dict[str, Any]:
    context = current_context()
    store = current_store(IntakeStore)
    sealer = Sealer(config_of(context).personal_data_keys)
    received = context.uow.run(
        lambda tx: complaints.receive(tx, store=store, estate=estate, values=values, now=context.clock(), actor_id=None, sealer=sealer)
    )
    complaint_id = received.complaint["_id"]
    for photo in photos:
        if store.reserve_attachment_slot(complaint_id=complaint_id, limit=MAX_PER_COMPLAINT):
            _store_photo(store, complaint_id=complaint_id, photo=photo)
    return {
        "kind": "filed",
        "ticket_no": received.complaint["ticket_no"],
        "sealed": seal_for_form(form_token, received.tracking_token),
        "photos": len(photos),
    }


def _store_photo(store: IntakeStore, *, complaint_id: str, photo: Upload) -> None:
    """Store a photo in a slot reserved before; give the slot back if storing fails."""
    try:
        store.store_attachment(complaint_id=complaint_id, filename=photo.filename, content_type=photo.content_type, stream=photo.stream)
    except BaseException:
        store.release_attachment_slot(complaint_id=complaint_id)
        raise


def _once(
    form_token: str, *, kind: str, digest: str, limits: dict[str, int], work: Callable[[], dict[str, Any]], language: str
) -> dict[str, Any] | Response:
    """Run a form's work once: a replay of the same form gets the first outcome, another body or a refusal gets a page."""
    residents = ResidentStore(current_context().database)
    key = claim_id(form_token)
    existing = residents.existing_claim(key)
    if existing is None:
        try:
            enforce(limits, detail="Too many requests from here in a short time.")
        except Problem as refusal:
            return _busy(refusal, language)
        existing = residents.claim(claim_id=key, kind=kind, body_hash=digest, now=current_context().clock())
        if existing is None:
            try:
                outcome = work()
            except BaseException:
                residents.release_claim(key)
                raise
            residents.finish_claim(key, result=outcome)
            return outcome
    if existing.get("body_hash") != digest or existing.get("kind") != kind:
        return _notice(409, "form_used", language)
    deadline = time.monotonic() + PENDING_WAIT
    while existing is not None and existing.get("state") != "done" and time.monotonic() < deadline:
        time.sleep(PENDING_POLL)
        existing = residents.existing_claim(key)
    if existing is None or existing.get("state") != "done":
        return _notice(409, "pending", language)
    return dict(existing["result"])


# following a complaint ---------------------------------------------------------------------------


def _tracked(tracking_token: str) -> dict[str, Any] | Response:
    """Return the complaint of a tracking token, or the page to answer with (429, or the one 404 for every bad token)."""
    language = _language()
    try:
        limit_lookups("track")
    except Problem as refusal:
        return _busy(refusal, language)
    complaint = current_store(IntakeStore).complaint_by_token(token_digest(tracking_token)) if len(tracking_token) <= 128 else None
    if complaint is None:
        return _notice(404, "not_found", language)
    return complaint


def _tracking_page(
    status: int, *, complaint: Mapping[str, Any], tracking_token: str, form_token: str | None = None, kept: Any = None, errors: Any = None
) -> Response:
    context = current_context()
    store = current_store(IntakeStore)
    language = _language()
    estate = store.estate(complaint["estate_id"]) or {}
    timezone = estate.get("timezone") or DEFAULT_TIMEZONE
    view = tracking_view(
        complaint,
        timeline=store.timeline(complaint["_id"]),
        survey=ResidentStore(context.database).survey_of(complaint["_id"]),
        timezone=timezone,
        language=language,
        now=context.clock(),
    )
    used = complaint.get("attachment_slots", len(complaint.get("attachments") or []))
    return _page(
        "r_track.html.j2",
        status,
        language=language,
        complaint=complaint,
        estate=estate,
        timezone=timezone,
        view=view,
        photos=len(complaint.get("attachments") or []),
        room=max(0, min(MAX_PHOTOS, MAX_PER_COMPLAINT - int(used))),
        action=f"/r/t/{tracking_token}",
        form_token=form_token or new_form_token(),
        kept=kept or {},
        errors=errors or {},
    )


@pages.route("/t/<tracking_token>", methods=["GET"])
def track(tracking_token: str) -> Response:
    """Show a resident's complaint: status in words, time limits in local time, what was done, and what they can do."""
    complaint = _tracked(tracking_token)
    if isinstance(complaint, Response):
        return complaint
    return _tracking_page(200, complaint=complaint, tracking_token=tracking_token)


@pages.route("/t/<tracking_token>", methods=["POST"])
def add_to_complaint(tracking_token: str) -> Response:
    """Add information or photos to an open complaint (``complaint.updated_by_resident``)."""
    complaint = _tracked(tracking_token)
    if isinstance(complaint, Response):
        return complaint
    language = _language()
    context = current_context()
    store = current_store(IntakeStore)
    kept = _kept(request.form)
    reopened = any(change.get("action") == "reopen" for change in store.timeline(complaint["_id"]))
    if offer_of(status=str(complaint.get("status")), reopened=reopened, survey=None, now=context.clock()) != "add":
        return _tracking_page(409, complaint=complaint, tracking_token=tracking_token)
    form_token = request.form.get("form_token")
    if not usable_form_token(form_token):
        return _tracking_page(422, complaint=complaint, tracking_token=tracking_token, kept=kept, errors={"form_token": [""]})
    assert form_token is not None
    files = chosen_files(request.files)
    used = int(complaint.get("attachment_slots", len(complaint.get("attachments") or [])))
    read = read_addition(request.form, files, language=language, room=max(0, MAX_PER_COMPLAINT - used))
    if not read.valid:
        return _tracking_page(422, complaint=complaint, tracking_token=tracking_token, form_token=form_token, kept=kept, errors=read.errors)
    limits = {hashed("resident-address", request.remote_addr or "unknown"): config_of(context).resident_limit_per_address}

    def work() -> dict[str, Any]:
        return _add(store, complaint=complaint, note=read.values["note"], photos=read.photos)

    outcome = _once(form_token, kind="added", digest=body_hash(request.form, files), limits=limits, work=work, language=language)
    if isinstance(outcome, Response):
        return outcome
    if outcome.get("refused"):
        errors = {"photos": [field_help(language, "photos_full", limit=MAX_PER_COMPLAINT, left=outcome["left"])]}
        return _tracking_page(422, complaint=complaint, tracking_token=tracking_token, kept=kept, errors=errors)
    return _page("r_added.html.j2", 201, language=language, tracking_path=f"/r/t/{tracking_token}", photos=outcome["photos"])


def _add(store: IntakeStore, *, complaint: Mapping[str, Any], note: str, photos: list[Upload]) -> dict[str, Any]:
    """Reserve the photos' slots, emit the addition, then store the photos; a full complaint adds nothing."""
    context = current_context()
    complaint_id = complaint["_id"]
    reserved = 0
    for _photo in photos:
        if not store.reserve_attachment_slot(complaint_id=complaint_id, limit=MAX_PER_COMPLAINT):
            break
        reserved += 1
    if reserved < len(photos):  # another upload took the room meanwhile
        for _ in range(reserved):
            store.release_attachment_slot(complaint_id=complaint_id)
        return {"kind": "added", "refused": True, "photos": 0, "left": reserved}
    try:
        context.uow.run(lambda tx: add_information(tx, store=store, complaint=complaint, note=note, now=context.clock()))
    except BaseException:
        for _ in range(reserved):
            store.release_attachment_slot(complaint_id=complaint_id)
        raise
    for photo in photos:
        _store_photo(store, complaint_id=complaint_id, photo=photo)
    return {"kind": "added", "photos": len(photos)}
