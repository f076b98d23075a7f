"""A consumer's group commit: a lane's waiting messages of one queue handled in one transaction.

Each transaction a consumer commits costs mongod and the driver a fixed price (start, majority
commit, session) besides the handler's own statements; under a backlog a lane finds several messages
already waiting (``propcare_shared.events.lanes``) and ``GroupCommit.handle`` commits up to
``CONSUMER_BATCH`` of them at once through the subscription's ``batch`` function
(``propcare_shared.handling``, ``UnitOfWork.run_many``): in order, one inbox marker per event, the
effects of all or none. Anything that fails in a batch (an unreadable message, a handler that raises,
an event another replica recorded meanwhile) rolls it back, and the same messages are then handled
one by one as without batching, so retries, parking and duplicates stay per message. A quiet queue
never waits for a batch to fill. Figures: docs/PERFORMANCE.md, "Group commit".
"""

from __future__ import annotations

import logging
import time
from typing import Any

from marshmallow import ValidationError

from propcare_shared.clock import utcnow
from propcare_shared.events import stages
from propcare_shared.events.envelope import Event
from propcare_shared.events.lanes import Delivery
from propcare_shared.events.stages import StageTimes
from propcare_shared.settings import Settings

log = logging.getLogger(__name__)


class GroupCommit:
    """The part of ``EventConsumer`` that handles a lane's messages, together when it can."""

    settings: Settings
    metrics: Any

    def _handle(self, delivery: Delivery) -> None:
        raise NotImplementedError

    def _ack(self, message: Any, generation: int, event_type: str, times: StageTimes | None) -> None:
        raise NotImplementedError

    def requeue_later(self, message: Any, generation: int) -> None:
        raise NotImplementedError

    @property
    def batch_limit(self) -> int:
        """Messages a lane may handle in one transaction (``CONSUMER_BATCH``; 1 while stages are observed)."""
        return 1 if stages.observed() else max(1, self.settings.consumer_batch)

    def handle(self, deliveries: list[Delivery]) -> None:
        """Handle a lane's messages: together in one transaction when there are several, else (or if that fails) one by one."""
        if len(deliveries) > 1 and self._handled_together(deliveries):
            return
        for delivery in deliveries:
            try:
                self._handle(delivery)
            except Exception:
                log.exception("a message could not be settled; it goes back to its queue")
                self.requeue_later(delivery.message, delivery.generation)

    def _handled_together(self, deliveries: list[Delivery]) -> bool:
        """Handle one queue's messages in one transaction and ack them; False (nothing done) when they must go one by one."""
        batch = deliveries[0].subscription.batch
        if batch is None:
            return False
        try:
            events = [Event.from_message(delivery.body) for delivery in deliveries]
        except (ValidationError, KeyError, TypeError):
            return False  # one by one: the unreadable one is parked, the rest handled
        now = utcnow()
        for event in events:
            self.metrics.lag(event.type, (now - event.occurred_at).total_seconds())
        started = time.perf_counter()
        try:
            handled = batch(events)
        except Exception as exc:  # noqa: BLE001 - each message is then handled, retried or parked on its own
            log.info("a batch of messages failed together; handling them one by one", extra={"count": len(events), "error": str(exc)[:200]})
            return False
        each = (time.perf_counter() - started) / len(events)
        for delivery, event, done in zip(deliveries, events, handled, strict=True):
            if done:
                self.metrics.consumed(event.type, "ok")
                self.metrics.handled(event.type, each)
            else:
                self.metrics.consumed(event.type, "duplicate")
            self._ack(delivery.message, delivery.generation, event.type, None)
        return True
