"""The API docs offline: each service's Swagger UI from its own assets, and the gateways' page linking all five.

The five real service apps are built as ``make run`` builds them and served behind the one-process
gateway (infra/local/gateway.py) and, when an ``nginx`` binary is installed, behind the compose
gateway's own configuration (infra/nginx/nginx.conf, only the upstream addresses and the port
changed). The browser test runs Chromium with every request that is not to the gateway aborted: the
docs must render from what the services serve, as on an intranet without the internet.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Route, sync_playwright
from werkzeug.serving import make_server

from infra.local.gateway import Gateway, docs_page
from infra.local.mongod import free_port
from propcare_shared.context import ServiceContext
from propcare_shared.http.app import SWAGGER_UI_ASSETS
from propcare_shared.service import definition_of
from propcare_shared.settings import Settings
from propcare_shared.testing import unique_name, wait_for

SERVICES = ("intake", "dispatch", "notification", "survey", "analytics")
CHROMIUM = "/usr/bin/chromium"
NGINX_CONF = Path(__file__).resolve().parents[2] / "infra" / "nginx" / "nginx.conf"
ASSET_TYPES = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
}


class _Links(HTMLParser):
    """Collects every ``href`` and ``src`` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is not None and name in {"href", "src"}:
                (self.hrefs if name == "href" else self.srcs).append(value)


def _links(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read()


@contextmanager
def _serve(app: Any) -> Iterator[str]:
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="module")
def apps(mongodb_url: str, rabbitmq_url: str) -> Iterator[dict[str, Any]]:
    """The five services' real Flask apps (their docs need no broker; each gets a database of its own)."""
    contexts: list[ServiceContext] = []
    built: dict[str, Any] = {}
    for name in SERVICES:
        settings = Settings(
            service=name,
            mongodb_url=mongodb_url,
            mongodb_database=unique_name(f"test_docs_{name}_"),
            rabbitmq_url=rabbitmq_url,
            jwt_secret="x" * 40,
        )
        context = ServiceContext.open(settings)
        contexts.append(context)
        built[name] = definition_of(name).create_app(context)
    yield built
    for context in contexts:
        context.client.drop_database(context.settings.mongodb_database)
        context.close()


@pytest.fixture(scope="module")
def gateway(apps: dict[str, Any]) -> Iterator[str]:
    """The one-process gateway in front of the five apps, on a real port."""
    with _serve(Gateway(apps, health=lambda: (True, {}), metrics=lambda: (b"", "text/plain"))) as base:
        yield base


@pytest.mark.parametrize("service", SERVICES)
def test_a_services_docs_page_loads_its_script_and_style_from_the_service(apps: dict[str, Any], service: str) -> None:
    client = apps[service].test_client()
    page = client.get("/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert not re.search(r"https?://|//cdn", html), "no external URL in the docs page"
    links = _links(html)
    assert sorted(links.hrefs + links.srcs) == sorted(f"docs/assets/{name}" for name in SWAGGER_UI_ASSETS)
    for name, content_type in ASSET_TYPES.items():
        with client.get(f"/docs/assets/{name}") as asset:
            assert asset.status_code == 200 and asset.mimetype == content_type, name
            assert len(asset.data) > 100_000, name  # the real bundle, not a placeholder


@pytest.mark.parametrize("name", ["index.html", "swagger-ui-bundle.js.map", "..%2F__init__.py", "nothing.js"])
def test_only_the_pages_assets_are_served(apps: dict[str, Any], name: str) -> None:
    response = apps["survey"].test_client().get(f"/docs/assets/{name}")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_through_the_gateway_the_assets_resolve_under_the_services_mount(gateway: str) -> None:
    status, _, body = _get(f"{gateway}/dispatch/docs")
    assert status == 200 and b'"/dispatch/openapi.json"' in body
    for name, content_type in ASSET_TYPES.items():
        assert _get(f"{gateway}/dispatch/docs/assets/{name}")[:2] == (200, content_type)


def _check_the_docs_page(base: str) -> None:
    status, content_type, body = _get(f"{base}/docs")
    assert (status, content_type) == (200, "text/html")
    html = body.decode()
    assert html == docs_page(SERVICES)
    hrefs = _links(html).hrefs
    assert hrefs == [link for name in SERVICES for link in (f"/{name}/docs", f"/{name}/openapi.json")]
    for href in hrefs:
        status, content_type, body = _get(f"{base}{href}")
        assert status == 200, href
        if href.endswith("openapi.json"):
            assert content_type == "application/json" and b'"openapi": "3.0.3"' in body, href
        else:
            name = href.split("/")[1]
            assert content_type == "text/html" and f'"/{name}/openapi.json"'.encode() in body, href
            for asset in ASSET_TYPES:
                assert _get(f"{base}/{name}/docs/assets/{asset}")[0] == 200, (href, asset)


def test_the_one_process_gateways_docs_page_links_every_services_docs(gateway: str) -> None:
    _check_the_docs_page(gateway)


def _render_every_docs_page(base: str) -> dict[str, list[str]]:
    """Open the gateway's docs page in Chromium, follow each service's link; return the operations shown and any request to elsewhere."""
    shown: dict[str, list[str]] = {}
    elsewhere: list[str] = []

    def only_the_gateway(route: Route) -> None:
        if route.request.url.startswith(f"{base}/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.route("**/*", only_the_gateway)
            for name in SERVICES:
                page.goto(f"{base}/docs")
                page.get_by_role("link", name=name, exact=True).click()
                page.wait_for_selector(".opblock", timeout=20_000)
                shown[name] = page.locator(".opblock-summary-path").all_inner_texts()
        finally:
            browser.close()
    assert elsewhere == [], "the docs asked for something outside the gateway"
    return shown


def test_swagger_ui_renders_every_services_operations_with_nothing_but_the_gateway(gateway: str) -> None:
    shown = _render_every_docs_page(gateway)
    assert any(path.startswith("/api/v1/complaints") for path in shown["intake"])
    assert any(path.startswith("/api/v1/work-orders") for path in shown["dispatch"])
    assert any(path.startswith("/api/v1/call-tasks") for path in shown["notification"])
    assert any(path.startswith("/api/v1/questionnaires") for path in shown["survey"])
    assert any(path.startswith("/api/v1/analytics") for path in shown["analytics"])


@pytest.fixture(scope="module")
def nginx(apps: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """The compose gateway's nginx.conf in front of the five apps, or None when no nginx binary is installed."""
    binary = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None)
    if binary is None:
        yield None
        return
    directory = tmp_path_factory.mktemp("nginx")
    servers = ExitStack()
    addresses = {name: servers.enter_context(_serve(app)) for name, app in apps.items()}
    port = free_port()
    text = re.sub(r"^\s*resolver .*$", "", NGINX_CONF.read_text(), flags=re.MULTILINE)
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{port};").replace("pid /tmp/nginx.pid;", f"pid {directory}/nginx.pid;")
    for name, address in addresses.items():
        text = text.replace(f"{name}-web:8000", address.removeprefix("http://"))
    (directory / "nginx.conf").write_text(text)
    with (directory / "nginx.log").open("wb") as log:
        process = subprocess.Popen(
            [binary, "-e", "stderr", "-p", f"{directory}/", "-c", str(directory / "nginx.conf"), "-g", "daemon off;"], stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: process.poll() is not None or _answers(f"{base}/healthz"), timeout=10, message="nginx")
        assert process.poll() is None, (directory / "nginx.log").read_text()
        yield base
    finally:
        process.terminate()
        process.wait(10)
        servers.close()


def _answers(url: str) -> bool:
    try:
        return _get(url)[0] == 200
    except urllib.error.URLError:
        return False


def _with_nginx(nginx: str | None, check: Callable[[str], Any]) -> None:
    if nginx is None:
        # Said, not skipped silently: the one-process gateway's tests above are all there is.
        print("nginx is not installed: the compose gateway's docs page was not run (apt-get install nginx to run it)")
        return
    check(nginx)


def test_the_compose_gateways_docs_page_links_every_services_docs(nginx: str | None) -> None:
    _with_nginx(nginx, _check_the_docs_page)


def test_swagger_ui_renders_through_nginx_with_nothing_but_the_gateway(nginx: str | None) -> None:
    _with_nginx(nginx, _render_every_docs_page)
