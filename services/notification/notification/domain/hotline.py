"""The callbacks Propcare owes the 12345 hotline for a transfer, as plain values (docs/API.md, Callbacks to the hotline).

Pure: events' data in, callback fields and signed bodies out; no clock read, no I/O. Rules:
- Intake's ``hotline.accepted``, ``hotline.returned`` and ``hotline.extension_requested`` are
  callbacks ``accepted``, ``returned`` (``note`` = the reason) and ``extension_requested`` (``note`` =
  the reason, ``until`` = the new date, also written into the note for a receiver that reads only
  the contract's fields).
- Dispatch's ``complaint.plan_submitted`` and ``complaint.progress_updated`` of a hotline complaint
  are ``progress`` (``note`` = the staff note); ``complaint.resolved`` is ``completed`` (办结反馈):
  ``resolution`` = what was done, ``handler`` = the actor's id, ``at`` = when.
- The body is the contract's ``{"hotline_ticket_id", "event", "at", "note", "handler",
  "resolution"}`` plus ``callback_id`` (stable across retries: the receiver deduplicates by it),
  ``sequence`` (1, 2, 3 … per ticket, the order they must be applied in) and ``until``.
- Signing: ``X-Hotline-Timestamp`` (unix seconds) and ``X-Hotline-Signature`` = hex
  HMAC-SHA256(secret, timestamp + "." + raw body), the same scheme the hotline signs with.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

ACTED_EVENTS = {
    "hotline.accepted": "accepted",
    "hotline.returned": "returned",
    "hotline.extension_requested": "extension_requested",
}
WORK_ORDER_EVENTS = {
    "complaint.plan_submitted": "progress",
    "complaint.progress_updated": "progress",
    "complaint.resolved": "completed",
}
CALLBACK_EVENTS = (*ACTED_EVENTS, *WORK_ORDER_EVENTS)

# A callback's delivery states; ``sending`` is internal (claimed by one sender under a lease) and is
# reported to intake as ``pending``.
PENDING = "pending"
SENDING = "sending"
FAILING = "failing"
DELIVERED = "delivered"
REPORTED_STATES = {PENDING: PENDING, SENDING: PENDING, FAILING: FAILING, DELIVERED: DELIVERED}

NO_URL_ERROR = "no HOTLINE_CALLBACK_URL: the callback waits until one is configured"
TIMESTAMP_HEADER = "X-Hotline-Timestamp"
SIGNATURE_HEADER = "X-Hotline-Signature"


def callback_fields(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the callback an event asks for: its ``event``, ``at``, ``note``, ``handler``, ``resolution`` and ``until``."""
    if event_type in ACTED_EVENTS:
        kind = ACTED_EVENTS[event_type]
        until = data.get("until") if kind == "extension_requested" else None
        note = data.get("reason")
        if until is not None:
            note = f"{note or ''} (until {iso(until)})".strip()
        return {"event": kind, "at": data["at"], "note": note, "handler": data.get("actor_id"), "resolution": None, "until": until}
    kind = WORK_ORDER_EVENTS[event_type]
    resolution = (data.get("resolution") or data.get("note")) if kind == "completed" else None
    note = data.get("note")
    return {"event": kind, "at": data["at"], "note": note, "handler": data.get("actor_id"), "resolution": resolution, "until": None}


def iso(moment: datetime | None) -> str | None:
    """Return a time as ISO 8601 UTC with a ``Z``, or None."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def payload(callback: Mapping[str, Any]) -> dict[str, Any]:
    """Return the JSON body posted to the hotline for a stored callback."""
    return {
        "callback_id": callback["_id"],
        "hotline_ticket_id": callback["hotline_ticket_id"],
        "sequence": callback["sequence"],
        "event": callback["event"],
        "at": iso(callback["at"]),
        "note": callback.get("note"),
        "handler": callback.get("handler"),
        "resolution": callback.get("resolution"),
        "until": iso(callback.get("until")),
    }


def body_of(callback: Mapping[str, Any]) -> bytes:
    """Return the raw body of a callback: compact JSON in UTF-8 (what is signed is exactly what is sent)."""
    return json.dumps(payload(callback), ensure_ascii=False, separators=(",", ":")).encode()


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``timestamp + "." + body`` under the shared secret."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(*, secret: str, body: bytes, unix_time: float, callback_id: str) -> dict[str, str]:
    """Return the headers of a signed callback sent at ``unix_time``."""
    timestamp = str(int(unix_time))
    return {
        "Content-Type": "application/json; charset=utf-8",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret=secret, timestamp=timestamp, body=body),
        "Idempotency-Key": callback_id,
    }
