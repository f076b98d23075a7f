"""Hotspot settings per scope: how many complaints (``threshold``) within how many days (``days``) make a hotspot.

Pure. A group, a region or an estate may override either figure; what is in force for a complaint is
read along its chain of scopes, widest first (``propcare_shared.scope.scope_chain``: ``group:G1``,
``region:G1/R1``, ``estate:NS01``): the estate's own figure wins over its region's, the region's over
its group's, the group's over the default (``hotspots.THRESHOLD`` within ``hotspots.WINDOW_DAYS``).
Each figure is inherited on its own: an estate that sets only ``threshold`` keeps its region's ``days``.

Ranges (``analytics.satisfaction_schemas.HotspotSettingIn`` answers others with a 422 naming the
field): ``threshold`` a whole number from ``MIN_THRESHOLD`` (2: one complaint is not a cluster) to
``MAX_THRESHOLD``; ``days`` from ``MIN_DAYS`` (1) to ``MAX_DAYS`` (90); at least one of them. A setting
applies to the complaints checked after it was stored; hotspots already announced stand.

Who may set one (``WRITERS``, then the kernel's scope rule): a ``group_admin`` any scope of their group;
a ``regional_ops`` their regions and the estates in them; a ``manager`` their estates. Every staff
role may read what is in force.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analytics.domain.hotspots import THRESHOLD, WINDOW_DAYS

MIN_THRESHOLD = 2
MAX_THRESHOLD = 1000
MIN_DAYS = 1
MAX_DAYS = 90
FIELDS = ("threshold", "days")
DEFAULT = "default"
WRITERS = ("group_admin", "regional_ops", "manager")
"""Roles that may set a scope's hotspot figures; the scope rule then keeps each to their own scopes."""


@dataclass(frozen=True)
class HotspotSetting:
    """The figures in force somewhere, and the scope each comes from (``default`` when none sets it)."""

    threshold: int = THRESHOLD
    days: int = WINDOW_DAYS
    threshold_from: str = DEFAULT
    days_from: str = DEFAULT


def effective(chain: Sequence[str], overrides: Mapping[str, Mapping[str, Any]]) -> HotspotSetting:
    """Return the setting in force at the last scope of ``chain`` (widest first), from each scope's own figures."""
    setting = HotspotSetting()
    for key in chain:
        own = overrides.get(key) or {}
        if own.get("threshold") is not None:
            setting = HotspotSetting(int(own["threshold"]), setting.days, key, setting.days_from)
        if own.get("days") is not None:
            setting = HotspotSetting(setting.threshold, int(own["days"]), setting.threshold_from, key)
    return setting
