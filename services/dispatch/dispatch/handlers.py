"""Dispatch's event handlers, one idempotent handler per event type, each on its own queue.

Each handler runs in ``context.uow.run(..., handled_event=event, consumer=...)``: its writes, the
events they cause and the inbox marker commit together, so a redelivered event raises
``AlreadyHandled`` and has no second effect. Beyond the inbox, each handler also checks the state it
would change (a work order that exists, an order no longer resolved), so a fact arriving twice under
two event ids is harmless too.

- ``complaint.received`` → the work order: classified, tiered with the 30-day history, routed, timed;
  ``complaint.classified`` then ``complaint.assigned``.
- ``survey.dissatisfied`` → reopen a resolved or closed order (follow-up met at the answer).
- ``survey.completed`` (satisfied) → close a resolved order (follow-up met, or missed when the survey
  closed for lack of an answer).
- ``directory.estate.upserted`` → the local copy of the estate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dispatch import work_orders
from dispatch.domain.workflow import IllegalTransition
from dispatch.metrics import record_targets
from dispatch.store import DispatchStore
from propcare_shared.events.bus import Subscription
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.http.app import ServiceContext

log = logging.getLogger(__name__)

SERVICE = "dispatch"


def subscriptions(context: ServiceContext) -> list[Subscription]:
    """Return dispatch's consumer queues and their handlers."""
    store = DispatchStore(context.database, clock=context.clock)
    return [
        Subscription("complaint-received", ("complaint.received",), on_complaint_received(context, store)),
        Subscription("survey-dissatisfied", ("survey.dissatisfied",), on_survey_dissatisfied(context, store)),
        Subscription("survey-completed", ("survey.completed",), on_survey_completed(context, store)),
        Subscription("estate-upserted", ("directory.estate.upserted",), on_estate_upserted(context, store)),
    ]


def on_complaint_received(context: ServiceContext, store: DispatchStore) -> Callable[[Event], None]:
    """Return the handler that makes a work order of a received complaint."""

    def handle(event: Event) -> None:
        change = context.uow.run(
            lambda tx: work_orders.create_from_complaint(tx, store=store, event=event, now=context.clock()),
            handled_event=event,
            consumer=f"{SERVICE}.complaint-received",
        )
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

    return handle


def on_survey_dissatisfied(context: ServiceContext, store: DispatchStore) -> Callable[[Event], None]:
    """Return the handler that reopens a complaint whose resident is not satisfied."""

    def handle(event: Event) -> None:
        complaint_id: str = event.data.get("complaint_id") or ""

        def work(tx: Transaction) -> work_orders.Change | None:
            order = store.work_orders.work_order(complaint_id, session=tx.session) if complaint_id else None
            if order is None or order["status"] not in {"resolved", "closed"}:
                return None
            values = {"note": "survey: not satisfied"}
            return work_orders.act(
                tx,
                store=store,
                complaint_id=complaint_id,
                action="reopen",
                values=values,
                actor_id=None,
                at=context.clock(),
                follow_up_at=event.data["answered_at"],
            )

        _run_and_record(context, event, work, consumer=f"{SERVICE}.survey-dissatisfied")

    return handle


def on_survey_completed(context: ServiceContext, store: DispatchStore) -> Callable[[Event], None]:
    """Return the handler that closes a resolved complaint once its resident is satisfied."""

    def handle(event: Event) -> None:
        complaint_id = event.data.get("complaint_id")
        auto_closed = bool(event.data.get("auto_closed"))

        def work(tx: Transaction) -> work_orders.Change | None:
            if not event.data.get("satisfied") or not complaint_id:
                return None
            order = store.work_orders.work_order(complaint_id, session=tx.session)
            if order is None or order["status"] != "resolved":
                return None
            note = "survey: no answer, closed" if auto_closed else "survey: satisfied"
            return work_orders.act(
                tx,
                store=store,
                complaint_id=complaint_id,
                action="close",
                values={"note": note},
                actor_id=None,
                at=context.clock(),
                follow_up_at=None if auto_closed else event.data["answered_at"],
                follow_up_missed=auto_closed,
            )

        _run_and_record(context, event, work, consumer=f"{SERVICE}.survey-completed")

    return handle


def on_estate_upserted(context: ServiceContext, store: DispatchStore) -> Callable[[Event], None]:
    """Return the handler that keeps the copy of an estate."""

    def handle(event: Event) -> None:
        data = event.data

        def work(tx: Transaction) -> None:
            store.directory.upsert_estate(
                estate_id=data["estate_id"],
                group_id=data["group_id"],
                region_id=data["region_id"],
                code=data["code"],
                name=data["name"],
                timezone=data.get("timezone") or "Asia/Shanghai",
                as_of=event.occurred_at,
                session=tx.session,
            )

        context.uow.run(work, handled_event=event, consumer=f"{SERVICE}.estate-upserted")

    return handle


def _run_and_record(
    context: ServiceContext, event: Event, work: Callable[[Transaction], work_orders.Change | None], *, consumer: str
) -> None:
    try:
        change = context.uow.run(work, handled_event=event, consumer=consumer)
    except IllegalTransition as exc:
        log.info("survey answer ignored", extra={"complaint_id": event.data.get("complaint_id"), "status": exc.status})
        return
    if change is not None:
        record_targets(order=change.order, results=change.targets)
