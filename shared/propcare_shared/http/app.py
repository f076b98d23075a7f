"""The factory every service app is built with: config, OpenAPI, errors, health, metrics.

A service's ``create_app`` calls ``create_service_app`` and registers its blueprints; nothing here
opens a connection before gunicorn forks (clients connect lazily on first use).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, g, jsonify, request
from flask_smorest import Api
from pymongo import MongoClient
from pymongo.database import Database

from propcare_shared.clock import Clock, utcnow
from propcare_shared.events.outbox import INDEXES as OUTBOX_INDEXES
from propcare_shared.events.outbox import UnitOfWork
from propcare_shared.http import idempotency, ratelimit
from propcare_shared.http.errors import Problem, register_error_handlers
from propcare_shared.metrics import HTTP_DURATION, HTTP_REQUESTS, render_metrics
from propcare_shared.mongo import IndexSpec, connect, ensure_indexes, ping
from propcare_shared.settings import Settings


@dataclass
class ServiceContext:
    """What a service's views and handlers share: settings, its database, the unit of work, a clock."""

    settings: Settings
    client: MongoClient
    database: Database
    uow: UnitOfWork
    clock: Clock = utcnow
    checks: dict[str, Callable[[], bool]] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock = utcnow, client: MongoClient | None = None) -> ServiceContext:
        """Connect (lazily) to the service's own database."""
        client = client or connect(settings.mongodb_url, app_name=f"propcare-{settings.service}")
        database = client[settings.mongodb_database]
        uow = UnitOfWork(client=client, database=database, producer=settings.service, clock=clock)
        context = cls(settings=settings, client=client, database=database, uow=uow, clock=clock)
        context.checks["mongodb"] = lambda: ping(client)
        return context

    def close(self) -> None:
        """Close the database client."""
        self.client.close()

    def ensure_indexes(self, specs: Iterable[IndexSpec]) -> None:
        """Create the kernel's indexes and the service's own."""
        ensure_indexes(self.database, [*OUTBOX_INDEXES, *idempotency.INDEXES, *ratelimit.INDEXES, *specs])


def create_service_app(context: ServiceContext, *, title: str, blueprints: Iterable[Any] = ()) -> tuple[Flask, Api]:
    """Build a Flask app with the kernel's behaviour and register the service's blueprints."""
    settings = context.settings
    app = Flask(f"propcare.{settings.service}")
    app.config.update(
        PROPCARE_SETTINGS=settings,
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["propcare"] = context
    api = Api(app)
    register_error_handlers(app)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    _register_operational_routes(app, context)
    _register_request_metrics(app, settings.service)
    _register_media_type_check(app)
    return app, api


def _register_operational_routes(app: Flask, context: ServiceContext) -> None:
    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok", service=context.settings.service)

    @app.get("/readyz")
    def readyz() -> Any:
        results = {name: check() for name, check in context.checks.items()}
        status = 200 if all(results.values()) else 503
        return jsonify(status="ready" if status == 200 else "not ready", checks=results), status

    @app.get("/metrics")
    def metrics() -> Response:
        body, content_type = render_metrics()
        return Response(body, content_type=content_type)


def _register_request_metrics(app: Flask, service: str) -> None:
    @app.before_request
    def start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def record(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        if route not in {"/metrics", "/healthz", "/readyz"}:
            HTTP_REQUESTS.labels(service, route, request.method, str(response.status_code)).inc()
            started = getattr(g, "request_started", None)
            if started is not None:
                HTTP_DURATION.labels(service, route, request.method).observe(time.perf_counter() - started)
        return response


ACCEPTED_BODY_TYPES = (
    "application/json",
    "application/problem+json",
    "multipart/form-data",
    "application/x-www-form-urlencoded",
    "text/csv",
    "application/x-ndjson",
    "application/jsonlines",
)


def _register_media_type_check(app: Flask) -> None:
    @app.before_request
    def refuse_unknown_media_types() -> None:
        if request.method in {"POST", "PUT", "PATCH"} and request.content_length:
            mimetype = request.mimetype or ""
            if mimetype not in ACCEPTED_BODY_TYPES and not mimetype.endswith("+json"):
                raise Problem(415, "Unsupported Media Type", detail=f"Send one of: {', '.join(ACCEPTED_BODY_TYPES)}.")
