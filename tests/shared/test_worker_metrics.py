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


def test_a_taken_metrics_port_stops_the_worker_at_start_with_a_clear_message(make_settings: Callable[..., Settings]) -> None:
    import socket

    import pytest

    from propcare_shared.worker import MetricsPortInUse

    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = make_settings("metered", purposes=("estates",), metrics_port=port)
        context = ServiceContext.open(settings)
        worker = Worker(context=context, subscriptions=[])
        try:
            with pytest.raises(MetricsPortInUse, match=f"METRICS_PORT {port} is already in use"):
                worker.start()
            assert not worker._threads  # nothing started behind the error
        finally:
            context.close()


def test_a_scrape_during_a_mongodb_outage_answers_fast_with_dependency_up_0() -> None:
    import time

    from prometheus_client import CollectorRegistry, generate_latest
    from pymongo import MongoClient

    from propcare_shared.metrics import ScrapeGauges, ServiceGauges

    dead = MongoClient(f"mongodb://127.0.0.1:{free_port()}/", serverSelectionTimeoutMS=30000, connect=False)
    read: list[str] = []

    class Counted:
        def read(self) -> list[tuple[str, str, tuple[dict[str, str], float]]]:
            read.append("read")
            return [("anything", "x", ({"service": "metered"}, 1.0))]

    collector = ScrapeGauges()
    collector.add(ServiceGauges(service="metered", database=dead["x"], leader=lambda: True, sources=[Counted()], timeout=0.5))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)  # type: ignore[arg-type]
    started = time.perf_counter()
    body = generate_latest(registry).decode()
    elapsed = time.perf_counter() - started
    dead.close()
    assert 'dependency_up{dependency="mongodb",service="metered"} 0.0' in body
    assert 'gauge_leader{service="metered"} 0.0' in body
    assert read == [] and "anything" not in body
    assert elapsed < 5, f"a scrape waited {elapsed:.1f} s for a dead MongoDB"
