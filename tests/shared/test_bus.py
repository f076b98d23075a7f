"""The bus against the real broker: confirms, retry then parking, replay, duplicates, crashes."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kombu import Connection

from propcare_shared.events.bus import ATTEMPTS_HEADER, EventBus, Subscription
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.events.outbox import emit_standalone
from propcare_shared.events.parking import parked_messages, replay_parked
from propcare_shared.http.app import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker

ROOT = Path(__file__).resolve().parents[2]


def estate_event(estate_id: str = "E1") -> Event:
    return new_event(
        "directory.estate.upserted",
        producer="test",
        data={"estate_id": estate_id, "name": "南山花园", "code": estate_id, "region_id": "R1", "group_id": "G1"},
        estate_id=estate_id,
    )


@pytest.fixture
def consumer_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings("fault", purposes=("consume",))


@pytest.fixture
def publisher(consumer_settings: Settings) -> Iterator[EventBus]:
    bus = EventBus(consumer_settings)
    yield bus
    bus.close()


@pytest.fixture
def context(consumer_settings: Settings) -> Iterator[ServiceContext]:
    context = ServiceContext.open(consumer_settings)
    context.ensure_indexes([])
    yield context
    context.client.drop_database(consumer_settings.mongodb_database)
    context.close()


def start_worker(context: ServiceContext, handler: Callable[[Event], None]) -> Worker:
    worker = Worker(context=context, subscriptions=[Subscription("consume", ("directory.#",), handler)])
    worker.start()
    wait_for(lambda: worker.ready, message="consumer ready")
    return worker


def recording_handler(context: ServiceContext, *, fail_times: int = 0) -> tuple[Callable[[Event], None], dict[str, int]]:
    calls = {"n": 0}

    def handle(event: Event) -> None:
        calls["n"] += 1
        if calls["n"] <= fail_times:
            raise RuntimeError(f"failure {calls['n']}")

        def work(tx) -> None:  # type: ignore[no-untyped-def]
            tx.database.effects.insert_one({"event_id": event.id}, session=tx.session)

        context.uow.run(work, handled_event=event, consumer="fault.consume")

    return handle, calls


def test_publish_is_confirmed_persistent_json(consumer_settings: Settings) -> None:
    from kombu import Queue

    bus = EventBus(consumer_settings)
    event = estate_event()
    with Connection(consumer_settings.rabbitmq_url) as connection:
        probe = Queue(f"{consumer_settings.queue_prefix}probe", exchange=bus.topology.events, routing_key="directory.#", auto_delete=True)
        probe(connection.default_channel).declare()
        bus.publish(event)
        assert bus._producer is not None and bus._producer.channel._confirm_selected
        bus.close()
        message = wait_for(lambda: probe(connection.default_channel).get(accept=["json"]), message="probe message")
        message.ack()
    assert message.delivery_info["routing_key"] == "directory.estate.upserted"
    assert message.properties["delivery_mode"] == 2
    assert message.content_type == "application/json"
    assert Event.from_message(message.payload) == Event.from_message(event.to_message())


def test_publish_to_a_missing_exchange_raises_instead_of_blocking(consumer_settings: Settings) -> None:
    bus = EventBus(dataclasses.replace(consumer_settings, confirm_timeout=2.0))
    bus.publish_raw({"x": 1}, exchange="", routing_key="no-such-queue-anywhere")
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 - the broker closes the channel: any error is right
        bus.publish_raw({"x": 1}, exchange="propcare.no.such.exchange", routing_key="k")
    assert time.monotonic() - started < 5
    bus.publish(estate_event())  # the bus recovers with a fresh connection
    bus.close()


def test_failed_handler_is_retried_with_back_off_then_succeeds(context: ServiceContext, publisher: EventBus) -> None:
    handler, calls = recording_handler(context, fail_times=2)
    worker = start_worker(context, handler)
    try:
        event = estate_event()
        started = time.monotonic()
        publisher.publish(event)
        wait_for(lambda: context.database.effects.count_documents({}) == 1, timeout=15, message="handled after retries")
        elapsed = time.monotonic() - started
    finally:
        worker.stop()
    assert calls["n"] == 3
    assert elapsed >= sum(context.settings.retry_delays[:2])


def test_handler_that_keeps_failing_is_parked_and_can_be_replayed(context: ServiceContext, publisher: EventBus) -> None:
    settings = context.settings
    broken = {"on": True}

    def handle(event: Event) -> None:
        if broken["on"]:
            raise ValueError("cannot handle")
        context.uow.run(
            lambda tx: tx.database.effects.insert_one({"event_id": event.id}, session=tx.session),
            handled_event=event,
            consumer="fault.consume",
        )

    worker = start_worker(context, handle)
    queue = f"{settings.queue_prefix}fault.consume"
    try:
        publisher.publish(estate_event())
        parked = wait_for(lambda: parked_messages(settings, queue, limit=10), timeout=15, message="message parked")
        assert parked[0]["attempts"] == settings.max_attempts
        assert "cannot handle" in parked[0]["error"]
        assert parked[0]["event"]["type"] == "directory.estate.upserted"
        assert len(parked_messages(settings, queue, limit=10)) == 1, "listing leaves the message parked"
        broken["on"] = False
        assert replay_parked(settings, queue, limit=10) == 1
        wait_for(lambda: context.database.effects.count_documents({}) == 1, message="replayed message handled")
        assert parked_messages(settings, queue, limit=10) == []
    finally:
        worker.stop()


def test_unreadable_message_is_parked_at_once(context: ServiceContext, publisher: EventBus) -> None:
    handler, calls = recording_handler(context)
    worker = start_worker(context, handler)
    queue = f"{context.settings.queue_prefix}fault.consume"
    try:
        publisher.publish_raw(
            {"type": "directory.estate.upserted", "data": "nonsense"},
            exchange=context.settings.event_exchange,
            routing_key="directory.estate.upserted",
        )
        parked = wait_for(lambda: parked_messages(context.settings, queue, limit=10), message="poison parked")
    finally:
        worker.stop()
    assert parked[0]["error"].startswith("unreadable")
    assert calls["n"] == 0


def test_duplicate_delivery_has_no_second_effect(context: ServiceContext, publisher: EventBus) -> None:
    handler, calls = recording_handler(context)
    worker = start_worker(context, handler)
    try:
        event = estate_event()
        publisher.publish(event)
        publisher.publish(event)
        wait_for(lambda: calls["n"] == 2, message="both deliveries seen")
    finally:
        worker.stop()
    assert context.database.effects.count_documents({}) == 1
    assert context.database.inbox.count_documents({"event_id": event.id}) == 1


def test_retry_header_counts_attempts(context: ServiceContext, publisher: EventBus) -> None:
    seen: list[int] = []

    def handle(event: Event) -> None:
        seen.append(len(seen))
        raise RuntimeError("always")

    worker = start_worker(context, handle)
    try:
        publisher.publish(estate_event())
        wait_for(lambda: len(seen) == context.settings.max_attempts, timeout=15, message="all attempts")
        queue = f"{context.settings.queue_prefix}fault.consume"
        parked = wait_for(lambda: parked_messages(context.settings, queue, limit=1), message="parked")
    finally:
        worker.stop()
    assert parked[0]["attempts"] == context.settings.max_attempts
    assert ATTEMPTS_HEADER == "x-attempts"


def spawn(mode: str, settings: Settings, **config: object) -> subprocess.Popen[bytes]:
    payload = {"settings": {**dataclasses.asdict(settings)}, **config}
    payload["settings"]["retry_delays"] = list(settings.retry_delays)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.shared.fault_process", mode, json.dumps(payload)], cwd=ROOT, env=env, start_new_session=True
    )


def kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


@pytest.mark.parametrize("hang_after", ["start", "commit"])
def test_consumer_killed_before_ack_is_redelivered_and_handled_once(context: ServiceContext, publisher: EventBus, hang_after: str) -> None:
    settings = context.settings
    first = spawn("consume", settings, hang_after=hang_after, label="first")
    second = None
    try:
        wait_for(lambda: first.poll() is None and _consumers(settings) > 0, timeout=30, message="first consumer")
        event = estate_event()
        publisher.publish(event)
        wait_for(
            lambda: context.database.reached.count_documents({"event_id": event.id}) == 1,
            timeout=15,
            message=f"consumer reached {hang_after}",
        )
        kill(first)
        second = spawn("consume", settings, label="second")
        wait_for(
            lambda: context.database.inbox.count_documents({"event_id": event.id}) == 1 and _queue_empty(settings),
            timeout=20,
            message="redelivered and settled",
        )
        time.sleep(0.5)
    finally:
        kill(first)
        if second is not None:
            second.send_signal(signal.SIGTERM)
            second.wait(20)
    effects = list(context.database.effects.find({"event_id": event.id}))
    assert len(effects) == 1
    assert effects[0]["pid"] == ("second" if hang_after == "start" else "first")


def _consumers(settings: Settings) -> int:
    with Connection(settings.rabbitmq_url) as connection:
        try:
            _, _, consumers = connection.channel().queue_declare(queue=f"{settings.queue_prefix}fault.consume", passive=True)
        except connection.channel_errors:
            return 0  # not declared yet
        return int(consumers)


def _queue_empty(settings: Settings) -> bool:
    with Connection(settings.rabbitmq_url) as connection:
        channel = connection.channel()
        _, messages, _ = channel.queue_declare(queue=f"{settings.queue_prefix}fault.consume", passive=True)
        return messages == 0


def test_process_killed_between_write_and_publish_still_publishes(context: ServiceContext, make_settings: Callable[..., Settings]) -> None:
    settings = context.settings
    sink = ServiceContext.open(
        make_settings("sink", purposes=("consume",), event_exchange=settings.event_exchange, queue_prefix=settings.queue_prefix)
    )
    handler, _ = recording_handler(sink)
    consumer = start_worker(sink, handler)
    writer = spawn("write", settings)
    relay = None
    try:
        wait_for(lambda: context.database.reached.count_documents({"at": "written"}) == 1, timeout=15, message="write committed")
        kill(writer)
        assert context.database.outbox.count_documents({"published_at": None}) == 1
        assert context.database.estates.count_documents({}) == 1
        relay = spawn("relay", settings)
        wait_for(lambda: sink.database.effects.count_documents({}) == 1, timeout=15, message="event delivered by the new relay")
    finally:
        kill(writer)
        if relay is not None:
            kill(relay)
        consumer.stop()
        sink.client.drop_database(sink.settings.mongodb_database)
        sink.close()
    assert context.database.outbox.count_documents({"published_at": None}) == 0


def test_no_event_for_a_write_that_failed(context: ServiceContext) -> None:
    def work(tx) -> None:  # type: ignore[no-untyped-def]
        tx.emit("directory.estate.upserted", data={"estate_id": "E1", "name": "n", "code": "E1", "region_id": "R1", "group_id": "G1"})
        tx.database.estates.insert_one({"_id": "E1"}, session=tx.session)
        raise RuntimeError("the write fails after the event was emitted")

    with pytest.raises(RuntimeError):
        context.uow.run(work)
    assert context.database.outbox.count_documents({}) == 0
    assert context.database.estates.count_documents({}) == 0


def test_only_one_relay_holds_the_lease(context: ServiceContext) -> None:
    from propcare_shared.events.outbox import OutboxRelay

    bus = EventBus(context.settings)
    first = OutboxRelay(database=context.database, publisher=bus)
    second = OutboxRelay(database=context.database, publisher=bus)
    assert first.holds_lease()
    assert not second.holds_lease()
    first.release_lease()
    assert second.holds_lease()
    bus.close()


def test_relay_publishes_in_outbox_order(context: ServiceContext) -> None:
    order: list[str] = []
    lock = threading.Lock()

    def handle(event: Event) -> None:
        with lock:
            order.append(event.data["estate_id"])

    worker = start_worker(context, handle)
    try:
        for index in range(20):
            emit_standalone(
                context.uow,
                "directory.estate.upserted",
                data={"estate_id": f"E{index:02d}", "name": "n", "code": "c", "region_id": "R1", "group_id": "G1"},
            )
        wait_for(lambda: len(order) == 20, message="all relayed")
    finally:
        worker.stop()
    assert order == [f"E{index:02d}" for index in range(20)]


def test_sigterm_finishes_in_flight_work_then_exits(context: ServiceContext, publisher: EventBus) -> None:
    settings = context.settings
    process = spawn("consume", settings, hang_after=None, label="graceful")
    try:
        wait_for(lambda: process.poll() is None and _consumers(settings) > 0, timeout=30, message="consumer up")
        for index in range(5):
            publisher.publish(estate_event(f"E{index}"))
        wait_for(lambda: context.database.effects.count_documents({}) >= 1, timeout=15, message="handling started")
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        kill(process)
    handled = context.database.inbox.count_documents({})
    assert handled == context.database.effects.count_documents({})
