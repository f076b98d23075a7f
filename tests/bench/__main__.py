"""Benchmarks (``make bench``): each figure beside its baseline, measured in the same run.

- publish: raw kombu publish (no confirm) and raw confirmed publish vs ``EventBus.publish``;
- write: raw MongoDB insert vs a unit of work (transaction + outbox row) vs the same with an inbox marker;
- relay: events per second from outbox to a consumer's handler, end to end on the real broker;
- HTTP: a no-op Flask endpoint vs ``POST /api/v1/complaints`` and ``POST /api/v1/classify`` (test client, one process);
- classifier: texts per second over the development set, and peak memory (tracemalloc); its latency per
  text against the 5 ms p99 budget without tracemalloc (``tests/bench/classifier.py``);
- memory: resident set size of this process after the runs;
- the rows of the other benchmark modules, when present: ``tests/bench/escalation_scan.py``,
  ``tests/bench/dispatch_worker.py``, ``tests/bench/analytics_scale.py`` (each a ``rows()`` function);
- distributed (the five services as gunicorn web + consumer worker processes, ``tests/bench/platform.py``):
  the open-loop end-to-end runs (``tests/bench/open_loop.py``), the closed-loop wrk comparison with a
  no-op (``tests/bench/wrk_compare.py``) and the resident set size of every process meanwhile
  (``tests/bench/memory.py``).

``BENCH_ONLY`` picks parts by name (comma-separated, default all): publish, write, relay, http,
classifier, escalation_scan, dispatch_worker, analytics_scale, open_loop, wrk, memory. For example
``BENCH_ONLY=open_loop,memory BENCH_RATES=100 BENCH_SECONDS=10 make bench`` is a quick end-to-end run.

Prints one Markdown table; docs/PERFORMANCE.md holds the figures of a run and the machine they came from.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import statistics
import sys
import time
import traceback
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from kombu import Connection, Exchange, Producer, Queue

from infra.local.mongod import MongodProcess
from propcare_shared.events.bus import EventBus, Subscription
from propcare_shared.events.envelope import new_event
from propcare_shared.http.app import ServiceContext, create_service_app
from propcare_shared.settings import DEFAULT_RABBITMQ_URL, Settings
from propcare_shared.testing import bearer, delete_topology, unique_name, wait_for
from propcare_shared.worker import Worker
from tests.bench import Row, print_table
from tests.bench.classifier import classifier_latency

ROOT = Path(__file__).resolve().parents[2]
ROWS: list[tuple[str, str, str, str]] = []
IN_PROCESS = ("publish", "write", "relay", "http", "classifier")
MODULES = ("escalation_scan", "dispatch_worker", "analytics_scale")  # other modules' rows(), each when the file exists
DISTRIBUTED = ("open_loop", "wrk", "memory")
PARTS = (*IN_PROCESS, *MODULES, *DISTRIBUTED)


def timed(label: str, baseline: str, count: int, action: Callable[[int], object], *, unit: str = "ops/s") -> float:
    """Run ``action`` ``count`` times and record ops per second and p50/p99 latency."""
    latencies = []
    started = time.perf_counter()
    for index in range(count):
        one = time.perf_counter()
        action(index)
        latencies.append(time.perf_counter() - one)
    elapsed = time.perf_counter() - started
    rate = count / elapsed
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    ROWS.append((label, baseline, f"{rate:,.0f} {unit}", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"))
    return rate


def event(index: int):
    return new_event(
        "directory.estate.upserted",
        producer="bench",
        data={"estate_id": f"E{index}", "name": "南山花园", "code": "NS01", "region_id": "R1", "group_id": "G1"},
        estate_id="NS01",
    )


def bench_publish(settings: Settings, count: int) -> None:
    bus = EventBus(settings)
    with (
        Connection(settings.rabbitmq_url) as plain,
        Connection(settings.rabbitmq_url, transport_options={"confirm_publish": True}) as confirmed,
    ):
        exchange = Exchange(settings.event_exchange, type="topic", durable=True)
        sink = Queue(f"{settings.queue_prefix}bench.sink", exchange=exchange, routing_key="#", durable=False, auto_delete=False)
        sink(plain.default_channel).declare()
        raw = Producer(plain.channel(), exchange=exchange)
        raw_confirmed = Producer(confirmed.channel(), exchange=exchange)
        body = event(0).to_message()
        timed(
            "raw kombu publish, no confirm",
            "baseline",
            count,
            lambda i: raw.publish(body, routing_key="directory.estate.upserted", serializer="json", delivery_mode=2),
        )
        timed(
            "raw kombu publish, confirmed",
            "baseline",
            count,
            lambda i: raw_confirmed.publish(body, routing_key="directory.estate.upserted", serializer="json", delivery_mode=2),
        )
        events = [event(i) for i in range(count)]
        timed("EventBus.publish (validated envelope, confirmed)", "vs raw confirmed", count, lambda i: bus.publish(events[i]))
        sink(plain.default_channel).delete()
    bus.close()


def bench_writes(settings: Settings, count: int) -> None:
    context = ServiceContext.open(settings)
    context.ensure_indexes([])
    database = context.database
    timed("raw MongoDB insert_one (w=majority)", "baseline", count, lambda i: database.raw.insert_one({"i": i, "name": "x"}))

    def unit_of_work(i: int) -> None:
        def work(tx):  # type: ignore[no-untyped-def]
            database.things.insert_one({"i": i}, session=tx.session)
            tx.emit("directory.estate.upserted", data={"estate_id": f"E{i}", "name": "n", "code": "c", "region_id": "R1", "group_id": "G1"})

        context.uow.run(work)

    timed("unit of work: insert + outbox row, one transaction", "vs raw insert", count, unit_of_work)
    events = [event(i) for i in range(count)]

    def handled(i: int) -> None:
        context.uow.run(lambda tx: database.handled.insert_one({"i": i}, session=tx.session), handled_event=events[i], consumer="bench")

    timed("idempotent handler write: inbox marker + insert", "vs raw insert", count, handled)
    context.client.drop_database(settings.mongodb_database)
    context.close()


def bench_relay(settings: Settings, count: int) -> None:
    context = ServiceContext.open(settings)
    context.ensure_indexes([])
    seen: list[float] = []
    worker = Worker(context=context, subscriptions=[Subscription("bench", ("directory.#",), lambda e: seen.append(time.perf_counter()))])
    worker.start()
    wait_for(lambda: worker.ready, timeout=20, message="bench consumer")
    docs = [
        {"_id": e.id, "event": e.to_document(), "created_at": e.occurred_at, "position": i, "published_at": None}
        for i, e in enumerate(event(i) for i in range(count))
    ]
    started = time.perf_counter()
    context.database.outbox.insert_many(docs)
    worker.relay.wake()
    wait_for(lambda: len(seen) >= count, timeout=120, message="relayed")
    elapsed = max(seen) - started
    ROWS.append(
        (
            "outbox → relay → broker → consumer handler",
            "vs raw confirmed publish",
            f"{count / elapsed:,.0f} events/s",
            f"{count} events in {elapsed:.2f} s",
        )
    )
    worker.stop()
    delete_topology(settings, ["bench"])
    context.client.drop_database(settings.mongodb_database)
    context.close()


def bench_http(settings_for: Callable[[str], Settings], count: int) -> None:
    noop_context = ServiceContext.open(settings_for("noop"))
    noop_app, _ = create_service_app(noop_context, title="noop")
    noop_app.add_url_rule("/noop", "noop", lambda: {"ok": True})
    noop = noop_app.test_client()
    timed("no-op Flask endpoint (kernel hooks on)", "baseline", count, lambda i: noop.get("/noop"))
    noop_context.close()
    try:
        from intake.app import create_app as create_intake
    except ImportError:
        ROWS.append(("POST /api/v1/complaints", "vs no-op", "not measured", "intake not importable"))
    else:
        settings = settings_for("intake")
        context = ServiceContext.open(settings)
        client = create_intake(context).test_client()
        admin = bearer(settings, role="group_admin", group_id="G1")
        client.put(
            "/api/v1/estates/NS01",
            json={"name": "南山花园", "code": "NS01", "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"},
            headers=admin,
        )
        body = {
            "estate_id": "NS01",
            "building": "3",
            "unit": "2",
            "room": "1502",
            "reporter": {"name": "王女士", "phone": "13800138000", "role": "owner"},
            "channel": "front_desk",
            "first_responder_id": "agent-1",
            "description": "3号楼电梯困人",
            "demand": "尽快处理",
        }

        def post_complaint(i: int) -> None:
            response = client.post("/api/v1/complaints", json=body, headers=admin)
            if response.status_code != 201:
                raise RuntimeError(f"POST /api/v1/complaints answered {response.status_code}: {response.get_json()}")

        timed("POST /api/v1/complaints (validate, ticket no., transaction + outbox)", "vs no-op", count, post_complaint)
        context.client.drop_database(settings.mongodb_database)
        context.close()
    try:
        from dispatch.app import create_app as create_dispatch
    except ImportError:
        ROWS.append(("POST /api/v1/classify", "vs no-op", "not measured", "dispatch not importable"))
    else:
        settings = settings_for("dispatch")
        context = ServiceContext.open(settings)
        client = create_dispatch(context).test_client()
        admin = bearer(settings, role="group_admin", group_id="G1")
        timed(
            "POST /api/v1/classify",
            "vs no-op",
            count,
            lambda i: client.post("/api/v1/classify", json={"text": "楼上装修电钻声太吵了，持续一个月了"}, headers=admin),
        )
        context.client.drop_database(settings.mongodb_database)
        context.close()


def bench_classifier(rounds: int) -> None:
    try:
        from dispatch.domain.classify import classify
    except ImportError:
        ROWS.append(("classify()", "—", "not measured", "classifier not importable"))
        return
    data = Path(os.environ.get("PROPCARE_DEV_DATA", ROOT / "tests" / "dispatch" / "data" / "complaints_dev.jsonl"))
    texts = [json.loads(line)["text"] for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    classify(texts[0])
    tracemalloc.start()
    timed("classify() over the development set", "—", rounds * len(texts), lambda i: classify(texts[i % len(texts)]), unit="texts/s")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ROWS.append(("classify() peak traced memory", "—", f"{peak / 1024:,.0f} KiB", f"{rounds * len(texts)} texts"))


def selected_parts() -> set[str]:
    """The parts ``BENCH_ONLY`` names (default: all); an unknown name stops the run rather than measuring nothing."""
    raw = os.environ.get("BENCH_ONLY", "")
    chosen = {part.strip() for part in raw.split(",") if part.strip()} or set(PARTS)
    unknown = chosen - set(PARTS)
    if unknown:
        raise SystemExit(f"BENCH_ONLY: unknown part(s) {sorted(unknown)}; known: {', '.join(PARTS)}")
    return chosen


def guarded(name: str, produce: Callable[[], list[Row]]) -> list[Row]:
    """Rows of one part; a part that fails gives a row saying so, and the table is still printed."""
    try:
        return produce()
    except Exception as exc:  # noqa: BLE001 — one broken benchmark must not hide the others' figures
        traceback.print_exc(file=sys.stderr)
        return [(name, "—", "failed", f"{type(exc).__name__}: {str(exc)[:200]}")]


def module_rows(name: str) -> list[Row]:
    """``tests.bench.<name>.rows()`` if that module exists; nothing if it does not (yet)."""
    if not (ROOT / "tests" / "bench" / f"{name}.py").exists():
        return []
    module = importlib.import_module(f"tests.bench.{name}")
    return list(module.rows())


def distributed_rows(mongod: MongodProcess, url: str, parts: set[str]) -> list[Row]:
    """Start the platform once; run the open-loop and wrk parts on it while sampling every process's memory."""
    from tests.bench import open_loop, wrk_compare
    from tests.bench.memory import MemorySampler
    from tests.bench.platform import running_platform

    found: list[Row] = []
    with running_platform(mongod, url, estates=int(os.environ.get("BENCH_ESTATES", "10"))) as platform:
        sampler = MemorySampler(platform.processes)
        sampler.start()
        try:
            if "open_loop" in parts:
                found.extend(guarded("open loop", lambda: open_loop.rows(platform)))
            if "wrk" in parts:
                found.extend(guarded("wrk comparison", lambda: wrk_compare.rows(platform)))
        finally:
            sampler.stop()
        if "memory" in parts:
            found.extend(sampler.rows())
    return found


def main() -> int:
    parts = selected_parts()
    count = int(os.environ.get("BENCH_COUNT", "500"))
    url = os.environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL)
    with MongodProcess() as mongod:
        prefix = unique_name("bench") + "."
        exchange = unique_name("bench.events.")

        def settings_for(service: str) -> Settings:
            return Settings(
                service=service,
                mongodb_url=mongod.url,
                mongodb_database=unique_name(f"bench_{service}_"),
                rabbitmq_url=url,
                event_exchange=exchange,
                queue_prefix=prefix,
                jwt_secret="bench-secret-for-propcare-benchmarks-0123",
            )

        if "publish" in parts:
            bench_publish(settings_for("bench"), count)
        if "write" in parts:
            bench_writes(settings_for("bench"), count)
        if "relay" in parts:
            bench_relay(settings_for("bench"), count * 4)
        if "http" in parts:
            bench_http(settings_for, count)
        if "classifier" in parts:
            bench_classifier(rounds=20)
            ROWS.append(classifier_latency(rounds=10))
        if parts & set(DISTRIBUTED):
            ROWS.extend(distributed_rows(mongod, url, parts))
    for name in MODULES:
        if name in parts:
            ROWS.extend(guarded(name, lambda name=name: module_rows(name)))  # type: ignore[misc]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ROWS.append(("benchmark process peak RSS", "—", f"{rss_mb:,.0f} MiB", ""))
    names = ", ".join(part for part in PARTS if part in parts)
    print_table(f"Propcare benchmarks — {time.strftime('%Y-%m-%d %H:%M')} — {os.cpu_count()} cores, N={count}, parts: {names}", ROWS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
