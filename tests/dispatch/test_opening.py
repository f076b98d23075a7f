"""Opening a work order for a received complaint (dispatch.domain.opening), without a database: its tier
with the history, its assignee, its deadlines, its timeline and the events that announce it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dispatch.domain.assignment import StaffMember
from dispatch.domain.classify import classify
from dispatch.domain.decision import Facts
from dispatch.domain.opening import Opening, open_work_order
from dispatch.domain.sla import DEFAULT_POLICY
from propcare_shared.calendar import WorkingCalendar
from propcare_shared.tenancy import Tenancy
from tests.dispatch.factories import CORRIDOR_LIGHT, MONDAY_MORNING

NS01 = Tenancy(group_id="G1", region_id="R1", estate_id="NS01")
ENGINEERS = (StaffMember("eng-1", "engineering", "handler"), StaffMember("eng-2", "engineering", "handler"))


def complaint(**data: Any) -> dict[str, Any]:
    """Return the data of a ``complaint.received`` about the corridor light of building 3."""
    return {
        "complaint_id": "c-0001",
        "ticket_no": "NS01-20261123-0001",
        "channel": "app",
        "building": "3",
        "unit": "2",
        "room": "1502",
        "description": CORRIDOR_LIGHT,
        "received_at": MONDAY_MORNING,
        **data,
    }


def opened(*, staff: tuple[StaffMember, ...] = ENGINEERS, household: int = 0, building: int = 0, **data: Any) -> Opening:
    received = complaint(**data)
    return open_work_order(
        complaint=received,
        tenancy=NS01,
        classification=classify(received["description"]),
        household_repeats=household,
        building_repeats=building,
        estate_timezone="Asia/Shanghai",
        facts=Facts(staff=staff, open_counts={"eng-1": 2}, policy=DEFAULT_POLICY, calendar=WorkingCalendar()),
        received_seq=1,
        now=MONDAY_MORNING + timedelta(seconds=5),
    )


def test_a_complaint_someone_can_take_is_classified_then_assigned_in_two_events_after_the_received_one() -> None:
    opening = opened()
    order = opening.order
    assert (order["status"], order["assignee_id"], order["department"], order["seq"]) == ("assigned", "eng-2", "engineering", 3)
    assert [(event.event_type, event.seq) for event in opening.events] == [("complaint.classified", 2), ("complaint.assigned", 3)]
    classified, assigned = (event.data for event in opening.events)
    assert (classified["status"], classified["assignee_id"]) == ("classified", None)
    assert (assigned["status"], assigned["assignee_id"]) == ("assigned", "eng-2")
    assert [(entry["action"], entry["from_status"], entry["to_status"]) for entry in opening.timeline] == [
        ("classify", "received", "classified"),
        ("assign", "classified", "assigned"),
    ]
    assert opening.timeline[1]["details"]["rule"] == "least_loaded_handler"


def test_a_complaint_nobody_can_take_stays_classified_with_one_event() -> None:
    opening = opened(staff=())
    assert (opening.order["status"], opening.order["assignee_id"], opening.order["seq"]) == ("classified", None, 2)
    assert [event.event_type for event in opening.events] == ["complaint.classified"]


def test_the_deadlines_run_from_receipt_and_the_first_escalation_check_is_the_response_warning() -> None:
    order = opened().order
    assert {target: entry["due_at"] for target, entry in order["deadlines"].items()} == {
        "response": MONDAY_MORNING + timedelta(hours=24),
        "resolve": MONDAY_MORNING + timedelta(days=3, hours=13, minutes=59, seconds=59),
    }
    assert order["next_check_at"] == MONDAY_MORNING + timedelta(hours=19, minutes=12)


def test_a_households_second_complaint_of_the_subcategory_is_at_least_important() -> None:
    order = opened(household=1).order
    assert order["tier"] == "important"
    assert order["tier_reason"] is not None and "household" in order["tier_reason"]
    assert "onsite" in order["deadlines"]


def test_a_hotline_complaint_is_marked_and_its_deadline_constrains_resolve() -> None:
    hotline_deadline = MONDAY_MORNING + timedelta(days=2)
    order = opened(channel="gov_hotline", hotline_deadline=hotline_deadline).order
    assert order["hotline"] is True
    assert order["deadlines"]["resolve"]["due_at"] == hotline_deadline


def test_a_transfer_keeps_its_hotline_ticket_id_and_a_later_hotline_deadline_leaves_resolve_to_the_policy() -> None:
    order = opened(
        channel="gov_hotline", hotline_ticket_id="12345-20261123-000001", hotline_deadline=MONDAY_MORNING + timedelta(days=30)
    ).order
    assert (order["hotline"], order["hotline_ticket_id"]) == (True, "12345-20261123-000001")
    assert order["deadlines"]["resolve"]["due_at"] == MONDAY_MORNING + timedelta(days=3, hours=13, minutes=59, seconds=59)


def test_an_urgent_transfer_runs_on_the_emergency_clock_with_the_hotline_deadline_as_resolve() -> None:
    hotline_deadline = MONDAY_MORNING + timedelta(hours=12)
    opening = opened(channel="gov_hotline", hotline_ticket_id="12345-1", hotline_deadline=hotline_deadline, urgent=True, household=1)
    order = opening.order
    assert (order["tier"], order["tier_reason"]) == ("emergency", "hotline_urgent")
    assert {target: entry["due_at"] for target, entry in order["deadlines"].items()} == {
        "response": MONDAY_MORNING + timedelta(minutes=15),
        "onsite": MONDAY_MORNING + timedelta(minutes=30),
        "plan": MONDAY_MORNING + timedelta(hours=24),
        "resolve": hotline_deadline,
    }
    assert opening.timeline[0]["details"]["tier_reason"] == "hotline_urgent"
    assert opening.events[0].data["tier"] == "emergency"


def test_a_transfer_not_marked_urgent_keeps_the_classifiers_tier() -> None:
    order = opened(channel="gov_hotline", hotline_ticket_id="12345-2", urgent=False).order
    assert (order["tier"], order["tier_reason"]) == ("general", None)
