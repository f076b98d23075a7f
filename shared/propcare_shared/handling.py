"""Event handlers declared once: the queue's purpose, the event types and one flat function.

A service lists its handlers as ``Handles`` values; the kernel turns them into consumer queues whose
handler runs the function in a unit of work with the inbox (``UnitOfWork.run(handled_event=,
consumer=)``). The inbox consumer name is always ``<service>.<purpose>``, made here from the one
place the purpose is written, so a handler cannot key its inbox under a name that drifted from its
queue: a redelivered event raises ``AlreadyHandled`` and has no second effect.

A handler is ``handle(context, tx, event) -> result``: its writes use ``tx.session`` and its events
``tx.emit``; they commit together with the inbox marker. ``after(context, event, result)`` runs once
the transaction committed (logging, in-process metrics), never for a duplicate.

With ``CONSUMER_CONCURRENCY`` above 1 the handlers of different complaints run at once on the
consumer's lanes (``propcare_shared.events.bus``); ``lanes="estate"`` serialises a queue per
estate instead, for handlers that update one document per estate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import LANES_BY_COMPLAINT, Subscription
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.logs import correlation

Handle = Callable[[ServiceContext, Transaction, Event], Any]
After = Callable[[ServiceContext, Event, Any], None]


@dataclass(frozen=True)
class Handles:
    """One consumer queue of a service: its purpose, the event types it takes and the function that handles them."""

    purpose: str
    event_types: tuple[str, ...]
    handle: Handle
    after: After | None = None
    lanes: str = LANES_BY_COMPLAINT
    """Which aggregate's events are handled one at a time, in order, with ``CONSUMER_CONCURRENCY`` lanes: ``complaint``
    (the default) or ``estate`` (a handler that updates one document per estate, which concurrent complaints would
    fight over: write conflicts and retries)."""

    def consumer(self, service: str) -> str:
        """Return the inbox consumer name of this queue in a service."""
        return f"{service}.{self.purpose}"


def subscriptions(context: ServiceContext, handlers: Iterable[Handles]) -> list[Subscription]:
    """Return the consumer queues of a service, each handling its events once in a unit of work."""
    return [
        Subscription(
            handles.purpose, handles.event_types, _idempotent(context, handles), handles.lanes, batch=_idempotent_batch(context, handles)
        )
        for handles in handlers
    ]


def _idempotent(context: ServiceContext, handles: Handles) -> Callable[[Event], None]:
    consumer = handles.consumer(context.settings.service)

    def handle(event: Event) -> None:
        result = context.uow.run(lambda tx: handles.handle(context, tx, event), handled_event=event, consumer=consumer)
        if handles.after is not None:
            handles.after(context, event, result)

    return handle


def _idempotent_batch(context: ServiceContext, handles: Handles) -> Callable[[list[Event]], list[bool]]:
    consumer = handles.consumer(context.settings.service)

    def work(tx: Transaction, event: Event) -> Any:
        with correlation(event.correlation_id):
            return handles.handle(context, tx, event)

    def handle_all(events: list[Event]) -> list[bool]:
        outcomes = context.uow.run_many(work, events, consumer=consumer)
        if handles.after is not None:
            for outcome in outcomes:
                if outcome.done:
                    handles.after(context, outcome.event, outcome.result)
        return [outcome.done for outcome in outcomes]

    return handle_all
