"""The event bus on kombu: a durable topic exchange, confirmed persistent publishes, and
consumers with manual acks, a prefetch limit, delayed retry and a parking queue.

Topology, for a consumer queue ``Q`` (``<service>.<purpose>``):
- ``Q`` is durable and bound to the topic exchange ``propcare.events`` for its event types, and to
  the direct exchange ``propcare.events.requeue`` with routing key ``Q``.
- A handler that raises sends the message to ``Q.retry.<n>`` (one queue per delay, with a
  queue-level ``x-message-ttl``, because messages expire only at the head of a queue). When the
  TTL runs out RabbitMQ dead-letters it to ``propcare.events.requeue`` → back to ``Q`` only.
- After ``max_attempts`` failures the message goes to ``Q.parked``, where ``propcare-parking``
  lists and replays it.
- The original is acked only after the handler's writes are committed, or after the retry or
  parking copy is confirmed. A crash in between redelivers; the inbox makes that harmless.

In the one-process mode (``memory://``) there is no TTL or dead-lettering; a timer republishes a
failed message to ``Q`` after the same delays.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from kombu import Connection, Consumer
from kombu.mixins import ConsumerMixin
from marshmallow import ValidationError

from propcare_shared.clock import utcnow
from propcare_shared.events import stages
from propcare_shared.events.envelope import Event
from propcare_shared.events.group_commit import GroupCommit
from propcare_shared.events.lanes import Delivery, Lane, Settlement, lane_key
from propcare_shared.events.outbox import AlreadyHandled
from propcare_shared.events.publisher import EventBus, open_connection
from propcare_shared.events.stages import StageTimes
from propcare_shared.events.topology import LANES_BY_COMPLAINT, LANES_BY_ESTATE, Subscription, Topology, Unroutable
from propcare_shared.logs import correlation
from propcare_shared.metrics import EVENTS_IN_FLIGHT
from propcare_shared.settings import Settings

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-attempts"
ERROR_HEADER = "x-last-error"
Handler = Callable[[Event], None]
SETTLE_INTERVAL = 0.005
"""Seconds the consumer thread waits for the broker, while lanes hold messages, before it acks what they finished."""
__all__ = [
    "ATTEMPTS_HEADER",
    "ERROR_HEADER",
    "LANES_BY_COMPLAINT",
    "LANES_BY_ESTATE",
    "EventBus",
    "EventConsumer",
    "Subscription",
    "Topology",
    "Unroutable",
    "lane_key",
    "open_connection",
]


class EventConsumer(GroupCommit, ConsumerMixin):
    """Consumes a service's queues; acks after the handler commits, retries, then parks.

    With ``CONSUMER_CONCURRENCY`` above 1, messages are handled on that many lane threads while the
    consumer thread alone talks to the broker (a kombu channel is not thread-safe): it hands each
    message to the lane of its aggregate (``lane_key``: the complaint, else the estate), and acks
    what the lanes finished. One lane handles its messages one at a time in delivery order, so the
    events of one complaint are never handled concurrently nor out of order, while messages of
    other complaints overlap (up to ``PREFETCH_COUNT`` per queue held unacked). A subscription with
    ``lanes="estate"`` serialises per estate instead. Guarantees and figures: docs/PERFORMANCE.md, "Workers".
    """

    def __init__(self, *, settings: Settings, subscriptions: list[Subscription], bus: EventBus) -> None:
        self.settings = settings
        self.subscriptions = subscriptions
        self.bus = bus
        self.topology = bus.topology
        self.metrics = bus.metrics
        self.connection = open_connection(settings, heartbeat=30)
        self.ready = threading.Event()
        self.concurrency = max(1, settings.consumer_concurrency)
        self._timers: list[threading.Timer] = []
        self._lanes: list[Lane] = []
        self._settled: queue.SimpleQueue[Settlement] = queue.SimpleQueue()
        self._generation = 0
        """Bumped on every (re)connection: a message of an earlier channel can no longer be acked or handled."""
        self._unsettled = 0
        self._count_lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        """Messages taken from the broker and not yet acked (or given back)."""
        return self._unsettled

    def get_consumers(self, consumer_factory: Callable[..., Consumer], channel: Any) -> list[Consumer]:
        """Start a new channel generation, declare the topology and return one consumer per subscription queue.

        The generation starts here, before the first ``basic_consume``: py-amqp hands the first queue's
        deliveries to their callback while it still waits for the next queues' ``consume-ok``, so a
        generation started any later (it was, at ``extra_context``) made those messages look like the
        dead channel's: taken, never handled nor acked, a full prefetch stuck after every (re)connection.
        """
        with self._count_lock:
            self._generation += 1
            self._unsettled = 0
        self.topology.declare(channel, self.subscriptions)
        consumers = []
        for subscription in self.subscriptions:
            queue_ = self.topology.main_queue(subscription)
            consumers.append(
                consumer_factory(
                    queues=[queue_],
                    callbacks=[self._callback_for(subscription, queue_.name)],
                    accept=["json"],
                    on_decode_error=self._undecodable_in(queue_.name),
                    prefetch_count=self.settings.prefetch_count,
                )
            )
        return consumers

    def on_consume_ready(self, connection: Connection, channel: Any, consumers: list[Consumer], **kwargs: Any) -> None:
        """Report readiness once the queues are declared and consumed."""
        self.ready.set()

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        """Log a lost broker connection; kombu reconnects."""
        self.ready.clear()
        log.warning("broker connection lost, reconnecting", extra={"error": str(exc), "retry_in": interval})

    def run(self, _tokens: int = 1, **kwargs: Any) -> None:
        """Consume until stopped, on lane threads when ``CONSUMER_CONCURRENCY`` is above 1."""
        if self.concurrency > 1:
            self._lanes = [Lane(self, index) for index in range(self.concurrency)]
        try:
            super().run(_tokens, **kwargs)
        finally:
            for lane in self._lanes:
                lane.close()

    def consume(self, limit: int | None = None, timeout: float | None = None, safety_interval: float = 1, **kwargs: Any) -> Iterator[None]:
        """Kombu's loop, waiting at most ``SETTLE_INTERVAL`` for the broker while lanes hold messages, so acks go out at once."""
        with self.consumer_context(**kwargs) as (connection, _channel, _consumers):
            while not self.should_stop:
                self._settle_finished()
                wait = SETTLE_INTERVAL if self._unsettled and self._lanes else safety_interval
                try:
                    connection.drain_events(timeout=wait)
                except TimeoutError:
                    connection.heartbeat_check()
                except OSError:
                    if not self.should_stop:
                        raise
                else:
                    yield

    @contextmanager
    def extra_context(self, connection: Connection, channel: Any) -> Iterator[None]:
        """On the way out, let the lanes finish the messages in hand and ack them.

        A connection lost on the way out gives up at once: what the lanes finish cannot be acked on
        a dead channel, the broker redelivers it and the inbox makes that harmless.
        """
        try:
            yield
        except BaseException:
            with self._count_lock:
                self._generation += 1  # nothing queued on the dead channel is handled or acked
            raise
        self._finish_in_hand()

    def _finish_in_hand(self) -> None:
        """Wait for the lanes' messages in hand (those not started are skipped and go back to the queue) and ack them."""
        while True:
            self._settle_finished()
            if not self._unsettled or not self._lanes:
                return
            time.sleep(SETTLE_INTERVAL)

    def _callback_for(self, subscription: Subscription, queue_name: str) -> Callable[[Any, Any], None]:
        def on_message(body: Any, message: Any) -> None:
            self._taken(1)
            delivery = Delivery(subscription, queue_name, body, message, self._generation)
            if not self._lanes:
                try:
                    self._handle(delivery)
                except BaseException:
                    self.given_up(delivery.generation)
                    raise
                return
            lane = self._lanes[zlib.crc32(lane_key(body, subscription.lanes).encode()) % len(self._lanes)]
            lane.put(delivery)

        return on_message

    def _taken(self, count: int) -> None:
        with self._count_lock:
            self._unsettled += count
        EVENTS_IN_FLIGHT.labels(self.metrics.service).inc(count)

    def given_up(self, generation: int) -> None:
        """A message not handled (stopping, or its channel is gone): the broker gives it again."""
        with self._count_lock:
            if generation == self._generation:
                self._unsettled -= 1
        EVENTS_IN_FLIGHT.labels(self.metrics.service).dec()

    @property
    def service(self) -> str:
        """The service whose queues this consumes (names the lane threads)."""
        return self.settings.service

    def live(self, generation: int) -> bool:
        """Tell whether a message of this channel generation should still be handled."""
        return generation == self._generation and not self.should_stop

    def _ack(self, message: Any, generation: int, event_type: str, times: StageTimes | None) -> None:
        """Ack now on the consumer thread, or hand the ack to it from a lane."""
        settlement = Settlement(message, generation, event_type, times, time.perf_counter())
        if self._lanes:
            self._settled.put(settlement)
        else:
            self._settle(settlement)

    def _settle_finished(self) -> None:
        """Ack, on the consumer thread, what the lanes finished."""
        while True:
            try:
                settlement = self._settled.get_nowait()
            except queue.Empty:
                return
            self._settle(settlement)

    def _settle(self, settlement: Settlement) -> None:
        if settlement.generation != self._generation:
            EVENTS_IN_FLIGHT.labels(self.metrics.service).dec()
            return  # its channel is gone: the broker redelivers it, the inbox makes that harmless
        if settlement.requeue:
            settlement.message.requeue()
        else:
            settlement.message.ack()
        with self._count_lock:
            self._unsettled -= 1
        EVENTS_IN_FLIGHT.labels(self.metrics.service).dec()
        if settlement.times is not None and not settlement.requeue:
            settlement.times["ack"] = time.perf_counter() - settlement.finished
            stages.report(settlement.event_type, settlement.times)

    def _handle(self, delivery: Delivery) -> None:
        times: StageTimes | None = {} if stages.observed() else None
        with stages.recording(times) if times is not None else nullcontext():
            event_type = self._handle_recorded(delivery.subscription, delivery.queue_name, delivery.body, delivery.message)
        self._ack(delivery.message, delivery.generation, event_type, times)

    def _handle_recorded(self, subscription: Subscription, queue_name: str, body: Any, message: Any) -> str:
        """Handle one message up to its ack (retry and parking copies confirmed first); return its event type."""
        try:
            with stages.stage("decode"):
                event = Event.from_message(body)
        except (ValidationError, KeyError, TypeError) as exc:
            log.error("unreadable event parked", extra={"queue": queue_name, "error": str(exc)})
            self._park(queue_name, body, error=f"unreadable: {exc}")
            event_type = str(body.get("type", "unknown")) if isinstance(body, dict) else "unknown"
            self.metrics.consumed(event_type, "dead")
            return event_type
        started = time.perf_counter()
        self.metrics.lag(event.type, (utcnow() - event.occurred_at).total_seconds())
        with correlation(event.correlation_id), stages.stage("handle"):
            try:
                subscription.handler(event)
            except AlreadyHandled:
                self.metrics.consumed(event.type, "duplicate")
                return event.type
            except Exception as exc:  # noqa: BLE001 - any failure is retried, then parked
                self._retry_or_park(queue_name, event, body, message, exc)
                return event.type
        self.metrics.consumed(event.type, "ok")
        self.metrics.handled(event.type, time.perf_counter() - started)
        return event.type

    def requeue_later(self, message: Any, generation: int) -> None:
        """Give back a message whose handling broke outside the handler (e.g. the retry copy was not confirmed), after a pause."""
        time.sleep(self.settings.retry_delays[0])
        self._settled.put(Settlement(message, generation, "unknown", None, time.perf_counter(), requeue=True))

    def _retry_or_park(self, queue_name: str, event: Event, body: Any, message: Any, exc: Exception) -> None:
        attempts = int((message.headers or {}).get(ATTEMPTS_HEADER, 0)) + 1
        error = f"{type(exc).__name__}: {exc}"[:500]
        if attempts >= self.settings.max_attempts:
            log.error(
                "event parked after repeated failures",
                extra={"queue": queue_name, "event_id": event.id, "type": event.type, "attempts": attempts, "error": error},
            )
            self._park(queue_name, body, error=error, attempts=attempts)
            self.metrics.consumed(event.type, "dead")
            return
        level = min(attempts - 1, len(self.settings.retry_delays) - 1)
        headers = {ATTEMPTS_HEADER: attempts, ERROR_HEADER: error}
        log.warning(
            "event handling failed, retrying later",
            extra={"queue": queue_name, "event_id": event.id, "type": event.type, "attempts": attempts, "error": error},
        )
        if self.settings.embedded_broker:
            self._retry_in_process(queue_name, body, headers, self.settings.retry_delays[level])
        else:
            retry = self.topology.retry_queue(queue_name, level)
            self.bus.publish_raw(body, exchange="", routing_key=retry.name, headers=headers, message_id=event.id, mandatory=True)
        self.metrics.consumed(event.type, "retry")

    def _retry_in_process(self, queue_name: str, body: Any, headers: dict[str, Any], delay: float) -> None:
        timer = threading.Timer(
            delay,
            self.bus.publish_raw,
            args=(body,),
            kwargs={"exchange": self.topology.requeue, "routing_key": queue_name, "headers": headers},
        )
        timer.daemon = True
        self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        timer.start()

    def _park(self, queue_name: str, body: Any, *, error: str, attempts: int = 0) -> None:
        parking = self.topology.parking_queue(queue_name)
        headers = {ATTEMPTS_HEADER: attempts, ERROR_HEADER: error}
        self.bus.publish_raw(body, exchange="", routing_key=parking.name, headers=headers, mandatory=True)

    def _undecodable_in(self, queue_name: str) -> Callable[[Any, Exception], None]:
        """Park a message that is not JSON, or not declared as JSON, at once, as the bytes that came (kombu would ack and drop it)."""

        def on_decode_error(message: Any, exc: Exception) -> None:
            error = f"undecodable: {type(exc).__name__}: {exc}"[:500]
            log.error("undecodable message parked", extra={"queue": queue_name, "content_type": message.content_type, "error": error})
            parking = self.topology.parking_queue(queue_name)
            self.bus.publish_raw(
                message.body,
                exchange="",
                routing_key=parking.name,
                headers={ATTEMPTS_HEADER: 0, ERROR_HEADER: error},
                mandatory=True,
                content_type=message.content_type or "application/octet-stream",
                content_encoding=message.content_encoding or "binary",
            )
            message.ack()
            self.metrics.consumed("unknown", "dead")

        return on_decode_error

    def stop(self) -> None:
        """Stop taking messages; the messages being handled are finished and acked first, those not started go back."""
        self.should_stop = True
        for timer in self._timers:
            timer.cancel()
