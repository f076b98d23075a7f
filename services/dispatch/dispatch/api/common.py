"""What dispatch's views share: the service's context and store, and the estate a caller may see."""

from __future__ import annotations

from typing import Any

from flask import current_app

from dispatch.store import DispatchStore
from propcare_shared.context import ServiceContext
from propcare_shared.http.auth import require_visible


def service_context() -> ServiceContext:
    """Return the context of the app answering the request."""
    context: ServiceContext = current_app.extensions["propcare"]
    return context


def dispatch_store() -> DispatchStore:
    """Return dispatch's store on the request's context."""
    context = service_context()
    return DispatchStore(context.database, clock=context.clock)


def visible_estate(store: DispatchStore, estate_id: str) -> dict[str, Any]:
    """Return dispatch's copy of an estate the caller may see: 404 when unknown or another group's, 403 outside their scope."""
    return require_visible(store.directory.estate(estate_id), what="estate", identifier=estate_id)
