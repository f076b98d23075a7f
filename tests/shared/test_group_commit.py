"""Group commit (``CONSUMER_BATCH``): a lane's waiting messages handled in one transaction, against real MongoDB and RabbitMQ.

The batch function (``propcare_shared.handling``, ``UnitOfWork.run_many``) handles each event once,
in order, with all-or-nothing effects; a consumer with a backlog commits fewer transactions than
messages, keeps each complaint's ``seq`` order and, when one message of a batch fails, handles the
others one by one and parks only the failing one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kombu import Connection

from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.events.outbox import Transaction
from propcare_shared.handling import Handles, subscriptions
from propcare_shared.settings import Settings
from propcare_shared.testing import outbox_events, wait_for
from propcare_shared.worker import Worker

PURPOSE = "grouped"
POISON = "P-poison"


def fact(complaint_id: str, seq: int) -> Event:
    return new_event(
        "directory.estate.upserted",
        producer="test",
        data={"estate_id": "NS01", "name": f"南山花园 {seq}", "code": "NS01", "region_id": "R1", "group_id": "G1"},
        correlation_id=complaint_id,
        estate_id="NS01",
        seq=seq,
    )


def record(_context: ServiceContext, tx: Transaction, event: Event) -> int:
    """Append the event's seq to its complaint's list; fail for the poison complaint."""
    if event.correlation_id == POISON:
        raise RuntimeError("this complaint's handler always fails")
    tx.database.effects.update_one(
        {"_id": event.correlation_id}, {"$push": {"seqs": event.seq, "events": event.id}}, upsert=True, session=tx.session
    )
    return int(event.seq or 0)


def record_and_emit(context: ServiceContext, tx: Transaction, event: Event) -> int:
    """``record``, and emit one event caused by it."""
    tx.emit("directory.estate.upserted", data=event.data)
    return record(context, tx, event)


def committed_transactions(context: ServiceContext) -> int:
    return int(context.client.admin.command("serverStatus")["transactions"]["totalCommitted"])


@pytest.fixture
def context(make_settings: Callable[..., Settings], open_context: Callable[..., ServiceContext]) -> ServiceContext:
    settings = make_settings("group", purposes=(PURPOSE,), consumer_concurrency=2, consumer_batch=8, prefetch_count=64)
    return open_context(settings)


def test_a_batch_handles_each_event_once_in_order_and_commits_all_or_nothing(context: ServiceContext) -> None:
    afterwards: list[int] = []
    handles = Handles(PURPOSE, ("directory.#",), record_and_emit, after=lambda _c, _e, seq: afterwards.append(seq))
    [subscription] = subscriptions(context, [handles])
    assert subscription.batch is not None
    first, second, third = fact("C1", 1), fact("C1", 2), fact("C2", 1)

    assert subscription.batch([first, second, first, third]) == [True, True, False, True]
    assert context.database.effects.find_one({"_id": "C1"})["seqs"] == [1, 2]
    assert afterwards == [1, 2, 1], "after runs once per handled event, in order, once the batch committed"
    emitted = outbox_events(context.database)
    assert [event["causation_id"] for event in emitted] == [first.id, second.id, third.id]
    assert context.database.inbox.count_documents({"consumer": "group.grouped"}) == 3

    fourth = fact("C2", 2)
    assert subscription.batch([second, fourth]) == [False, True], "an event handled before is skipped, the new one handled"

    before = (context.database.inbox.count_documents({}), context.database.outbox.count_documents({}))
    with pytest.raises(RuntimeError):
        subscription.batch([fact("C3", 1), fact(POISON, 1), fact("C3", 2)])
    assert context.database.effects.find_one({"_id": "C3"}) is None, "one failing handler rolls back the whole batch"
    assert (context.database.inbox.count_documents({}), context.database.outbox.count_documents({})) == before


def parked(settings: Settings) -> int:
    with Connection(settings.rabbitmq_url) as connection:
        queue = f"{settings.queue_prefix}group.{PURPOSE}.parked"
        return int(connection.channel().queue_declare(queue=queue, passive=True)[1])


def test_a_backlog_is_committed_in_fewer_transactions_in_order_and_a_poisoned_message_is_parked_alone(
    context: ServiceContext, start_worker: Callable[[Worker], Worker]
) -> None:
    complaints, per_complaint = ["A", "B", "C"], 20
    [subscription] = subscriptions(context, [Handles(PURPOSE, ("directory.#",), record)])
    worker = Worker(context=context, subscriptions=[subscription])
    worker.start()  # declares the queue; stopped at once so that the backlog waits for the next start
    wait_for(lambda: worker.ready, timeout=15, message="queue declared")
    worker.stop(5)
    bus = EventBus(context.settings)
    try:
        for seq in range(1, per_complaint + 1):
            for complaint in complaints:
                bus.publish(fact(complaint, seq))
        bus.publish(fact(POISON, 1))
    finally:
        bus.close()
    committed_before = committed_transactions(context)

    start_worker(Worker(context=context, subscriptions=[subscription]))

    def all_handled() -> bool:
        return sum(len(doc["seqs"]) for doc in context.database.effects.find({})) == len(complaints) * per_complaint

    wait_for(all_handled, timeout=60, message="the backlog handled")
    wait_for(lambda: parked(context.settings) == 1, timeout=30, message="the poisoned message parked after its retries")
    committed = committed_transactions(context) - committed_before
    effects: dict[str, Any] = {doc["_id"]: doc for doc in context.database.effects.find({})}
    for complaint in complaints:
        assert effects[complaint]["seqs"] == list(range(1, per_complaint + 1)), "each complaint's events once, in seq order"
        assert len(set(effects[complaint]["events"])) == per_complaint
    assert POISON not in effects
    assert context.database.inbox.count_documents({}) == len(complaints) * per_complaint
    assert committed < len(complaints) * per_complaint / 2, f"{committed} transactions for {len(complaints) * per_complaint} messages"
