"""A service's consumer process: its event consumer, its outbox relay and any periodic loops.

On SIGTERM or SIGINT it stops taking messages, lets the messages in hand finish and be acked (one
per lane with ``CONSUMER_CONCURRENCY`` lanes), then publishes what the outbox holds, and exits.
Messages prefetched but not yet started go back to the queue when the connection closes.

Metrics: with ``METRICS_PORT`` set the worker serves ``/metrics`` on that port (its own registry),
and says so at start, in one line, when the port is taken. It adds its scrape-time gauges to
``propcare_shared.metrics.SCRAPE_GAUGES``: whether it reaches MongoDB and the broker, and, while its
outbox relay holds the service's relay lease (one replica at a time), its queues' depth, parked
messages, the outbox backlog and the service's own gauges (``gauges`` sources, e.g. dispatch's
open complaints).
"""

from __future__ import annotations

import errno
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from kombu import Connection
from pymongo import ASCENDING
from pymongo.database import Database

from propcare_shared.clock import Clock
from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus, EventConsumer, Subscription, Topology
from propcare_shared.events.outbox import LEASES, OUTBOX, OutboxRelay
from propcare_shared.logs import configure_logging
from propcare_shared.metrics import SCRAPE_GAUGES, GaugeSource, Sample, ServiceGauges, count_process_start, metrics_registry
from propcare_shared.mongo import IndexSpec
from propcare_shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class PeriodicLoop:
    """Work run every ``interval`` seconds in its own thread until the worker stops."""

    name: str
    interval: float
    work: Callable[[], object]


class MetricsPortInUse(RuntimeError):
    """The worker's ``METRICS_PORT`` is taken by another process."""


@dataclass
class OutboxBacklog:
    """``outbox_unpublished`` and the age of the oldest unpublished event: what the relay has not published yet."""

    service: str
    database: Database
    clock: Clock

    def read(self) -> Iterator[tuple[str, str, Sample]]:
        """Count the unpublished outbox rows (the index on ``published_at, created_at`` serves both reads)."""
        outbox = self.database[OUTBOX]
        unpublished = outbox.count_documents({"published_at": None})
        oldest = outbox.find_one({"published_at": None}, sort=[("created_at", ASCENDING)], projection={"created_at": True})
        age = max((self.clock() - oldest["created_at"]).total_seconds(), 0.0) if oldest else 0.0
        labels = {"service": self.service}
        yield "outbox_unpublished", "Events stored in the outbox and not published yet.", (labels, float(unpublished))
        yield "outbox_oldest_unpublished_age_seconds", "Age of the oldest unpublished outbox event (0 when none).", (labels, age)


@dataclass
class QueueDepth:
    """``queue_messages``, ``queue_consumers`` and ``parked_messages`` of a service's consumer queues (passive declares)."""

    settings: Settings
    purposes: list[str]
    connected: Callable[[], bool]
    timeout: float = 1.0

    def read(self) -> Iterator[tuple[str, str, Sample]]:
        """Ask the broker for each queue's depth; raises when the consumer is not connected (dependency_up says why)."""
        if not self.connected():
            raise ConnectionError("the consumer is not connected to the broker")
        topology = Topology(self.settings)
        options: dict[str, Any] = {} if self.settings.embedded_broker else {"connect_timeout": self.timeout}
        with Connection(self.settings.rabbitmq_url, **options) as connection:
            channel = connection.channel()
            for purpose in self.purposes:
                name = topology.queue_name(purpose)
                labels = {"service": self.settings.service, "queue": name}
                main = channel.queue_declare(name, passive=True)
                parked = channel.queue_declare(topology.parking_queue(name).name, passive=True)
                yield "queue_messages", "Messages ready in a consumer queue.", (labels, float(main.message_count))
                yield "queue_consumers", "Consumers on a consumer queue.", (labels, float(main.consumer_count))
                yield "parked_messages", PARKED_HELP, (labels, float(parked.message_count))


PARKED_HELP = "Messages parked after repeated failures, waiting for a person."


def holds_relay_lease(database: Database, owner: str, clock: Clock) -> bool:
    """Tell whether ``owner`` holds the service's relay lease now (read only: the relay takes and renews it)."""
    lease = database[LEASES].find_one({"_id": "outbox-relay"})
    return lease is not None and lease.get("owner") == owner and lease["expires_at"] > clock()


@dataclass
class Worker:
    """Everything a service runs besides its web app."""

    context: ServiceContext
    subscriptions: list[Subscription]
    loops: list[PeriodicLoop] = field(default_factory=list)
    gauges: list[GaugeSource] = field(default_factory=list)
    """The service's own scrape-time gauges, exported by the gauge leader only."""

    def __post_init__(self) -> None:
        settings = self.context.settings
        self.bus = EventBus(settings)
        self.consumer = EventConsumer(settings=settings, subscriptions=self.subscriptions, bus=self.bus) if self.subscriptions else None
        self.relay = OutboxRelay(
            database=self.context.database, publisher=self.bus, poll_interval=settings.outbox_poll_interval, clock=self.context.clock
        )
        self.context.uow.on_commit(self.relay.wake)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._metrics_server: object | None = None
        self.scrape_gauges = self._scrape_gauges()

    def _scrape_gauges(self) -> ServiceGauges:
        context, settings = self.context, self.context.settings
        sources: list[GaugeSource] = [OutboxBacklog(settings.service, context.database, context.clock)]
        if self.subscriptions:
            purposes = [subscription.purpose for subscription in self.subscriptions]
            sources.append(QueueDepth(settings, purposes, self._broker_up, timeout=settings.metrics_dependency_timeout))
        return ServiceGauges(
            service=settings.service,
            database=context.database,
            leader=lambda: holds_relay_lease(context.database, self.relay.owner, context.clock),
            broker_up=self._broker_up,
            sources=[*sources, *self.gauges],
            timeout=settings.metrics_dependency_timeout,
        )

    def _broker_up(self) -> bool:
        return self.consumer is None or self.consumer.ready.is_set()

    @property
    def ready(self) -> bool:
        """Tell whether the consumer is connected and consuming."""
        return self.consumer is None or self.consumer.ready.is_set()

    def start(self) -> None:
        """Serve the metrics (a taken port stops here), then start the relay, the consumer and the loops."""
        self._serve_metrics()
        count_process_start(self.context.settings.service, "worker")
        SCRAPE_GAUGES.add(self.scrape_gauges)
        self.context.checks["consumer"] = lambda: self.ready
        targets: list[tuple[str, Callable[[], None]]] = [("outbox-relay", self.relay.run)]
        if self.consumer is not None:
            targets.append((self._consumer_thread_name, self.consumer.run))
        targets += [(loop.name, self._looping(loop)) for loop in self.loops]
        for name, target in targets:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    @property
    def _consumer_thread_name(self) -> str:
        return f"{self.context.settings.service}-consumer"

    def _serve_metrics(self) -> None:
        port = self.context.settings.metrics_port
        if not port:
            return
        from prometheus_client import start_http_server

        try:
            self._metrics_server, _ = start_http_server(port, addr="0.0.0.0", registry=metrics_registry())
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise MetricsPortInUse(
                f"{self.context.settings.service} worker: METRICS_PORT {port} is already in use; "
                "stop what listens there or give this worker another METRICS_PORT"
            ) from None

    def _looping(self, loop: PeriodicLoop) -> Callable[[], None]:
        def run() -> None:
            while not self._stop.is_set():
                try:
                    loop.work()
                except Exception:
                    log.exception("periodic work failed", extra={"loop": loop.name})
                self._stop.wait(loop.interval)

        return run

    def stop(self, timeout: float = 20.0) -> None:
        """Stop consuming, finish in-flight work, flush the outbox, then return."""
        self._stop.set()
        SCRAPE_GAUGES.remove(self.scrape_gauges)
        deadline = time.monotonic() + timeout
        if self.consumer is not None:
            self.consumer.stop()
            consumer_thread = next((t for t in self._threads if t.name == self._consumer_thread_name), None)
            if consumer_thread is not None:  # its lanes' last commits reach the outbox before the relay's last drain
                consumer_thread.join(timeout)
        self.relay.stop()
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.1))
        self.bus.close()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()  # type: ignore[attr-defined]
            self._metrics_server.server_close()  # type: ignore[attr-defined]

    def run_forever(self) -> None:
        """Run until SIGTERM or SIGINT, then stop gracefully."""
        stopping = threading.Event()

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("stopping on signal", extra={"signal": signum})
            stopping.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        try:
            self.start()
        except MetricsPortInUse as exc:
            log.error("worker not started", extra={"error": str(exc)})
            raise SystemExit(str(exc)) from None
        log.info("worker started", extra={"queues": [s.purpose for s in self.subscriptions]})
        stopping.wait()
        self.stop(self.context.settings.shutdown_grace)
        log.info("worker stopped")


def open_service_context(service: str, indexes: Iterable[IndexSpec]) -> ServiceContext:
    """Open a service's context from the environment and ensure its indexes."""
    context = ServiceContext.open(Settings.from_env(service))
    context.ensure_indexes(indexes)
    return context


def run_service_worker(service: str, *, indexes: Iterable[IndexSpec], build: Callable[[ServiceContext], Worker]) -> None:
    """Run a service's worker from the environment until SIGTERM or SIGINT: the ``main`` of ``<service>.worker``."""
    settings = Settings.from_env(service)
    configure_logging(service, settings.log_level)
    context = ServiceContext.open(settings)
    context.ensure_indexes(indexes)
    build(context).run_forever()
