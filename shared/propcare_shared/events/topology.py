"""The broker's topology: the exchanges and the whole platform's consumer queues, declared before anything publishes.

An event published while no queue is bound to its type is dropped by a topic exchange, and the
publish is still confirmed: the outbox would believe it delivered. Two things close that gap:

- **Every service's consumer queues are declared before anything publishes.** ``PLATFORM_QUEUES``
  (``propcare_shared.events.queues``, generated from every service's declared handlers by
  ``python -m infra.tools.topology write`` and checked against them by a test) names each service's
  queues and the event types they take. Every publisher (``EventBus``, on each new connection,
  before its first publish) declares them all with their bindings, whatever service it belongs to:
  a producer deployed before its consumers, or a queue added in a release, no longer loses what is
  published in between; it waits in the durable queue. Declares are idempotent and take no
  arguments, so they never conflict with an existing broker. Only main queues and bindings are
  declared here: retry queues carry the consumer's ``RETRY_DELAYS`` as arguments, so only the
  consumer's own worker declares them.
- **Events some queue should take are published ``mandatory``** (``routed_somewhere``): if the broker
  returns one anyway (a queue deleted by hand, a table older than the consumers), the publish
  raises ``Unroutable`` and the outbox row stays unpublished; the relay tries again after the
  next declare. Events of a type no queue of the platform takes are published as before and dropped
  by the exchange: nobody asked for them.

No alternate exchange is used: it would make every mandatory publish count as routed (so the outbox
could not tell), and adding one to an existing ``propcare.events`` needs its arguments on every
declare or a ``rabbitmqctl set_policy`` migration (docs/RELIABILITY.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kombu import Connection, Exchange, Queue, binding

from propcare_shared.events.envelope import Event
from propcare_shared.events.queues import PLATFORM_QUEUES
from propcare_shared.settings import Settings

log = logging.getLogger(__name__)

QueueTable = Mapping[str, Mapping[str, Iterable[str]]]
"""``{service: {purpose: event types}}``: the consumer queues of the platform."""


LANES_BY_COMPLAINT = "complaint"
"""Handle concurrently the events of different complaints (one complaint's in order, one at a time)."""
LANES_BY_ESTATE = "estate"
"""Handle one estate's events one at a time, in order: for handlers that update one document per estate."""


@dataclass(frozen=True)
class Subscription:
    """A consumer queue: its purpose, the event types it takes, the handler for them and how its messages share lanes."""

    purpose: str
    event_types: tuple[str, ...]
    handler: Callable[[Event], None]
    lanes: str = LANES_BY_COMPLAINT
    """``complaint`` or ``estate``: which aggregate's messages are handled one at a time, in order (``bus.lane_key``)."""
    batch: Callable[[list[Event]], list[bool]] | None = None
    """Handles several of a lane's waiting messages in one transaction; returns, per event, whether it was handled
    (false: handled before). None: one message per transaction (``propcare_shared.handling`` always gives one)."""


class Unroutable(Exception):
    """The broker returned a mandatory publish: no queue took it, so it must stay in the outbox."""


class Topology:
    """Names and declarations of the exchanges and queues of one service, and of the whole platform."""

    def __init__(self, settings: Settings, *, platform: QueueTable = PLATFORM_QUEUES) -> None:
        self.settings = settings
        self.platform = platform
        self.events = Exchange(settings.event_exchange, type="topic", durable=True)
        self.requeue = Exchange(f"{settings.event_exchange}.requeue", type="direct", durable=True)
        self._bound_types = sorted({key for purposes in platform.values() for keys in purposes.values() for key in keys})

    def queue_name(self, purpose: str, *, service: str | None = None) -> str:
        """Return the name of a consumer queue (of this service unless ``service`` is given)."""
        return f"{self.settings.queue_prefix}{service or self.settings.service}.{purpose}"

    def main_queue(self, subscription: Subscription) -> Queue:
        """Return the durable queue of a subscription with its bindings."""
        return self.consumer_queue(self.queue_name(subscription.purpose), subscription.event_types)

    def consumer_queue(self, name: str, event_types: Iterable[str]) -> Queue:
        """Return a durable consumer queue bound to its event types and to the requeue exchange."""
        bindings = [binding(self.events, routing_key=key) for key in event_types]
        bindings.append(binding(self.requeue, routing_key=name))
        return Queue(name, bindings=bindings, durable=True)

    def retry_queue(self, main: str, level: int) -> Queue:
        """Return the TTL queue that holds a message for the ``level``-th delay."""
        delay_ms = int(self.settings.retry_delays[level] * 1000)
        return Queue(
            f"{main}.retry.{level}",
            durable=True,
            queue_arguments={
                "x-message-ttl": delay_ms,
                "x-dead-letter-exchange": self.requeue.name,
                "x-dead-letter-routing-key": main,
            },
        )

    def parking_queue(self, main: str) -> Queue:
        """Return the queue where messages that keep failing wait for a person."""
        return Queue(f"{main}.parked", durable=True)

    def platform_queues(self) -> list[Queue]:
        """Return every service's consumer queue with its bindings."""
        return [
            self.consumer_queue(self.queue_name(purpose, service=service), event_types)
            for service, purposes in self.platform.items()
            for purpose, event_types in purposes.items()
        ]

    def routed_somewhere(self, event_type: str) -> bool:
        """Tell whether some queue of the platform takes events of this type (so it must not be dropped)."""
        return any(topic_matches(pattern, event_type) for pattern in self._bound_types)

    def declare_platform(self, channel: Any) -> None:
        """Declare the exchanges and every consumer queue of the platform with its bindings (idempotent)."""
        self.events(channel).declare()
        self.requeue(channel).declare()
        for queue in self.platform_queues():
            queue(channel).declare()

    def declare(self, channel: Any, subscriptions: Iterable[Subscription]) -> None:
        """Declare the exchanges and a consumer's own queues with their parking and retry queues."""
        self.events(channel).declare()
        self.requeue(channel).declare()
        for subscription in subscriptions:
            main = self.main_queue(subscription)
            main(channel).declare()
            self.parking_queue(main.name)(channel).declare()
            if not self.settings.embedded_broker:
                for level in range(len(self.settings.retry_delays)):
                    self.retry_queue(main.name, level)(channel).declare()


def topic_matches(pattern: str, routing_key: str) -> bool:
    """Tell whether a topic binding (``*`` one word, ``#`` zero or more) matches a routing key, as RabbitMQ does."""
    return _match(pattern.split("."), routing_key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[skip:]) for skip in range(len(words) + 1))
    if not words:
        return False
    return (head in {"*", words[0]}) and _match(rest, words[1:])


def declare_platform(settings: Settings, *, connection: Connection | None = None) -> None:
    """Declare the whole platform's topology on the settings' broker (a deploy step; publishers do it too)."""
    from propcare_shared.events.bus import open_connection

    with connection or open_connection(settings) as opened:
        Topology(settings).declare_platform(opened.default_channel)
