"""A message that is not JSON, or not declared as JSON, is parked at once as the bytes that came, counted, never acked and dropped."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from kombu import Connection, Producer
from prometheus_client import REGISTRY

from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import ERROR_HEADER, EventBus, Subscription
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.events.parking import parked_messages, replay_parked
from propcare_shared.settings import Settings
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker

GARBAGE = [
    (b"{not json at all", "application/json", "utf-8"),
    (b"plain words", "text/plain", "utf-8"),
    (b"\x80\x03}q\x00.", "application/x-python-serialize", "binary"),
    (b"\xff\xfe\x00garbage", "application/octet-stream", "binary"),
]


@pytest.fixture
def context(make_settings: Callable[..., Settings], open_context: Callable[..., ServiceContext]) -> ServiceContext:
    return open_context(make_settings("fault", purposes=("consume",)))


@pytest.fixture
def consuming(context: ServiceContext) -> Iterator[list[Event]]:
    handled: list[Event] = []
    worker = Worker(context=context, subscriptions=[Subscription("consume", ("directory.#",), handled.append)])
    worker.start()
    wait_for(lambda: worker.ready, timeout=15, message="consumer ready")
    yield handled
    worker.stop(5)


def publish_raw_bytes(settings: Settings, body: bytes, content_type: str, content_encoding: str) -> None:
    with Connection(settings.rabbitmq_url) as connection:
        Producer(connection.channel()).publish(
            body,
            exchange=settings.event_exchange,
            routing_key="directory.estate.upserted",
            content_type=content_type,
            content_encoding=content_encoding,
            delivery_mode=2,
        )


def dead_count(service: str) -> float:
    return REGISTRY.get_sample_value("events_consumed_total", {"service": service, "type": "unknown", "outcome": "dead"}) or 0.0


def test_undecodable_messages_are_parked_at_once_and_counted(context: ServiceContext, consuming: list[Event]) -> None:
    settings = context.settings
    queue = f"{settings.queue_prefix}fault.consume"
    before = dead_count(settings.service)
    for body, content_type, encoding in GARBAGE:
        publish_raw_bytes(settings, body, content_type, encoding)
    good = new_event("directory.estate.upserted", producer="test", data=_estate(), estate_id="E1")
    bus = EventBus(settings)
    bus.publish(good)
    bus.close()

    wait_for(lambda: [e.id for e in consuming] == [good.id], timeout=15, message="the good event handled after the garbage")
    parked = wait_for(lambda: len(found := parked_messages(settings, queue, limit=10)) == len(GARBAGE) and found, message="all parked")
    assert all(entry["error"].startswith("undecodable") for entry in parked)
    assert sorted(entry["content_type"] for entry in parked) == sorted(content_type for _, content_type, _ in GARBAGE)
    assert all("undecodable" in entry for entry in parked)  # shown as bytes, never unpickled
    assert dead_count(settings.service) - before == len(GARBAGE)
    assert _depth(settings, queue) == 0


def test_a_replayed_undecodable_message_keeps_its_bytes_and_is_parked_again(context: ServiceContext, consuming: list[Event]) -> None:
    settings = context.settings
    queue = f"{settings.queue_prefix}fault.consume"
    publish_raw_bytes(settings, b"{broken", "application/json", "utf-8")
    wait_for(lambda: parked_messages(settings, queue, limit=1), message="parked")
    assert replay_parked(settings, queue, limit=10) == 1
    wait_for(lambda: _parked_raw(settings, queue) == [b"{broken"], timeout=15, message="parked again, same bytes")
    assert consuming == []


def _estate() -> dict[str, str]:
    return {"estate_id": "E1", "name": "南山花园", "code": "E1", "region_id": "R1", "group_id": "G1"}


def _depth(settings: Settings, queue: str) -> int:
    with Connection(settings.rabbitmq_url) as connection:
        return int(connection.channel().queue_declare(queue, passive=True).message_count)


def _parked_raw(settings: Settings, queue: str) -> list[bytes]:
    with Connection(settings.rabbitmq_url) as connection:
        channel = connection.channel()
        messages = []
        while (message := channel.basic_get(f"{queue}.parked")) is not None:
            messages.append(message)
        bodies = [body if isinstance(body := message.body, bytes) else body.encode() for message in messages]
        headers = [message.headers or {} for message in messages]
        for message in messages:
            channel.basic_reject(message.delivery_tag, requeue=True)
        assert all(str(h.get(ERROR_HEADER, "")).startswith("undecodable") for h in headers)
        return bodies
