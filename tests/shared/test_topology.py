"""The platform's topology: declared by every publisher before it publishes, and events no queue took kept in the outbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from kombu import Connection, Queue

from infra.tools.topology import platform_queues
from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus, Subscription, Unroutable
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.events.outbox import OutboxRelay, emit_standalone
from propcare_shared.events.queues import PLATFORM_QUEUES
from propcare_shared.events.topology import Topology, topic_matches
from propcare_shared.settings import Settings
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker

ESTATE = {"estate_id": "E1", "name": "南山花园", "code": "E1", "region_id": "R1", "group_id": "G1"}


def estate_event() -> Event:
    return new_event("directory.estate.upserted", producer="intake", data=ESTATE, estate_id="E1")


def depth(settings: Settings, queue: str) -> int:
    with Connection(settings.rabbitmq_url) as connection:
        return int(connection.channel().queue_declare(queue, passive=True).message_count)


@pytest.fixture
def intake_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings("intake")


@pytest.fixture
def intake_bus(intake_settings: Settings) -> Iterator[EventBus]:
    bus = EventBus(intake_settings)
    yield bus
    bus.close()


def test_the_platform_table_lists_every_queue_the_services_declare() -> None:
    assert PLATFORM_QUEUES == platform_queues(), "run: python -m infra.tools.topology write"
    assert "complaint-received" in PLATFORM_QUEUES["dispatch"]


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("complaint.received", "complaint.received", True),
        ("complaint.*", "complaint.received", True),
        ("complaint.*", "complaint.received.late", False),
        ("directory.#", "directory.estate.upserted", True),
        ("directory.#", "directory", True),
        ("#", "anything.at.all", True),
        ("*.received", "complaint.received", True),
        ("complaint.received", "complaint.resolved", False),
        ("#.upserted", "directory.estate.upserted", True),
    ],
)
def test_topic_bindings_match_as_rabbitmq_routes(pattern: str, key: str, matches: bool) -> None:
    assert topic_matches(pattern, key) is matches


def test_an_event_published_before_its_consumer_started_waits_for_it(
    intake_settings: Settings, intake_bus: EventBus, make_settings: Callable[..., Settings], open_context: Callable[..., ServiceContext]
) -> None:
    """A brand-new broker: intake publishes first; every consumer's queue exists already and keeps the event for it."""
    event = estate_event()
    intake_bus.publish(event)
    topology = Topology(intake_settings)
    takers = [
        (service, purpose) for service, purposes in PLATFORM_QUEUES.items() for purpose, keys in purposes.items() if event.type in keys
    ]
    assert len(takers) >= 3
    for service, purpose in takers:
        assert depth(intake_settings, topology.queue_name(purpose, service=service)) == 1

    dispatch = make_settings("dispatch", event_exchange=intake_settings.event_exchange, queue_prefix=intake_settings.queue_prefix)
    received: list[str] = []
    worker = Worker(
        context=open_context(dispatch),
        subscriptions=[Subscription("estate-upserted", ("directory.estate.upserted",), lambda e: received.append(e.id))],
    )
    worker.start()
    try:
        wait_for(lambda: received == [event.id], timeout=15, message="the early event reached the late consumer")
    finally:
        worker.stop(5)


def test_an_event_some_queue_should_take_but_none_did_stays_in_the_outbox(
    intake_settings: Settings, open_context: Callable[..., ServiceContext]
) -> None:
    context = open_context(intake_settings)
    bus = EventBus(intake_settings)
    bus.topology = Topology(intake_settings, platform={"sink": {"estates": ("directory.estate.upserted",)}})
    sink = bus.topology.queue_name("estates", service="sink")
    relay = OutboxRelay(database=context.database, publisher=bus, poll_interval=0.1)
    try:
        bus.publish(estate_event())  # connects and declares the sink queue
        with Connection(intake_settings.rabbitmq_url) as connection:
            Queue(sink, channel=connection.channel()).delete()  # deleted by hand while the publisher stays connected
        stored = emit_standalone(context.uow, "directory.estate.upserted", data=ESTATE, estate_id="E1")
        with pytest.raises(Unroutable):
            relay.drain()
        assert context.database.outbox.find_one({"_id": stored.id})["published_at"] is None

        assert relay.drain() == 1  # the next connection declares the queue again, and the event goes there
        assert context.database.outbox.find_one({"_id": stored.id})["published_at"] is not None
        assert depth(intake_settings, sink) == 1
    finally:
        bus.close()
        with Connection(intake_settings.rabbitmq_url) as connection:
            Queue(sink, channel=connection.channel()).delete()


def test_an_event_type_no_queue_takes_is_published_without_mandatory(intake_settings: Settings) -> None:
    topology = Topology(intake_settings, platform={"sink": {"estates": ("directory.#",)}})
    assert topology.routed_somewhere("directory.estate.upserted")
    assert not topology.routed_somewhere("complaint.received")
