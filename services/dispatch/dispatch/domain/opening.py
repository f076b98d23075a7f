"""Opening a work order for a received complaint: its tier, assignee, deadlines, timeline and events.

Pure: the complaint as ``complaint.received`` carries it, its classification, how often its household
and its building complained of the same subcategory in the last ``HISTORY_WINDOW``, and the facts
of its estate in; an ``Opening`` out. The caller (``dispatch.work_orders.create_from_complaint``)
reads those, stores the order and its timeline, and emits the events in one unit of work.

- The tier is the classifier's, raised to at least ``important`` for a household's second or a
  building's third complaint of the subcategory in 30 days (``tier_with_history``). A 12345 transfer
  the hotline marked ``urgent`` runs on the top tier's clock: ``emergency``, ``tier_reason``
  ``hotline_urgent`` (``tier_for``).
- Deadlines run from the time of receipt, in the complaint's time zone (else the estate's, else
  ``DEFAULT_TIMEZONE``); a hotline deadline constrains ``resolve`` (``dispatch.domain.sla``).
- The order is ``classified``, and ``assigned`` when someone could be assigned
  (``dispatch.domain.assignment``): ``complaint.classified`` comes first, without an assignee, then
  ``complaint.assigned``, numbered from the ``seq`` of the complaint as received.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dispatch.domain import timers
from dispatch.domain.classify import Classification, tier_with_history
from dispatch.domain.decision import Emission, Facts
from dispatch.domain.sla import DEFAULT_TIMEZONE, compute_deadlines
from dispatch.domain.work_order import TimelineEntry, WorkOrder, event_data, timeline_entry
from propcare_shared.tenancy import Tenancy
from propcare_shared.vocabulary import TIERS

HISTORY_WINDOW = timedelta(days=30)
"""How far back a household's or a building's earlier complaints count towards the tier."""
TOP_TIER = TIERS[0]
"""The tier whose clock an urgent hotline transfer runs on."""
HOTLINE_URGENT = "hotline_urgent"
"""The ``tier_reason`` of a transfer the hotline marked urgent."""


@dataclass(frozen=True)
class Opening:
    """A new work order, its first timeline entries and the events that announce it."""

    order: WorkOrder
    timeline: tuple[TimelineEntry, ...]
    events: tuple[Emission, ...]


def tier_for(
    complaint: Mapping[str, Any], *, classified_tier: str, household_repeats: int, building_repeats: int
) -> tuple[str, str | None]:
    """Return a received complaint's tier and why it was raised: the top tier for an urgent transfer, else with its history."""
    if complaint.get("urgent"):
        return TOP_TIER, HOTLINE_URGENT
    return tier_with_history(
        classified_tier, household_same_subcategory_30d=household_repeats, building_same_subcategory_30d=building_repeats
    )


def open_work_order(
    *,
    complaint: Mapping[str, Any],
    tenancy: Tenancy,
    classification: Classification,
    household_repeats: int,
    building_repeats: int,
    estate_timezone: str | None,
    facts: Facts,
    received_seq: int,
    now: datetime,
) -> Opening:
    """Return the work order of a received complaint with its timeline entries and events."""
    complaint_id: str = complaint["complaint_id"]
    received_at: datetime = complaint["received_at"]
    tier, tier_reason = tier_for(
        complaint, classified_tier=classification.tier, household_repeats=household_repeats, building_repeats=building_repeats
    )
    timezone = complaint.get("timezone") or estate_timezone or DEFAULT_TIMEZONE
    policy, calendar = facts.policy_and_calendar()
    due = compute_deadlines(
        tier=tier,
        received_at=received_at,
        policy=policy,
        calendar=calendar,
        timezone=timezone,
        hotline_deadline=complaint.get("hotline_deadline"),
    )
    routing = facts.route(category=classification.category, subcategory=classification.subcategory, building=complaint.get("building"))
    assigned = routing.assignee_id is not None
    first_seq = received_seq + 1
    order: WorkOrder = {
        "_id": complaint_id,
        "ticket_no": complaint["ticket_no"],
        "group_id": tenancy.group_id,
        "region_id": tenancy.region_id,
        "estate_id": str(tenancy.estate_id),
        "building": complaint.get("building"),
        "unit": complaint.get("unit"),
        "room": complaint.get("room"),
        "household_id": complaint.get("household_id"),
        "channel": complaint["channel"],
        "status": "assigned" if assigned else "classified",
        "category": classification.category,
        "subcategory": classification.subcategory,
        "tier": tier,
        "tier_reason": tier_reason,
        "department": routing.department,
        "assignee_id": routing.assignee_id,
        "grid_id": routing.grid_id,
        "confidence": classification.confidence,
        "needs_review": classification.needs_review,
        "matched": list(classification.matched),
        "escalation_level": 0,
        "hotline": bool(complaint.get("hotline_ticket_id")) or complaint["channel"] == "gov_hotline",
        "hotline_ticket_id": complaint.get("hotline_ticket_id"),
        "hotline_deadline": complaint.get("hotline_deadline"),
        "first_responder_id": complaint.get("first_responder_id"),
        "received_at": received_at,
        "timezone": timezone,
        "deadlines": timers.new_deadlines(due, started_at=received_at),
        "paused_at": None,
        "paused_seconds": 0.0,
        "held_from": None,
        "resolved_at": None,
        "repeat_count": 0,
        "created_at": now,
        "updated_at": now,
        "seq": first_seq + (1 if assigned else 0),
        "next_check_at": None,
    }
    order["next_check_at"] = timers.next_check_at(order)
    classified: WorkOrder = {**order, "status": "classified", "assignee_id": None}
    timeline = [
        timeline_entry(
            complaint_id=complaint_id,
            at=now,
            action="classify",
            actor_id=None,
            note=None,
            from_status="received",
            to_status="classified",
            details={
                "category": order["category"],
                "subcategory": order["subcategory"],
                "tier": tier,
                "tier_reason": tier_reason,
                "confidence": order["confidence"],
                "matched": order["matched"],
            },
        )
    ]
    events = [Emission("complaint.classified", event_data(classified, action="classify", at=now), first_seq)]
    if assigned:
        timeline.append(
            timeline_entry(
                complaint_id=complaint_id,
                at=now,
                action="assign",
                actor_id=None,
                note=None,
                from_status="classified",
                to_status="assigned",
                details={"assignee_id": routing.assignee_id, "department": routing.department, "rule": routing.rule},
            )
        )
        events.append(Emission("complaint.assigned", event_data(order, action="assign", at=now), first_seq + 1))
    return Opening(order=order, timeline=tuple(timeline), events=tuple(events))
