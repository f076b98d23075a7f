"""Dispatch's worker draining ``complaint.received``: complaints per second and where the time goes.

``rows()`` (called by ``tests/bench/__main__.py``; run alone with ``.venv/bin/python -m tests.bench.dispatch_worker``):

1. baseline: the raw broker consume rate (kombu, manual ack per message, the same prefetch) of the
   same messages from a queue of their own;
2. for each ``CONSUMER_CONCURRENCY`` in ``BENCH_DISPATCH_CONCURRENCY`` (default ``1,2,4,8``): N
   ``complaint.received`` events (``BENCH_DISPATCH_COUNT``, else ``BENCH_COUNT``, else 500; texts of
   the classifier's development set, rooms spread over 20 buildings) are published into dispatch's
   queue on a fresh database holding one seeded estate with 24 staff, then dispatch's consumer
   (the kernel's worker with the ``complaint-received`` handler and its outbox relay, nothing else)
   is started and timed until every message was acked: complaints/s drained, and every complaint
   has its work order (zero loss is checked, not assumed);
3. per stage, p50 and p99 per message at concurrency 1 (what one message costs) and at the
   setting's default: the kernel's stages (``propcare_shared.events.stages``: decode, inbox,
   outbox, statements, transaction, handle, ack; ``commit`` is transaction minus statements) and
   dispatch's, timed here by wrapping its functions (classification, the repeat counts, the estate,
   staff, grids, open counts and policy reads, the decision, the order and timeline inserts).

Everything runs on a private ``mongod`` (``MongodProcess``) and the local RabbitMQ with an exchange,
queues and databases no one else uses; all are deleted afterwards.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kombu import Connection, Consumer, Producer, Queue

from dispatch.config import DispatchConfig
from dispatch.handlers import HANDLERS
from dispatch.store import INDEXES, DispatchStore
from infra.local.mongod import MongodProcess
from propcare_shared.clock import utcnow
from propcare_shared.context import ServiceContext
from propcare_shared.events import stages
from propcare_shared.events.bus import EventBus
from propcare_shared.handling import subscriptions
from propcare_shared.settings import DEFAULT_RABBITMQ_URL, Settings
from propcare_shared.testing import delete_topology, unique_name, wait_for
from propcare_shared.worker import Worker
from tests.bench import print_table
from tests.dispatch.factories import received_event

Row = tuple[str, str, str, str]
ROOT = Path(__file__).resolve().parents[2]
PURPOSE = "complaint-received"
DEPARTMENTS = {"engineering": 8, "customer_service": 4, "security": 4, "finance": 2, "environment": 4, "management": 2}
SHOWN_STAGES = (
    "decode",
    "inbox",
    "find order",
    "classify",
    "repeat counts",
    "estate",
    "staff",
    "grids",
    "open counts",
    "policy",
    "directory + policy (cache)",
    "decide",
    "insert order + timeline",
    "emit events",
    "outbox",
    "statements",
    "commit",
    "transaction",
    "handle",
    "ack",
)
WRAPPED = {
    # stage: (module or class path, attribute)
    "classify": ("dispatch.work_orders", "classify"),
    "decide": ("dispatch.work_orders", "open_work_order"),
    "find order": ("dispatch.store.work_orders:WorkOrderStore", "work_order"),
    "repeat counts": ("dispatch.store.work_orders:WorkOrderStore", "count_recent"),
    "open counts": ("dispatch.store.work_orders:WorkOrderStore", "open_counts"),
    "insert order + timeline": ("dispatch.store.work_orders:WorkOrderStore", "insert_work_order"),
    "insert order + timeline ": ("dispatch.store.work_orders:WorkOrderStore", "append_timeline"),
    "estate": ("dispatch.store.directory:DirectoryStore", "estate"),
    "staff": ("dispatch.store.directory:DirectoryStore", "staff_members"),
    "grids": ("dispatch.store.directory:DirectoryStore", "grid_values"),
    "policy": ("dispatch.store.policies:PolicyStore", "policy_and_calendar_for"),
    "emit events": ("propcare_shared.events.outbox:Transaction", "emit"),
    # Since the routing cache and the one repeat aggregate (both shown when present, so older code can be measured too).
    "repeat counts ": ("dispatch.store.work_orders:WorkOrderStore", "count_repeats"),
    "insert order + timeline  ": ("dispatch.store.work_orders:WorkOrderStore", "insert_work_order_if_absent"),
    "directory + policy (cache)": ("dispatch.store.directory:DirectoryStore", "cached_estate"),
    "directory + policy (cache) ": ("dispatch.store.directory:DirectoryStore", "cached_staff_members"),
    "directory + policy (cache)  ": ("dispatch.store.directory:DirectoryStore", "cached_grid_values"),
    "directory + policy (cache)   ": ("dispatch.store.policies:PolicyStore", "cached_policy_and_calendar_for"),
}


def _target(path: str) -> Any:
    import importlib

    module, _, cls = path.partition(":")
    found = importlib.import_module(module)
    return getattr(found, cls) if cls else found


@contextmanager
def dispatch_stages() -> Iterator[None]:
    """Wrap dispatch's classification, reads and writes in stage timers for the run, then restore them."""
    restored: list[tuple[Any, str, Any]] = []
    try:
        for name, (path, attribute) in WRAPPED.items():
            owner = _target(path)
            original = getattr(owner, attribute, None)
            if original is None:
                continue  # renamed since: that stage is simply not shown
            restored.append((owner, attribute, original))
            setattr(owner, attribute, stages.timed(name.strip(), original))
        yield
    finally:
        for owner, attribute, original in reversed(restored):
            setattr(owner, attribute, original)


def classify_once() -> None:
    """Load the classifier and its tokenizer before timing, as dispatch's worker does at start."""
    from dispatch.worker import warm_classifier

    warm_classifier()


def texts() -> list[str]:
    """Return the classifier's development texts (real complaints of every category)."""
    data = ROOT / "tests" / "dispatch" / "data" / "complaints_dev.jsonl"
    return [json.loads(line)["text"] for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]


def complaints(count: int, *, seed: int = 16) -> list[dict[str, Any]]:
    """Return ``count`` complaint.received messages of estate NS01, rooms spread over 20 buildings, received now."""
    rng = random.Random(seed)
    pool = texts()
    now = utcnow()
    messages = []
    for _ in range(count):
        building = str(rng.randint(1, 20))
        room = f"{rng.randint(1, 30)}{rng.randint(1, 4):02d}"
        event = received_event(text=rng.choice(pool), building=building, unit="1", room=room, received_at=now)
        messages.append(event.to_message())
    return messages


def seed_estate(context: ServiceContext) -> None:
    """Give dispatch's database estate NS01 (region R1 of G1) and its staff, as the directory events would."""
    store = DispatchStore(context.database, clock=context.clock)
    values = {"group_id": "G1", "region_id": "R1", "code": "NS01", "name": "estate NS01", "timezone": "Asia/Shanghai"}
    store.directory.estates.keep(estate_id="NS01", values=values, as_of=context.clock())
    estate = store.directory.estate("NS01")
    assert estate is not None
    for department, size in DEPARTMENTS.items():
        for index in range(size):
            role = "supervisor" if index == 0 else "handler"
            store.directory.put_staff(
                estate=estate,
                staff_id=f"{department}-{index}",
                values={"name": "staff", "department": department, "role": role, "grids": [], "on_duty": True},
            )


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of ``values`` (seconds)."""
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * share + 0.5) - 1, 0)] if ordered else 0.0


def raw_consume_rate(url: str, messages: list[dict[str, Any]], *, prefetch: int) -> Row:
    """Publish the messages to a queue of their own, then consume and ack them one by one with kombu."""
    name = unique_name("bench.raw-consume.")
    with Connection(url, transport_options={"confirm_publish": True}) as connection:
        queue = Queue(name, durable=True)
        queue(connection.default_channel).declare()
        producer = Producer(connection.channel())
        for body in messages:
            producer.publish(body, routing_key=name, serializer="json", delivery_mode=2)
        seen = 0

        def on_message(_body: Any, message: Any) -> None:
            nonlocal seen
            message.ack()
            seen += 1

        channel = connection.channel()
        started = time.perf_counter()
        with Consumer(channel, queues=[queue], callbacks=[on_message], accept=["json"], prefetch_count=prefetch):
            while seen < len(messages):
                connection.drain_events(timeout=10)
        elapsed = time.perf_counter() - started
        queue(connection.default_channel).delete()
    rate = f"{len(messages) / elapsed:,.0f} msgs/s"
    return ("raw broker consume + ack (kombu, one thread)", "baseline", rate, f"{len(messages)} messages in {elapsed:.2f} s")


class Run:
    """One drain of the queue by dispatch's consumer at one concurrency."""

    def __init__(self, settings: Settings, messages: list[dict[str, Any]]) -> None:
        self.settings = settings
        self.messages = messages
        self.times: list[dict[str, float]] = []
        self.acked: list[float] = []
        self._lock = threading.Lock()

    def observe(self, event_type: str, times: dict[str, float]) -> None:
        if event_type != "complaint.received":
            return
        with self._lock:
            self.times.append(times)
            self.acked.append(time.perf_counter())

    def drain(self) -> tuple[float, float, float]:
        """Fill the queue, start the consumer, wait for every ack; return (complaints/s, seconds, CPU seconds of this process)."""
        context = ServiceContext.open(self.settings, config=DispatchConfig())
        context.ensure_indexes(INDEXES)
        seed_estate(context)
        bus = EventBus(self.settings)
        topology = bus.topology
        for body in self.messages:  # straight into dispatch's queue, as the relay of intake would put them
            bus.publish_raw(body, exchange=topology.events, routing_key="complaint.received", message_id=body["id"], mandatory=True)
        bus.close()
        [handles] = [handles for handles in HANDLERS if handles.purpose == PURPOSE]
        worker = Worker(context=context, subscriptions=subscriptions(context, [handles]))
        stop_observing = stages.observe(self.observe)
        try:
            worker.start()
            wait_for(lambda: worker.ready, timeout=20, message="dispatch consumer ready")
            started, cpu = time.perf_counter(), time.process_time()
            wait_for(lambda: len(self.acked) >= len(self.messages), timeout=1800, interval=0.01, message="queue drained")
            elapsed, cpu = max(self.acked) - started, time.process_time() - cpu
        finally:
            stop_observing()
            worker.stop(10)
        made = context.database.work_orders.count_documents({})
        if made != len(self.messages):
            raise RuntimeError(f"{len(self.messages)} complaints published, {made} work orders made")
        context.client.drop_database(self.settings.mongodb_database)
        context.close()
        delete_topology(self.settings, [PURPOSE])
        return len(self.messages) / elapsed, elapsed, cpu

    def stage_rows(self, label: str) -> list[Row]:
        """Return one row per stage: p50 and p99 per message, and its share of the handler's p50."""
        series: dict[str, list[float]] = {}
        for times in self.times:
            derived = dict(times)
            if "transaction" in times and "statements" in times:
                derived["commit"] = times["transaction"] - times["statements"]
            for name, seconds in derived.items():
                series.setdefault(name, []).append(seconds)
        handle = statistics.median(series.get("handle", [0.0])) or 1.0
        rows: list[Row] = []
        for name in SHOWN_STAGES:
            values = series.get(name)
            if not values:
                continue
            p50, p99 = statistics.median(values), percentile(values, 0.99)
            rows.append(
                (
                    f"dispatch worker stage: {name} ({label})",
                    "share of handle p50",
                    f"{p50 / handle:.0%}",
                    f"p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms",
                )
            )
        return rows


def concurrencies() -> list[int]:
    """Return the concurrencies to measure (``BENCH_DISPATCH_CONCURRENCY``, e.g. ``1,4``)."""
    raw = os.environ.get("BENCH_DISPATCH_CONCURRENCY", "1,2,4,8")
    return [int(part) for part in raw.split(",") if part.strip()]


def rows() -> list[Row]:
    """Measure dispatch's worker against the raw consume rate; return rows of tests/bench/__main__.py's table."""
    count = int(os.environ.get("BENCH_DISPATCH_COUNT") or os.environ.get("BENCH_COUNT") or "500")
    url = os.environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL)
    default = Settings(service="dispatch").consumer_concurrency
    messages = complaints(count)
    classify_once()
    result: list[Row] = []
    stage_runs: list[tuple[str, Run]] = []
    with MongodProcess() as mongod, dispatch_stages():
        base = Settings(service="dispatch", mongodb_url=mongod.url, rabbitmq_url=url)
        result.append(raw_consume_rate(url, messages, prefetch=base.prefetch_count))
        for concurrency in concurrencies():
            settings = base.with_overrides(
                mongodb_database=unique_name("bench_dispatch_"),
                event_exchange=unique_name("bench.events."),
                queue_prefix=unique_name("bench") + ".",
                consumer_concurrency=concurrency,
            )
            run = Run(settings, messages)
            rate, elapsed, cpu = run.drain()
            marker = " (default)" if concurrency == default else ""
            result.append(
                (
                    f"dispatch worker drains complaint.received, CONSUMER_CONCURRENCY={concurrency}{marker}",
                    "vs raw broker consume",
                    f"{rate:,.1f} complaints/s",
                    f"{count} in {elapsed:.2f} s, all with a work order; worker CPU {cpu / count * 1000:.1f} ms per complaint",
                )
            )
            if concurrency in (1, default):
                stage_runs.append((f"concurrency {concurrency}", run))
    for label, run in stage_runs:
        result.extend(run.stage_rows(label))
    return result


def main() -> int:
    """Print the rows as tests/bench/__main__.py's Markdown table."""
    started = time.strftime("%Y-%m-%d %H:%M")
    table = rows()
    print_table(f"Dispatch worker benchmark — {started} — {os.cpu_count()} cores", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
