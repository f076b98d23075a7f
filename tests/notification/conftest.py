"""Fixtures for notification: its context on a throwaway database with a controllable clock, the
handler and the dispatcher driven directly, a running worker, a publisher of other services, and a
local HTTP gateway standing in for the push/SMS/WeChat providers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from notification.app import create_app
from notification.config import NotifyConfig
from notification.dispatcher import Dispatcher
from notification.handlers import HANDLERS
from notification.providers import Providers
from notification.service import NOTIFICATION, periodic_loops
from notification.store import INDEXES, NotificationStore
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import AlreadyHandled
from propcare_shared.handling import subscriptions
from propcare_shared.settings import Settings
from propcare_shared.worker import Worker
from tests.notification.factories import MONDAY_MORNING, PURPOSES

# Test-speed retries: 60 s, 300 s, 1800 s scaled to 6 ms, 30 ms, 180 ms.
FAST = NotifyConfig(dispatch_interval=0.05, retry_scale=0.0001, max_attempts=3, send_timeout=2.0)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MONDAY_MORNING)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings("notification", purposes=PURPOSES)


@pytest.fixture
def context(open_context: Callable[..., ServiceContext], settings: Settings, clock: FrozenClock) -> ServiceContext:
    return open_context(settings, indexes=INDEXES, clock=clock, config=FAST)


@pytest.fixture
def store(context: ServiceContext, clock: FrozenClock) -> NotificationStore:
    return NotificationStore(context.database, clock=clock)


@pytest.fixture
def handle(context: ServiceContext) -> Callable[[Event], bool]:
    """Handle an event as the worker does (in a unit of work with the inbox); return False for a duplicate."""
    [subscription] = subscriptions(context, HANDLERS)
    handler = subscription.handler

    def run(event: Event) -> bool:
        try:
            handler(event)
        except AlreadyHandled:
            return False
        return True

    return run


@pytest.fixture
def make_dispatcher(context: ServiceContext) -> Callable[..., Dispatcher]:
    """Build a dispatcher on the test context, with the log provider unless told otherwise."""

    def make(*, config: NotifyConfig = FAST, providers: Providers | None = None) -> Dispatcher:
        return Dispatcher.configured(context, config=config, providers=providers or Providers())

    return make


@pytest.fixture
def start_worker(context: ServiceContext, start_worker: Callable[[Worker], Worker]) -> Callable[..., Worker]:
    """Start notification's worker (consumer, dispatch loop, relay) on the test context (the root fixture stops it)."""

    def start(*, config: NotifyConfig = FAST, providers: Providers | None = None) -> Worker:
        service = replace(NOTIFICATION, loops=lambda context: periodic_loops(context, config=config, providers=providers))
        return start_worker(service.build_worker(context))

    return start


@pytest.fixture
def publisher(bus_as: Callable[[str], EventBus]) -> EventBus:
    """A publisher with dispatch's settings on the same exchange."""
    return bus_as("dispatch")


@pytest.fixture
def app(context: ServiceContext) -> Flask:
    return create_app(context)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# the providers' gateway -------------------------------------------------------------------------

TOKEN = "provider-token-for-tests"


@dataclass
class Gateway:
    """A local HTTP server standing in for the push/SMS/WeChat gateways."""

    url: str
    statuses: dict[str, int] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def received(self, path: str) -> list[dict[str, Any]]:
        return [request for request in self.requests if request["path"] == path]


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server_box: dict[str, Gateway] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state = server_box["gateway"]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
            time.sleep(state.delay)
            status = state.statuses.get(self.path, 200)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server_box["gateway"] = Gateway(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server_box["gateway"]
    server.shutdown()
    server.server_close()


def webhook_config(gateway: Gateway, **overrides: Any) -> NotifyConfig:
    return FAST.with_overrides(
        push_url=f"{gateway.url}/push", sms_url=f"{gateway.url}/sms", wechat_url=f"{gateway.url}/wechat", provider_token=TOKEN, **overrides
    )
