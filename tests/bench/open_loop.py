"""Open-loop, end-to-end benchmark: complaints at a fixed arrival rate, whatever the server does.

A closed-loop client (wrk, or N threads each waiting for its answer) sends the next request only when
the previous one came back: when the server slows down, so does the load, and the slow requests that
should have been sent meanwhile are never measured (coordinated omission). Here the i-th complaint
is *due* at ``start + i / rate``; a scheduler thread hands it to a pool of ``connections`` sender
threads (one keep-alive ``requests`` session each) at that instant, and every latency is measured
from the due time, not from when a sender got to it. If every sender is busy, the complaint waits in
the pool's queue and that wait counts; the "send lag" figure tells when the generator itself was late.

Per rate it reports:
- POST latency p50/p95/p99 from the due time, and answers that were not 201;
- POST → assigned p50/p95/p99: from the due time to the ``at`` of the work order's ``assign`` timeline
  entry in dispatch's database (written in the same transaction as the order, with dispatch's clock:
  the same machine), so the figure does not depend on how often the benchmark looks;
- the depth (ready messages) of every consumer queue, sampled each second with a passive declare;
- zero loss: every 201's complaint has exactly one work order and exactly one ``classify`` entry.

No HTTP library with asyncio is pinned in requirements.lock, so the senders are threads; at 200/s the
generator costs about a tenth of a core, on the same two cores as the platform.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from kombu import Connection

from tests.bench.memory import cpu_by_service
from tests.bench.platform import BUILDINGS, FLOORS, UNITS, Platform

ROOT = Path(__file__).resolve().parents[2]
Row = tuple[str, str, str, str]
DEV_TEXTS = ROOT / "tests" / "dispatch" / "data" / "complaints_dev.jsonl"
DEPTH_EVERY = 5  # seconds between the depths shown in the table's series
NO_ANSWER = 0  # timeout, connection refused or reset
ABANDONED = -1  # not sent: no sender was free within the client timeout of its due time
STATUS_NAMES = {NO_ANSWER: "no answer", ABANDONED: "not sent within the timeout"}


@dataclass(frozen=True)
class Outcome:
    """One scheduled complaint: when it was due (wall clock), how late its sender started, when it was answered."""

    due: float
    lag: float
    latency: float  # infinite unless answered 201: a failure counts as slower than any answer
    status: int  # HTTP status, NO_ANSWER or ABANDONED
    complaint_id: str | None


@dataclass
class DepthSampler:
    """The ready messages of every consumer queue, once a second, until stopped."""

    platform: Platform
    series: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def run(self) -> None:
        started = time.monotonic()
        with Connection(self.platform.env["RABBITMQ_URL"]) as connection:
            while not self._stop.is_set():
                depths = self.platform.queue_depths(connection)
                self.series.append((time.monotonic() - started, {self.platform.short(q): ready for q, (ready, _) in depths.items()}))
                self._stop.wait(1.0)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="bench-depths", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


def complaint_texts() -> list[str]:
    """Real complaint texts (the classifier's development set), so dispatch classifies what residents write."""
    return [json.loads(line)["text"] for line in DEV_TEXTS.read_text(encoding="utf-8").splitlines() if line.strip()]


def complaint_body(chooser: random.Random, *, estate: str, text: str) -> dict[str, Any]:
    """A complaint taken by phone at the front desk from a random household of the estate's directory."""
    building, unit, floor = chooser.randint(1, BUILDINGS), chooser.randint(1, UNITS), chooser.randint(1, FLOORS)
    return {
        "estate_id": estate,
        "building": str(building),
        "unit": str(unit),
        "room": f"{floor}01",
        "reporter": {"name": "王女士", "phone": f"1380{building:02d}{unit:01d}{floor:04d}", "role": "owner"},
        "channel": "phone",
        "first_responder_id": "agent-1",
        "description": text,
        "demand": "尽快处理",
    }


class Generator:
    """Sends complaints at a fixed rate from a pool of sender threads, each with its own keep-alive session."""

    def __init__(self, platform: Platform, *, connections: int, timeout: float) -> None:
        self.url = platform.url("intake", "/api/v1/complaints")
        self.headers = {**platform.admin(), "Content-Type": "application/json"}
        self.estates = platform.estates
        self.texts = complaint_texts()
        self.connections = connections
        self.timeout = timeout
        self.local = threading.local()
        self.first_refusal: dict[int, str] = {}

    def session(self) -> requests.Session:
        session = getattr(self.local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
            session.mount("http://", adapter)
            self.local.session = session
        return session

    def send(self, body: bytes, *, due_perf: float, due_wall: float) -> Outcome:
        started = time.perf_counter()
        if started - due_perf > self.timeout:  # every sender was busy for longer than a client waits: it gives up
            return Outcome(due_wall, started - due_perf, math.inf, ABANDONED, None)
        try:
            answer = self.session().post(self.url, data=body, headers=self.headers, timeout=self.timeout)
            status = answer.status_code
            complaint_id = answer.json().get("id") if status == 201 else None
            if status != 201 and status not in self.first_refusal:
                self.first_refusal[status] = answer.text[:500]
                print(f"open loop: first {status} answer: {answer.text[:500]}", file=sys.stderr, flush=True)
        except (requests.RequestException, ValueError):
            status, complaint_id = NO_ANSWER, None
        latency = time.perf_counter() - due_perf
        return Outcome(due_wall, started - due_perf, latency if status == 201 else math.inf, status, complaint_id)

    def run(self, rate: float, seconds: float) -> list[Outcome]:
        """Send ``rate * seconds`` complaints, each at its due time; return every outcome once all are answered or timed out."""
        count = int(rate * seconds)
        chooser = random.Random(int(rate))
        bodies = [
            json.dumps(
                complaint_body(chooser, estate=chooser.choice(self.estates), text=self.texts[index % len(self.texts)]), ensure_ascii=False
            ).encode()
            for index in range(count)
        ]
        with ThreadPoolExecutor(max_workers=self.connections, thread_name_prefix="bench-sender") as pool:
            start_perf = time.perf_counter() + 0.2
            start_wall = time.time() + (start_perf - time.perf_counter())
            futures = []
            for index, body in enumerate(bodies):
                due_perf = start_perf + index / rate
                pause = due_perf - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                futures.append(pool.submit(self.send, body, due_perf=due_perf, due_wall=start_wall + index / rate))
            wait(futures)
        return [future.result() for future in futures]


def percentiles(values: Sequence[float], *, failed: str = "failed") -> str:
    """p50/p95/p99 in ms (or s above 10 s); a failed request is infinite, shown as ``failed``."""
    if not values:
        return "none"
    ordered = sorted(values)

    def at(share: float) -> str:
        value = ordered[min(len(ordered) - 1, int(len(ordered) * share))]
        if math.isinf(value):
            return failed
        return f"{value * 1000:,.0f} ms" if value < 10 else f"{value:,.1f} s"

    return f"p50 {at(0.50)}, p95 {at(0.95)}, p99 {at(0.99)}"


@dataclass
class Accounting:
    """What became of the 201s: found in dispatch's database, doubled, and when each was assigned."""

    answered: int
    distinct: int
    orders: int
    doubled: int
    assigned_at: dict[str, float]
    stored_in_intake: int


def chunks(items: Sequence[str], size: int = 5000) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def account(platform: Platform, outcomes: Sequence[Outcome], *, since: datetime) -> Accounting:
    """Read dispatch's and intake's databases for the complaints this run created."""
    ids = [outcome.complaint_id for outcome in outcomes if outcome.complaint_id]
    distinct = sorted(set(ids))
    dispatch = platform.database("dispatch")
    orders = 0
    doubled = 0
    assigned_at: dict[str, float] = {}
    for batch in chunks(distinct):
        orders += dispatch.work_orders.count_documents({"_id": {"$in": list(batch)}})
        classified = dispatch.timeline.aggregate(
            [
                {"$match": {"complaint_id": {"$in": list(batch)}, "action": "classify"}},
                {"$group": {"_id": "$complaint_id", "n": {"$sum": 1}}},
                {"$match": {"n": {"$gt": 1}}},
            ]
        )
        doubled += sum(1 for _ in classified)
        for row in dispatch.timeline.aggregate(
            [
                {"$match": {"complaint_id": {"$in": list(batch)}, "action": "assign"}},
                {"$group": {"_id": "$complaint_id", "at": {"$min": "$at"}}},
            ]
        ):
            assigned_at[row["_id"]] = row["at"].timestamp()
    stored = platform.database("intake").complaints.count_documents({"received_at": {"$gte": since}})
    return Accounting(len(ids), len(distinct), orders, doubled, assigned_at, stored)


def wait_assigned(platform: Platform, outcomes: Sequence[Outcome], *, timeout: float) -> tuple[float, bool]:
    """Wait until every 201's complaint has a work order and the pipeline is drained (or ``timeout``): seconds, drained."""
    ids = [outcome.complaint_id for outcome in outcomes if outcome.complaint_id]
    started = time.monotonic()
    dispatch = platform.database("dispatch")
    while time.monotonic() - started < timeout:
        found = sum(dispatch.work_orders.count_documents({"_id": {"$in": list(batch)}}) for batch in chunks(ids))
        if found >= len(set(ids)) and platform.drained():
            return time.monotonic() - started, True
        time.sleep(1.0)
    return time.monotonic() - started, False


def depth_rows(label: str, series: list[tuple[float, dict[str, int]]]) -> list[tuple[str, str, str, str]]:
    """The busiest queue's series every few seconds, and the other queues' maxima."""
    if not series:
        return []
    peaks: dict[str, int] = {}
    for _, depths in series:
        for queue, ready in depths.items():
            peaks[queue] = max(peaks.get(queue, 0), ready)
    busiest = max(peaks, key=lambda queue: (peaks[queue], queue == "dispatch.complaint-received"))
    if peaks[busiest] == 0:
        busiest = "dispatch.complaint-received" if "dispatch.complaint-received" in peaks else busiest
    points = [depths.get(busiest, 0) for at, depths in series if round(at) % DEPTH_EVERY == 0]
    others = ", ".join(f"{queue} {peak:,}" for queue, peak in sorted(peaks.items(), key=lambda item: -item[1]) if queue != busiest and peak)
    return [
        (
            f"{label}: depth of {busiest} (ready, sampled 1/s)",
            "queue depth over time",
            f"max {peaks[busiest]:,}",
            f"every {DEPTH_EVERY} s: " + " ".join(f"{point:,}" for point in points) + (f"; other queues' max: {others}" if others else ""),
        )
    ]


def loss_row(label: str, books: Accounting, *, drained: bool) -> tuple[str, str, str, str]:
    """Lost means a 201 without a work order once everything drained; before that it is only pending."""
    missing = books.distinct - books.orders
    doubled = books.doubled + books.answered - books.distinct
    verdict = f"lost {missing:,}" if drained else f"pending {missing:,} (not drained: counted again at the end)"
    return (
        f"{label}: zero loss",
        "every 201 → exactly one work order",
        f"201s {books.answered:,} (distinct {books.distinct:,}), orders {books.orders:,}, intake stored {books.stored_in_intake:,}",
        f"{verdict}, doubled {doubled:,}" + (" — LOSS" if (drained and missing) or doubled else ""),
    )


def failures(outcomes: Sequence[Outcome]) -> str:
    counts: dict[int, int] = {}
    for outcome in outcomes:
        if outcome.status != 201:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return ", ".join(f"{STATUS_NAMES.get(status, status)}: {n:,}" for status, n in sorted(counts.items())) or "none"


def run_rate(platform: Platform, generator: Generator, *, rate: float, seconds: float, drain: float) -> tuple[list[Row], list[Outcome]]:
    """One open-loop run at ``rate`` complaints/s for ``seconds``, drained (bounded), accounted."""
    label = f"open loop {rate:g}/s for {seconds:g} s"
    sampler = DepthSampler(platform)
    since = datetime.now().astimezone()
    mongod = {"mongod": int(platform.mongo.admin.command("serverStatus")["pid"])}
    cpu_before = cpu_by_service(platform.processes, mongod)
    sampler.start()
    started = time.monotonic()
    outcomes = generator.run(rate, seconds)
    sent_for = time.monotonic() - started
    drained_in, drained = wait_assigned(platform, outcomes, timeout=drain)
    sampler.stop()
    cpu_used = {name: seconds - cpu_before.get(name, 0.0) for name, seconds in cpu_by_service(platform.processes, mongod).items()}
    books = account(platform, outcomes, since=since)
    created = [outcome for outcome in outcomes if outcome.status == 201]
    lags = sorted(outcome.lag for outcome in outcomes)
    assigned = [books.assigned_at[o.complaint_id] - o.due if o.complaint_id in books.assigned_at else math.inf for o in created]
    after = f"drained {drained_in:,.0f} s after the last answer" if drained else f"NOT drained {drained_in:,.0f} s after the last answer"
    found = [
        (
            f"{label}: POST /api/v1/complaints (from due time)",
            f"offered {len(outcomes):,} at {rate:g}/s",
            f"{len(created):,} answered 201 in {sent_for:,.0f} s ({len(created) / sent_for:,.1f}/s); not 201: {failures(outcomes)}",
            f"{percentiles([o.latency for o in outcomes])}; send lag p99 {lags[int(len(lags) * 0.99) - 1] * 1000:,.0f} ms",
        ),
        (
            f"{label}: POST → assigned (from due time)",
            "target p95 < 1 s at 100/s",
            f"{len(books.assigned_at):,} of {len(created):,} assigned; {after}",
            percentiles(assigned, failed="not yet"),
        ),
        loss_row(label, books, drained=drained),
        *depth_rows(label, sampler.series),
        cpu_row(label, cpu_used, complaints=len(created)),
    ]
    return found, outcomes


def cpu_row(label: str, used: dict[str, float], *, complaints: int) -> Row:
    """CPU milliseconds per complaint by process group over the run and its drain, and the rate the cores could carry."""
    total = sum(used.values())
    per = {name: seconds * 1000 / max(complaints, 1) for name, seconds in sorted(used.items(), key=lambda item: -item[1])}
    cores = os.cpu_count() or 1
    ceiling = cores * 1000 / max(sum(per.values()), 0.001)
    return (
        f"{label}: CPU per complaint (run and drain)",
        f"all processes, {cores} cores",
        f"{sum(per.values()):,.0f} ms per complaint: at most ~{ceiling:,.0f} complaints/s on {cores} cores",
        ", ".join(f"{name} {ms:,.1f} ms" for name, ms in per.items()) + f" ({total:,.0f} CPU s)",
    )


def rows(platform: Platform) -> list[Row]:
    """The open-loop runs at ``BENCH_RATES`` (default 50,100,200) for ``BENCH_SECONDS`` (default 60) each, then a final count."""
    rates = [float(rate) for rate in os.environ.get("BENCH_RATES", "50,100,200").split(",") if rate.strip()]
    seconds = float(os.environ.get("BENCH_SECONDS", "60"))
    drain = float(os.environ.get("BENCH_DRAIN", "300"))
    generator = Generator(
        platform, connections=int(os.environ.get("BENCH_CONNECTIONS", "256")), timeout=float(os.environ.get("BENCH_TIMEOUT", "30"))
    )
    found: list[Row] = []
    everything: list[Outcome] = []
    since = datetime.now().astimezone()
    for rate in rates:
        measured, outcomes = run_rate(platform, generator, rate=rate, seconds=seconds, drain=drain)
        found.extend(measured)
        everything.extend(outcomes)
        print(*(" | ".join(row) for row in measured), sep="\n", file=sys.stderr, flush=True)
    final_drain = float(os.environ.get("BENCH_FINAL_DRAIN", "900"))
    drained_in, drained = wait_assigned(platform, everything, timeout=final_drain)
    found.append(
        loss_row(f"open loop, all runs, {drained_in:,.0f} s after the last", account(platform, everything, since=since), drained=drained)
    )
    found.append(
        (
            "open loop: shape of the load",
            "—",
            f"{len(platform.estates)} estates, uniform; senders {generator.connections}",
            f"client timeout {generator.timeout:g} s; texts of the classifier's development set",
        )
    )
    return found
