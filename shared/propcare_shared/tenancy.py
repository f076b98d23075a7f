"""Where a record belongs in the organisation: its group, region and estate (docs/PRODUCT.md §3).

Pure. Every record and every event carries the three ids. Region ids are chosen by each group, so a
region is only ever identified together with its group (``G1/R1``); estate ids are unique across
the deployment (the directory refuses an id or a code another group holds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tenancy:
    """The group, region and estate of one record; ``None`` where a record sits above that level."""

    group_id: str | None
    region_id: str | None = None
    estate_id: str | None = None

    @classmethod
    def of(cls, record: Mapping[str, Any], *, estate_key: str = "estate_id") -> Tenancy:
        """Read the tenancy of a document or event that carries ``group_id``, ``region_id`` and an estate id."""
        return cls(group_id=record.get("group_id"), region_id=record.get("region_id"), estate_id=record.get(estate_key))

    def fields(self) -> dict[str, str | None]:
        """Return the three ids as document or envelope fields."""
        return {"group_id": self.group_id, "region_id": self.region_id, "estate_id": self.estate_id}

    def completed_by(self, other: Tenancy) -> Tenancy:
        """Return this tenancy with each id it lacks taken from ``other``."""
        return Tenancy(
            group_id=self.group_id or other.group_id,
            region_id=self.region_id or other.region_id,
            estate_id=self.estate_id or other.estate_id,
        )

    @property
    def region_key(self) -> str | None:
        """Return the region's id within its group (``G1/R1``), or ``None`` without both."""
        return region_key(self.group_id, self.region_id)


def region_key(group_id: str | None, region_id: str | None) -> str | None:
    """Return a region's id within its group, ``G1/R1``: region ids are only unique inside a group."""
    if not group_id or not region_id:
        return None
    return f"{group_id}/{region_id}"
