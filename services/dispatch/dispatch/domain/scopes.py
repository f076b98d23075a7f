"""Scopes of SLA policies and calendars: ``group:G1``, ``region:R1``, ``estate:NS01``. Pure.

An estate inherits from its region, which inherits from its group: ``scope_chain`` lists the scopes
that apply, widest first, which is the order ``effective_policy`` and ``WorkingCalendar.merged``
lay them over the defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCOPE_KINDS = ("group", "region", "estate")
_SCOPE = re.compile(r"(group|region|estate):([A-Za-z0-9][A-Za-z0-9_.-]{0,63})")
BAD_SCOPE = "A scope is group:<id>, region:<id> or estate:<id>, with an id of letters, digits, '_', '.' or '-'."


@dataclass(frozen=True)
class Scope:
    """One scope: its kind and the id of the group, region or estate."""

    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


def parse_scope(text: str) -> Scope:
    """Return the scope written ``kind:id``; raise ValueError for anything else."""
    match = _SCOPE.fullmatch(text or "")
    if match is None:
        raise ValueError(BAD_SCOPE)
    return Scope(match.group(1), match.group(2))


def scope_chain(*, group_id: str | None, region_id: str | None, estate_id: str | None) -> list[str]:
    """Return the scopes that apply to a group, region or estate, widest first, skipping the unknown ones."""
    ids = {"group": group_id, "region": region_id, "estate": estate_id}
    return [f"{kind}:{ids[kind]}" for kind in SCOPE_KINDS if ids[kind]]
