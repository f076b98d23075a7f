"""docker-compose.yml and the nginx gateway: every service, port and dependency, and docs/API.md's routing.

Without a Docker engine here, the compose file is checked by reading it. The nginx configuration is
parsed and its routing evaluated for every prefix; when an ``nginx`` binary is installed it is also
checked with ``nginx -t`` and run for real in front of stand-in upstreams (only the upstream addresses
and the listening port are changed), so the routing is nginx's own, not this file's reading of it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.local.mongod import free_port
from propcare_shared.testing import wait_for
from tests.infra.api_routes import EXPECTED_ROUTES, SERVICES
from tests.infra.nginx_conf import maps, parse

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "infra" / "nginx" / "nginx.conf"
WEB_PORT = 8000


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _depends(service: dict[str, Any]) -> dict[str, str]:
    depends = service.get("depends_on", {})
    return {name: spec["condition"] for name, spec in depends.items()}


def test_compose_has_the_backends_a_web_and_a_worker_per_service_and_the_gateway(compose: dict[str, Any]) -> None:
    expected = {"rabbitmq", "mongo", "gateway", "prometheus", "grafana"} | {
        f"{name}-{part}" for name in SERVICES for part in ("web", "worker")
    }
    assert set(compose["services"]) == expected


def _scrape_jobs() -> dict[str, tuple[set[str], int]]:
    """Return each scrape job of infra/prometheus/prometheus.yml: the DNS names it resolves and their port."""
    config = yaml.safe_load((ROOT / "infra" / "prometheus" / "prometheus.yml").read_text())
    jobs: dict[str, tuple[set[str], int]] = {}
    for job in config["scrape_configs"]:
        for discovery in job.get("dns_sd_configs", []):
            jobs[job["job_name"]] = (set(discovery["names"]), int(discovery["port"]))
    return jobs


@pytest.mark.parametrize("name", SERVICES)
def test_every_web_and_worker_is_scraped_by_prometheus(compose: dict[str, Any], name: str) -> None:
    scraped = {(host, port) for hosts, port in _scrape_jobs().values() for host in hosts}
    worker = compose["services"][f"{name}-worker"]
    port = int(worker["environment"]["METRICS_PORT"])
    assert port > 0 and str(port) in [str(exposed) for exposed in worker["expose"]], "the worker serves and exposes METRICS_PORT"
    assert (f"{name}-worker", port) in scraped, f"{name}-worker's METRICS_PORT is not scraped"
    assert (f"{name}-web", WEB_PORT) in scraped, f"{name}-web's /metrics is not scraped"


def test_prometheus_loads_the_rules_and_grafana_the_provisioned_dashboards(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    assert "./infra/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert "9090:9090" in prometheus["ports"]
    config = yaml.safe_load((ROOT / "infra" / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["rules/*.yml"] and list((ROOT / "infra" / "prometheus" / "rules").glob("*.yml"))
    grafana = compose["services"]["grafana"]
    assert {
        "./infra/grafana/provisioning:/etc/grafana/provisioning:ro",
        "./infra/grafana/dashboards:/var/lib/grafana/dashboards:ro",
    } <= set(grafana["volumes"])
    assert "3000:3000" in grafana["ports"] and "prometheus" in grafana["depends_on"]
    provider = yaml.safe_load((ROOT / "infra" / "grafana" / "provisioning" / "dashboards" / "propcare.yml").read_text())["providers"][0]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    datasource = yaml.safe_load((ROOT / "infra" / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"


def test_rabbitmq_has_management_and_a_healthcheck(compose: dict[str, Any]) -> None:
    rabbitmq = compose["services"]["rabbitmq"]
    assert rabbitmq["image"].startswith("rabbitmq:3") and "management" in rabbitmq["image"]
    assert {"5672:5672", "15672:15672"} <= set(rabbitmq["ports"])
    assert "rabbitmq-diagnostics" in rabbitmq["healthcheck"]["test"]


def test_mongo_is_a_replica_set_initiated_by_its_healthcheck(compose: dict[str, Any]) -> None:
    mongo = compose["services"]["mongo"]
    assert mongo["image"] == "mongo:6.0"
    command = mongo["command"]
    assert command[command.index("--replSet") + 1] == "rs0"
    check = " ".join(mongo["healthcheck"]["test"])
    assert "rs.initiate" in check and "_id: 'rs0'" in check and "host: 'mongo:27017'" in check
    assert "isWritablePrimary" in check


@pytest.mark.parametrize("name", SERVICES)
def test_web_runs_gunicorn_from_the_service_image_and_waits_for_the_backends(compose: dict[str, Any], name: str) -> None:
    web = compose["services"][f"{name}-web"]
    assert web["build"] == {"context": ".", "args": {"SERVICE": name}}, "every service builds from the one Dockerfile"
    assert "command" not in web, "the image's CMD (gunicorn) runs the web process"
    assert str(WEB_PORT) in [str(port) for port in web["expose"]]
    assert _depends(web) == {"mongo": "service_healthy", "rabbitmq": "service_healthy"}
    assert "/readyz" in " ".join(web["healthcheck"]["test"])
    _assert_service_env(web["environment"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["gunicorn", "-c", "python:propcare_shared.gunicorn_conf"]' in dockerfile
    assert "ARG SERVICE" in dockerfile and "SERVICE=${SERVICE}" in dockerfile and "COPY services/${SERVICE}" in dockerfile
    assert "FROM python:3.11-slim" in dockerfile and "requirements.lock" in dockerfile and "USER 10001" in dockerfile
    assert "PROMETHEUS_MULTIPROC_DIR=" in dockerfile
    assert not list(ROOT.glob("services/*/Dockerfile")) and not list(ROOT.glob("services/*/gunicorn.conf.py"))


@pytest.mark.parametrize("name", SERVICES)
def test_worker_runs_the_consumer_from_the_same_image(compose: dict[str, Any], name: str) -> None:
    worker = compose["services"][f"{name}-worker"]
    web = compose["services"][f"{name}-web"]
    assert worker["image"] == web["image"] and worker["build"] == web["build"]
    assert worker["command"] == ["python", "-m", f"{name}.worker"]
    assert _depends(worker) == {"mongo": "service_healthy", "rabbitmq": "service_healthy", f"{name}-web": "service_healthy"}
    _assert_service_env(worker["environment"])
    assert worker["environment"]["PROMETHEUS_MULTIPROC_DIR"] == ""


@pytest.mark.parametrize("name", SERVICES)
def test_only_intake_and_notification_hold_the_personal_data_keys(compose: dict[str, Any], name: str) -> None:
    for process in ("web", "worker"):
        environment = compose["services"][f"{name}-{process}"]["environment"]
        assert ("PERSONAL_DATA_KEYS" in environment) == (name in {"intake", "notification"}), f"{name}-{process}"


def _assert_service_env(environment: dict[str, str]) -> None:
    assert environment["MONGODB_URL"] == "mongodb://mongo:27017/?replicaSet=rs0"
    assert re.fullmatch(r"amqp://propcare:\$\{RABBITMQ_PASSWORD:-propcare\}@rabbitmq:5672/", environment["RABBITMQ_URL"])
    for name in ("JWT_SECRET", "HOTLINE_SECRET", "HOTLINE_CALLBACK_URL", "SMTP_URL", "PUBLIC_BASE_URL", "SLA_SCAN_INTERVAL"):
        assert name in environment


def test_gateway_is_nginx_on_8080_with_our_conf_after_every_web_is_healthy(compose: dict[str, Any]) -> None:
    gateway = compose["services"]["gateway"]
    assert gateway["image"].startswith("nginx:")
    assert gateway["ports"] == ["${PORT:-8080}:8080"]
    assert "./infra/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in gateway["volumes"]
    assert _depends(gateway) == {f"{name}-web": "service_healthy" for name in SERVICES}
    server = parse(NGINX_CONF).find("server")[0]
    assert [listen.args for listen in server.find("listen")] == [["8080"]]


def test_nginx_routes_every_api_prefix_to_the_right_web_service(compose: dict[str, Any]) -> None:
    conf = parse(NGINX_CONF)
    upstream = maps(conf)["$propcare_upstream"]
    for path, service in EXPECTED_ROUTES:
        assert upstream.lookup(path) == (f"{service}-web:{WEB_PORT}" if service else ""), path
    targets = {value for _, value in upstream.regexes}
    assert {target.split(":")[0] for target in targets} <= set(compose["services"])
    catch_all = next(location for location in conf.find("location") if location.args == ["/"])
    assert [d.args for d in catch_all.find("proxy_pass")] == [["http://$propcare_upstream"]]
    mounts = maps(conf)["$propcare_service_upstream"]
    assert mounts.exact == {name: f"{name}-web:{WEB_PORT}" for name in SERVICES}


class _StandIn(BaseHTTPRequestHandler):
    """Answers like a service would: its name and the path it was asked for (HTML for /docs)."""

    service = ""

    def _answer(self) -> None:
        if self.path == "/docs":
            body, content_type = b'<script>SwaggerUIBundle({url: "/openapi.json"})</script>', "text/html"
        else:
            body, content_type = json.dumps({"service": self.service, "path": self.path}).encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stand_ins() -> Iterator[dict[str, int]]:
    servers = {}
    for name in SERVICES:
        handler = type(f"StandIn_{name}", (_StandIn,), {"service": name})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = server
    yield {name: server.server_address[1] for name, server in servers.items()}
    for server in servers.values():
        server.shutdown()
        server.server_close()


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read()


def _answers(url: str) -> bool:
    try:
        return _get(url)[0] == 200
    except urllib.error.URLError:
        return False


def test_nginx_itself_accepts_the_conf_and_routes_every_prefix(stand_ins: dict[str, int], tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None)
    if nginx is None:
        # No binary: the parsed-configuration checks above are all there is. Said, not skipped silently.
        print("nginx is not installed: only the parsed routing was checked (apt-get install nginx to run it)")
        return
    checked = subprocess.run(
        [nginx, "-t", "-q", "-e", "stderr", "-p", f"{tmp_path}/", "-c", str(NGINX_CONF)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    port = free_port()
    text = NGINX_CONF.read_text()
    text = re.sub(r"^\s*resolver .*$", "", text, flags=re.MULTILINE)
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{port};").replace("pid /tmp/nginx.pid;", f"pid {tmp_path}/nginx.pid;")
    for name, stand_in_port in stand_ins.items():
        text = text.replace(f"{name}-web:{WEB_PORT}", f"127.0.0.1:{stand_in_port}")
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    log = tmp_path / "nginx.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen([nginx, "-e", "stderr", "-p", f"{tmp_path}/", "-c", str(conf), "-g", "daemon off;"], stderr=stderr)
    try:
        wait_for(lambda: process.poll() is not None or _answers(f"http://127.0.0.1:{port}/healthz"), timeout=10, message="nginx")
        assert process.poll() is None, log.read_text()
        for path, service in EXPECTED_ROUTES:
            status, content_type, body = _get(f"http://127.0.0.1:{port}{path}?limit=5")
            if service is None:
                assert (status, content_type) == (404, "application/problem+json"), path
            else:
                assert status == 200, path
                assert json.loads(body) == {"service": service, "path": f"{path}?limit=5"}
        status, _, body = _get(f"http://127.0.0.1:{port}/dispatch/openapi.json")
        assert json.loads(body) == {"service": "dispatch", "path": "/openapi.json"}
        status, content_type, body = _get(f"http://127.0.0.1:{port}/survey/docs")
        assert (status, content_type) == (200, "text/html")
        assert b'url: "/survey/openapi.json"' in body
    finally:
        process.terminate()
        process.wait(10)
