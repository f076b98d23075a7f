"""Validation of the personal data intake keeps: phone numbers and reporter roles.

A phone is kept, counted and compared only in E.164 (``+8613800138000``): ``13800138000``,
``86-13800138000`` and ``+86 138-0013-8000`` are one phone for the rate limit, the households and
the contact notification opens. A number without a country code is read as Chinese.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from propcare_shared.phones import InvalidPhone, normalise_phone

REPORTER_ROLES = ("owner", "tenant", "other")
PHONE_MAX_LENGTH = 32


class Phone(fields.String):
    """A phone number as written by a person, loaded as E.164; anything else is a field error."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > PHONE_MAX_LENGTH:
            raise ValidationError(f"At most {PHONE_MAX_LENGTH} characters.")
        try:
            return normalise_phone(text)
        except InvalidPhone as exc:
            raise ValidationError(str(exc)) from None
