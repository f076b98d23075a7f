"""Helpers for tests against the real servers: the broker URL, waiting, clean topologies.

Tests never mock MongoDB or RabbitMQ. The broker is ``RABBITMQ_URL`` (default the local
server), or a testcontainers RabbitMQ when a Docker engine answers and no local server does.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from kombu import Connection, Exchange, Queue
from pymongo.database import Database

from propcare_shared.events.topology import Topology
from propcare_shared.settings import DEFAULT_RABBITMQ_URL, Settings

T = TypeVar("T")

INSTALL_HINT = (
    "No RabbitMQ broker answers. Install and start one (Debian: apt-get install rabbitmq-server; "
    "rabbitmq-server -detached), or set RABBITMQ_URL=amqp://user:pass@host:5672//, "
    "or run a Docker engine so that testcontainers can start rabbitmq:3."
)


def broker_answers(url: str, timeout: float = 3.0) -> bool:
    """Tell whether an AMQP broker accepts a connection at ``url``."""
    try:
        with Connection(url, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
        return True
    except Exception:  # noqa: BLE001 - any failure means no usable broker
        return False


def docker_engine_answers() -> bool:
    """Tell whether a Docker engine answers (so testcontainers can be used)."""
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - the client alone is not an engine
        return False


def unique_name(prefix: str) -> str:
    """Return a name no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def wait_for(predicate: Callable[[], T], *, timeout: float = 10.0, interval: float = 0.05, message: str = "condition") -> T:
    """Poll until ``predicate`` returns something truthy and return it; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def fetch_until(fetch: Callable[[], T], check: Callable[[T], bool], *, timeout: float = 20.0, message: str = "condition") -> T:
    """Fetch until ``check`` accepts what came back and return it; fail after ``timeout``."""
    holder: dict[str, T] = {}

    def attempt() -> bool:
        holder["value"] = fetch()
        return bool(check(holder["value"]))

    wait_for(attempt, timeout=timeout, interval=0.1, message=message)
    return holder["value"]


def delete_topology(settings: Settings, purposes: Iterable[str]) -> None:
    """Delete a test's queues and exchanges from the broker."""
    if settings.embedded_broker:
        return
    with Connection(settings.rabbitmq_url) as connection:
        channel = connection.channel()
        for purpose in purposes:
            main = f"{settings.queue_prefix}{settings.service}.{purpose}"
            names = [main, f"{main}.parked", *(f"{main}.retry.{level}" for level in range(len(settings.retry_delays)))]
            for name in names:
                Queue(name, channel=channel).delete()
        for queue in Topology(settings).platform_queues():  # every publisher declares the platform's main queues
            Queue(queue.name, channel=channel).delete()
        for name in (settings.event_exchange, f"{settings.event_exchange}.requeue"):
            Exchange(name, channel=channel).delete()


def default_broker_url(environ_url: str | None) -> str:
    """Return the broker URL tests should use."""
    return environ_url or DEFAULT_RABBITMQ_URL


def bearer(
    settings: Settings,
    *,
    role: str = "group_admin",
    sub: str = "tester",
    group_id: str | None = "G1",
    regions: Iterable[str] = (),
    estates: Iterable[str] = (),
) -> dict[str, str]:
    """Return an Authorization header with a token signed by the settings' secret."""
    from propcare_shared.http.auth import issue_token

    token = issue_token(settings.jwt_secret, sub=sub, role=role, group_id=group_id, regions=regions, estates=estates)
    return {"Authorization": f"Bearer {token}"}


def outbox_events(database: Database, correlation_id: str | None = None) -> list[dict[str, Any]]:
    """Return the events a service stored in its outbox; those of one complaint in ``seq`` order."""
    query = {"event.correlation_id": correlation_id} if correlation_id else {}
    order = [("event.seq", 1), ("created_at", 1), ("position", 1)] if correlation_id else [("created_at", 1), ("position", 1)]
    return [document["event"] for document in database.outbox.find(query).sort(order)]


@contextmanager
def captured_events(settings: Settings, routing_key: str) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Bind a throwaway queue to the settings' exchange; yield a reader of every message that arrived so far."""
    with Connection(settings.rabbitmq_url) as connection:
        queue = Queue(
            unique_name("capture."),
            Exchange(settings.event_exchange, type="topic", durable=True),
            routing_key=routing_key,
            durable=False,
            channel=connection.channel(),
        )
        queue.declare()
        received: list[dict[str, Any]] = []

        def read() -> list[dict[str, Any]]:
            while (message := queue.get(no_ack=True)) is not None:
                received.append(message.decode())
            return received

        try:
            yield read
        finally:
            queue.delete()
