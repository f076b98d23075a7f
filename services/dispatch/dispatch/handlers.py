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
- ``hotline-returned`` (``hotline.returned``, 退单) → cancel the transfer's order with the return's
  reason, by the staff member who returned it; an order closed or cancelled already is left alone;
  an order not made yet is retried (the return overtook ``complaint.received``), then parked.
- ``hotline-satisfaction`` (``hotline.satisfaction_reported``, the hotline's own 回访) →
  ``dissatisfied`` reopens a resolved or closed order (重办) with the hotline's comment on the
  timeline; ``satisfied`` or ``basically_satisfied`` closes a resolved one; follow-up met at the
  answer, as the survey's answer does (``work_orders.answer_follow_up``).
- ``resident-updates`` (``complaint.updated_by_resident``) → what the resident added goes on the
  timeline (``timeline_notes``: no status change, no event; a closed order records it without reopening).
- ``call-logged`` (``notification.call_logged``) → an agent's call and its outcome on the timeline
  (``timeline_notes``).
- ``estate-upserted`` (``directory.estate.upserted``) → the local copy of the estate, by the kernel's
  one algorithm (``propcare_shared.directory.keep_estate``); once committed, this process's routing
  cache forgets the estate (``dispatch.cache``).

An answer (a survey's, a hotline's return or follow-up) that finds its order moved on meanwhile (an
illegal transition) is ignored and logged, never retried: the action raised before writing anything,
so the inbox marker commits alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dispatch import timeline_notes, work_orders
from dispatch.config import DispatchConfig
from dispatch.domain.workflow import FINAL_STATUSES, IllegalTransition
from dispatch.metrics import record_targets
from dispatch.store import DispatchStore
from propcare_shared.context import ServiceContext
from propcare_shared.directory import keep_estate
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.handling import Handles

log = logging.getLogger(__name__)

HOTLINE_RETURNED = "returned to the 12345 hotline"
"""The start of a returned transfer's timeline note, and its reason when the return gave none."""
HOTLINE_RESULTS = {"satisfied": True, "basically_satisfied": True, "dissatisfied": False}
"""The hotline's follow-up results, each read as satisfied or not."""


def on_complaint_received(context: ServiceContext, tx: Transaction, event: Event) -> work_orders.Change | None:
    """Make the work order of a received complaint; None when it exists already."""
    config = context.config if isinstance(context.config, DispatchConfig) else DispatchConfig()
    store = DispatchStore(context.database, clock=context.clock, cache_seconds=config.routing_cache_seconds)
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
    if not complaint_id:
        return None
    store = DispatchStore(context.database, clock=context.clock)
    return _answer(
        lambda: work_orders.answer_follow_up(
            tx,
            store=store,
            complaint_id=complaint_id,
            satisfied=False,
            note="survey: not satisfied",
            at=context.clock(),
            answered_at=event.data["answered_at"],
        ),
        event,
    )


def on_survey_completed(context: ServiceContext, tx: Transaction, event: Event) -> work_orders.Change | None:
    """Close a resolved complaint once its resident is satisfied (or the survey closed unanswered)."""
    complaint_id = event.data.get("complaint_id")
    if not event.data.get("satisfied") or not complaint_id:
        return None
    store = DispatchStore(context.database, clock=context.clock)
    auto_closed = bool(event.data.get("auto_closed"))
    return _answer(
        lambda: work_orders.answer_follow_up(
            tx,
            store=store,
            complaint_id=complaint_id,
            satisfied=True,
            note="survey: no answer, closed" if auto_closed else "survey: satisfied",
            at=context.clock(),
            answered_at=event.data["answered_at"],
            unanswered=auto_closed,
        ),
        event,
    )


def on_hotline_returned(context: ServiceContext, tx: Transaction, event: Event) -> work_orders.Change | None:
    """Cancel the work order of a transfer returned to the hotline (退单), with its reason; None when it is over already."""
    complaint_id = event.data.get("complaint_id")
    if not complaint_id:
        log.info("hotline return without a complaint", extra={"hotline_ticket_id": event.data.get("hotline_ticket_id")})
        return None
    store = DispatchStore(context.database, clock=context.clock)
    order = store.work_orders.work_order(complaint_id, session=tx.session)
    if order is None:
        # The return may overtake the complaint.received that makes the order: retried, then parked.
        raise work_orders.WorkOrderNotFound(complaint_id)
    if order["status"] in FINAL_STATUSES:
        return None
    reason = event.data.get("reason") or HOTLINE_RETURNED
    return _answer(
        lambda: work_orders.act(
            tx,
            store=store,
            complaint_id=complaint_id,
            action="cancel",
            values={"note": f"{HOTLINE_RETURNED}: {reason}", "reason": reason},
            actor_id=event.data.get("actor_id"),
            at=event.data.get("at") or context.clock(),
        ),
        event,
    )


def on_hotline_satisfaction(context: ServiceContext, tx: Transaction, event: Event) -> work_orders.Change | None:
    """Reopen (重办) a transfer's work order the hotline's caller is dissatisfied with; close a resolved one they are satisfied with."""
    complaint_id = event.data.get("complaint_id")
    result = event.data.get("result")
    if not complaint_id or result not in HOTLINE_RESULTS:
        log.warning("hotline satisfaction ignored", extra={"complaint_id": complaint_id, "result": result})
        return None
    comment = event.data.get("comment")
    note = f"12345 follow-up: {result}" + (f": {comment}" if comment else "")
    store = DispatchStore(context.database, clock=context.clock)
    change = _answer(
        lambda: work_orders.answer_follow_up(
            tx,
            store=store,
            complaint_id=complaint_id,
            satisfied=HOTLINE_RESULTS[result],
            note=note,
            at=context.clock(),
            answered_at=event.data["at"],
        ),
        event,
    )
    if change is None:
        log.info("hotline satisfaction asks nothing of the work order", extra={"complaint_id": complaint_id, "result": result})
    return change


def on_resident_update(context: ServiceContext, tx: Transaction, event: Event) -> None:
    """Put what a resident added to their complaint on the work order's timeline."""
    store = DispatchStore(context.database, clock=context.clock)
    timeline_notes.record_resident_update(tx, store=store, event=event, now=context.clock())


def on_call_logged(context: ServiceContext, tx: Transaction, event: Event) -> None:
    """Put an agent's call to the resident and its outcome on the work order's timeline."""
    store = DispatchStore(context.database, clock=context.clock)
    timeline_notes.record_call(tx, store=store, event=event, now=context.clock())


def _answer(change: Callable[[], work_orders.Change | None], event: Event) -> work_orders.Change | None:
    try:
        return change()
    except IllegalTransition as exc:
        log.info(
            "answer ignored: the work order moved on",
            extra={"complaint_id": event.data.get("complaint_id"), "event_type": event.type, "status": exc.status},
        )
        return None


def _forget_estate(context: ServiceContext, event: Event, _changed: object) -> None:
    """Drop the estate from this process's routing cache once its new version is committed."""
    DispatchStore(context.database, clock=context.clock).directory.forget_estate(event.data["estate_id"])


def _record_targets(_context: ServiceContext, _event: Event, change: work_orders.Change | None) -> None:
    if change is not None:
        record_targets(order=change.order, results=change.targets)


HANDLERS = (
    Handles("complaint-received", ("complaint.received",), on_complaint_received, after=_log_creation),
    Handles("survey-dissatisfied", ("survey.dissatisfied",), on_survey_dissatisfied, after=_record_targets),
    Handles("survey-completed", ("survey.completed",), on_survey_completed, after=_record_targets),
    Handles("hotline-returned", ("hotline.returned",), on_hotline_returned),
    Handles("hotline-satisfaction", ("hotline.satisfaction_reported",), on_hotline_satisfaction, after=_record_targets),
    Handles("resident-updates", ("complaint.updated_by_resident",), on_resident_update),
    Handles("call-logged", ("notification.call_logged",), on_call_logged),
    Handles("estate-upserted", ("directory.estate.upserted",), keep_estate, after=_forget_estate),
)
"""Dispatch's consumer queues, each with the one function that handles its events."""
