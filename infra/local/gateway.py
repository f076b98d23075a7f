"""The one-process mode's gateway: one WSGI app that routes by path prefix to the five services.

The table is docs/API.md's "Gateway paths → service"; nginx (infra/nginx/nginx.conf) and the Kubernetes
Ingress (k8s/base/ingress.yaml) route the same prefixes, and tests/infra checks that all three agree.
Besides the services' own paths it answers ``/healthz`` (200 only when every service and its
consumer are ready), ``/metrics`` (the process registry: all five services, told apart by the
``service`` label), ``/<service>/...`` (one service at its own root, for ``/openapi.json`` and
``/docs``) and ``/docs``: one page linking every service's docs and OpenAPI document. nginx serves
the same page (its ``location = /docs``); tests/infra/test_gateway.py holds the two to one text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class Route:
    """A path pattern (matched at the start of the path) and the service that answers it."""

    pattern: re.Pattern[str]
    service: str


def _prefix(path: str) -> str:
    """Return a regex matching ``path`` as a whole segment prefix (``/a/b`` matches ``/a/b`` and ``/a/b/...``)."""
    if path.endswith("/"):
        return re.escape(path)
    return re.escape(path) + r"(?=/|$)"


# First match wins: the staff and grids of an estate belong to dispatch, the rest of /estates to intake.
ROUTES: tuple[Route, ...] = (
    Route(re.compile(r"/api/v1/estates/[^/]+/(?:staff|grids)(?=/|$)"), "dispatch"),
    *(
        Route(re.compile(_prefix(prefix)), service)
        for service, prefixes in {
            "intake": ("/api/v1/complaints", "/api/v1/track", "/api/v1/estates", "/api/v1/hotline", "/api/v1/open311", "/open311", "/r/"),
            "dispatch": ("/api/v1/work-orders", "/api/v1/classify", "/api/v1/sla", "/api/v1/sla-policies", "/api/v1/calendars"),
            "notification": ("/api/v1/notifications", "/api/v1/templates", "/api/v1/call-tasks", "/o/"),
            "survey": ("/api/v1/surveys", "/api/v1/questionnaires", "/api/v1/campaigns", "/s/"),
            "analytics": ("/api/v1/analytics",),
        }.items()
        for prefix in prefixes
    ),
)


def service_for(path: str) -> str | None:
    """Return the service that answers ``path``, or None when no prefix matches."""
    for route in ROUTES:
        if route.pattern.match(path):
            return route.service
    return None


SERVICE_DOCS: dict[str, str] = {
    "intake": "complaints, tracking, estates and households, the 12345 hotline, Open311, the resident pages",
    "dispatch": "work orders, classification, time limits, calendars, staff and grids",
    "notification": "messages, templates, the call list, opting out",
    "survey": "follow-up surveys, questionnaires, campaigns",
    "analytics": "KPIs, hotspots, satisfaction, the monthly review",
}
"""What each service's docs cover, in the order the docs page lists them."""


def docs_page(services: Iterable[str]) -> str:
    """Return the gateway's ``/docs`` page: a link to each service's docs and OpenAPI document (plain ASCII, no script)."""
    items = "".join(
        f'<li><a href="/{name}/docs">{name}</a>: {SERVICE_DOCS.get(name, name)} (<a href="/{name}/openapi.json">openapi.json</a>)</li>\n'
        for name in services
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Propcare API docs</title></head>\n'
        "<body>\n<h1>Propcare API docs</h1>\n"
        "<p>Each service serves its own interactive docs (Swagger UI) and OpenAPI document. The contract is docs/API.md.</p>\n"
        f"<ul>\n{items}</ul>\n</body>\n</html>\n"
    )


Health = Callable[[], tuple[bool, dict[str, Any]]]
Metrics = Callable[[], tuple[bytes, str]]


class Gateway:
    """Routes each request to a service's Flask app by path prefix."""

    def __init__(self, apps: Mapping[str, WSGIApp], *, health: Health, metrics: Metrics) -> None:
        self.apps = dict(apps)
        self.health = health
        self.metrics = metrics

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == "/healthz":
            ready, checks = self.health()
            return _json(start_response, 200 if ready else 503, {"status": "ready" if ready else "starting", **checks})
        if path == "/metrics":
            body, content_type = self.metrics()
            start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/docs":
            page = docs_page(name for name in SERVICE_DOCS if name in self.apps).encode()
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))])
            return [page]
        if path == "/":
            return _json(
                start_response,
                200,
                {"services": {name: {"openapi": f"/{name}/openapi.json", "docs": f"/{name}/docs"} for name in self.apps}},
            )
        _forward_client_address(environ)
        mounted = self._mounted(path)
        if mounted is not None:
            name, rest = mounted
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + f"/{name}"
            environ["PATH_INFO"] = rest
            return self.apps[name](environ, start_response)
        service = service_for(path)
        if service is None or service not in self.apps:
            detail = f"No service answers {path}." if service is None else f"The {service} service is not running in this process."
            return _json(start_response, 404, {"type": "about:blank", "title": "Not Found", "status": 404, "detail": detail}, problem=True)
        return self.apps[service](environ, start_response)

    def _mounted(self, path: str) -> tuple[str, str] | None:
        for name in self.apps:
            if path == f"/{name}" or path.startswith(f"/{name}/"):
                return name, path[len(name) + 1 :] or "/"
        return None


_REASONS = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}


def _json(start_response: Callable[..., Any], status: int, body: dict[str, Any], *, problem: bool = False) -> list[bytes]:
    payload = json.dumps(body, ensure_ascii=False).encode()
    content_type = "application/problem+json" if problem else "application/json"
    start_response(f"{status} {_REASONS[status]}", [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
    return [payload]


def _forward_client_address(environ: dict[str, Any]) -> None:
    """Append the client's address to ``X-Forwarded-For`` as nginx does, so the one trusted hop is ours."""
    client = environ.get("REMOTE_ADDR")
    if client:
        earlier = environ.get("HTTP_X_FORWARDED_FOR")
        environ["HTTP_X_FORWARDED_FOR"] = f"{earlier}, {client}" if earlier else client
