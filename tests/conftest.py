"""Fixtures for every test: a throwaway mongod replica set and the real RabbitMQ broker."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from pymongo import MongoClient

from infra.local.mongod import MongodProcess
from propcare_shared.clock import Clock, utcnow
from propcare_shared.events.bus import EventBus
from propcare_shared.http.app import ServiceContext
from propcare_shared.mongo import IndexSpec
from propcare_shared.settings import Settings
from propcare_shared.testing import (
    INSTALL_HINT,
    broker_answers,
    captured_events,
    default_broker_url,
    delete_topology,
    docker_engine_answers,
    unique_name,
    wait_for,
)
from propcare_shared.worker import Worker


@pytest.fixture(scope="session")
def mongodb_url() -> Iterator[str]:
    """A one-node replica set for the whole session (or ``TEST_MONGODB_URL``)."""
    if os.environ.get("TEST_MONGODB_URL"):
        yield os.environ["TEST_MONGODB_URL"]
        return
    with MongodProcess() as mongod:
        yield mongod.url


@pytest.fixture(scope="session")
def mongo_client(mongodb_url: str) -> Iterator[MongoClient]:
    client: MongoClient = MongoClient(mongodb_url, tz_aware=True)
    yield client
    client.close()


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    """The local broker, or a testcontainers one when only a Docker engine is there."""
    url = default_broker_url(os.environ.get("RABBITMQ_URL"))
    if broker_answers(url):
        yield url
        return
    if docker_engine_answers():
        from testcontainers.rabbitmq import RabbitMqContainer

        with RabbitMqContainer("rabbitmq:3") as container:
            params = container.get_connection_params()
            yield f"amqp://guest:guest@{params.host}:{params.port}//"
        return
    pytest.fail(INSTALL_HINT, pytrace=False)


@pytest.fixture
def make_settings(mongodb_url: str, rabbitmq_url: str) -> Iterator:
    """Build settings for a service with a database, exchange and queues no other test uses."""
    made: list[tuple[Settings, list[str]]] = []
    exchange = unique_name("test.events.")
    prefix = unique_name("t") + "."

    def build(service: str, *, purposes: tuple[str, ...] = (), **overrides: object) -> Settings:
        settings = Settings(
            service=service,
            mongodb_url=mongodb_url,
            mongodb_database=unique_name(f"test_{service}_"),
            rabbitmq_url=rabbitmq_url,
            event_exchange=exchange,
            queue_prefix=prefix,
            jwt_secret="test-secret-for-propcare-tests-0123456789",
            retry_delays=(0.2, 0.4, 0.8),
            max_attempts=3,
            outbox_poll_interval=0.2,
            confirm_timeout=5.0,
        ).with_overrides(**overrides)
        made.append((settings, list(purposes)))
        return settings

    yield build
    for settings, purposes in made:
        delete_topology(settings, purposes)


@pytest.fixture
def open_context() -> Iterator[Callable[..., ServiceContext]]:
    """Open service contexts with their indexes and, when given, the service's own config; drop their databases afterwards."""
    opened: list[ServiceContext] = []

    def open_(settings: Settings, *, indexes: Iterable[IndexSpec] = (), clock: Clock = utcnow, config: Any = None) -> ServiceContext:
        context = ServiceContext.open(settings, clock=clock, config=config)
        context.ensure_indexes(indexes)
        opened.append(context)
        return context

    yield open_
    for context in opened:
        context.client.drop_database(context.settings.mongodb_database)
        context.close()


@pytest.fixture
def start_worker() -> Iterator[Callable[[Worker], Worker]]:
    """Start workers and wait until their consumers are ready; stop them afterwards."""
    started: list[Worker] = []

    def start(worker: Worker) -> Worker:
        worker.start()
        started.append(worker)
        wait_for(lambda: worker.ready, timeout=15, message=f"{worker.context.settings.service} consumer ready")
        return worker

    yield start
    for worker in started:
        worker.stop(5)


@pytest.fixture
def bus_as(make_settings: Callable[..., Settings]) -> Iterator[Callable[[str], EventBus]]:
    """Publishers with another service's settings, on the test's exchange."""
    buses: list[EventBus] = []

    def bus(service: str) -> EventBus:
        buses.append(EventBus(make_settings(service)))
        return buses[-1]

    yield bus
    for bus_ in buses:
        bus_.close()


@pytest.fixture
def capture(settings: Settings) -> Iterator[Callable[[str], Callable[[], list[dict[str, Any]]]]]:
    """Capture the events of a routing key published on the test's exchange (``settings`` of the test's package)."""
    with ExitStack() as stack:
        yield lambda routing_key: stack.enter_context(captured_events(settings, routing_key))
