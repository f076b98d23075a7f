"""Scopes of the organisation as the API writes them: ``group:G1``, ``region:R1``, ``estate:NS01``.

Pure. A scope names one level of the organisation (docs/PRODUCT.md §3) and one id at that level; ids are the
directory's ids (a letter or digit, then letters, digits, ``_``, ``.`` or ``-``; at most 64
characters). Dispatch keys SLA policies and calendars by scope; analytics reports on one.

A region id is only unique inside its group (two groups may both call a region ``R1``), so the
text ``region:R1`` always means the caller's group's R1, and a region scope is stored under its
``key`` with the group in it: ``region:G1/R1``. Group and estate ids are unique in a deployment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from propcare_shared.tenancy import region_key

LEVELS = ("group", "region", "estate")  # widest first
_SCOPE = re.compile(r"(group|region|estate):([A-Za-z0-9][A-Za-z0-9_.\-]{0,63})")


class InvalidScope(ValueError):
    """Raised for text that is not ``<level>:<id>``."""


@dataclass(frozen=True)
class Scope:
    """One group, region or estate."""

    level: str
    id: str

    def __str__(self) -> str:
        return f"{self.level}:{self.id}"

    def query(self, *, group_id: str) -> dict[str, Any]:
        """Return the filter selecting the documents of this scope in a group; another group's scope selects nothing."""
        if self.level == "group":
            return {"group_id": group_id if self.id == group_id else {"$in": []}}
        return {"group_id": group_id, f"{self.level}_id": self.id}

    def key(self, *, group_id: str) -> str:
        """Return the scope's id in the deployment: ``region:G1/R1`` for a region, the text otherwise."""
        if self.level == "region":
            return f"region:{region_key(group_id, self.id)}"
        return str(self)


def parse_scope(text: str) -> Scope:
    """Read ``estate:NS01``, ``region:R1`` or ``group:G1``; raise ``InvalidScope`` otherwise."""
    match = _SCOPE.fullmatch((text or "").strip())
    if match is None:
        raise InvalidScope("Must be one of estate:<id>, region:<id>, group:<id>, e.g. estate:NS01.")
    return Scope(level=match.group(1), id=match.group(2))


def scope_chain(*, group_id: str | None, region_id: str | None, estate_id: str | None) -> list[str]:
    """Return the keys of the scopes that apply to a group, region or estate, widest first, skipping the unknown ones."""
    ids = {"group": group_id, "region": region_key(group_id, region_id), "estate": estate_id}
    return [f"{level}:{ids[level]}" for level in LEVELS if ids[level]]
