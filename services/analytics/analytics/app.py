"""Analytics' web app: wiring only (SERVICES.md).

``create_app()`` opens the context from the environment (gunicorn: ``analytics.app:create_app()``,
after the fork); tests and the one-process runner pass their own context.
"""

from __future__ import annotations

from flask import Flask

from analytics.routes import BLUEPRINTS
from analytics.store import INDEXES
from propcare_shared.http.app import ServiceContext, create_service_app
from propcare_shared.settings import Settings


def create_app(context: ServiceContext | None = None) -> Flask:
    """Build analytics' Flask app and ensure its indexes."""
    if context is None:
        context = ServiceContext.open(Settings.from_env("analytics"))
    context.ensure_indexes(INDEXES)
    app, _ = create_service_app(context, title="Propcare analytics", blueprints=BLUEPRINTS)
    return app
