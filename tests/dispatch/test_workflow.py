"""The work-order state machine (allowed actions per status, required fields, targets met, events)
and the SLA targets of one order as actions change them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatch.domain import timers
from dispatch.domain.workflow import ACTIONS, OPEN_STATUSES, IllegalTransition, allowed_actions, apply, missing_or_invalid
from propcare_shared.vocabulary import STATUSES

EXPECTED_ALLOWED = {
    "received": ["cancel"],
    "classified": ["accept", "reassign", "reclassify", "escalate", "cancel"],
    "assigned": ["accept", "respond", "arrive", "plan", "hold", "resolve", "reassign", "reclassify", "escalate", "cancel"],
    "responded": ["arrive", "plan", "progress", "hold", "resolve", "reassign", "reclassify", "escalate", "cancel"],
    "in_progress": ["plan", "progress", "hold", "resolve", "reassign", "reclassify", "escalate", "cancel"],
    "on_hold": ["resume", "reassign", "reclassify", "escalate", "cancel"],
    "resolved": ["reopen", "close"],
    "closed": ["reopen"],
    "cancelled": [],
}

EVENTS = {
    "accept": ("complaint.accepted",),
    "respond": ("complaint.responded",),
    "arrive": ("complaint.arrived",),
    "plan": ("complaint.plan_submitted",),
    "progress": ("complaint.progress_updated",),
    "hold": ("complaint.on_hold",),
    "resume": ("complaint.resumed",),
    "resolve": ("complaint.resolved",),
    "reassign": ("complaint.reassigned", "complaint.assigned"),
    "reclassify": ("complaint.reclassified",),
    "escalate": ("complaint.escalated",),
    "reopen": ("complaint.reopened",),
    "close": ("complaint.closed",),
    "cancel": ("complaint.cancelled",),
}


@pytest.mark.parametrize("status", STATUSES)
def test_allowed_actions_follow_the_lifecycle(status: str) -> None:
    assert allowed_actions(status) == EXPECTED_ALLOWED[status]


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_emits_its_events(action: str) -> None:
    status = next(s for s in STATUSES if action in allowed_actions(s))
    assert apply(status=status, action=action, held_from="in_progress").events == EVENTS[action]


@pytest.mark.parametrize(
    ("status", "action", "to_status", "meets"),
    [
        ("assigned", "respond", "responded", ("response",)),
        ("assigned", "arrive", "in_progress", ("response", "onsite")),
        ("responded", "arrive", "in_progress", ("onsite",)),
        ("responded", "plan", "in_progress", ("plan",)),
        ("in_progress", "progress", "in_progress", ()),
        ("in_progress", "resolve", "resolved", ("resolve",)),
        ("assigned", "resolve", "resolved", ("response", "resolve")),
        ("assigned", "hold", "on_hold", ()),
        ("resolved", "close", "closed", ()),
        ("resolved", "reopen", "assigned", ()),
        ("closed", "reopen", "assigned", ()),
        ("in_progress", "cancel", "cancelled", ()),
        ("classified", "reassign", "assigned", ()),
        ("in_progress", "reassign", "in_progress", ()),
        ("on_hold", "escalate", "on_hold", ()),
        ("classified", "accept", "assigned", ()),
    ],
)
def test_action_leads_to_status_and_meets_targets(status: str, action: str, to_status: str, meets: tuple[str, ...]) -> None:
    transition = apply(status=status, action=action)
    assert (transition.from_status, transition.to_status, transition.meets) == (status, to_status, meets)


@pytest.mark.parametrize("held_from", ["assigned", "responded", "in_progress"])
def test_resume_returns_to_the_status_before_hold(held_from: str) -> None:
    assert apply(status="on_hold", action="resume", held_from=held_from).to_status == held_from


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("assigned", "close"),
        ("resolved", "respond"),
        ("closed", "cancel"),
        ("cancelled", "reopen"),
        ("on_hold", "resolve"),
        ("classified", "respond"),
    ],
)
def test_illegal_transition_lists_the_allowed_actions(status: str, action: str) -> None:
    with pytest.raises(IllegalTransition) as raised:
        apply(status=status, action=action)
    assert raised.value.allowed_actions == EXPECTED_ALLOWED[status]
    assert raised.value.status == status


def test_unknown_action_is_illegal_everywhere() -> None:
    for status in OPEN_STATUSES:
        with pytest.raises(IllegalTransition):
            apply(status=status, action="teleport")


@pytest.mark.parametrize("action", ["plan", "resolve", "hold", "cancel"])
@pytest.mark.parametrize("note", [None, "", "   "])
def test_plan_resolve_hold_and_cancel_need_a_note(action: str, note: str | None) -> None:
    errors = missing_or_invalid(action, {"note": note, "reason": "duplicate"})
    assert errors == {"note": [f"Required for {action}."]}


def test_cancel_needs_a_reason() -> None:
    assert missing_or_invalid("cancel", {"note": "same as NS01-1"}) == {"reason": ["Required for cancel."]}
    assert missing_or_invalid("cancel", {"note": "same as NS01-1", "reason": "duplicate"}) == {}


def test_reassign_needs_an_assignee_or_a_department() -> None:
    errors = missing_or_invalid("reassign", {})
    assert set(errors) == {"assignee_id", "department"}
    assert missing_or_invalid("reassign", {"assignee_id": "S2"}) == {}
    assert missing_or_invalid("reassign", {"department": "security"}) == {}


def test_reclassification_needs_category_subcategory_and_tier() -> None:
    assert set(missing_or_invalid("reclassify", {})) == {"category", "subcategory", "tier"}
    assert missing_or_invalid("reclassify", {"category": "facility", "subcategory": "elevator", "tier": "emergency"}) == {}


def test_reclassification_refuses_a_subcategory_outside_its_category() -> None:
    errors = missing_or_invalid("reclassify", {"category": "fees", "subcategory": "elevator", "tier": "general"})
    assert list(errors) == ["subcategory"]


def test_actions_without_required_fields_need_nothing() -> None:
    for action in ("accept", "respond", "arrive", "progress", "resume", "escalate", "reopen", "close"):
        assert missing_or_invalid(action, {}) == {}


# the SLA targets of one order (dispatch.timers) ---------------------------------------------------

START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def two_targets() -> dict[str, dict[str, Any]]:
    return timers.new_deadlines({"response": START + timedelta(hours=2), "resolve": START + timedelta(days=5)}, started_at=START)


def test_meeting_a_target_on_time_counts_met_with_its_time() -> None:
    deadlines, results = timers.meet(two_targets(), targets=["response", "onsite"], at=START + timedelta(hours=1))
    assert deadlines["response"]["state"] == "met"
    assert deadlines["response"]["met_at"] == START + timedelta(hours=1)
    assert results == [timers.TargetResult("response", "met", 3600.0, counted=True, allowed=7200.0)]


def test_meeting_a_target_late_counts_one_breach_only() -> None:
    late = START + timedelta(hours=3)
    deadlines, results = timers.meet(two_targets(), targets=["response"], at=late)
    assert (deadlines["response"]["state"], deadlines["response"]["breached"], results[0].counted) == ("breached", True, True)
    flagged_by_scanner = two_targets()
    flagged_by_scanner["response"]["breached"] = True
    _, results = timers.meet(flagged_by_scanner, targets=["response"], at=late)
    assert (results[0].outcome, results[0].counted) == ("breached", False)


def test_meeting_a_met_target_again_changes_nothing() -> None:
    deadlines, _ = timers.meet(two_targets(), targets=["response"], at=START)
    again, results = timers.meet(deadlines, targets=["response"], at=START + timedelta(hours=5))
    assert again == deadlines
    assert results == []


def test_hold_pauses_unmet_targets_and_resume_moves_them_by_the_time_on_hold() -> None:
    deadlines, _ = timers.meet(two_targets(), targets=["response"], at=START)
    paused = timers.pause(deadlines)
    assert (paused["response"]["state"], paused["resolve"]["state"]) == ("met", "paused")
    resumed = timers.resume(paused, paused_at=START, at=START + timedelta(hours=6))
    assert resumed["resolve"]["state"] == "pending"
    assert resumed["resolve"]["due_at"] == START + timedelta(days=5, hours=6)
    assert resumed["response"]["due_at"] == START + timedelta(hours=2)
    _, results = timers.meet(resumed, targets=["resolve"], at=START + timedelta(hours=10))
    assert results[0].seconds == 4 * 3600.0
    assert results[0].allowed == 5 * 86400.0  # the share of the target used excludes the hold on both sides


def test_a_working_day_target_met_at_its_deadline_uses_exactly_its_share_whatever_its_calendar_length() -> None:
    friday = START + timedelta(days=4)
    due = friday + timedelta(days=5)  # 3 working days across a weekend: 5 calendar days, not the nominal 3
    _, results = timers.meet(timers.new_deadlines({"resolve": due}, started_at=friday), targets=["resolve"], at=due)
    assert (results[0].outcome, results[0].seconds / results[0].allowed) == ("met", 1.0)


def test_a_missed_follow_up_is_breached_once_its_deadline_passed() -> None:
    follow_up = {"follow_up": timers.new_entry(due_at=START + timedelta(hours=48), started_at=START)}
    assert timers.miss(follow_up, target="follow_up", at=START + timedelta(hours=1)) == (follow_up, [])
    missed, results = timers.miss(follow_up, target="follow_up", at=START + timedelta(days=7))
    assert missed["follow_up"]["state"] == "breached"
    assert results == [timers.TargetResult("follow_up", "breached", 7 * 86400.0, counted=True, observed=False, allowed=48 * 3600.0)]


def test_rebase_keeps_met_targets_and_drops_targets_the_new_tier_lacks() -> None:
    deadlines, _ = timers.meet(two_targets(), targets=["response"], at=START)
    rebased = timers.rebase(
        deadlines, due={"response": START + timedelta(minutes=15), "onsite": START + timedelta(minutes=30)}, started_at=START, keep_met=True
    )
    assert set(rebased) == {"response", "onsite"}
    assert rebased["response"]["met_at"] == START
    assert rebased["onsite"]["state"] == "pending"


def test_view_state_reads_an_unmet_target_past_due_as_breached() -> None:
    entry = timers.new_entry(due_at=START, started_at=START)
    assert timers.view_state(entry, now=START) == "pending"
    assert timers.view_state(entry, now=START + timedelta(seconds=1)) == "breached"
    assert timers.view_state({**entry, "state": "paused"}, now=START + timedelta(days=1)) == "paused"
