"""The one-process gateway: docs/API.md's routing table, the per-service mounts, /healthz, /metrics and the /docs page (nginx's too)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from werkzeug.test import Client

from infra.local.gateway import Gateway, docs_page, service_for
from tests.infra.api_routes import EXPECTED_ROUTES, SERVICES
from tests.infra.nginx_conf import parse

NGINX_CONF = Path(__file__).resolve().parents[2] / "infra" / "nginx" / "nginx.conf"


@pytest.mark.parametrize(("path", "service"), EXPECTED_ROUTES)
def test_service_for_follows_the_api_table(path: str, service: str | None) -> None:
    assert service_for(path) == service


def _echo_app(name: str) -> Flask:
    app = Flask(name)

    @app.route("/<path:rest>", methods=["GET", "POST", "PUT"])
    def echo(rest: str) -> dict[str, Any]:
        return {"service": name, "path": request.path, "script_root": request.script_root}

    return app


@pytest.fixture
def gateway_state() -> dict[str, Any]:
    return {"ready": False}


@pytest.fixture
def gateway(gateway_state: dict[str, Any]) -> Client:
    apps = {name: _echo_app(name) for name in SERVICES}
    gateway = Gateway(apps, health=lambda: (gateway_state["ready"], {"services": {}}), metrics=lambda: (b"up 1\n", "text/plain"))
    return Client(gateway)


@pytest.mark.parametrize(("path", "service"), [route for route in EXPECTED_ROUTES if route[1] is not None])
def test_gateway_passes_the_whole_path_to_the_service(gateway: Client, path: str, service: str) -> None:
    response = gateway.put(path, json={})
    assert response.status_code == 200
    assert response.get_json() == {"service": service, "path": path, "script_root": ""}


def test_unrouted_path_is_a_problem_404(gateway: Client) -> None:
    response = gateway.get("/api/v1/unknown")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert json.loads(response.data)["status"] == 404


def test_each_service_answers_at_its_own_mount_with_script_name(gateway: Client) -> None:
    response = gateway.get("/dispatch/openapi.json")
    assert response.get_json() == {"service": "dispatch", "path": "/openapi.json", "script_root": "/dispatch"}


def test_healthz_is_503_until_ready_then_200(gateway: Client, gateway_state: dict[str, Any]) -> None:
    assert gateway.get("/healthz").status_code == 503
    gateway_state["ready"] = True
    response = gateway.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ready"


def test_metrics_is_the_process_registry(gateway: Client) -> None:
    response = gateway.get("/metrics")
    assert response.status_code == 200
    assert response.data == b"up 1\n"


def test_the_gateway_appends_the_client_address_as_nginx_does() -> None:
    intake = Flask("intake")
    intake.add_url_rule("/api/v1/complaints", "echo", lambda: {"forwarded_for": request.headers.get("X-Forwarded-For")})
    gateway = Client(Gateway({"intake": intake}, health=lambda: (True, {}), metrics=lambda: (b"", "text/plain")))
    plain = gateway.get("/api/v1/complaints", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    spoofed = gateway.get("/api/v1/complaints", headers={"X-Forwarded-For": "1.2.3.4"}, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert json.loads(plain.data)["forwarded_for"] == "10.0.0.7"
    assert json.loads(spoofed.data)["forwarded_for"] == "1.2.3.4, 10.0.0.7"  # the trusted last hop is the real client


def test_the_docs_page_links_each_running_services_docs(gateway: Client) -> None:
    response = gateway.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert html == docs_page(SERVICES)
    for name in SERVICES:
        assert f'href="/{name}/docs"' in html and f'href="/{name}/openapi.json"' in html
    alone = Client(Gateway({"survey": _echo_app("survey")}, health=lambda: (True, {}), metrics=lambda: (b"", "text/plain")))
    assert "/intake/docs" not in alone.get("/docs").get_data(as_text=True)  # only the services this process runs


def test_nginx_serves_the_same_docs_page() -> None:
    location = next(d for d in parse(NGINX_CONF).find("location") if d.args == ["=", "/docs"])
    assert [d.args for d in location.find("default_type")] == [["text/html"]]
    assert [d.args for d in location.find("return")] == [["200", docs_page(SERVICES)]]


@pytest.mark.parametrize(
    ("path", "passed"),
    [
        ("/survey/docs", True),
        ("/survey/openapi.json", True),
        ("/survey/docs/assets/swagger-ui-bundle.js", True),
        ("/intake/docs/assets/swagger-ui.css", True),
        ("/survey/docs/assets/../../etc/passwd", False),
        ("/survey/docs/assets/", False),
        ("/survey/metrics", False),
    ],
)
def test_nginx_passes_each_services_docs_and_their_assets(path: str, passed: bool) -> None:
    mount = next(d for d in parse(NGINX_CONF).find("location") if d.args[0] == "~" and "propcare_service" in d.args[1])
    pattern = re.compile(mount.args[1].replace("(?<", "(?P<"))
    assert bool(pattern.match(path)) is passed
