"""The consumer's lanes: threads that handle, in order, the messages of the aggregates hashed to each.

``lane_key`` names a message's aggregate (its complaint or its estate); ``EventConsumer``
(``propcare_shared.events.bus``) hands every message to the lane of its key and acks, on its own
thread, the ``Settlement`` each lane hands back. A lane owns no broker channel.

A lane that finds more messages of the same queue already waiting behind the one it takes hands
them over together, up to the consumer's ``batch_limit`` (``CONSUMER_BATCH``), for one transaction;
it never waits for a batch to fill, so a quiet queue is handled one message at a time as before.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from propcare_shared.events.stages import StageTimes
from propcare_shared.events.topology import LANES_BY_COMPLAINT, LANES_BY_ESTATE


class LaneOwner(Protocol):
    """What a lane needs of its consumer."""

    @property
    def service(self) -> str: ...

    def live(self, generation: int) -> bool: ...

    def given_up(self, generation: int) -> None: ...

    def requeue_later(self, message: Any, generation: int) -> None: ...

    @property
    def batch_limit(self) -> int: ...

    def handle(self, deliveries: list[Delivery]) -> None: ...


def lane_key(body: Any, lanes: str = LANES_BY_COMPLAINT) -> str:
    """Return the aggregate a message belongs to, read from the raw envelope (validation happens on the lane).

    By complaint: its complaint, else its estate, else "". By estate: its estate, else its complaint,
    else "". Messages with one key go to one lane and are handled one at a time in delivery order:
    a complaint's events keep their ``seq`` order (a complaint stays in its estate); facts without a
    complaint (directory events) keep their estate's order; the rest share one lane, in order, as
    before concurrency.
    """
    if not isinstance(body, dict):
        return ""
    complaint, estate = body.get("correlation_id"), body.get("estate_id")
    first, second = (estate, complaint) if lanes == LANES_BY_ESTATE else (complaint, estate)
    return str(first or second or "")


@dataclass(frozen=True)
class Delivery:
    """A message taken from one of the consumer's queues, with the channel generation it came on."""

    subscription: Any
    queue_name: str
    body: Any
    message: Any
    generation: int

    def joins(self, first: Delivery) -> bool:
        """Tell whether this message may share a transaction with ``first`` (same queue, same channel)."""
        return self.queue_name == first.queue_name and self.generation == first.generation


@dataclass
class Settlement:
    """A message a lane finished, to be acked (or given back) on the consumer thread."""

    message: Any
    generation: int
    event_type: str
    times: StageTimes | None
    finished: float
    requeue: bool = False


class Lane:
    """One thread handling, in order, the messages of the aggregates hashed to it."""

    def __init__(self, consumer: LaneOwner, index: int) -> None:
        self.consumer = consumer
        self._items: queue.SimpleQueue[Delivery | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"{consumer.service}-lane-{index}", daemon=True)
        self._thread.start()

    def put(self, delivery: Delivery) -> None:
        """Queue a message's handling behind the lane's earlier messages."""
        self._items.put(delivery)

    def close(self, timeout: float = 5.0) -> None:
        """Let the lane finish the messages in hand and end its thread."""
        self._items.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        held: list[Delivery | None] = []
        while (first := held.pop() if held else self._items.get()) is not None:
            if not self.consumer.live(first.generation):
                self.consumer.given_up(first.generation)  # not started: the broker gives it again
                continue
            batch = [first]
            while len(batch) < self.consumer.batch_limit:
                try:
                    more = self._items.get_nowait()
                except queue.Empty:
                    break
                if more is None or not more.joins(first):
                    held.append(more)  # handled (or the lane closed) after this batch
                    break
                batch.append(more)
            self.consumer.handle(batch)
