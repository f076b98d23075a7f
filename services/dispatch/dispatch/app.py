"""Dispatch's web app: wiring only (SERVICES.md).

``create_app()`` opens the context from the environment (gunicorn: ``dispatch.app:create_app()``,
after the fork); tests and the one-process runner pass their own context.
"""

from __future__ import annotations

from flask import Flask, Response

from dispatch.api import BLUEPRINTS
from dispatch.metrics import install_collector
from dispatch.store import INDEXES, DispatchStore
from propcare_shared.http.app import ServiceContext, create_service_app
from propcare_shared.metrics import render_metrics
from propcare_shared.settings import Settings


def create_app(context: ServiceContext | None = None) -> Flask:
    """Build dispatch's Flask app and ensure its indexes."""
    if context is None:
        context = ServiceContext.open(Settings.from_env("dispatch"))
    context.ensure_indexes(INDEXES)
    app, _ = create_service_app(context, title="Propcare dispatch", blueprints=BLUEPRINTS)
    _serve_sla_gauges(app, DispatchStore(context.database, clock=context.clock), context)
    return app


def _serve_sla_gauges(app: Flask, store: DispatchStore, context: ServiceContext) -> None:
    """Append the open/overdue gauges, read from MongoDB at scrape time, to ``/metrics``."""
    extra = install_collector(store=store, clock=context.clock)

    def metrics() -> Response:
        body, content_type = render_metrics()
        return Response(body + extra(), content_type=content_type)

    app.view_functions["metrics"] = metrics
