"""The household contact book: where a satisfaction campaign's invitation to a household is sent.

Pure: the sealer is given. Intake's ``directory.households.imported`` carries each household's
resident name and phone sealed in ``contact`` (``None`` when the import had no phone). An entry keeps,
per household id, only what a message needs:
- the phone in E.164, or none; never the name (messages never address residents by name);
- ``contact_problem``, the reason when the sealed contact cannot be used (``domain.contact``: a seal
  no key opens, a phone that is not a number), stored rather than retried, as for complaints;
- the estate's tenancy (group, region, estate) and when the import happened (``imported_at``).

An entry is the latest import's word on a household: a re-import replaces the phone, and a re-import
without a phone removes it. An import older than the entry already kept (an event redelivered late,
after a retry reordered two imports) changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from notification.domain.contact import open_contact
from propcare_shared.sealing import Sealer


def is_newer(at: datetime, *, kept_at: datetime | None) -> bool:
    """Tell whether an import at ``at`` may replace an entry kept from an import at ``kept_at`` (None: no entry)."""
    return kept_at is None or at >= kept_at


def book_entries(
    households: Iterable[Mapping[str, Any]],
    *,
    sealer: Sealer,
    imported_at: datetime,
    kept: Mapping[str, datetime],
    tenancy: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Return the entries an import writes: one per household id (the last row wins), none where a later import was kept."""
    entries: dict[str, dict[str, Any]] = {}
    for household in households:
        household_id = household["household_id"]
        if not is_newer(imported_at, kept_at=kept.get(household_id)):
            continue
        details = open_contact(household.get("contact"), sealer=sealer)
        entries[household_id] = {
            "_id": household_id,
            "phone": details.phone,
            "contact_problem": details.problem,
            "household_type": household.get("household_type"),
            **tenancy,
            "imported_at": imported_at,
        }
    return list(entries.values())


def problems(entries: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Return how many entries have each contact problem (for a log line without ids or addresses)."""
    counted: dict[str, int] = {}
    for entry in entries:
        if entry.get("contact_problem"):
            counted[entry["contact_problem"]] = counted.get(entry["contact_problem"], 0) + 1
    return counted
