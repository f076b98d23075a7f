"""Validation of the personal data intake keeps: mainland phone numbers and reporter roles."""

from __future__ import annotations

from marshmallow import validate

# A mainland mobile (11 digits from 1) or a landline with its area code, optionally with +86.
PHONE = validate.Regexp(
    r"^(\+?86[- ]?)?(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$", error="Not a phone number (a mobile or a landline with its area code)."
)
REPORTER_ROLES = ("owner", "tenant", "other")
