"""The scope checks of analytics' routes, and the hotspot settings in force at a scope or an estate.

The scope rule for ``scope=group:G|region:R|estate:E`` (the kernel's ``require_scope``):
- ``group:G`` names the caller's group or nothing: another group is a 404, like a missing record.
- ``region:R`` always means the caller's group's R (region ids are only unique within a group);
  a region the caller's group has no estate or complaint in is a 404. Another group's R1 is never
  reached, whatever the name.
- ``estate:E`` is a 404 when analytics knows no such estate or it belongs to another group.
- A scope of the caller's own group outside their regions or estates is a 403.
Every query is then ``Scope.query(group_id=<caller's group>)`` AND ``Principal.query()``, so even a
scope check gone wrong could not return another group's rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from analytics.domain import hotspot_settings
from analytics.domain.hotspot_settings import HotspotSetting
from analytics.store import AnalyticsStore
from propcare_shared.http.auth import current_principal, require_scope
from propcare_shared.scope import Scope, scope_chain
from propcare_shared.tenancy import Tenancy


def scope_tenancy(store: AnalyticsStore, scope: Scope) -> Tenancy:
    """Return the group, region and estate a scope names; 404 for another group's or an unknown scope, 403 outside the caller's."""
    principal = current_principal()
    if scope.level == "estate":
        tenancy = store.estate_tenancy(scope.id) or Tenancy(group_id=None, estate_id=scope.id)
        require_scope(**tenancy.fields(), what="estate")
    elif scope.level == "region":
        known = store.region_known(group_id=principal.group_id, region_id=scope.id)
        tenancy = Tenancy(principal.group_id if known else None, scope.id)
        require_scope(**tenancy.fields(), what="region")
    else:
        tenancy = Tenancy(scope.id)
        require_scope(**tenancy.fields(), what="group")
    return tenancy


def authorized_query(store: AnalyticsStore, scope: Scope) -> dict[str, Any]:
    """Return the filter of a scope within the caller's; 404 for another group's or an unknown scope, 403 outside theirs."""
    scope_tenancy(store, scope)
    return scope_query(scope)


def scope_query(scope: Scope) -> dict[str, Any]:
    """Return the filter of a scope already checked (``scope_tenancy``), within the caller's own."""
    principal = current_principal()
    return {"$and": [scope.query(group_id=principal.group_id), principal.query()]}


def within(scope: Scope, tenancy: Tenancy) -> bool:
    """Tell whether a record of this tenancy lies in the scope (of the caller's group, already checked)."""
    named = {"group": tenancy.group_id, "region": tenancy.region_id, "estate": tenancy.estate_id}[scope.level]
    return named == scope.id


def setting_at(store: AnalyticsStore, tenancy: Tenancy) -> HotspotSetting:
    """Return the hotspot setting in force at a group, region or estate."""
    chain = scope_chain(**tenancy.fields())
    return hotspot_settings.effective(chain, store.hotspot_overrides(chain))


def settings_of_estates(store: AnalyticsStore, tenancies: Iterable[Tenancy]) -> dict[str, HotspotSetting]:
    """Return the hotspot setting in force at each estate of these tenancies, by estate id (one read)."""
    places = {tenancy.estate_id: tenancy for tenancy in tenancies if tenancy.estate_id}
    chains = {estate_id: scope_chain(**tenancy.fields()) for estate_id, tenancy in places.items()}
    overrides = store.hotspot_overrides({key for chain in chains.values() for key in chain})
    return {estate_id: hotspot_settings.effective(chain, overrides) for estate_id, chain in chains.items()}


def setting_view(setting: HotspotSetting) -> dict[str, Any]:
    """Return the figures in force and where each comes from, scopes written as the API writes them."""
    return {
        "threshold": setting.threshold,
        "days": setting.days,
        "inherited_from": {"threshold": shown(setting.threshold_from), "days": shown(setting.days_from)},
    }


def shown(key: str) -> str:
    """Return a scope key as the API writes it: ``region:G1/R1`` is the caller's ``region:R1``."""
    if key.startswith("region:") and "/" in key:
        return "region:" + key.split("/", 1)[1]
    return key
