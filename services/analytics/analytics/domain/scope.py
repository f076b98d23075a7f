"""Report scopes: ``estate:NS01``, ``region:R1`` or ``group:G1``, and the MongoDB filter of each.

Pure. A scope names one level of the organisation (SPEC.md §2) and one id at that level; ids are
the directory's ids (letters, digits, ``_``, ``-``, ``.``; at most 64 characters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

LEVELS = ("estate", "region", "group")
_SCOPE = re.compile(r"^(estate|region|group):([A-Za-z0-9_.\-]{1,64})$")


class InvalidScope(ValueError):
    """Raised for text that is not ``<level>:<id>``."""


@dataclass(frozen=True)
class Scope:
    """One estate, region or group to report on."""

    level: str
    id: str

    def __str__(self) -> str:
        return f"{self.level}:{self.id}"

    def query(self) -> dict[str, Any]:
        """Return the filter selecting the read-model documents of this scope."""
        return {f"{self.level}_id": self.id}


def parse_scope(text: str) -> Scope:
    """Read ``estate:NS01``, ``region:R1`` or ``group:G1``; raise ``InvalidScope`` otherwise."""
    match = _SCOPE.match(text.strip())
    if match is None:
        raise InvalidScope(f"Must be one of {', '.join(f'{level}:<id>' for level in LEVELS)}, e.g. estate:NS01.")
    return Scope(level=match.group(1), id=match.group(2))
