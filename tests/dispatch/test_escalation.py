"""The SLA escalation scanner against a real mongod (and the real broker for the worker): each warning,
breach and escalation level fires exactly once, across restarts and with two scanners at once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from dispatch import work_orders
from dispatch.domain import timers
from dispatch.escalation import EscalationScanner
from dispatch.service import periodic_loops
from dispatch.store import DispatchStore, unrecorded_filter
from dispatch.worker import build_worker
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker
from tests.dispatch.conftest import CONFIG
from tests.dispatch.factories import LIFT_TRAPPED, MONDAY_MORNING

# A general complaint received Monday 02:00Z: response due 24 h later, so 80% falls at 19 h 12 min,
# 100% at 24 h, 150% at 36 h and 200% at 48 h; the breach and the levels fire once their instant has
# passed (met at the deadline is met), so the test clock steps a millisecond past them. Its resolve
# target (3 working days, Thursday 23:59:59 local) has its first step, the warning, after 48 h.
JUST = timedelta(milliseconds=1)
DUE = MONDAY_MORNING + timedelta(hours=24)
WARNING_AT = MONDAY_MORNING + timedelta(hours=19, minutes=12)
BREACH_AT = DUE + JUST
LEVEL_2_AT = MONDAY_MORNING + timedelta(hours=36) + JUST
LEVEL_3_AT = MONDAY_MORNING + timedelta(hours=48) + JUST
ALERT_TYPES = ("sla.warning", "sla.breached", "complaint.escalated")


@pytest.fixture
def scanner(context: ServiceContext) -> EscalationScanner:
    return EscalationScanner(context=context)


@pytest.fixture
def order(staff: None, make_work_order: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A general facility complaint in NS01, assigned to an engineer."""
    return make_work_order()


@pytest.fixture
def second_context(settings: Settings, clock: FrozenClock) -> Iterator[Callable[[], ServiceContext]]:
    """Open more contexts on the same database (another replica, a restarted process), each with its own client."""
    opened: list[ServiceContext] = []

    def open_() -> ServiceContext:
        opened.append(ServiceContext.open(settings, clock=clock))
        return opened[-1]

    yield open_
    for context in opened:
        context.close()


def alerts(context: ServiceContext, complaint_id: str | None = None) -> list[tuple[str, str, str | None, int]]:
    """Return the escalation events in the outbox as (complaint, type, target, level)."""
    query: dict[str, Any] = {"event.type": {"$in": list(ALERT_TYPES)}}
    if complaint_id:
        query["event.correlation_id"] = complaint_id
    found = []
    for document in context.database.outbox.find(query).sort([("created_at", 1), ("position", 1)]):
        event = document["event"]
        data = event["data"]
        level = data["escalation_level"] if event["type"] == "complaint.escalated" else data["level"]
        found.append((event["correlation_id"], event["type"], data.get("target"), level))
    return found


def kinds(context: ServiceContext, complaint_id: str) -> list[tuple[str, str | None, int]]:
    return sorted(found[1:] for found in alerts(context, complaint_id))


def breaches_counted(*, target: str, tier: str, channel: str = "app") -> float:
    if channel == "gov_hotline":
        return REGISTRY.get_sample_value("hotline_targets_total", {"target": target, "region": "G1/R1", "outcome": "breached"}) or 0.0
    labels = {"target": target, "tier": tier, "region": "G1/R1", "outcome": "breached"}
    return REGISTRY.get_sample_value("complaint_targets_total", labels) or 0.0


def act(context: ServiceContext, store: DispatchStore, complaint_id: str, action: str, *, at: datetime, **values: Any) -> None:
    context.uow.run(
        lambda tx: work_orders.act(tx, store=store, complaint_id=complaint_id, action=action, values=values, actor_id="eng-sup", at=at)
    )


# pure: which steps are due and when to look again ------------------------------------------------


def test_next_check_is_the_earliest_step_not_fired(order: dict[str, Any]) -> None:
    assert order["next_check_at"] == WARNING_AT
    warned = {**order, "deadlines": timers.record_alerts(order["deadlines"], alerts=timers.due_alerts(order, now=WARNING_AT))}
    assert timers.next_check_at(warned) == DUE
    assert timers.next_check_at({**order, "status": "on_hold"}) is None
    assert timers.next_check_at({**order, "status": "closed"}) is None


def test_the_filter_of_a_step_refuses_it_once_recorded(order: dict[str, Any]) -> None:
    due = timers.due_alerts(order, now=LEVEL_3_AT)
    assert [(alert.target, alert.step.kind, alert.step.level) for alert in due] == [
        ("response", "warning", 0),
        ("response", "breached", 1),
        ("response", "level", 2),
        ("response", "level", 3),
    ]
    assert unrecorded_filter(due) == {
        "deadlines.response.met_at": None,
        "deadlines.response.state": {"$ne": "paused"},
        "deadlines.response.warned": {"$ne": True},
        "deadlines.response.breached": {"$ne": True},
        "deadlines.response.levels": {"$nin": [1, 2, 3]},
    }
    recorded = timers.record_alerts(order["deadlines"], alerts=due)["response"]
    assert (recorded["warned"], recorded["breached"], recorded["levels"], recorded["state"]) == (True, True, [1, 2, 3], "breached")


# each step once ------------------------------------------------------------------------------------


def test_warning_fires_once_at_80_percent(
    context: ServiceContext, scanner: EscalationScanner, order: dict[str, Any], clock: FrozenClock
) -> None:
    clock.now = WARNING_AT - timedelta(seconds=1)
    assert scanner.scan() == []
    clock.now = WARNING_AT
    scanner.scan()
    scanner.scan()
    assert alerts(context) == [(order["_id"], "sla.warning", "response", 0)]
    warning = context.database.outbox.find_one({"event.type": "sla.warning"})["event"]
    assert warning["data"]["notify_roles"] == []
    assert warning["data"]["assignee_id"] == order["assignee_id"]
    assert warning["data"]["due_at"] == DUE
    stored = context.database.work_orders.find_one({"_id": order["_id"]})
    assert (stored["deadlines"]["response"]["warned"], stored["deadlines"]["response"]["state"]) == (True, "pending")
    assert (stored["next_check_at"], stored["seq"], stored["escalation_level"]) == (DUE, order["seq"], 0)


def test_breach_fires_once_marks_the_target_breached_and_counts_it_once(
    context: ServiceContext, store: DispatchStore, scanner: EscalationScanner, order: dict[str, Any], clock: FrozenClock
) -> None:
    counted = breaches_counted(target="response", tier="general")
    clock.now = BREACH_AT
    scanner.scan()
    scanner.scan()
    assert kinds(context, order["_id"]) == [
        ("complaint.escalated", None, 1),
        ("sla.breached", "response", 1),
        ("sla.warning", "response", 0),
    ]
    breach = context.database.outbox.find_one({"event.type": "sla.breached"})["event"]
    assert breach["data"]["notify_roles"] == ["supervisor"]
    escalated = context.database.outbox.find_one({"event.type": "complaint.escalated"})["event"]
    assert (escalated["seq"], escalated["data"]["status"], escalated["data"]["action"]) == (order["seq"] + 1, "assigned", "escalate")
    stored = context.database.work_orders.find_one({"_id": order["_id"]})
    assert (stored["deadlines"]["response"]["state"], stored["escalation_level"], stored["seq"]) == ("breached", 1, order["seq"] + 1)
    assert breaches_counted(target="response", tier="general") == counted + 1
    act(context, store, order["_id"], "respond", at=clock())
    late = context.database.work_orders.find_one({"_id": order["_id"]})["deadlines"]["response"]
    assert (late["state"], late["met_at"]) == ("breached", clock())
    assert breaches_counted(target="response", tier="general") == counted + 1
    actions = [entry["action"] for entry in store.work_orders.timeline(order["_id"])]
    assert actions == ["classify", "assign", "sla_warning", "sla_breached", "escalate", "respond"]


def test_levels_1_2_3_at_100_150_and_200_percent(
    context: ServiceContext, scanner: EscalationScanner, order: dict[str, Any], clock: FrozenClock
) -> None:
    levels = []
    for moment in (BREACH_AT, LEVEL_2_AT - JUST, LEVEL_2_AT, LEVEL_3_AT - JUST, LEVEL_3_AT):
        clock.now = moment
        scanner.scan()
        levels.append(context.database.work_orders.find_one({"_id": order["_id"]})["escalation_level"])
    assert levels == [1, 1, 2, 2, 3]
    scanner.scan()
    escalations = [found for found in alerts(context, order["_id"]) if found[1] == "complaint.escalated"]
    assert [level for *_, level in escalations] == [1, 2, 3]
    stored = context.database.work_orders.find_one({"_id": order["_id"]})
    assert stored["deadlines"]["response"]["levels"] == [1, 2, 3]
    assert stored["next_check_at"] > LEVEL_3_AT  # only the resolve target is left to check


def test_emergency_breach_escalates_straight_to_level_3(
    context: ServiceContext,
    scanner: EscalationScanner,
    staff: None,
    make_work_order: Callable[..., dict[str, Any]],
    clock: FrozenClock,
) -> None:
    emergency = make_work_order(text=LIFT_TRAPPED, building="5")
    assert emergency["tier"] == "emergency"
    clock.advance(timedelta(minutes=15))
    scanner.scan()
    assert [found[1] for found in alerts(context, emergency["_id"])] == ["sla.warning"]
    clock.advance(JUST)
    scanner.scan()
    scanner.scan()
    assert kinds(context, emergency["_id"]) == [
        ("complaint.escalated", None, 3),
        ("sla.breached", "response", 1),
        ("sla.warning", "response", 0),
    ]
    assert context.database.work_orders.find_one({"_id": emergency["_id"]})["deadlines"]["response"]["levels"] == [1, 2, 3]


def test_hotline_complaint_breach_escalates_straight_to_level_3(
    context: ServiceContext,
    scanner: EscalationScanner,
    staff: None,
    make_work_order: Callable[..., dict[str, Any]],
    clock: FrozenClock,
) -> None:
    hotline = make_work_order(
        channel="gov_hotline", hotline_ticket_id="12345-20261123-000001", hotline_deadline=MONDAY_MORNING + timedelta(days=2)
    )
    assert (hotline["tier"], hotline["hotline"]) == ("general", True)
    counted = breaches_counted(target="response", tier="general", channel="gov_hotline")
    clock.now = DUE
    scanner.scan()
    assert kinds(context, hotline["_id"]) == [("sla.warning", "response", 0)]
    clock.now = BREACH_AT
    scanner.scan()
    scanner.scan()
    assert kinds(context, hotline["_id"]) == [
        ("complaint.escalated", None, 3),
        ("sla.breached", "response", 1),
        ("sla.warning", "response", 0),
    ]
    stored = context.database.work_orders.find_one({"_id": hotline["_id"]})
    assert (stored["escalation_level"], stored["deadlines"]["response"]["levels"]) == (3, [1, 2, 3])
    assert breaches_counted(target="response", tier="general", channel="gov_hotline") == counted + 1


def test_a_transfer_whose_reply_deadline_has_passed_is_overdue_and_at_level_3_on_the_first_scan(
    context: ServiceContext,
    scanner: EscalationScanner,
    staff: None,
    make_work_order: Callable[..., dict[str, Any]],
    clock: FrozenClock,
) -> None:
    late = make_work_order(
        channel="gov_hotline", hotline_ticket_id="12345-20261120-000009", hotline_deadline=MONDAY_MORNING - timedelta(hours=1)
    )
    assert late["deadlines"]["resolve"]["due_at"] == MONDAY_MORNING - timedelta(hours=1)
    counted = breaches_counted(target="resolve", tier="general", channel="gov_hotline")
    scanner.scan()
    assert kinds(context, late["_id"]) == [
        ("complaint.escalated", None, 3),
        ("sla.breached", "resolve", 1),
        ("sla.warning", "resolve", 0),
    ]
    assert context.database.work_orders.find_one({"_id": late["_id"]})["escalation_level"] == 3
    assert breaches_counted(target="resolve", tier="general", channel="gov_hotline") == counted + 1


def test_a_target_met_in_time_never_breaches(
    context: ServiceContext, store: DispatchStore, scanner: EscalationScanner, order: dict[str, Any], clock: FrozenClock
) -> None:
    clock.now = WARNING_AT
    scanner.scan()
    clock.now = DUE
    act(context, store, order["_id"], "respond", at=clock())
    for moment in (BREACH_AT, LEVEL_2_AT, LEVEL_3_AT):
        clock.now = moment
        scanner.scan()
    assert [found[1:] for found in alerts(context, order["_id"])] == [("sla.warning", "response", 0)]
    stored = context.database.work_orders.find_one({"_id": order["_id"]})
    assert (stored["deadlines"]["response"]["state"], stored["escalation_level"]) == ("met", 0)
    resolve = stored["deadlines"]["resolve"]
    assert stored["next_check_at"] == resolve["started_at"] + (resolve["due_at"] - resolve["started_at"]) * 0.8


def test_a_paused_target_is_not_breached_and_resumes_from_where_it_stood(
    context: ServiceContext, store: DispatchStore, scanner: EscalationScanner, order: dict[str, Any], clock: FrozenClock
) -> None:
    clock.now = MONDAY_MORNING + timedelta(hours=12)  # half of the response time
    act(context, store, order["_id"], "accept", at=clock())
    act(context, store, order["_id"], "hold", at=clock(), note="no access to the flat")
    assert context.database.work_orders.find_one({"_id": order["_id"]})["next_check_at"] is None
    clock.now = MONDAY_MORNING + timedelta(hours=72)
    assert scanner.scan() == []
    act(context, store, order["_id"], "resume", at=clock())
    resumed = context.database.work_orders.find_one({"_id": order["_id"]})
    assert resumed["deadlines"]["response"]["state"] == "pending"
    # 12 of 24 hours were used before the hold, so 80% falls 7 h 12 min after the resume.
    assert resumed["next_check_at"] == clock() + timedelta(hours=7, minutes=12)
    clock.advance(timedelta(hours=7, minutes=11))
    assert scanner.scan() == []
    clock.advance(timedelta(minutes=1))
    scanner.scan()
    assert [found[1:] for found in alerts(context, order["_id"])] == [("sla.warning", "response", 0)]


def test_a_cancelled_order_is_not_scanned(
    context: ServiceContext,
    store: DispatchStore,
    scanner: EscalationScanner,
    staff: None,
    make_work_order: Callable[..., dict[str, Any]],
    clock: FrozenClock,
) -> None:
    cancelled = make_work_order()
    act(context, store, cancelled["_id"], "cancel", at=clock(), note="duplicate", reason="duplicate")
    clock.now = LEVEL_3_AT
    assert scanner.scan() == []
    assert alerts(context) == []


def test_the_scan_reads_only_the_orders_due_through_the_next_check_index(
    context: ServiceContext,
    store: DispatchStore,
    staff: None,
    make_work_order: Callable[..., dict[str, Any]],
    clock: FrozenClock,
) -> None:
    emergency = make_work_order(text=LIFT_TRAPPED, building="E1")
    for n in range(5):
        make_work_order(building=f"G{n}")
    clock.advance(timedelta(minutes=13))
    assert store.work_orders.due_for_check(now=clock(), limit=100) == [emergency["_id"]]
    plan = context.database.work_orders.find({"next_check_at": {"$lte": clock()}}).sort("next_check_at", 1).explain()
    assert "IXSCAN" in str(plan["queryPlanner"]["winningPlan"])
    assert "next_check_at_1" in str(plan["queryPlanner"]["winningPlan"])
    assert plan["executionStats"]["totalDocsExamined"] == 1


# exactly once with two scanners and across restarts ---------------------------------------------


def test_two_scanners_running_at_once_fire_each_event_exactly_once(
    context: ServiceContext,
    second_context: Callable[[], ServiceContext],
    staff: None,
    make_work_order: Callable[..., dict[str, Any]],
    clock: FrozenClock,
) -> None:
    orders = [make_work_order(building=f"G{n}") for n in range(12)]
    orders += [make_work_order(text=LIFT_TRAPPED, building=f"E{n}") for n in range(4)]
    assert Counter(order["tier"] for order in orders) == {"general": 12, "emergency": 4}
    counted = breaches_counted(target="response", tier="general") + breaches_counted(target="response", tier="emergency")
    scanners = [EscalationScanner(context=second_context()), EscalationScanner(context=second_context())]
    fired: list[list[Any]] = [[], []]

    def run(index: int, start: threading.Barrier) -> None:
        start.wait()
        for _ in range(3):
            fired[index] += scanners[index].scan()

    for moment in (WARNING_AT, BREACH_AT, LEVEL_2_AT, LEVEL_3_AT):
        clock.now = moment
        start = threading.Barrier(2)
        threads = [threading.Thread(target=run, args=(index, start)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    found = alerts(context)
    duplicates = [key for key, count in Counter(found).items() if count > 1]
    assert duplicates == []
    fired_alerts = [(e.order["_id"], alert.target, alert.step.kind, alert.step.level) for run in fired for e in run for alert in e.alerts]
    assert len(fired_alerts) == len(set(fired_alerts))
    for order in orders:
        escalations = [level for _, kind, _, level in alerts(context, order["_id"]) if kind == "complaint.escalated"]
        assert escalations == ([1, 2, 3] if order["tier"] == "general" else [3]), order["tier"]
        assert context.database.work_orders.find_one({"_id": order["_id"]})["escalation_level"] == 3
    breached = [item for item in found if item[1] == "sla.breached" and item[2] == "response"]
    assert len(breached) == len(orders)
    now_counted = breaches_counted(target="response", tier="general") + breaches_counted(target="response", tier="emergency")
    assert now_counted == counted + len(orders)


def test_a_restarted_scanner_after_a_partial_run_fires_only_what_was_left(
    context: ServiceContext,
    second_context: Callable[[], ServiceContext],
    staff: None,
    make_work_order: Callable[..., dict[str, Any]],
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, crashed, third = (make_work_order(building=str(n)) for n in range(3))
    clock.now = BREACH_AT
    before_restart = EscalationScanner(context=second_context())
    append = before_restart.store.work_orders.append_timeline

    def crash_on_one_order(entries: list[dict[str, Any]], *, session: Any) -> None:
        if entries and entries[0]["complaint_id"] == crashed["_id"]:
            raise RuntimeError("process died in the middle of the transaction")
        append(entries, session=session)

    monkeypatch.setattr(before_restart.store.work_orders, "append_timeline", crash_on_one_order)
    before_restart.scan()
    assert alerts(context, crashed["_id"]) == []
    left = context.database.work_orders.find_one({"_id": crashed["_id"]})
    assert (left["deadlines"]["response"]["warned"], left["escalation_level"], left["next_check_at"]) == (False, 0, WARNING_AT)
    done_before = sorted(alerts(context))

    after_restart = EscalationScanner(context=second_context())
    after_restart.scan()
    after_restart.scan()
    found = alerts(context)
    assert sorted(item for item in found if item[0] != crashed["_id"]) == done_before
    assert kinds(context, crashed["_id"]) == kinds(context, first["_id"]) == kinds(context, third["_id"])
    assert Counter(found).most_common(1)[0][1] == 1


# the worker ----------------------------------------------------------------------------------------


def test_the_worker_runs_the_scanner_every_sla_scan_interval(context: ServiceContext, settings: Settings) -> None:
    [loop] = periodic_loops(context)
    assert (loop.name, loop.interval) == ("sla-scanner", CONFIG.sla_scan_interval)


def test_the_worker_publishes_a_breach_on_the_bus_once(
    context: ServiceContext,
    settings: Settings,
    order: dict[str, Any],
    clock: FrozenClock,
    start_worker: Callable[[Worker], Worker],
    capture: Callable[[str], Callable[[], list[dict[str, Any]]]],
) -> None:
    read = capture("sla.#")
    start_worker(build_worker(context))
    clock.now = BREACH_AT
    wait_for(lambda: any(body["type"] == "sla.breached" for body in read()), timeout=15, message="sla.breached on the bus")
    wait_for(lambda: context.database.outbox.count_documents({"published_at": None}) == 0, timeout=15, message="outbox drained")
    threading.Event().wait(4 * CONFIG.sla_scan_interval)
    received = read()
    assert sorted(body["type"] for body in received) == ["sla.breached", "sla.warning"]
    assert {body["data"]["complaint_id"] for body in received} == {order["_id"]}
