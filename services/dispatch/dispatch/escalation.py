"""The SLA escalation scanner (SPEC §5): warnings, breaches and escalation levels of open work orders.

Guarantee: each step of a target (the warning at 80%, the breach at 100%, levels 2 and 3 at 150% and
200%) fires exactly once, and so does each rise of an order's ``escalation_level``, across restarts
and with any number of scanners running at once. How:
- a step is recorded on its target (``warned``, ``breached``, ``levels``) by a conditional update
  whose filter requires the order's ``seq`` as read and the step not recorded yet, in the same
  transaction that stores its event in the outbox: both commit or neither does. A second scanner on
  the same order conflicts, is retried by the driver, reads the step recorded and fires nothing;
  one that finds the order changed under it (no match) aborts and leaves the order to the next scan;
- a scanner that dies mid-run leaves each order done or untouched, and an untouched order stays due
  (``next_check_at``), so the next scan, by any replica, fires it once;
- the outbox relay publishes at least once, so consumers dedupe by event id, as for every event.

What fires: ``sla.warning`` at 80% (to the assignee: ``assignee_id``, no role), ``sla.breached`` at
100% (to the department supervisor; the target's state becomes ``breached`` and the breach is
counted once in ``complaint_targets_total``), and ``complaint.escalated`` whenever the order's level
rises: 1 at 100% (supervisor), 2 at 150% (estate manager), 3 at 200% (regional operations), at once
to 3 for an emergency breach or a hotline complaint. Consumers read whom a level alerts from
``escalation_level`` (``ESCALATION_ROLES``). A met target stops escalating; paused targets (on hold)
are skipped. Each order is read only when its indexed ``next_check_at`` has come, and a pass pages
through the due orders by their (``next_check_at``, ``_id``) key, read from the index alone.
"""

from __future__ import annotations

import logging
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dispatch.config import config_of
from dispatch.domain import timers
from dispatch.domain.escalation import ASSIGNEE, ESCALATION_ROLES
from dispatch.domain.work_order import TimelineEntry, WorkOrder, event_data, timeline_entry
from dispatch.domain.workflow import MAX_ESCALATION_LEVEL
from dispatch.metrics import record_escalation, record_targets
from dispatch.store import DispatchStore
from dispatch.store.work_orders import DueCheck
from dispatch.work_orders import ConcurrentChange
from propcare_shared.clock import utcnow
from propcare_shared.context import ServiceContext
from propcare_shared.events.outbox import Transaction, release_lease, take_lease
from propcare_shared.tenancy import Tenancy
from propcare_shared.worker import PeriodicLoop

log = logging.getLogger(__name__)

BATCH_SIZE = 200
PASS_LEASE = timedelta(seconds=60)
"""How long a scanner that died mid-pass keeps the others from scanning; renewed at every page of a pass."""
PASS_LEASE_ID = "sla-scanner"
ALERT_EVENTS = {"warning": "sla.warning", "breached": "sla.breached"}


@dataclass
class Escalation:
    """What one check of an order fired: its alerts, the level it rose to and the breaches to count."""

    order: WorkOrder
    alerts: list[timers.Alert]
    escalated_to: int | None = None
    breaches: list[timers.TargetResult] = field(default_factory=list)


def notify_roles(step_roles: tuple[str, ...]) -> list[str]:
    """Return a step's staff roles; the assignee is addressed by ``assignee_id``, not by a role."""
    return [role for role in step_roles if role != ASSIGNEE]


def _alert_data(order: WorkOrder, alert: timers.Alert, *, at: datetime) -> dict[str, Any]:
    return {
        "complaint_id": order["_id"],
        "ticket_no": order["ticket_no"],
        "target": alert.target,
        "tier": order["tier"],
        "due_at": alert.due_at,
        "at": at,
        "level": alert.step.level,
        "notify_roles": notify_roles(alert.step.roles),
        "assignee_id": order.get("assignee_id"),
        "department": order.get("department"),
    }


def _note(alert: timers.Alert) -> str:
    if alert.step.kind == "warning":
        return f"SLA {alert.target}: 80% of the time used"
    if alert.step.kind == "breached":
        return f"SLA {alert.target}: deadline passed"
    return f"SLA {alert.target}: escalated to level {alert.step.level}"


def escalate(tx: Transaction, *, store: DispatchStore, complaint_id: str, now: datetime) -> Escalation | None:
    """Fire the steps of an order due at ``now`` and not fired yet, and store when to look again; None if gone or not due.

    An order no longer due (``next_check_at`` None or later than ``now``) was checked meanwhile, by another
    scanner or an action: nothing is written. Before, such an order was rewritten with what it already held,
    a write that conflicted with the other scanner's and was retried after the driver's back-off.
    """
    session = tx.session
    order = store.work_orders.work_order(complaint_id, session=session)
    if order is None or not _still_due(order, now=now):
        return None
    alerts = timers.due_alerts(order, now=now)
    deadlines = timers.record_alerts(order.get("deadlines") or {}, alerts=alerts)
    level_before = int(order.get("escalation_level", 0))
    reached = max((alert.step.level for alert in alerts if alert.step.kind != "warning"), default=0)
    level = min(max(level_before, reached), MAX_ESCALATION_LEVEL)
    escalated = level > level_before
    changes: dict[str, Any] = {f"deadlines.{target}": deadlines[target] for target in {alert.target for alert in alerts}}
    changes["escalation_level"] = level
    changes["next_check_at"] = timers.next_check_at({**order, "deadlines": deadlines})
    updated = store.work_orders.record_escalation(
        complaint_id,
        expected_seq=order["seq"],
        alerts=alerts,
        changes=changes,
        events=1 if escalated else 0,
        session=session,
    )
    if updated is None:
        raise ConcurrentChange(complaint_id)
    entries: list[TimelineEntry] = []
    for alert in alerts:
        event_type = ALERT_EVENTS.get(alert.step.kind)
        if event_type is None:
            continue
        tx.emit(event_type, data=_alert_data(updated, alert, at=now), correlation_id=complaint_id, tenancy=Tenancy.of(updated))
        entries.append(_timeline(updated, alert, at=now, action=event_type.replace(".", "_")))
    if escalated:
        top = next(alert for alert in alerts if alert.step.level == level)
        note = _note(top)
        tx.emit(
            "complaint.escalated",
            data=event_data(updated, action="escalate", at=now, note=note),
            correlation_id=complaint_id,
            seq=order["seq"] + 1,
            tenancy=Tenancy.of(updated),
        )
        entries.append(_timeline(updated, top, at=now, action="escalate", note=note))
    store.work_orders.append_timeline(entries, session=session)
    breaches = [
        timers.TargetResult(alert.target, "breached", max((now - alert.started_at).total_seconds(), 0.0), counted=True, observed=False)
        for alert in alerts
        if alert.step.kind == "breached"
    ]
    return Escalation(order=updated, alerts=alerts, escalated_to=level if escalated else None, breaches=breaches)


def _still_due(order: WorkOrder, *, now: datetime) -> bool:
    due_at = order.get("next_check_at")
    return due_at is not None and due_at <= now


def _timeline(order: WorkOrder, alert: timers.Alert, *, at: datetime, action: str, note: str | None = None) -> TimelineEntry:
    return timeline_entry(
        complaint_id=order["_id"],
        at=at,
        action=action,
        actor_id=None,
        note=note or _note(alert),
        from_status=order["status"],
        to_status=order["status"],
        details={
            "target": alert.target,
            "level": alert.step.level,
            "due_at": alert.due_at,
            "roles": list(ESCALATION_ROLES[alert.step.level]),
        },
    )


class EscalationScanner:
    """Checks every work order whose next escalation check has come; one transaction per order, one pass at a time."""

    def __init__(self, *, context: ServiceContext, batch_size: int = BATCH_SIZE) -> None:
        self.context = context
        self.store = DispatchStore(context.database, clock=context.clock)
        self.batch_size = batch_size
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"

    def scan(self) -> list[Escalation]:
        """Fire everything due at the clock's now; return what fired (orders that failed wait for the next scan).

        A pass pages through the due orders by their (next check, id) key, so its cost follows the orders
        due, not the open ones, and an order whose check failed is not read again before the next pass.
        One pass at a time across replicas (``_take_pass``): two scanners walking the same due orders in
        the same order wrote each order at the same moment, and one of the two transactions conflicted
        and was retried after the driver's back-off (docs/PERFORMANCE.md, "Dispatch's queries"). A
        replica that finds a pass running skips its turn; what is due waits for the next interval.
        """
        if not self._take_pass():
            return []
        try:
            return self._pass()
        finally:
            self._release_pass()

    def _pass(self) -> list[Escalation]:
        now = self.context.clock()
        fired: list[Escalation] = []
        seen: set[str] = set()
        after: DueCheck | None = None
        while True:
            due = self.store.work_orders.due_checks(now=now, limit=self.batch_size, after=after)
            if not due:
                return fired
            if after is not None and not self._take_pass():
                log.warning("escalation pass lease lost; the next pass continues", extra={"checked": len(seen)})
                return fired
            after = due[-1]
            for _, complaint_id in due:
                if complaint_id in seen:
                    continue
                seen.add(complaint_id)
                escalation = self.check(complaint_id, now=now)
                if escalation is not None and escalation.alerts:
                    fired.append(escalation)

    def _take_pass(self) -> bool:
        """Take or renew the pass lease (wall clock: a frozen service clock must not make it eternal); tell whether held."""
        return take_lease(self.context.database, PASS_LEASE_ID, self.owner, now=utcnow(), ttl=PASS_LEASE)

    def _release_pass(self) -> None:
        release_lease(self.context.database, PASS_LEASE_ID, self.owner)

    def check(self, complaint_id: str, *, now: datetime) -> Escalation | None:
        """Check one order in its own transaction; count its breaches once committed."""
        try:
            escalation = self.context.uow.run(lambda tx: escalate(tx, store=self.store, complaint_id=complaint_id, now=now))
        except ConcurrentChange:
            log.info("work order changed during its escalation check; the next scan retries", extra={"complaint_id": complaint_id})
            return None
        except Exception:
            log.exception("escalation check failed; the next scan retries", extra={"complaint_id": complaint_id})
            return None
        if escalation is None:
            return None
        if escalation.alerts:
            log.info(
                "sla steps fired",
                extra={
                    "complaint_id": complaint_id,
                    "steps": [f"{alert.target}:{alert.step.kind}:{alert.step.level}" for alert in escalation.alerts],
                    "escalation_level": escalation.order.get("escalation_level"),
                },
            )
        record_targets(order=escalation.order, results=escalation.breaches)
        record_escalation(order=escalation.order, level=escalation.escalated_to)
        return escalation


def scanner_loop(context: ServiceContext) -> PeriodicLoop:
    """Return the scanner as a worker loop running every ``SLA_SCAN_INTERVAL`` seconds."""
    return PeriodicLoop("sla-scanner", config_of(context).sla_scan_interval, EscalationScanner(context=context).scan)
