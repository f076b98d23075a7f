"""Dispatch's store against a real mongod: the counts routing and tiering rely on, the timeline,
the estates copy and the open/overdue figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from dispatch.domain.timers import new_entry
from dispatch.store import DispatchStore, overdue_query
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.mongo import new_id
from tests.dispatch.factories import MONDAY_MORNING


def insert_order(context: ServiceContext, **fields: Any) -> dict[str, Any]:
    """Insert a bare work order with the fields a test cares about."""
    document = {
        "_id": new_id(),
        "estate_id": "NS01",
        "region_id": "R1",
        "group_id": "G1",
        "status": "assigned",
        "tier": "general",
        "subcategory": "water",
        "building": "3",
        "unit": "2",
        "room": "1502",
        "household_id": None,
        "received_at": MONDAY_MORNING,
        "assignee_id": "eng-1",
        "deadlines": {"response": new_entry(due_at=MONDAY_MORNING + timedelta(hours=24), started_at=MONDAY_MORNING)},
        "seq": 3,
        **fields,
    }
    context.database.work_orders.insert_one(document)
    return document


def test_open_counts_count_only_open_orders_of_the_estate(context: ServiceContext, store: DispatchStore) -> None:
    insert_order(context, assignee_id="eng-1")
    insert_order(context, assignee_id="eng-1", status="on_hold")
    insert_order(context, assignee_id="eng-1", status="resolved")
    insert_order(context, assignee_id="eng-1", status="cancelled")
    insert_order(context, assignee_id="eng-2", status="in_progress")
    insert_order(context, assignee_id="eng-1", estate_id="FT02")
    assert store.work_orders.open_counts("NS01", ["eng-1", "eng-2", "eng-3"]) == {"eng-1": 2, "eng-2": 1}


def test_recent_counts_for_household_and_building_within_30_days(context: ServiceContext, store: DispatchStore) -> None:
    insert_order(context, household_id="H1")
    insert_order(context, household_id="H1", received_at=MONDAY_MORNING - timedelta(days=31))
    insert_order(context, household_id="H1", status="cancelled")
    insert_order(context, household_id="H1", subcategory="elevator")
    insert_order(context, household_id="H2", room="0101")
    since = MONDAY_MORNING - timedelta(days=30)
    assert store.work_orders.count_recent(estate_id="NS01", subcategory="water", since=since, household={"household_id": "H1"}) == 1
    assert store.work_orders.count_recent(estate_id="NS01", subcategory="water", since=since, building="3") == 2
    assert (
        store.work_orders.count_recent(
            estate_id="NS01", subcategory="water", since=since, household={"building": "3", "unit": "2", "room": "0101"}
        )
        == 1
    )
    assert store.work_orders.count_recent(estate_id="NS01", subcategory="water", since=since) == 0


def test_timeline_returns_the_last_200_oldest_first(context: ServiceContext, store: DispatchStore) -> None:
    entries = [
        {
            "_id": new_id(),
            "complaint_id": "C1",
            "at": MONDAY_MORNING + timedelta(minutes=i),
            "action": "progress",
            "actor_id": "eng-1",
            "note": str(i),
        }
        for i in range(205)
    ]
    with context.client.start_session() as session:
        store.work_orders.append_timeline(entries, session=session)
    timeline = store.work_orders.timeline("C1")
    assert len(timeline) == 200
    assert (timeline[0]["note"], timeline[-1]["note"]) == ("5", "204")


def test_estate_copy_keeps_the_latest_version(store: DispatchStore, clock: FrozenClock) -> None:
    later = clock() + timedelta(minutes=5)
    values = {"group_id": "G1", "code": "NS01", "name": "n", "timezone": "Asia/Shanghai"}
    assert store.directory.estates.keep(estate_id="NS01", values={**values, "region_id": "R2"}, as_of=later)
    assert not store.directory.estates.keep(estate_id="NS01", values={**values, "region_id": "R1"}, as_of=clock())
    assert store.directory.estate("NS01")["region_id"] == "R2"
    assert store.directory.region_keys() == ["G1/R2"]


def test_open_and_overdue_per_tier_and_region_within_its_group(context: ServiceContext, store: DispatchStore) -> None:
    insert_order(context)
    late = insert_order(
        context,
        tier="emergency",
        deadlines={"response": new_entry(due_at=MONDAY_MORNING + timedelta(minutes=15), started_at=MONDAY_MORNING)},
    )
    insert_order(context, tier="emergency", status="resolved")
    paused = new_entry(due_at=MONDAY_MORNING, started_at=MONDAY_MORNING) | {"state": "paused"}
    insert_order(context, tier="emergency", status="on_hold", deadlines={"response": paused})
    insert_order(context, region_id="R2")
    insert_order(context, group_id="G2", estate_id="OT01")
    now = MONDAY_MORNING + timedelta(hours=1)
    rows = {(row["tier"], row["region"]): (row["open"], row["overdue"]) for row in store.work_orders.open_and_overdue(now=now)}
    assert rows == {
        ("general", "G1/R1"): (1, 0),
        ("emergency", "G1/R1"): (2, 1),
        ("general", "G1/R2"): (1, 0),
        ("general", "G2/R1"): (1, 0),
    }
    overdue_ids = [doc["_id"] for doc in context.database.work_orders.find(overdue_query(now))]
    assert overdue_ids == [late["_id"]]


def test_routing_values_carry_no_staff_names(store: DispatchStore, add_staff: Callable[..., dict[str, Any]]) -> None:
    add_staff("eng-1", "engineering", name="李师傅")
    members = store.directory.staff_members("NS01")
    assert [member.staff_id for member in members] == ["eng-1"]
    assert "李师傅" not in repr(members)


def _is_aware(moment: datetime) -> bool:
    return moment.tzinfo is not None


def test_stored_times_come_back_aware(context: ServiceContext, store: DispatchStore) -> None:
    order = insert_order(context)
    assert _is_aware(store.work_orders.work_order(order["_id"])["received_at"])
