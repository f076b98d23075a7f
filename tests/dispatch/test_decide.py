"""What each action does to a work order (dispatch.domain.decide), without a database: the fields it
changes, the targets it meets or misses, the timeline entry and the events, and the refusals that come
before any of it (role, status, values)."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from dispatch.domain import timers, workflow
from dispatch.domain.assignment import StaffMember
from dispatch.domain.decide import ACTIONS, POLICY, ROUTING, STAFF, decide, facts_needed, follow_up_action
from dispatch.domain.decision import ActionRefused, Actor, Decision, Facts, InvalidAction
from dispatch.domain.escalation import escalation_thresholds
from dispatch.domain.sla import DEFAULT_POLICY
from dispatch.domain.work_order import WorkOrder
from dispatch.domain.workflow import IllegalTransition
from propcare_shared.calendar import WorkingCalendar
from tests.dispatch.factories import MONDAY_MORNING, work_order

HOUR = timedelta(hours=1)
GENERAL_RESOLVE_DUE = MONDAY_MORNING + timedelta(days=3, hours=13, minutes=59, seconds=59)  # Thursday 23:59:59 in Shanghai
SUPERVISOR = Actor(actor_id="eng-sup", role="supervisor")
NS01_STAFF = (
    StaffMember("eng-1", "engineering", "handler"),
    StaffMember("eng-2", "engineering", "handler"),
    StaffMember("sec-1", "security", "handler"),
    StaffMember("mgr", "management", "manager"),
)
POLICY_ONLY = Facts(policy=DEFAULT_POLICY, calendar=WorkingCalendar())
EVERYTHING = Facts(staff=NS01_STAFF, open_counts={"eng-1": 4, "eng-2": 1, "sec-1": 0}, policy=DEFAULT_POLICY, calendar=WorkingCalendar())


def act(
    order: WorkOrder, action: str, *, hours: float = 1, facts: Facts = EVERYTHING, actor: Actor = SUPERVISOR, **values: Any
) -> Decision:
    """Decide an action taken ``hours`` after the complaint was received."""
    return decide(order=order, action=action, values=values, facts=facts, at=MONDAY_MORNING + hours * HOUR, actor=actor)


def event_types(decision: Decision) -> list[tuple[str, int]]:
    return [(emission.event_type, emission.seq) for emission in decision.events]


def outcomes(decision: Decision) -> dict[str, str]:
    return {result.target: result.outcome for result in decision.targets}


# one decision per action ---------------------------------------------------------------------------


def test_respond_meets_the_response_target_and_emits_responded_as_the_next_event() -> None:
    order = work_order()
    decision = act(order, "respond", note="called the resident")
    assert decision.changes["status"] == "responded"
    assert decision.changes["deadlines"]["response"]["met_at"] == MONDAY_MORNING + HOUR
    assert [(result.target, result.outcome, result.seconds) for result in decision.targets] == [("response", "met", 3600.0)]
    assert event_types(decision) == [("complaint.responded", 4)]
    data = decision.events[0].data
    assert (data["status"], data["action"], data["actor_id"], data["note"], data["targets_met"]) == (
        "responded",
        "respond",
        "eng-sup",
        "called the resident",
        {"response": True},
    )
    entry = decision.timeline
    assert (entry["complaint_id"], entry["from_status"], entry["to_status"], entry["details"]) == (
        "c-0001",
        "assigned",
        "responded",
        {"targets": {"response": "met"}},
    )
    resolve_warning = escalation_thresholds(started_at=MONDAY_MORNING, due_at=GENERAL_RESOLVE_DUE)["warning"]
    assert decision.changes["next_check_at"] == resolve_warning


def test_arrive_first_is_the_first_contact_too() -> None:
    decision = act(work_order(tier="important"), "arrive", hours=1.5)
    assert decision.changes["status"] == "in_progress"
    assert outcomes(decision) == {"response": "met", "onsite": "met"}
    assert event_types(decision) == [("complaint.arrived", 4)]


def test_plan_moves_the_order_in_progress_and_meets_the_plan_target() -> None:
    decision = act(work_order(tier="complex", status="responded"), "plan", hours=30, note="replace the cable next week")
    assert decision.changes["status"] == "in_progress"
    assert outcomes(decision) == {"plan": "met"}
    assert event_types(decision) == [("complaint.plan_submitted", 4)]


def test_progress_is_recorded_without_meeting_any_target() -> None:
    decision = act(work_order(status="in_progress"), "progress", note="parts ordered")
    assert decision.changes["status"] == "in_progress"
    assert decision.targets == ()
    assert "targets_met" not in decision.events[0].data
    assert decision.timeline["details"] == {}


def test_accept_of_an_unassigned_order_makes_the_staff_member_its_assignee() -> None:
    order = work_order(status="classified", assignee_id=None)
    decision = act(order, "accept", facts=Facts(staff=NS01_STAFF), actor=Actor(actor_id="eng-2", role="handler"))
    assert (decision.changes["status"], decision.changes["assignee_id"]) == ("assigned", "eng-2")
    assert decision.changes["accepted_at"] == MONDAY_MORNING + HOUR
    assert event_types(decision) == [("complaint.accepted", 4)]


def test_accept_of_an_unassigned_order_by_someone_who_is_not_staff_of_the_estate_is_invalid() -> None:
    order = work_order(status="classified", assignee_id=None)
    with pytest.raises(InvalidAction) as refused:
        act(order, "accept", facts=Facts(staff=NS01_STAFF), actor=Actor(actor_id="ft-eng", role="handler"))
    assert list(refused.value.errors) == ["actor_id"]


def test_hold_pauses_every_unmet_target_and_remembers_the_status() -> None:
    responded = work_order(status="responded")
    responded["deadlines"], _ = timers.meet(responded["deadlines"], targets=["response"], at=MONDAY_MORNING + HOUR)
    decision = act(responded, "hold", hours=2, note="resident away")
    assert (decision.changes["status"], decision.changes["held_from"]) == ("on_hold", "responded")
    assert decision.changes["paused_at"] == MONDAY_MORNING + 2 * HOUR
    assert {target: entry["state"] for target, entry in decision.changes["deadlines"].items()} == {"response": "met", "resolve": "paused"}
    assert decision.changes["next_check_at"] is None
    assert event_types(decision) == [("complaint.on_hold", 4)]


def test_resume_returns_to_the_status_held_and_moves_open_deadlines_later_by_the_time_on_hold() -> None:
    paused_at = MONDAY_MORNING + 2 * HOUR
    held = work_order(status="on_hold", held_from="in_progress", paused_at=paused_at)
    held["deadlines"] = timers.pause(held["deadlines"])
    decision = act(held, "resume", hours=32)
    assert decision.changes["status"] == "in_progress"
    assert (decision.changes["paused_at"], decision.changes["held_from"], decision.changes["paused_seconds"]) == (None, None, 30 * 3600.0)
    resolve = decision.changes["deadlines"]["resolve"]
    assert (resolve["state"], resolve["due_at"], resolve["paused_seconds"]) == ("pending", GENERAL_RESOLVE_DUE + 30 * HOUR, 30 * 3600.0)
    assert event_types(decision) == [("complaint.resumed", 4)]


def test_resolve_meets_the_resolve_target_and_starts_the_follow_up_from_the_resolution() -> None:
    decision = act(work_order(status="in_progress"), "resolve", hours=5, facts=POLICY_ONLY, note="replaced the lamp")
    resolved_at = MONDAY_MORNING + 5 * HOUR
    assert (decision.changes["status"], decision.changes["resolved_at"]) == ("resolved", resolved_at)
    assert outcomes(decision) == {"resolve": "met"}
    follow_up = decision.changes["deadlines"]["follow_up"]
    assert (follow_up["started_at"], follow_up["due_at"], follow_up["state"]) == (resolved_at, resolved_at + 48 * HOUR, "pending")
    assert decision.events[0].data["resolution"] == "replaced the lamp"


def test_reassign_to_a_named_staff_member_emits_reassigned_then_assigned() -> None:
    decision = act(work_order(), "reassign", facts=Facts(staff=NS01_STAFF), assignee_id="eng-2")
    assert (decision.changes["status"], decision.changes["assignee_id"], decision.changes["department"]) == (
        "assigned",
        "eng-2",
        "engineering",
    )
    assert event_types(decision) == [("complaint.reassigned", 4), ("complaint.assigned", 5)]
    assert decision.timeline["details"] == {
        "from": {"assignee_id": "eng-1", "department": "engineering"},
        "to": {"assignee_id": "eng-2", "department": "engineering"},
    }


def test_reassign_to_someone_who_is_not_staff_of_the_estate_is_invalid() -> None:
    with pytest.raises(InvalidAction) as refused:
        act(work_order(), "reassign", facts=Facts(staff=NS01_STAFF), assignee_id="ft-eng")
    assert list(refused.value.errors) == ["assignee_id"]


def test_reassign_to_a_department_goes_to_its_least_loaded_handler() -> None:
    decision = act(work_order(), "reassign", department="security")
    assert (decision.changes["assignee_id"], decision.changes["department"]) == ("sec-1", "security")


def test_reassign_to_a_department_nobody_can_take_is_invalid() -> None:
    engineers_only = Facts(staff=NS01_STAFF[:2])
    with pytest.raises(InvalidAction) as refused:
        act(work_order(), "reassign", facts=engineers_only, department="finance")
    assert list(refused.value.errors) == ["department"]


def test_a_classified_order_reassigned_becomes_assigned() -> None:
    decision = act(work_order(status="classified", assignee_id=None), "reassign", department="engineering")
    assert (decision.changes["status"], decision.changes["assignee_id"]) == ("assigned", "eng-2")


def test_reclassify_into_another_department_routes_again_and_emits_assigned_after_reclassified() -> None:
    decision = act(work_order(), "reclassify", category="service", subcategory="security", tier="general")
    assert (decision.changes["department"], decision.changes["assignee_id"], decision.changes["needs_review"]) == (
        "security",
        "sec-1",
        False,
    )
    assert event_types(decision) == [("complaint.reclassified", 4), ("complaint.assigned", 5)]
    assert decision.timeline["details"]["to"] == {
        "category": "service",
        "subcategory": "security",
        "tier": "general",
        "department": "security",
    }


def test_reclassify_within_the_department_keeps_the_assignee_and_times_the_new_tier_from_receipt() -> None:
    decision = act(work_order(), "reclassify", hours=1, facts=POLICY_ONLY, category="facility", subcategory="water", tier="important")
    assert (decision.changes["assignee_id"], decision.changes["tier"]) == ("eng-1", "important")
    assert event_types(decision) == [("complaint.reclassified", 4)]
    due = {target: entry["due_at"] for target, entry in decision.changes["deadlines"].items()}
    assert (due["response"], due["onsite"], due["plan"]) == (
        MONDAY_MORNING + 2 * HOUR,
        MONDAY_MORNING + 2 * HOUR,
        MONDAY_MORNING + 24 * HOUR,
    )


def test_reclassify_keeps_targets_already_met() -> None:
    responded = work_order(status="responded")
    responded["deadlines"], _ = timers.meet(responded["deadlines"], targets=["response"], at=MONDAY_MORNING + HOUR)
    decision = act(responded, "reclassify", hours=3, facts=POLICY_ONLY, category="facility", subcategory="water", tier="important")
    assert decision.changes["deadlines"]["response"] == responded["deadlines"]["response"]


def test_escalate_raises_the_level_by_one_up_to_three() -> None:
    assert act(work_order(), "escalate").changes["escalation_level"] == 1
    assert act(work_order(escalation_level=3), "escalate").changes["escalation_level"] == 3


def test_reopen_counts_a_repeat_and_restarts_response_and_resolve_from_the_reopen() -> None:
    resolved = work_order(status="resolved", resolved_at=MONDAY_MORNING + 5 * HOUR)
    resolved["deadlines"], _ = timers.meet(resolved["deadlines"], targets=["response", "resolve"], at=MONDAY_MORNING + 5 * HOUR)
    decision = act(resolved, "reopen", hours=24, facts=POLICY_ONLY, note="still dark")
    reopened_at = MONDAY_MORNING + 24 * HOUR
    assert (decision.changes["status"], decision.changes["repeat_count"], decision.changes["resolved_at"]) == ("assigned", 1, None)
    response = decision.changes["deadlines"]["response"]
    assert (response["started_at"], response["due_at"], response["met_at"]) == (reopened_at, reopened_at + 24 * HOUR, None)
    assert decision.changes["deadlines"]["resolve"]["started_at"] == reopened_at
    assert decision.events[0].data["repeat"] is True
    assert event_types(decision) == [("complaint.reopened", 4)]


def test_reopen_of_an_unassigned_order_nobody_can_take_stays_classified() -> None:
    closed = work_order(status="closed", assignee_id=None)
    decision = act(closed, "reopen", facts=POLICY_ONLY)
    assert (decision.changes["status"], decision.changes["assignee_id"]) == ("classified", None)


def test_close_by_a_person_meets_the_follow_up() -> None:
    resolved = work_order(status="resolved")
    resolved["deadlines"]["follow_up"] = timers.new_entry(due_at=MONDAY_MORNING + 53 * HOUR, started_at=MONDAY_MORNING + 5 * HOUR)
    decision = act(resolved, "close", hours=6)
    assert decision.changes["status"] == "closed"
    assert decision.changes["closed_at"] == MONDAY_MORNING + 6 * HOUR
    assert outcomes(decision) == {"follow_up": "met"}


def test_close_after_a_survey_answer_meets_the_follow_up_when_the_resident_answered() -> None:
    resolved = work_order(status="resolved")
    resolved["deadlines"]["follow_up"] = timers.new_entry(due_at=MONDAY_MORNING + 53 * HOUR, started_at=MONDAY_MORNING + 5 * HOUR)
    answered = Facts(follow_up_answered_at=MONDAY_MORNING + 20 * HOUR)
    decision = act(resolved, "close", hours=21, facts=answered, actor=Actor())
    assert decision.changes["deadlines"]["follow_up"]["met_at"] == MONDAY_MORNING + 20 * HOUR
    assert decision.events[0].data["actor_id"] is None


def test_close_after_an_unanswered_survey_leaves_the_follow_up_missed() -> None:
    resolved = work_order(status="resolved")
    resolved["deadlines"]["follow_up"] = timers.new_entry(due_at=MONDAY_MORNING + 53 * HOUR, started_at=MONDAY_MORNING + 5 * HOUR)
    decision = act(resolved, "close", hours=7 * 24, facts=Facts(follow_up_unanswered=True), actor=Actor())
    follow_up = decision.changes["deadlines"]["follow_up"]
    assert (follow_up["met_at"], follow_up["state"]) == (None, "breached")
    assert decision.events[0].data["targets_met"] == {"follow_up": False}
    assert [result.observed for result in decision.targets] == [False]


def test_cancel_records_the_reason_in_the_order_the_timeline_and_the_event() -> None:
    decision = act(work_order(), "cancel", note="same as NS01-0001", reason="duplicate")
    assert (decision.changes["status"], decision.changes["cancel_reason"]) == ("cancelled", "duplicate")
    assert decision.timeline["details"] == {"reason": "duplicate"}
    assert decision.events[0].data["reason"] == "duplicate"
    assert decision.changes["next_check_at"] is None


# refusals, before anything is decided --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("assigned", "close"),
        ("assigned", "reopen"),
        ("classified", "respond"),
        ("resolved", "hold"),
        ("cancelled", "reopen"),
        ("closed", "cancel"),
    ],
)
def test_an_action_the_status_does_not_allow_is_an_illegal_transition(status: str, action: str) -> None:
    with pytest.raises(IllegalTransition) as refused:
        act(work_order(status=status), action)
    assert (refused.value.status, refused.value.allowed_actions) == (status, workflow.allowed_actions(status))


def test_a_handler_is_refused_on_an_order_assigned_to_someone_else_before_its_status_is_looked_at() -> None:
    with pytest.raises(ActionRefused) as refused:
        act(work_order(status="closed"), "respond", actor=Actor(actor_id="eng-2", role="handler"))
    assert refused.value.required_roles == ("agent", "supervisor", "manager")


def test_a_fact_from_another_service_has_no_role_to_refuse() -> None:
    decision = act(work_order(status="resolved"), "reopen", facts=POLICY_ONLY, actor=Actor())
    assert decision.changes["status"] == "assigned"


def test_deciding_changes_nothing_of_the_order_read() -> None:
    order = work_order(status="on_hold", held_from="responded", paused_at=MONDAY_MORNING)
    before = copy.deepcopy(order)
    act(order, "resume", hours=3)
    act(order, "reclassify", facts=EVERYTHING, category="service", subcategory="cleaning", tier="general")
    assert order == before


def test_an_action_decided_without_the_policy_it_needs_is_an_error_not_a_default() -> None:
    with pytest.raises(ValueError, match="policy"):
        act(work_order(status="in_progress"), "resolve", facts=Facts())


# the table ----------------------------------------------------------------------------------------


def test_every_action_of_the_state_machine_has_one_decision() -> None:
    assert list(ACTIONS) == list(workflow.ACTIONS)


@pytest.mark.parametrize(
    ("order", "action", "values", "needed"),
    [
        (work_order(), "respond", {}, set()),
        (work_order(), "accept", {}, set()),
        (work_order(status="classified", assignee_id=None), "accept", {}, {STAFF}),
        (work_order(), "resolve", {}, {POLICY}),
        (work_order(), "reassign", {"assignee_id": "eng-2"}, {STAFF}),
        (work_order(), "reassign", {"department": "security"}, {ROUTING}),
        (work_order(), "reclassify", {"category": "facility", "subcategory": "water", "tier": "general"}, {POLICY}),
        (work_order(), "reclassify", {"category": "fees", "subcategory": "deposit", "tier": "complex"}, {POLICY, ROUTING}),
        (work_order(status="resolved"), "reopen", {}, {POLICY}),
        (work_order(status="resolved", assignee_id=None), "reopen", {}, {POLICY, ROUTING}),
    ],
)
def test_only_the_facts_an_action_needs_are_read(order: WorkOrder, action: str, values: dict[str, Any], needed: set[str]) -> None:
    assert facts_needed(order=order, action=action, values=values) == needed


@pytest.mark.parametrize(
    ("status", "satisfied", "action"),
    [
        ("resolved", False, "reopen"),
        ("closed", False, "reopen"),
        ("assigned", False, None),
        ("cancelled", False, None),
        ("resolved", True, "close"),
        ("closed", True, None),
        ("in_progress", True, None),
    ],
)
def test_a_follow_up_answer_reopens_a_finished_order_closes_a_resolved_one_and_asks_nothing_else(
    status: str, satisfied: bool, action: str | None
) -> None:
    assert follow_up_action(status=status, satisfied=satisfied) == action


def test_reclassify_of_a_hotline_order_keeps_the_hotlines_earlier_resolve_deadline() -> None:
    hotline_deadline = MONDAY_MORNING + timedelta(days=2)
    order = work_order(hotline=True, hotline_ticket_id="12345-1", hotline_deadline=hotline_deadline)
    decision = act(order, "reclassify", facts=POLICY_ONLY, category="facility", subcategory="water", tier="complex")
    assert decision.changes["deadlines"]["resolve"]["due_at"] == hotline_deadline
    assert decision.changes["deadlines"]["response"]["due_at"] == MONDAY_MORNING + timedelta(hours=24)
