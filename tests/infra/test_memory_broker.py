"""The one-process mode's premise: services in one process, each with its own settings, all on
``memory://``, pass events to each other through the outbox, the relay and kombu's memory broker,
and a failed handler is retried by the consumer's timer (memory:// has no TTL or dead-lettering)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from propcare_shared.events.bus import Subscription
from propcare_shared.events.envelope import Event
from propcare_shared.http.app import ServiceContext
from propcare_shared.settings import MEMORY_BROKER_URL, Settings
from propcare_shared.testing import unique_name, wait_for
from propcare_shared.worker import Worker

ESTATE = {"estate_id": "NS01", "name": "南山花园", "code": "NS01", "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"}


@pytest.fixture
def open_service(mongodb_url: str, open_context: Callable[..., ServiceContext]) -> Callable[[str], ServiceContext]:
    """Open a service's context as the one-process runner does: memory broker, own database."""
    exchange = unique_name("local.events.")
    prefix = unique_name("t") + "."  # the memory broker's queues live as long as the test process

    def open_(service: str) -> ServiceContext:
        settings = Settings.from_env(service, {}).with_overrides(
            mongodb_url=mongodb_url,
            mongodb_database=unique_name(f"test_local_{service}_"),
            event_exchange=exchange,
            queue_prefix=prefix,
            retry_delays=(0.2, 0.4),
            max_attempts=3,
            outbox_poll_interval=0.2,
        )
        assert settings.rabbitmq_url == MEMORY_BROKER_URL
        return open_context(settings)

    return open_


def _recorder(context: ServiceContext, seen: list[Event], *, fail_times: int = 0) -> Callable[[Event], None]:
    attempts = {"n": 0}

    def handle(event: Event) -> None:
        attempts["n"] += 1
        if attempts["n"] <= fail_times:
            raise RuntimeError("not yet")

        def work(tx) -> None:  # type: ignore[no-untyped-def]
            tx.database.estates.insert_one({"_id": event.data["estate_id"]}, session=tx.session)

        context.uow.run(work, handled_event=event, consumer=f"{context.settings.service}.directory")
        seen.append(event)

    return handle


def test_an_event_emitted_by_one_service_reaches_the_others_in_the_same_process(
    open_service: Callable[..., ServiceContext], start_worker: Callable[[Worker], Worker]
) -> None:
    producer = open_service("intake")
    dispatch, survey = open_service("dispatch"), open_service("survey")
    seen_by_dispatch: list[Event] = []
    seen_by_survey: list[Event] = []
    workers = [
        Worker(context=producer, subscriptions=[]),
        Worker(context=dispatch, subscriptions=[Subscription("directory", ("directory.#",), _recorder(dispatch, seen_by_dispatch))]),
        Worker(
            context=survey,
            subscriptions=[Subscription("directory", ("directory.estate.*",), _recorder(survey, seen_by_survey, fail_times=1))],
        ),
    ]
    for worker in workers:
        start_worker(worker)

    emitted = producer.uow.run(
        lambda tx: tx.emit("directory.estate.upserted", data=ESTATE, correlation_id="NS01", group_id="G1", region_id="R1", estate_id="NS01")
    )

    wait_for(lambda: seen_by_dispatch and seen_by_survey, timeout=10, message="the estate in dispatch and survey")
    assert [event.id for event in seen_by_dispatch] == [emitted.id]
    assert [event.id for event in seen_by_survey] == [emitted.id], "survey's first attempt failed and the timer retried it once"
    assert dispatch.database.estates.count_documents({}) == 1 and survey.database.estates.count_documents({}) == 1
