"""Publishing on kombu: ``open_connection`` and ``EventBus`` (the topology declared before the first
publish, confirmed persistent messages, ``mandatory`` publishes whose returns raise ``Unroutable``).
The consumer side is ``propcare_shared.events.bus``, which re-exports both names.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kombu import Connection, Exchange, Producer

from propcare_shared.events.envelope import Event
from propcare_shared.events.topology import Topology, Unroutable
from propcare_shared.metrics import EventMetrics
from propcare_shared.settings import Settings

log = logging.getLogger(__name__)


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
