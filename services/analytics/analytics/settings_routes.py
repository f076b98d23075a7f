"""Hotspot settings per scope: ``GET|PUT|DELETE /api/v1/analytics/hotspot-settings/{scope}``.

A scope's own figures (``threshold``, ``days``) override the wider scope's, estate over region over
group over the default (``domain.hotspot_settings``). ``region:R1`` is the caller's group's R1, kept
under ``region:G1/R1``. The scope is checked as every analytics read (``analytics.scopes``): another
group's or an unknown scope is a 404, one of the caller's group outside their regions or estates a
403; a malformed one a 422 on ``scope``. Writing takes a role of ``hotspot_settings.WRITERS``; with
the scope rule that leaves a ``group_admin`` any scope of the group, a ``regional_ops`` their regions
and their estates, a ``manager`` their estates. A refused write stores nothing.

The projection reads the figures in force when it checks a complaint, so a change applies to the
complaints checked afterwards; hotspots already announced stand.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from analytics.domain.hotspot_settings import WRITERS
from analytics.satisfaction_schemas import HotspotSettingIn, HotspotSettingOut
from analytics.scopes import scope_tenancy, setting_at, setting_view
from analytics.store import AnalyticsStore
from propcare_shared.context import current_store
from propcare_shared.http.auth import STAFF_ROLES, authenticated, current_principal
from propcare_shared.scope import Scope, parse_scope
from propcare_shared.tenancy import Tenancy

hotspot_settings = Blueprint(
    "analytics_hotspot_settings",
    __name__,
    url_prefix="/api/v1/analytics/hotspot-settings",
    description="How many complaints within how many days make a hotspot, per group, region or estate.",
)


def _target(store: AnalyticsStore, text: str) -> tuple[Scope, Tenancy, str]:
    scope = parse_scope(text)  # an unreadable scope is the kernel's 422 on ``scope`` (InvalidScope)
    tenancy = scope_tenancy(store, scope)
    return scope, tenancy, scope.key(group_id=tenancy.group_id or current_principal().group_id)


def _view(store: AnalyticsStore, scope: Scope, tenancy: Tenancy, key: str) -> dict[str, Any]:
    own = store.hotspot_overrides([key]).get(key) or {}
    return {
        "scope": str(scope),
        **setting_view(setting_at(store, tenancy)),
        "own": {"threshold": own.get("threshold"), "days": own.get("days")},
    }


@hotspot_settings.route("/<scope>", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@hotspot_settings.response(200, HotspotSettingOut)
def get_hotspot_setting(scope: str) -> dict[str, Any]:
    """Return the hotspot figures in force at a scope, where each comes from, and the scope's own."""
    store = current_store(AnalyticsStore)
    return _view(store, *_target(store, scope))


@hotspot_settings.route("/<scope>", methods=["PUT"])
@authenticated(roles=WRITERS)
@hotspot_settings.arguments(HotspotSettingIn)
@hotspot_settings.response(200, HotspotSettingOut)
@hotspot_settings.alt_response(201, schema=HotspotSettingOut, description="Created")
def put_hotspot_setting(values: dict[str, Any], scope: str) -> tuple[dict[str, Any], int]:
    """Replace a scope's own hotspot figures (a figure left out is inherited) and answer what is in force there."""
    store = current_store(AnalyticsStore)
    target, tenancy, key = _target(store, scope)
    figures = {name: values[name] for name in ("threshold", "days") if values.get(name) is not None}
    group_id = tenancy.group_id or current_principal().group_id
    created = store.put_hotspot_override(key=key, group_id=group_id, figures=figures, actor_id=current_principal().sub)
    return _view(store, target, tenancy, key), 201 if created else 200


@hotspot_settings.route("/<scope>", methods=["DELETE"])
@authenticated(roles=WRITERS)
@hotspot_settings.response(200, HotspotSettingOut)
def delete_hotspot_setting(scope: str) -> dict[str, Any]:
    """Remove a scope's own hotspot figures, so it inherits both again; answer what is in force there."""
    store = current_store(AnalyticsStore)
    target, tenancy, key = _target(store, scope)
    store.delete_hotspot_override(key)
    return _view(store, target, tenancy, key)
