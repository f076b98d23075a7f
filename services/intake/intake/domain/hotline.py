"""The 12345 hotline's rules on intake's side: signatures, estate matching, the 签收 clock, the states.

Pure: plain values in and out, ``now`` passed in, no MongoDB, no Flask (docs/HOTLINE.md).

- A call is signed ``hex(HMAC-SHA256(HOTLINE_SECRET, timestamp + "." + raw body))``; the signature is
  compared in constant time, and a timestamp older than ``MAX_AGE_SECONDS`` or more than
  ``MAX_AHEAD_SECONDS`` ahead of our clock is refused, so a captured call cannot be replayed later.
- An estate is matched by its code (codes are unique in a deployment), else by the one estate whose
  normalised name appears in the normalised address, the longest name winning; two equally long
  candidates, or none, match nothing and the transfer waits in triage.
- 签收 is due one working day after the transfer (the same local time on the next working day of the
  official calendar in the estate's time zone), or ``URGENT_ACCEPT_WITHIN`` after it when urgent.
- The states and what each allows are ``ALLOWED``; anything else is an ``IllegalAction``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from propcare_shared.calendar import WorkingCalendar
from propcare_shared.vocabulary import DEFAULT_TIMEZONE

MAX_AGE_SECONDS = 300
MAX_AHEAD_SECONDS = 30
URGENT_ACCEPT_WITHIN = timedelta(hours=1)
MIN_NAME_LENGTH = 2

STATES = ("triage", "received", "accepted", "extension_requested", "completed", "reopened", "returned", "closed")
OPEN_STATES = ("received", "accepted", "extension_requested", "reopened")
"""States in which the property company still owes the hotline a reply."""
ALLOWED: dict[str, tuple[str, ...]] = {
    "triage": ("assign_estate", "return"),
    "received": ("accept", "return", "satisfaction"),
    "accepted": ("return", "extension", "satisfaction"),
    "extension_requested": ("return", "extension", "satisfaction"),
    "completed": ("satisfaction",),
    "reopened": ("return", "extension", "satisfaction"),
    "returned": (),
    "closed": (),
}
ACTION_STATES = {"accept": "accepted", "return": "returned", "extension": "extension_requested"}
SATISFACTION_RESULTS = ("satisfied", "basically_satisfied", "dissatisfied")
CALLBACK_STATES = ("pending", "delivered", "failing")

_NOT_IN_NAMES = re.compile(r"[\W_]+", re.UNICODE)


class SignatureRefused(Exception):
    """A call whose signature or timestamp is missing, wrong, stale or from the future."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidValue(Exception):
    """A value the rules refuse (an extension date not after the deadline): a field error."""

    def __init__(self, *, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class IllegalAction(Exception):
    """An action the transfer's state does not allow, with the actions it does."""

    def __init__(self, *, action: str, state: str, detail: str | None = None) -> None:
        self.detail = detail or f"A transfer in the state {state!r} cannot take {action!r}."
        super().__init__(self.detail)
        self.action = action
        self.state = state
        self.allowed = tuple(allowed for allowed in ALLOWED.get(state, ()) if allowed != action)


def sign(*, secret: str, timestamp: str, raw: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``timestamp + "." + raw`` under the shared secret."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()


def verify(*, secret: str, timestamp: str | None, signature: str | None, raw: bytes, now: datetime) -> None:
    """Return when the call is signed with the secret within the time window; raise ``SignatureRefused``."""
    if not timestamp or not signature:
        raise SignatureRefused("Send X-Hotline-Timestamp and X-Hotline-Signature.")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureRefused("X-Hotline-Timestamp must be Unix seconds.")
    age = now.timestamp() - int(timestamp)
    if age > MAX_AGE_SECONDS:
        raise SignatureRefused(f"The timestamp is more than {MAX_AGE_SECONDS} seconds old.")
    if age < -MAX_AHEAD_SECONDS:
        raise SignatureRefused(f"The timestamp is more than {MAX_AHEAD_SECONDS} seconds in the future.")
    if not hmac.compare_digest(sign(secret=secret, timestamp=timestamp, raw=raw), signature.strip().lower()):
        raise SignatureRefused("The signature does not match the body.")


def body_digest(body: Mapping[str, Any]) -> str:
    """Return a digest of a parsed body that ignores key order and whitespace (the idempotency check)."""
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def normalise_text(text: str) -> str:
    """Return text as matched: NFKC (full-width to half-width), lower case, without spaces or punctuation."""
    return _NOT_IN_NAMES.sub("", unicodedata.normalize("NFKC", text or "").lower())


def match_estate(*, estate_code: str | None, address: str | None, estates: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """Return the estate a transfer names by code, else the one whose name the address holds; ``None`` when not unique."""
    candidates = list(estates)
    if estate_code:
        code = estate_code.strip().upper()
        by_code = [estate for estate in candidates if str(estate.get("code", "")).upper() == code]
        if len(by_code) == 1:
            return by_code[0]
    place = normalise_text(address or "")
    if not place:
        return None
    named = [
        (len(name), estate)
        for estate in candidates
        if len(name := normalise_text(estate.get("name", ""))) >= MIN_NAME_LENGTH and name in place
    ]
    if not named:
        return None
    longest = max(length for length, _ in named)
    best = [estate for length, estate in named if length == longest]
    return best[0] if len(best) == 1 else None


def triage_group(*, configured: str, groups: Iterable[str]) -> str | None:
    """Return the group whose staff triage an unmatched transfer: the configured one, else the directory's only group."""
    if configured:
        return configured
    distinct = sorted(set(groups))
    return distinct[0] if len(distinct) == 1 else None


def accept_due(*, transferred_at: datetime, urgent: bool, timezone: str | None, calendar: WorkingCalendar | None = None) -> datetime:
    """Return when 签收 is due: within the hour for an urgent transfer, else the same local time one working day later."""
    if urgent:
        return transferred_at + URGENT_ACCEPT_WITHIN
    zone = ZoneInfo(timezone or DEFAULT_TIMEZONE)
    local = transferred_at.astimezone(zone)
    day = (calendar or WorkingCalendar()).add_working_days(local.date(), 1)
    due = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone)
    return due.astimezone(transferred_at.tzinfo)


def require_allowed(*, state: str, action: str) -> None:
    """Return when the state allows the action; raise ``IllegalAction`` naming the allowed ones."""
    if action not in ALLOWED.get(state, ()):
        raise IllegalAction(action=action, state=state)


def require_extension(*, state: str, reply_deadline: datetime, until: datetime, now: datetime) -> None:
    """Return when an extension may be asked: before the reply deadline, for a later date; raise ``IllegalAction`` or ``InvalidValue``."""
    if now >= reply_deadline:
        raise IllegalAction(action="extension", state=state, detail="The reply deadline has passed: an extension is asked before it.")
    if until <= reply_deadline:
        raise InvalidValue(field="until", message="Must be later than the reply deadline.")


def state_after_satisfaction(result: str) -> str:
    """Return the state a follow-up result leaves a transfer in: dissatisfied reopens the work (重办), else it is closed."""
    return "reopened" if result == "dissatisfied" else "closed"


def merge_callback(callbacks: Mapping[str, Mapping[str, Any]], update: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], bool]:
    """Return the callbacks with one delivery state applied, and whether that callback is new.

    Updates of one callback may arrive out of order: an older one never overwrites a newer one, and
    ``delivered`` is final.
    """
    merged = {key: dict(value) for key, value in callbacks.items()}
    callback_id = str(update["callback_id"])
    known = merged.get(callback_id)
    entry = {key: update.get(key) for key in ("callback_id", "event", "state", "attempts", "last_error", "at")}
    if known is None:
        merged[callback_id] = entry
        return merged, True
    if known.get("state") == "delivered" or (known.get("at") is not None and update["at"] < known["at"]):
        return merged, False
    merged[callback_id] = entry
    return merged, False


def state_after_callback(*, state: str, event: str, new: bool) -> str:
    """Return the state after notification reports a callback: a new ``completed`` callback completes open work."""
    if new and event == "completed" and state in OPEN_STATES:
        return "completed"
    return state


def mask_name(name: str | None) -> str | None:
    """Return a name with all but its first character hidden."""
    if not name:
        return None
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str | None) -> str | None:
    """Return a phone with its middle digits hidden (``+86139****9000``)."""
    if not phone:
        return None
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:6] + "*" * (len(phone) - 10 if len(phone) > 10 else 1) + phone[-4:]
