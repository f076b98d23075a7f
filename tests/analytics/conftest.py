"""Fixtures of the analytics tests: its settings, context, app client, a publisher and a running worker."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import pytest
from flask.testing import FlaskClient

from analytics.app import create_app
from analytics.handlers import PURPOSE, on_event
from analytics.store import AnalyticsStore
from analytics.worker import build_worker
from propcare_shared.events.bus import EventBus
from propcare_shared.events.envelope import Event
from propcare_shared.http.app import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker


@pytest.fixture
def analytics_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings("analytics", purposes=(PURPOSE,))


@pytest.fixture
def context(analytics_settings: Settings) -> Iterator[ServiceContext]:
    context = ServiceContext.open(analytics_settings)
    yield context
    context.client.drop_database(analytics_settings.mongodb_database)
    context.close()


@pytest.fixture
def client(context: ServiceContext) -> FlaskClient:
    return create_app(context).test_client()


@pytest.fixture
def worker(context: ServiceContext, client: FlaskClient) -> Iterator[Worker]:
    worker = build_worker(context)
    worker.start()
    wait_for(lambda: worker.ready, message="analytics consumer ready")
    yield worker
    worker.stop(5.0)


@pytest.fixture
def publisher(make_settings: Callable[..., Settings]) -> Iterator[EventBus]:
    """A bus of another service on the same exchange (intake, dispatch and survey publish alike)."""
    bus = EventBus(make_settings("intake"))
    yield bus
    bus.close()


@pytest.fixture
def feed(context: ServiceContext, client: FlaskClient) -> Callable[[Iterable[Event]], None]:
    """Hand events straight to analytics' handler, as its consumer would (no broker in between)."""
    handle = on_event(context, AnalyticsStore(context.database, clock=context.clock))

    def deliver(events: Iterable[Event]) -> None:
        for event in events:
            handle(event)

    return deliver
