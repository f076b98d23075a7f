"""The residents' forms read back: a complaint as the API's schema takes it, photos, the one-time form token.

A plain form post (no JavaScript) carries text fields and files. The complaint is validated by the
API's own ``ComplaintIn`` (same limits, same phone rules), so the page and ``POST /api/v1/complaints``
cannot drift apart; each refused field gets the help of ``resident_texts`` in the page's language.
Photos are checked one by one by ``attachments.accept_upload`` (type from the first bytes, size),
all of them before anything is written: one bad photo refuses the whole form.

The one-time form token (``form_token``, a hidden field) is 32 random bytes the page was served
with. Its digests give the claim's id and, separately, the key that encrypts the answer kept for
replays (``resident_store``); a form without a well-formed token is refused as expired.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from marshmallow import ValidationError
from werkzeug.datastructures import FileStorage, MultiDict

from intake.attachments import MAX_PER_COMPLAINT, AttachmentRefused, Upload, accept_upload, safe_filename
from intake.domain.resident_texts import field_help
from intake.schemas import ComplaintIn

MAX_PHOTOS = 6
MAX_NOTE = 2000
FORM_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
TEXT_FIELDS = ("building", "unit", "room", "description", "demand", "name", "phone", "role")
SCHEMA_FIELDS = {"reporter.phone": "phone", "reporter.name": "name", "reporter.role": "role"}


@dataclass
class FormResult:
    """A form read back: the values to act on, or the errors to show next to each field."""

    values: dict[str, Any] = field(default_factory=dict)
    photos: list[Upload] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


def new_form_token() -> str:
    """Return a fresh one-time token for a form."""
    return secrets.token_urlsafe(32)


def usable_form_token(token: str | None) -> bool:
    """Tell whether a posted form token has the shape the page serves."""
    return bool(token) and FORM_TOKEN.match(token or "") is not None


def claim_id(token: str) -> str:
    """Return the id of a form's claim (a digest; the token itself is never stored)."""
    return hashlib.sha256(b"resident-form-claim:" + token.encode()).hexdigest()


def seal_for_form(token: str, secret: str) -> str:
    """Encrypt ``secret`` under a key only the form's token gives."""
    return _fernet(token).encrypt(secret.encode()).decode()


def open_for_form(token: str, sealed: str) -> str | None:
    """Decrypt what ``seal_for_form`` encrypted with this token, or ``None``."""
    try:
        return _fernet(token).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def _fernet(token: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"resident-form-seal:" + token.encode()).digest()))


def body_hash(form: MultiDict[str, str], files: list[FileStorage]) -> str:
    """Return a digest of a posted form, its text fields and its files' content."""
    digest = hashlib.sha256()
    for key in sorted(form):
        if key == "lang":
            continue
        for value in form.getlist(key):
            digest.update(f"{key}={value}\x00".encode())
    for upload in files:
        position = upload.stream.tell()
        digest.update(hashlib.sha256(upload.stream.read()).digest())
        upload.stream.seek(position)
    return digest.hexdigest()


def chosen_files(files: MultiDict[str, FileStorage], name: str = "photos") -> list[FileStorage]:
    """Return the files a form field carries; an empty file input sends one nameless part, which is no file."""
    return [upload for upload in files.getlist(name) if upload.filename]


def check_photos(uploads: list[FileStorage], *, language: str, room: int = MAX_PHOTOS) -> tuple[list[Upload], list[str]]:
    """Return the accepted photos and the messages about the refused ones (all refused when any is)."""
    if len(uploads) > min(room, MAX_PHOTOS):
        limit = min(room, MAX_PHOTOS)
        return [], [field_help(language, "photos_count", limit=limit)]
    accepted: list[Upload] = []
    messages: list[str] = []
    for upload in uploads:
        name = safe_filename(upload.filename or "")
        try:
            photo = accept_upload(upload)
        except AttachmentRefused as refused:
            kind = {415: "photos_type", 413: "photos_size"}.get(refused.status, "photos_empty")
            messages.append(field_help(language, kind, name=name))
            continue
        if not photo.content_type.startswith("image/"):
            messages.append(field_help(language, "photos_type", name=name))
            continue
        accepted.append(photo)
    return ([] if messages else accepted), messages


def read_complaint(form: Mapping[str, str], files: list[FileStorage], *, estate_id: str, language: str) -> FormResult:
    """Read the complaint form into the API's complaint values, or the field errors in the page's language."""
    text = {key: (form.get(key) or "").strip() for key in TEXT_FIELDS}
    body = {
        "estate_id": estate_id,
        "building": text["building"] or None,
        "unit": text["unit"] or None,
        "room": text["room"] or None,
        "reporter": {"name": text["name"] or None, "phone": text["phone"], "role": text["role"] or "owner"},
        "channel": "web",
        "description": text["description"],
        "demand": text["demand"] or None,
        "language": language,
    }
    result = FormResult()
    try:
        result.values = ComplaintIn().load(body)
    except ValidationError as error:
        for key in _flat_keys(error.normalized_messages()):
            shown = SCHEMA_FIELDS.get(key, key)
            result.errors.setdefault(shown, [field_help(language, shown)] if shown in TEXT_FIELDS else [str(key)])
    if text["room"] and not text["building"]:
        result.errors.setdefault("room", [field_help(language, "room")])
    if form.get("consent") != "yes":
        result.errors["consent"] = [field_help(language, "consent")]
    result.photos, photo_errors = check_photos(files, language=language)
    if photo_errors:
        result.errors["photos"] = photo_errors
    return result


def read_addition(form: Mapping[str, str], files: list[FileStorage], *, language: str, room: int) -> FormResult:
    """Read the form adding information: a note, photos, or both; at most ``room`` photos."""
    note = (form.get("note") or "").strip()
    result = FormResult(values={"note": note})
    if len(note) > MAX_NOTE or (not note and not files):
        result.errors["note"] = [field_help(language, "note")]
    if len(files) > room:
        full = room < MAX_PHOTOS
        help_key = "photos_full" if full else "photos_count"
        result.errors["photos"] = [field_help(language, help_key, limit=MAX_PER_COMPLAINT if full else MAX_PHOTOS, left=room)]
        return result
    result.photos, photo_errors = check_photos(files, language=language, room=room)
    if photo_errors:
        result.errors["photos"] = photo_errors
    return result


def _flat_keys(messages: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in messages.items():
        name = f"{prefix}{key}"
        keys.extend(_flat_keys(value, f"{name}.") if isinstance(value, Mapping) else [name])
    return keys
