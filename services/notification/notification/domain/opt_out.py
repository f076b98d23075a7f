"""Opting out of non-essential messages: which messages still go, the signed link, the stored key.

Pure: plain values in and out, the secret passed in.

- **What still goes.** An opt-out stops a resident's non-essential messages only. Essential
  (``ESSENTIAL_KINDS``): the acknowledgement with the time limit (the reporter must be told it), on
  hold (we need the resident), resolved (what was done), reopened and cancelled (a decision about their
  complaint, with its reason). Every message of an emergency complaint is essential. The rest (assigned,
  responded, plan, progress, resumed, closed, survey and campaign invitations and reminders) is not.
  Staff messages are never affected.
- **The link.** Every resident message carries ``<PUBLIC_BASE_URL>/o/<token>``; the token names whose
  messages (``c:<complaint id>`` for a complaint's reporter, ``h:<household id>`` for a campaign's
  household) and is signed with HMAC-SHA256 under ``NOTIFY_OPT_OUT_SECRET``: it cannot be forged or
  changed into another's, and it holds no phone. It does not expire: an old message's link still works.
- **What is stored.** The opt-out is kept per address (the phone in E.164, or the e-mail), so it is
  honoured everywhere that address is written to (later complaints, campaigns), but only as
  ``address_key``: an HMAC of the address under the same secret, never the address (a plain hash of
  a phone number could be reversed by trying every number).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field

ESSENTIAL_KINDS = frozenset({"acknowledgement", "on_hold", "resolved", "reopened", "cancelled"})
OPTED_OUT_REASON = "the resident opted out of non-essential messages"
COMPLAINT = "c"
HOUSEHOLD = "h"
SIGNATURE_LENGTH = 32


@dataclass(frozen=True)
class OptOutLinks:
    """The secret that signs opt-out links and keys stored opt-outs, and the public address links start with."""

    secret: str = field(repr=False)
    base_url: str

    def link(self, *, kind: str, identifier: str) -> str:
        """Return the opt-out link of a complaint's reporter (``c``) or a household (``h``)."""
        return link(base_url=self.base_url, kind=kind, identifier=identifier, secret=self.secret)

    def key(self, address: str | None) -> str | None:
        """Return the stored key of an address, or None without one."""
        return address_key(address, secret=self.secret) if address else None


class InvalidOptOutToken(ValueError):
    """Raised for a token this service did not sign (forged, altered or truncated)."""


def is_essential(kind: str, *, tier: str | None) -> bool:
    """Tell whether a resident message goes even to a resident who opted out."""
    return tier == "emergency" or kind in ESSENTIAL_KINDS


def _signature(subject: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"opt-out:{subject}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:SIGNATURE_LENGTH]


def sign(*, kind: str, identifier: str, secret: str) -> str:
    """Return the opt-out token of a complaint's reporter (``c``) or a household (``h``)."""
    subject = f"{kind}:{identifier}"
    encoded = base64.urlsafe_b64encode(subject.encode()).decode().rstrip("=")
    return f"{encoded}.{_signature(subject, secret)}"


def verify(token: str, *, secret: str) -> tuple[str, str]:
    """Return the (kind, identifier) a token names; ``InvalidOptOutToken`` unless this service signed it."""
    encoded, _, signature = token.partition(".")
    try:
        subject = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidOptOutToken(token) from None
    kind, _, identifier = subject.partition(":")
    if kind not in (COMPLAINT, HOUSEHOLD) or not identifier or not hmac.compare_digest(signature, _signature(subject, secret)):
        raise InvalidOptOutToken(token)
    return kind, identifier


def link(*, base_url: str, kind: str, identifier: str, secret: str) -> str:
    """Return the opt-out link of a complaint's reporter or a household."""
    return f"{base_url.rstrip('/')}/o/{sign(kind=kind, identifier=identifier, secret=secret)}"


def address_key(address: str, *, secret: str) -> str:
    """Return the stored key of an address (E.164 phone or e-mail): an HMAC, never the address."""
    normalised = address.strip().lower()
    return hmac.new(secret.encode(), f"address:{normalised}".encode(), hashlib.sha256).hexdigest()
