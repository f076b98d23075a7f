"""A worker process serves its own event metrics when METRICS_PORT is set."""

from __future__ import annotations

from collections.abc import Callable

import requests

from infra.local.mongod import free_port
from propcare_shared.events.bus import EventBus, Subscription
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.http.app import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker


def test_worker_serves_consumed_event_metrics(make_settings: Callable[..., Settings]) -> None:
    port = free_port()
    settings = make_settings("metered", purposes=("estates",), metrics_port=port)
    context = ServiceContext.open(settings)
    handled: list[Event] = []
    worker = Worker(context=context, subscriptions=[Subscription("estates", ("directory.#",), handled.append)])
    worker.start()
    bus = EventBus(settings)
    try:
        wait_for(lambda: worker.ready, message="consumer ready")
        bus.publish(
            new_event(
                "directory.estate.upserted",
                producer="test",
                data={"estate_id": "E1", "name": "n", "code": "E1", "region_id": "R1", "group_id": "G1"},
            )
        )
        wait_for(lambda: handled, message="event handled")
        body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        bus.close()
        worker.stop()
        context.client.drop_database(settings.mongodb_database)
        context.close()
    assert 'events_consumed_total{outcome="ok",service="metered",type="directory.estate.upserted"}' in body
    assert 'event_lag_seconds_count{service="metered",type="directory.estate.upserted"}' in body
