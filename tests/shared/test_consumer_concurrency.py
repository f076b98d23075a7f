"""Concurrent handling in one consumer (``CONSUMER_CONCURRENCY`` lanes), against the real broker and MongoDB.

Messages of different complaints overlap; the events of one complaint never do and keep their
``seq`` order; a lane that fails or hangs holds up no other lane and loses nothing; stopping (in
process, or SIGTERM to a worker process) with messages in flight acks what was committed and gives
back the rest, so every event is handled exactly once in the end.

``python -m tests.shared.test_consumer_concurrency <json>`` is the worker process of the SIGTERM test.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kombu import Connection

from propcare_shared.events.bus import LANES_BY_ESTATE, EventBus, Subscription, Topology, lane_key
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.http.app import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker

ROOT = Path(__file__).resolve().parents[2]
LANES = 4
PURPOSE = "lanes"
QUEUE_OF = "{prefix}fault.lanes"


def fact(complaint_id: str | None, seq: int | None = None, *, estate_id: str = "NS01") -> Event:
    """An event of a complaint (its correlation id) with its ``seq``; a directory fact carries no complaint."""
    return new_event(
        "directory.estate.upserted",
        producer="test",
        data={"estate_id": estate_id, "name": "南山花园", "code": estate_id, "region_id": "R1", "group_id": "G1"},
        correlation_id=complaint_id,
        estate_id=estate_id,
        seq=seq,
    )


def complaints_on_distinct_lanes(count: int, lanes: int = LANES) -> list[str]:
    """Return ``count`` complaint ids that hash to ``count`` different lanes (so their overlap is certain)."""
    chosen: dict[int, str] = {}
    candidate = 0
    while len(chosen) < count:
        complaint_id = f"C{candidate}"
        body = {"correlation_id": complaint_id}
        chosen.setdefault(zlib.crc32(lane_key(body).encode()) % lanes, complaint_id)
        candidate += 1
    return list(chosen.values())


@pytest.fixture
def lane_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings("fault", purposes=(PURPOSE,), consumer_concurrency=LANES)


@pytest.fixture
def context(lane_settings: Settings) -> Iterator[ServiceContext]:
    context = ServiceContext.open(lane_settings)
    context.ensure_indexes([])
    yield context
    context.client.drop_database(lane_settings.mongodb_database)
    context.close()


@pytest.fixture
def publisher(lane_settings: Settings) -> Iterator[EventBus]:
    bus = EventBus(lane_settings)
    yield bus
    bus.close()


def idempotent(context: ServiceContext, before: Callable[[Event], None] = lambda _e: None) -> Callable[[Event], None]:
    """A handler that runs ``before`` and then records the event in ``effects`` with its inbox marker, in one transaction."""

    def handle(event: Event) -> None:
        before(event)

        def work(tx) -> None:  # type: ignore[no-untyped-def]
            effect = {"event_id": event.id, "complaint_id": event.correlation_id, "seq": event.seq}
            tx.database.effects.insert_one(effect, session=tx.session)

        context.uow.run(work, handled_event=event, consumer="fault.lanes")

    return handle


def start(context: ServiceContext, handler: Callable[[Event], None]) -> Worker:
    worker = Worker(context=context, subscriptions=[Subscription(PURPOSE, ("directory.#",), handler)])
    worker.start()
    wait_for(lambda: worker.ready, timeout=15, message="consumer ready")
    return worker


def ready_in_queue(settings: Settings) -> int:
    """Messages waiting in the test's queue (not delivered, or given back)."""
    with Connection(settings.rabbitmq_url) as connection:
        _, messages, _ = connection.channel().queue_declare(queue=QUEUE_OF.format(prefix=settings.queue_prefix), passive=True)
        return int(messages)


def test_messages_of_different_complaints_are_handled_at_once(context: ServiceContext, publisher: EventBus) -> None:
    complaints = complaints_on_distinct_lanes(3)
    barrier = threading.Barrier(3, timeout=10)
    met: list[str] = []

    def wait_for_the_others(event: Event) -> None:
        barrier.wait()  # breaks (and the handler fails) unless all three are being handled at the same time
        met.append(str(event.correlation_id))

    worker = start(context, idempotent(context, wait_for_the_others))
    try:
        for complaint_id in complaints:
            publisher.publish(fact(complaint_id, 1))
        wait_for(lambda: context.database.effects.count_documents({}) == 3, timeout=20, message="three handled")
    finally:
        worker.stop(5)
    assert sorted(met) == sorted(complaints)


def test_events_of_one_complaint_are_never_handled_concurrently_nor_out_of_order(context: ServiceContext, publisher: EventBus) -> None:
    complaints = [f"K{index}" for index in range(6)]
    seqs = range(1, 9)
    active: dict[str, int] = defaultdict(int)
    overlaps: list[str] = []
    most_at_once = [0]
    lock = threading.Lock()

    def watch(event: Event) -> None:
        key = str(event.correlation_id)
        with lock:
            active[key] += 1
            if active[key] > 1:
                overlaps.append(key)
            most_at_once[0] = max(most_at_once[0], sum(active.values()))
        time.sleep(0.02)  # long enough for another lane to start this complaint's next event, were it allowed to
        with lock:
            active[key] -= 1

    worker = start(context, idempotent(context, watch))
    try:
        for seq in seqs:  # interleaved: seq 1 of every complaint, then seq 2, ...
            for complaint_id in complaints:
                publisher.publish(fact(complaint_id, seq))
        total = len(complaints) * len(seqs)
        wait_for(lambda: context.database.effects.count_documents({}) == total, timeout=60, message="all handled")
    finally:
        worker.stop(5)
    assert overlaps == []
    for complaint_id in complaints:
        handled = [row["seq"] for row in context.database.effects.find({"complaint_id": complaint_id}).sort("_id", 1)]
        assert handled == list(seqs), complaint_id
    assert most_at_once[0] > 1, "complaints on different lanes should have overlapped"


def test_a_queue_with_lanes_by_estate_handles_one_estate_at_a_time(context: ServiceContext, publisher: EventBus) -> None:
    active: dict[str, int] = defaultdict(int)
    overlaps: list[str] = []
    lock = threading.Lock()

    def watch(event: Event) -> None:
        with lock:
            active[str(event.estate_id)] += 1
            if active[str(event.estate_id)] > 1:
                overlaps.append(str(event.estate_id))
        time.sleep(0.02)
        with lock:
            active[str(event.estate_id)] -= 1

    by_estate = Subscription(PURPOSE, ("directory.#",), idempotent(context, watch), lanes=LANES_BY_ESTATE)
    worker = Worker(context=context, subscriptions=[by_estate])
    worker.start()
    wait_for(lambda: worker.ready, timeout=15, message="consumer ready")
    published = [fact(f"M{index}", 1, estate_id=f"E{index % 2}") for index in range(16)]
    try:
        for event in published:
            publisher.publish(event)
        wait_for(lambda: context.database.effects.count_documents({}) == 16, timeout=30, message="all handled")
    finally:
        worker.stop(5)
    assert overlaps == []
    for estate_id in ("E0", "E1"):
        handled = [
            row["complaint_id"]
            for row in context.database.effects.find(
                {"complaint_id": {"$in": [e.correlation_id for e in published if e.estate_id == estate_id]}}
            ).sort("_id", 1)
        ]
        assert handled == [e.correlation_id for e in published if e.estate_id == estate_id]


def test_a_backlog_taken_while_several_queues_start_consuming_is_handled(
    make_settings: Callable[..., Settings], context: ServiceContext, publisher: EventBus
) -> None:
    """Deliveries to the first queue arrive while the channel still starts the other queues' consumers (py-amqp
    dispatches them during each ``basic_consume``): they belong to this channel and must be handled and acked."""
    make_settings("fault", purposes=("second", "third"))  # deleted afterwards with the test's topology
    total = 60
    handler = idempotent(context)
    queues = [
        Subscription(purpose, ("directory.#",) if purpose == PURPOSE else ("survey.never",), handler)
        for purpose in (PURPOSE, "second", "third")
    ]
    with Connection(context.settings.rabbitmq_url) as connection:
        Topology(context.settings).declare(connection.default_channel, queues)
    for index in range(total):  # the backlog waits in the first queue before the worker starts
        publisher.publish(fact(f"B{index}", 1))
    worker = Worker(context=context, subscriptions=queues)
    worker.start()
    try:
        wait_for(lambda: context.database.effects.count_documents({}) == total, timeout=30, message="the whole backlog handled")
        wait_for(lambda: ready_in_queue(context.settings) == 0, timeout=10, message="nothing left in the queue")
    finally:
        worker.stop(5)


def test_directory_facts_without_a_complaint_keep_their_order(context: ServiceContext, publisher: EventBus) -> None:
    order: list[str] = []
    worker = start(context, idempotent(context, lambda event: order.append(event.id)))
    try:
        published = [fact(None, estate_id="NS01") for _ in range(15)]
        for event in published:
            publisher.publish(event)
        wait_for(lambda: len(order) == 15, timeout=20, message="all handled")
    finally:
        worker.stop(5)
    assert order == [event.id for event in published]


def test_a_failing_or_hanging_lane_holds_up_and_loses_nothing_else(context: ServiceContext, publisher: EventBus) -> None:
    failing, hanging, *others = complaints_on_distinct_lanes(4)
    others_done = threading.Event()
    expected_others = 10

    def misbehave(event: Event) -> None:
        if event.correlation_id == failing:
            raise RuntimeError("this complaint's handler always fails")
        if event.correlation_id == hanging and not others_done.wait(20):
            raise RuntimeError("the other lanes were held up")

    worker = start(context, idempotent(context, misbehave))
    try:
        publisher.publish(fact(hanging, 1))
        publisher.publish(fact(failing, 1))
        for seq in range(1, expected_others + 1):
            publisher.publish(fact(others[0], seq))
        wait_for(
            lambda: context.database.effects.count_documents({"complaint_id": others[0]}) == expected_others,
            timeout=20,
            message="the healthy complaint handled while another lane hangs",
        )
        others_done.set()
        wait_for(lambda: context.database.effects.count_documents({"complaint_id": hanging}) == 1, timeout=20, message="the hung one")
        with Connection(context.settings.rabbitmq_url) as connection:
            parked = f"{QUEUE_OF.format(prefix=context.settings.queue_prefix)}.parked"

            def parked_count() -> int:
                return int(connection.channel().queue_declare(queue=parked, passive=True)[1])

            wait_for(lambda: parked_count() == 1, timeout=20, message="the failing one parked after its retries")
    finally:
        worker.stop(5)
    assert context.database.effects.count_documents({"complaint_id": failing}) == 0
    assert context.database.effects.count_documents({}) == expected_others + 1


def test_stop_with_messages_in_flight_acks_what_committed_and_gives_back_the_rest(context: ServiceContext, publisher: EventBus) -> None:
    total = 40
    worker = start(context, idempotent(context, lambda _event: time.sleep(0.1)))
    stopped = False
    try:
        for index in range(total):
            publisher.publish(fact(f"S{index}", 1))
        wait_for(lambda: context.database.effects.count_documents({}) >= LANES, timeout=20, message="handling under way")
        worker.stop(10)
        stopped = True
        handled_first = context.database.effects.count_documents({})
        assert 0 < handled_first < total
        # every committed message was acked before the connection closed; the rest went back to the queue
        wait_for(lambda: ready_in_queue(context.settings) == total - handled_first, timeout=10, message="the rest back in the queue")
    finally:
        if not stopped:
            worker.stop(5)
    second = start(context, idempotent(context))
    try:
        wait_for(lambda: context.database.effects.count_documents({}) == total, timeout=30, message="the rest handled")
    finally:
        second.stop(5)
    assert context.database.inbox.count_documents({}) == total
    assert len(context.database.effects.distinct("event_id")) == total


def test_sigterm_with_messages_in_flight_loses_nothing(context: ServiceContext, publisher: EventBus) -> None:
    settings = context.settings
    total = 30
    payload = {"settings": {**dataclasses.asdict(settings), "retry_delays": list(settings.retry_delays)}}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.shared.test_consumer_concurrency", json.dumps(payload)], cwd=ROOT, env=env, start_new_session=True
    )
    try:
        wait_for(lambda: process.poll() is None and _consumers(settings) > 0, timeout=30, message="worker process consuming")
        for index in range(total):
            publisher.publish(fact(f"T{index}", 1))
        wait_for(lambda: context.database.effects.count_documents({}) >= LANES, timeout=20, message="handling under way")
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    handled_first = context.database.effects.count_documents({})
    assert context.database.inbox.count_documents({}) == handled_first
    wait_for(lambda: ready_in_queue(settings) == total - handled_first, timeout=10, message="unhandled ones back in the queue")
    second = start(context, idempotent(context))
    try:
        wait_for(lambda: context.database.effects.count_documents({}) == total, timeout=30, message="the rest handled")
    finally:
        second.stop(5)
    assert len(context.database.effects.distinct("event_id")) == total


def _consumers(settings: Settings) -> int:
    with Connection(settings.rabbitmq_url) as connection:
        try:
            _, _, consumers = connection.channel().queue_declare(queue=QUEUE_OF.format(prefix=settings.queue_prefix), passive=True)
        except connection.channel_errors:
            return 0
        return int(consumers)


def _worker_process(raw: str) -> None:
    """Run a slow lanes consumer until SIGTERM (the SIGTERM test's worker process)."""
    config = json.loads(raw)
    settings = Settings(**{**config["settings"], "retry_delays": tuple(config["settings"]["retry_delays"])})
    context = ServiceContext.open(settings)
    context.ensure_indexes([])
    slow = idempotent(context, lambda _e: time.sleep(0.1))
    Worker(context=context, subscriptions=[Subscription(PURPOSE, ("directory.#",), slow)]).run_forever()


if __name__ == "__main__":
    _worker_process(sys.argv[1])
