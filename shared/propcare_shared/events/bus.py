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
import threading
import time
from collections.abc import Callable
from typing import Any

from kombu import Connection, Consumer, Exchange, Producer
from kombu.mixins import ConsumerMixin
from marshmallow import ValidationError

from propcare_shared.clock import utcnow
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import AlreadyHandled
from propcare_shared.events.topology import Subscription, Topology, Unroutable
from propcare_shared.logs import correlation
from propcare_shared.metrics import EventMetrics
from propcare_shared.settings import Settings

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-attempts"
ERROR_HEADER = "x-last-error"
Handler = Callable[[Event], None]
__all__ = ["ATTEMPTS_HEADER", "ERROR_HEADER", "EventBus", "EventConsumer", "Subscription", "Topology", "Unroutable", "open_connection"]


def open_connection(settings: Settings, *, heartbeat: int = 0) -> Connection:
    """Open a kombu connection; publisher confirms on for AMQP, fast polling for memory://."""
    if settings.embedded_broker:
        return Connection(settings.rabbitmq_url, transport_options={"polling_interval": 0.02})
    return Connection(
        settings.rabbitmq_url,
        heartbeat=heartbeat,
        transport_options={"confirm_publish": True},
        connect_timeout=5,
    )


class EventBus:
    """Publishes events: persistent JSON on the topic exchange, waiting for the broker's confirm.

    Thread-safe. A publish that fails (connection lost, confirm timeout, nack) raises, and the
    connection is rebuilt at the next publish: the caller (the outbox relay) publishes again.
    """

    def __init__(self, settings: Settings, *, metrics: EventMetrics | None = None) -> None:
        self.settings = settings
        self.topology = Topology(settings)
        self.metrics = metrics or EventMetrics(settings.service)
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._returned: list[str] = []

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            self._connection = open_connection(self.settings)
            self._connection.ensure_connection(max_retries=3)
            self.topology.declare_platform(self._connection.default_channel)  # every queue exists before the first publish
            self._producer = Producer(self._connection.channel(), on_return=self._on_return)
        return self._producer

    def _on_return(self, exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        self._returned.append(routing_key)

    def _reset(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # noqa: BLE001 - the connection is being thrown away
                log.debug("closing a broken publisher connection failed")
        self._connection = None
        self._producer = None

    def publish_raw(
        self,
        body: Any,
        *,
        exchange: Exchange | str,
        routing_key: str,
        headers: dict[str, Any] | None = None,
        message_id: str | None = None,
        mandatory: bool = False,
        content_type: str | None = None,
        content_encoding: str | None = None,
    ) -> None:
        """Publish one persistent message (JSON unless ``content_type`` is given) and wait for its confirm.

        With ``mandatory``, a message no queue took raises ``Unroutable`` (the broker returned it).
        """
        with self._lock:
            try:
                producer = self._ensure_producer()
                self._returned.clear()
                producer.publish(
                    body,
                    exchange=exchange,
                    routing_key=routing_key,
                    serializer=None if content_type else "json",
                    content_type=content_type,
                    content_encoding=content_encoding,
                    delivery_mode=2,
                    headers=headers or {},
                    message_id=message_id,
                    mandatory=mandatory,
                    confirm_timeout=self.settings.confirm_timeout,
                )
                if self._returned:
                    raise Unroutable(f"no queue took {routing_key!r}; it stays unpublished")
            except Exception:
                self._reset()  # the next publish reconnects and declares the platform's queues again
                raise

    def publish(self, event: Event) -> None:
        """Publish an event with its type as the routing key; one some queue should take is published ``mandatory``."""
        self.publish_raw(
            event.to_message(),
            exchange=self.topology.events,
            routing_key=event.type,
            message_id=event.id,
            mandatory=self.topology.routed_somewhere(event.type),
        )
        self.metrics.published(event.type)

    def close(self) -> None:
        """Close the publisher connection."""
        with self._lock:
            self._reset()


class EventConsumer(ConsumerMixin):
    """Consumes a service's queues; acks after the handler commits, retries, then parks."""

    def __init__(self, *, settings: Settings, subscriptions: list[Subscription], bus: EventBus) -> None:
        self.settings = settings
        self.subscriptions = subscriptions
        self.bus = bus
        self.topology = bus.topology
        self.metrics = bus.metrics
        self.connection = open_connection(settings, heartbeat=30)
        self.ready = threading.Event()
        self.in_flight = 0
        self._timers: list[threading.Timer] = []

    def get_consumers(self, consumer_factory: Callable[..., Consumer], channel: Any) -> list[Consumer]:
        """Declare the topology and return one consumer per subscription queue."""
        self.topology.declare(channel, self.subscriptions)
        consumers = []
        for subscription in self.subscriptions:
            queue = self.topology.main_queue(subscription)
            consumers.append(
                consumer_factory(
                    queues=[queue],
                    callbacks=[self._callback_for(subscription, queue.name)],
                    accept=["json"],
                    on_decode_error=self._undecodable_in(queue.name),
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

    def _callback_for(self, subscription: Subscription, queue_name: str) -> Callable[[Any, Any], None]:
        def on_message(body: Any, message: Any) -> None:
            self.in_flight += 1
            try:
                self._handle(subscription, queue_name, body, message)
            finally:
                self.in_flight -= 1

        return on_message

    def _handle(self, subscription: Subscription, queue_name: str, body: Any, message: Any) -> None:
        try:
            event = Event.from_message(body)
        except (ValidationError, KeyError, TypeError) as exc:
            log.error("unreadable event parked", extra={"queue": queue_name, "error": str(exc)})
            self._park(queue_name, body, message, error=f"unreadable: {exc}")
            self.metrics.consumed(str(body.get("type", "unknown")) if isinstance(body, dict) else "unknown", "dead")
            return
        started = time.perf_counter()
        self.metrics.lag(event.type, (utcnow() - event.occurred_at).total_seconds())
        with correlation(event.correlation_id):
            try:
                subscription.handler(event)
            except AlreadyHandled:
                message.ack()
                self.metrics.consumed(event.type, "duplicate")
                return
            except Exception as exc:  # noqa: BLE001 - any failure is retried, then parked
                self._retry_or_park(queue_name, event, body, message, exc)
                return
            message.ack()
            self.metrics.consumed(event.type, "ok")
            self.metrics.handled(event.type, time.perf_counter() - started)

    def _retry_or_park(self, queue_name: str, event: Event, body: Any, message: Any, exc: Exception) -> None:
        attempts = int((message.headers or {}).get(ATTEMPTS_HEADER, 0)) + 1
        error = f"{type(exc).__name__}: {exc}"[:500]
        if attempts >= self.settings.max_attempts:
            log.error(
                "event parked after repeated failures",
                extra={"queue": queue_name, "event_id": event.id, "type": event.type, "attempts": attempts, "error": error},
            )
            self._park(queue_name, body, message, error=error, attempts=attempts)
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
        message.ack()
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

    def _park(self, queue_name: str, body: Any, message: Any, *, error: str, attempts: int = 0) -> None:
        parking = self.topology.parking_queue(queue_name)
        headers = {ATTEMPTS_HEADER: attempts, ERROR_HEADER: error}
        self.bus.publish_raw(body, exchange="", routing_key=parking.name, headers=headers, mandatory=True)
        message.ack()

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
        """Stop taking messages; the message being handled is finished and acked first."""
        self.should_stop = True
        for timer in self._timers:
            timer.cancel()
