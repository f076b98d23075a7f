"""The factory every service app is built with: config, OpenAPI, errors, health, metrics.

A service's ``create_app`` calls ``create_service_app`` and registers its blueprints; nothing here
opens a connection before gunicorn forks (clients connect lazily on first use). Every app trusts one
proxy hop, the gateway (nginx, the Ingress, the one-process router), for the client's address: it is
the last entry of ``X-Forwarded-For``, the one the gateway appended, so per-address rate limits and
the idempotency keys of callers without a token count real clients.

The interactive docs (``/docs``, Swagger UI) load their script and style from the app itself, from
the ``swagger-ui-bundle`` package at ``/docs/assets/<file>``, never from a CDN: they work on an
intranet. The page names the assets relatively (``docs/assets/``), so they resolve under whatever
prefix a gateway mounts the service at (``/intake/docs`` asks for ``/intake/docs/assets/...``).
"""

from __future__ import annotations

import functools
import mimetypes
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import pymongo
from flask import Flask, Response, g, jsonify, request
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path
from werkzeug.middleware.proxy_fix import ProxyFix

from propcare_shared.context import EXTENSION, ServiceContext
from propcare_shared.http.bodies import inspect_json_body
from propcare_shared.http.errors import Problem, ProblemMap, register_error_handlers
from propcare_shared.metrics import HTTP_DURATION, HTTP_REQUESTS, count_process_start, render_metrics

V = TypeVar("V", bound=Callable[..., Any])


def create_service_app(
    context: ServiceContext, *, title: str, blueprints: Iterable[Any] = (), problems: ProblemMap | None = None
) -> tuple[Flask, Api]:
    """Build a Flask app with the kernel's behaviour, the service's blueprints and its table of domain problems."""
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
        OPENAPI_SWAGGER_UI_URL="docs/assets/",
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},  # no badge fetched from validator.swagger.io
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = context
    api = Api(app)
    _register_request_deadline(app, settings.request_deadline)
    register_error_handlers(app, problems=problems)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    _register_operational_routes(app, context)
    _register_docs_assets(app)
    _register_request_metrics(app, settings.service)
    count_process_start(settings.service, "web")
    _register_media_type_check(app)
    _register_hostile_json_check(app)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
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


SWAGGER_UI_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"})
"""The files flask-smorest's Swagger UI page asks for; nothing else of the package is served."""


@functools.cache
def _docs_asset(name: str) -> bytes:
    """Return one of the docs page's files, read once per process (a few hundred KiB, no open file left behind)."""
    return (Path(swagger_ui_path) / name).read_bytes()


def _register_docs_assets(app: Flask) -> None:
    @app.get("/docs/assets/<name>")
    def docs_asset(name: str) -> Response:
        if name not in SWAGGER_UI_ASSETS:
            raise Problem(404, "Not Found", detail="No such docs asset.")
        response = Response(_docs_asset(name), mimetype=mimetypes.guess_type(name)[0] or "application/octet-stream")
        response.cache_control.public = True
        response.cache_control.max_age = 86400
        return response


def request_deadline(seconds: float | None) -> Callable[[V], V]:
    """Give one view its own database deadline (``None``: none), e.g. a long import that reports its progress."""

    def mark(view: V) -> V:
        view.request_deadline = seconds  # type: ignore[attr-defined]
        return view

    return mark


def _register_request_deadline(app: Flask, seconds: float) -> None:
    """Run every request's database work under one deadline, shorter than the gateway's timeout.

    A database that hangs (a frozen ``mongod``, a partition) then costs a request ``REQUEST_DEADLINE``
    seconds and a 503 with ``Retry-After`` (``propcare_shared.http.errors``), never the gateway's 60 s
    or a commit after the client gave up; no web thread is held longer than that. The deadline is
    PyMongo's client-side operation timeout (``pymongo.timeout``): it covers every operation of the
    request and ``with_transaction``'s retries, and the unit of work's own deadline only shortens it.
    """

    @app.before_request
    def start_deadline() -> None:
        view = app.view_functions.get(request.endpoint or "")
        limit = getattr(view, "request_deadline", seconds)
        if limit:
            scope = pymongo.timeout(limit)
            scope.__enter__()
            g.database_deadline = scope

    @app.teardown_request
    def end_deadline(_error: BaseException | None) -> None:
        scope = g.pop("database_deadline", None)
        if scope is not None:
            scope.__exit__(None, None, None)


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


def _register_hostile_json_check(app: Flask) -> None:
    @app.before_request
    def refuse_hostile_json() -> None:
        if request.content_length and request.is_json:
            inspect_json_body(request.get_data(cache=True))
