"""Intake's web app: wiring only (SERVICES.md).

``create_app()`` opens the context from the environment (gunicorn: ``intake.app:create_app()``,
after the fork); tests and the one-process runner pass their own context. One proxy hop (the
gateway) is trusted for the client address the resident rate limit counts.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from intake.routes import BLUEPRINTS
from intake.store import INDEXES, retire_indexes
from propcare_shared.http.app import ServiceContext, create_service_app
from propcare_shared.settings import Settings


def create_app(context: ServiceContext | None = None) -> Flask:
    """Build intake's Flask app and ensure its indexes (dropping those of earlier versions it replaced)."""
    if context is None:
        context = ServiceContext.open(Settings.from_env("intake"))
    retire_indexes(context.database)
    context.ensure_indexes(INDEXES)
    app, _ = create_service_app(context, title="Propcare intake", blueprints=BLUEPRINTS)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    return app
