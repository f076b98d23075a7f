"""A service's consumer process: its event consumer, its outbox relay and any periodic loops.

On SIGTERM or SIGINT it stops taking messages, lets the message in hand finish and be acked,
publishes what the outbox holds, then exits. Messages prefetched but not yet handled go back
to the queue when the connection closes.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import FrameType

from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus, EventConsumer, Subscription
from propcare_shared.events.outbox import OutboxRelay
from propcare_shared.logs import configure_logging
from propcare_shared.metrics import metrics_registry
from propcare_shared.mongo import IndexSpec
from propcare_shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class PeriodicLoop:
    """Work run every ``interval`` seconds in its own thread until the worker stops."""

    name: str
    interval: float
    work: Callable[[], object]


@dataclass
class Worker:
    """Everything a service runs besides its web app."""

    context: ServiceContext
    subscriptions: list[Subscription]
    loops: list[PeriodicLoop] = field(default_factory=list)

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

    @property
    def ready(self) -> bool:
        """Tell whether the consumer is connected and consuming."""
        return self.consumer is None or self.consumer.ready.is_set()

    def start(self) -> None:
        """Start the relay, the consumer and the loops in background threads."""
        self.context.checks["consumer"] = lambda: self.ready
        targets: list[tuple[str, Callable[[], None]]] = [("outbox-relay", self.relay.run)]
        if self.consumer is not None:
            targets.append((f"{self.context.settings.service}-consumer", self.consumer.run))
        targets += [(loop.name, self._looping(loop)) for loop in self.loops]
        for name, target in targets:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.context.settings.metrics_port:
            from prometheus_client import start_http_server

            self._metrics_server, _ = start_http_server(self.context.settings.metrics_port, addr="0.0.0.0", registry=metrics_registry())

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
        if self.consumer is not None:
            self.consumer.stop()
        self.relay.stop()
        for thread in self._threads:
            thread.join(timeout)
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
        self.start()
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
