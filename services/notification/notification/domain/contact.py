"""The reporter's contact as notification keeps it: opened from the sealed ``contact`` of
``complaint.received``, the phone in E.164, and a reason whenever an address cannot be used.

Pure: the sealer is given (its keys are ``PERSONAL_DATA_KEYS``). Guarantees:
- The phone is stored only in E.164 (``+8613800138000``), so every delivery and every count sees one
  form; a phone that is not a valid number is dropped and the reason kept, never a crash.
- A seal no configured key opens (a key rotated out too early, or tampering) gives a contact with no
  phone and no e-mail and the reason ``UNREADABLE``: the complaint's messages are then recorded as
  skipped with that reason, visible to staff. The event is not retried or parked: a rotated-out key
  does not come back, so a retry could only fail again, and a parked event would hold up nothing
  that a skipped message does not already show.
- The reporter's name is never kept: messages never address residents by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from propcare_shared.phones import InvalidPhone, normalise_phone
from propcare_shared.sealing import Sealer, UnreadableSeal

UNREADABLE = "undeliverable: contact unreadable (sealed with a key notification does not have)"
INVALID_PHONE = "the reporter's phone is not a valid phone number"


@dataclass(frozen=True)
class ContactDetails:
    """Where a resident can be reached, and why not when they cannot."""

    phone: str | None = None
    email: str | None = None
    problem: str | None = None


def phone_or_problem(raw: Any) -> tuple[str | None, str | None]:
    """Return a phone in E.164 and no problem, or no phone and the reason (``None, None`` without one)."""
    if not isinstance(raw, str) or not raw.strip():
        return None, None
    try:
        return normalise_phone(raw), None
    except InvalidPhone:
        return None, INVALID_PHONE


def open_contact(sealed: str | None, *, sealer: Sealer) -> ContactDetails:
    """Open the sealed contact of ``complaint.received``; no seal is no contact."""
    if not sealed:
        return ContactDetails()
    try:
        opened = sealer.open(sealed)
    except UnreadableSeal:
        return ContactDetails(problem=UNREADABLE)
    phone, problem = phone_or_problem(opened.get("phone"))
    email = opened.get("email")
    return ContactDetails(phone=phone, email=email.strip() if isinstance(email, str) and email.strip() else None, problem=problem)
