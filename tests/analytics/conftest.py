"""Fixtures of the analytics tests: its settings, context, app client, a publisher and a running worker."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import pytest
from flask.testing import FlaskClient

from analytics.app import create_app
from analytics.handlers import HANDLERS
from analytics.worker import build_worker
from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus
from propcare_shared.events.envelope import Event
from propcare_shared.handling import subscriptions
from propcare_shared.settings import Settings
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker

PURPOSES = tuple(handles.purpose for handles in HANDLERS)


@pytest.fixture
def analytics_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings("analytics", purposes=PURPOSES)


@pytest.fixture
def context(analytics_settings: Settings, open_context: Callable[..., ServiceContext]) -> ServiceContext:
    return open_context(analytics_settings)


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
    """Hand events to the handler of the queue each is bound to, as the worker would (no broker in between).

    An event no queue is bound to is dropped, as the exchange would drop it.
    """
    handlers = {
        event_type: subscription.handler for subscription in subscriptions(context, HANDLERS) for event_type in subscription.event_types
    }

    def deliver(events: Iterable[Event]) -> None:
        for event in events:
            if event.type in handlers:
                handlers[event.type](event)

    return deliver
