"""Survey's web app: wiring only (SERVICES.md).

``create_app()`` opens the context from the environment (gunicorn: ``survey.app:create_app()``,
after the fork); tests and the one-process runner pass their own context.
"""

from __future__ import annotations

from flask import Flask

from propcare_shared.http.app import ServiceContext, create_service_app
from propcare_shared.settings import Settings
from survey.routes import BLUEPRINTS
from survey.store import INDEXES


def create_app(context: ServiceContext | None = None) -> Flask:
    """Build survey's Flask app and ensure its indexes."""
    if context is None:
        context = ServiceContext.open(Settings.from_env("survey"))
    context.ensure_indexes(INDEXES)
    app, _ = create_service_app(context, title="Propcare survey", blueprints=BLUEPRINTS)
    return app
