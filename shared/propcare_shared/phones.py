"""Phone numbers in one form everywhere: E.164 (``+8613800138000``), read with ``phonenumbers``.

Residents write ``13800138000``, ``+86 138-0013-8000``, ``86-13800138000`` or ``0086…``: all are one
phone, so rate limits, deduplication and deliveries count and reach it once. A number without a
country code is read as Chinese (``DEFAULT_REGION``).
"""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "CN"


class InvalidPhone(ValueError):
    """Raised for text that is not a possible phone number."""


def normalise_phone(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """Return a phone number in E.164; raise ``InvalidPhone`` when it cannot be one."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("Not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("Not a valid phone number; write it with its country code if it is not Chinese, e.g. +852 9123 4567.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
