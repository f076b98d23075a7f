"""The consumer's lanes: threads that handle, in order, the messages of the aggregates hashed to each.

``lane_key`` names a message's aggregate (its complaint or its estate); ``EventConsumer``
(``propcare_shared.events.bus``) hands every message to the lane of its key and acks, on its own
thread, the ``Settlement`` each lane hands back. A lane owns no broker channel.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from propcare_shared.events.stages import StageTimes
from propcare_shared.events.topology import LANES_BY_COMPLAINT, LANES_BY_ESTATE

log = logging.getLogger(__name__)


class LaneOwner(Protocol):
    """What a lane needs of its consumer."""

    @property
    def service(self) -> str: ...

    def live(self, generation: int) -> bool: ...

    def given_up(self, generation: int) -> None: ...

    def requeue_later(self, message: Any, generation: int) -> None: ...


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
        self._items: queue.SimpleQueue[tuple[int, Any, Callable[[], None]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"{consumer.service}-lane-{index}", daemon=True)
        self._thread.start()

    def put(self, generation: int, message: Any, work: Callable[[], None]) -> None:
        """Queue a message's handling behind the lane's earlier messages."""
        self._items.put((generation, message, work))

    def close(self, timeout: float = 5.0) -> None:
        """Let the lane finish the message in hand and end its thread."""
        self._items.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._items.get()) is not None:
            generation, message, work = item
            if not self.consumer.live(generation):
                self.consumer.given_up(generation)  # not started: the broker gives it again
                continue
            try:
                work()
            except Exception:
                log.exception("a message could not be settled; it goes back to its queue")
                self.consumer.requeue_later(message, generation)
