"""Dispatch's web app (gunicorn: ``dispatch.app:create_app()``): the kernel's app of ``dispatch.service.DISPATCH``
and the open/overdue gauges appended to ``/metrics``.

``create_app()`` opens the context from the environment (after gunicorn's fork); tests and the
one-process runner pass their own context.
"""

from __future__ import annotations

from flask import Flask, Response

from dispatch.metrics import install_collector
from dispatch.service import DISPATCH
from dispatch.store import DispatchStore
from propcare_shared.context import EXTENSION, ServiceContext
from propcare_shared.metrics import render_metrics


def create_app(context: ServiceContext | None = None) -> Flask:
    """Build dispatch's Flask app (its indexes ensured) with the SLA gauges."""
    app = DISPATCH.create_app(context)
    _serve_sla_gauges(app, app.extensions[EXTENSION])
    return app


def _serve_sla_gauges(app: Flask, context: ServiceContext) -> None:
    """Append the open/overdue gauges, read from MongoDB at scrape time, to ``/metrics``."""
    extra = install_collector(store=DispatchStore(context.database, clock=context.clock), clock=context.clock)

    def metrics() -> Response:
        body, content_type = render_metrics()
        return Response(body + extra(), content_type=content_type)

    app.view_functions["metrics"] = metrics
