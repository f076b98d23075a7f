"""What staff see of a message: addresses enough to recognise, not enough to copy; links without their token.

Recipients: ``+8613800138000`` → ``+86 138****8000``; ``13800138000`` → ``138****8000``;
``wang.li@example.com`` → ``w******@example.com``; shorter numbers keep only their last four digits;
staff addresses (``role:supervisor``, ``staff:eng-1``) are not personal and are shown as they are.

Links: a survey link (``/s/<token>``) or a tracking link (``/r/t/<token>``, ``/api/v1/track/<token>``)
is the resident's credential, so staff see it as ``/s/…``: the message as delivered keeps the real
link, only the view staff get is masked.
"""

from __future__ import annotations

import re

import phonenumbers

MASK = "…"
RESIDENT_LINK = re.compile(r"(/s/|/r/t/|/api/v1/track/)[\w.~%=+-]+", re.ASCII)


def _mask_digits(number: str) -> str:
    if len(number) >= 11:
        return f"{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}"
    if len(number) >= 7:
        return f"{'*' * (len(number) - 4)}{number[-4:]}"
    return "*" * len(number)


def mask_recipient(address: str | None) -> str | None:
    """Return an address with its middle hidden."""
    if not address:
        return address
    if address.startswith(("role:", "staff:")):
        return address
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}{'*' * max(len(local) - 1, 1)}@{domain}"
    number = address.strip()
    if number.startswith("+"):
        try:
            parsed = phonenumbers.parse(number, None)
        except phonenumbers.NumberParseException:
            return _mask_digits(number)
        return f"+{parsed.country_code} {_mask_digits(phonenumbers.national_significant_number(parsed))}"
    return _mask_digits(number)


def mask_links(text: str | None) -> str | None:
    """Return a text with the token of every resident link replaced by ``…``."""
    if not text:
        return text
    return RESIDENT_LINK.sub(lambda match: f"{match.group(1)}{MASK}", text)
