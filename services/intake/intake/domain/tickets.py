"""Ticket numbers people can read, and the tracking tokens residents hold.

Pure. A ticket number is ``<estate code>-<local date>-<sequence>``, e.g. ``NS01-20261122-0007``:
the date is the estate's local date of receipt and the sequence counts that estate's complaints of
that local day from 1 (at least four digits; a 10,000th complaint of one day gets five). The
tracking token is 32 random bytes, URL-safe; only its SHA-256 is stored, so a database dump does
not let anyone read a resident's complaint.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime
from zoneinfo import ZoneInfo


def local_day(received_at: datetime, *, timezone: str) -> date:
    """Return the estate's local date of a moment."""
    return received_at.astimezone(ZoneInfo(timezone)).date()


def ticket_no(*, estate_code: str, day: date, sequence: int) -> str:
    """Return the ticket number of the ``sequence``-th complaint of an estate's local day."""
    return f"{estate_code}-{day:%Y%m%d}-{sequence:04d}"


def new_tracking_token() -> str:
    """Return a fresh tracking token for a resident."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Return what is stored of a tracking token."""
    return hashlib.sha256(token.encode()).hexdigest()
