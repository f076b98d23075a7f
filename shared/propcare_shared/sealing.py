"""Personal data sealed for the one service that needs it (docs/SECURITY.md, "Personal data").

``complaint.received`` must reach the resident's contact to notification, and every other consumer,
queue, parked message and replay must not show it. Intake seals the contact with Fernet
(AES-128-CBC with HMAC-SHA256, from ``cryptography``) under ``PERSONAL_DATA_KEYS``, which only intake
and notification are given; the event carries the sealed text, never the name or phone in clear.

Rotation: ``PERSONAL_DATA_KEYS`` is a comma-separated list; the first key seals, every key opens
(``MultiFernet``). Add a new key first on notification, then put it first on intake; drop the old
key once no message sealed with it can still be delivered or replayed (the parking queue's oldest).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

# A key for laptops and tests only; every deployment sets PERSONAL_DATA_KEYS (docs/SECURITY.md).
DEVELOPMENT_PERSONAL_DATA_KEY = "cHJvcGNhcmUtZGV2ZWxvcG1lbnQtb25seS1rZXktMDA="


class UnreadableSeal(ValueError):
    """Raised for sealed text no configured key opens (a rotated-out key, or tampering)."""


class Sealer:
    """Seals and opens small JSON values with the configured keys."""

    def __init__(self, keys: Iterable[str]) -> None:
        fernets = [Fernet(key.encode() if isinstance(key, str) else key) for key in keys]
        if not fernets:
            raise ValueError("PERSONAL_DATA_KEYS needs at least one Fernet key.")
        self._fernet = MultiFernet(fernets)

    def seal(self, value: Mapping[str, Any]) -> str:
        """Return ``value`` as sealed text."""
        return self._fernet.encrypt(json.dumps(dict(value), ensure_ascii=False, sort_keys=True).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        """Return the value inside sealed text; raise ``UnreadableSeal`` when no key opens it."""
        try:
            return dict(json.loads(self._fernet.decrypt(sealed.encode())))
        except (InvalidToken, ValueError, TypeError):
            raise UnreadableSeal("No configured key opens this sealed value.") from None


def new_key() -> str:
    """Return a fresh key for ``PERSONAL_DATA_KEYS``."""
    return Fernet.generate_key().decode()


if __name__ == "__main__":
    print(new_key())
