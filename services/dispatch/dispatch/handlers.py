"""Dispatch's event handlers: one flat function per fact, each declared once with its queue (``HANDLERS``).

The kernel runs each handler in a unit of work with the inbox (``propcare_shared.handling``): its
writes, the events they cause and the inbox marker commit together, under the consumer name
``dispatch.<queue>``, so a redelivered event raises ``AlreadyHandled`` and has no second effect.
Beyond the inbox, each handler checks the state it would change (a work order that exists, an order
no longer resolved), so a fact arriving twice under two event ids is harmless too.

- ``complaint-received`` (``complaint.received``) → the work order: classified, tiered with the
  30-day history, routed, timed; ``complaint.classified`` then ``complaint.assigned``.
- ``survey-dissatisfied`` (``survey.dissatisfied``) → reopen a resolved or closed order (follow-up
  met at the answer).
- ``survey-completed`` (``survey.completed``, satisfied) → close a resolved order (follow-up met, or
  missed when the survey closed for lack of an answer).
- ``estate-upserted`` (``directory.estate.upserted``) → the local copy of the estate, by the kernel's
  one algorithm (``propcare_shared.directory.keeps_estates``).

A survey's answer that finds its order moved on meanwhile (an illegal transition) is ignored and
logged; the action raised before writing anything, so the inbox marker commits alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dispatch import work_orders
from dispatch.domain.workflow import IllegalTransition
from dispatch.metrics import record_targets
from dispatch.store import DispatchStore
from propcare_shared.context import ServiceContext
from propcare_shared.directory import keeps_estates
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.handling import Handles

log = logging.getLogger(__name__)


def on_complaint_received(context: ServiceContext, tx: Transaction, event: Event) -> work_orders.Change | None:
    """Make the work order of a received complaint; None when it exists already."""
    store = DispatchStore(context.database, clock=context.clock)
    return work_orders.create_from_complaint(tx, store=store, event=event, now=context.clock())


def _log_creation(_context: ServiceContext, event: Event, change: work_orders.Change | None) -> None:
    if change is None:
        log.info("work order exists already", extra={"complaint_id": event.data["complaint_id"]})
        return
    order = change.order
    log.info(
        "work order created",
        extra={
            "complaint_id": order["_id"],
            "tier": order["tier"],
            "subcategory": order["subcategory"],
            "assignee_id": order["assignee_id"],
            "status": order["status"],
        },
    )


def on_survey_dissatisfied(context: ServiceContext, tx: Transaction, event: Event) -> work_orders.Change | None:
    """Reopen a resolved or closed complaint whose resident is not satisfied."""
    complaint_id: str = event.data.get("complaint_id") or ""
    store = DispatchStore(context.database, clock=context.clock)
    order = store.work_orders.work_order(complaint_id, session=tx.session) if complaint_id else None
    if order is None or order["status"] not in {"resolved", "closed"}:
        return None
    return _answer(
        lambda: work_orders.act(
            tx,
            store=store,
            complaint_id=complaint_id,
            action="reopen",
            values={"note": "survey: not satisfied"},
            actor_id=None,
            at=context.clock(),
            follow_up_at=event.data["answered_at"],
        ),
        event,
    )


def on_survey_completed(context: ServiceContext, tx: Transaction, event: Event) -> work_orders.Change | None:
    """Close a resolved complaint once its resident is satisfied (or the survey closed unanswered)."""
    complaint_id = event.data.get("complaint_id")
    if not event.data.get("satisfied") or not complaint_id:
        return None
    store = DispatchStore(context.database, clock=context.clock)
    order = store.work_orders.work_order(complaint_id, session=tx.session)
    if order is None or order["status"] != "resolved":
        return None
    auto_closed = bool(event.data.get("auto_closed"))
    return _answer(
        lambda: work_orders.act(
            tx,
            store=store,
            complaint_id=complaint_id,
            action="close",
            values={"note": "survey: no answer, closed" if auto_closed else "survey: satisfied"},
            actor_id=None,
            at=context.clock(),
            follow_up_at=None if auto_closed else event.data["answered_at"],
            follow_up_missed=auto_closed,
        ),
        event,
    )


def _answer(change: Callable[[], work_orders.Change], event: Event) -> work_orders.Change | None:
    try:
        return change()
    except IllegalTransition as exc:
        log.info("survey answer ignored", extra={"complaint_id": event.data.get("complaint_id"), "status": exc.status})
        return None


def _record_targets(_context: ServiceContext, _event: Event, change: work_orders.Change | None) -> None:
    if change is not None:
        record_targets(order=change.order, results=change.targets)


HANDLERS = (
    Handles("complaint-received", ("complaint.received",), on_complaint_received, after=_log_creation),
    Handles("survey-dissatisfied", ("survey.dissatisfied",), on_survey_dissatisfied, after=_record_targets),
    Handles("survey-completed", ("survey.completed",), on_survey_completed, after=_record_targets),
    keeps_estates(),
)
"""Dispatch's consumer queues, each with the one function that handles its events."""
