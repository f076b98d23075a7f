"""Dispatch's hot-path queries are served by indexes: their cost does not grow with an estate's history.

One estate (NS01) holds 10,000 work orders: 7,500 received over 400 days (most closed long ago) and a
typhoon's burst of 2,500 water complaints in building 3 in the last month; another estate (FT02) holds
2,000. They are inserted with ``insert_many`` as ``tests.dispatch.factories.work_order`` builds them.
Each store function on a hot path runs once against a real mongod under ``tests.query_plans.recording``;
every command it sent is explained and must use an index (no ``COLLSCAN``) and examine no more keys or
documents than its answer needs (``check_plan``): what it returned, or what it counted, plus a small
slack. A query that walks the estate's history fails: the repeat look-up of a complaint without a
``household_id`` (building, unit, room) examined the building's 2,500 recent orders to count 8.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from dispatch.domain.opening import HISTORY_WINDOW
from dispatch.escalation import escalate
from dispatch.store import INDEXES, DispatchStore, overdue_query
from dispatch.work_orders import create_from_complaint, household_filter
from propcare_shared.clock import FrozenClock
from propcare_shared.context import KERNEL_INDEXES
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import INDEXES as OUTBOX_INDEXES
from propcare_shared.events.outbox import Transaction, UnitOfWork
from propcare_shared.http.auth import Principal
from propcare_shared.mongo import ensure_indexes, new_id
from propcare_shared.testing import unique_name
from propcare_shared.vocabulary import OPEN_STATUSES, SUBCATEGORIES
from tests.dispatch.factories import MONDAY_MORNING, received_event, work_order
from tests.query_plans import Plan, check_plan, planned, recording_client, served

SLACK = 10
HISTORY = 7_500
BURST = 2_500
OTHER_ESTATE = 2_000
SPAN = timedelta(days=400)
STAFF = [f"eng-{n}" for n in range(1, 11)]
BUILDINGS = [str(n) for n in range(1, 13)]
SUBCATEGORY_NAMES = sorted(SUBCATEGORIES)
PAGE = 50


@dataclass
class Seeded:
    client: MongoClient
    recorder: Any
    database: Database
    store: DispatchStore
    clock: FrozenClock
    uow: UnitOfWork
    open_ids: list[str]

    def plans(self, call: Callable[[], Any]) -> tuple[Any, list[Plan]]:
        """Run ``call`` once, recording what it sent; return its answer and the plan of every command."""
        return planned(self.client, self.recorder, self.database.name, call)


def _order(
    rng: random.Random, *, estate_id: str, region_id: str, index: int, count: int, building: str | None = None, **fields: Any
) -> dict[str, Any]:
    """One work order of an estate's history: recent ones open and assigned, older ones closed (some cancelled)."""
    received_at = MONDAY_MORNING - SPAN * (index / count) - timedelta(minutes=1)
    building, unit = building or rng.choice(BUILDINGS), str(rng.randint(1, 4))
    room = f"{rng.randint(1, 30)}0{rng.randint(1, 4)}"
    recent = MONDAY_MORNING - received_at < timedelta(days=4)
    status = rng.choice(OPEN_STATUSES) if recent else rng.choices(["closed", "resolved", "cancelled"], [90, 5, 5])[0]
    status = fields.pop("status", status)
    order = work_order(
        status=status,
        tier=rng.choices(["general", "important", "complex", "emergency"], [80, 10, 7, 3])[0],
        assignee_id=rng.choice(STAFF),
        received_at=received_at,
        _id=new_id(),
        ticket_no=f"{estate_id}-{index:06d}",
        estate_id=estate_id,
        region_id=region_id,
        building=building,
        unit=unit,
        room=room,
        household_id=rng.choice([None, f"{estate_id}-H-{building}-{unit}-{room}"]),
        needs_review=recent and rng.random() < 0.1,
        **{"subcategory": rng.choice(SUBCATEGORY_NAMES), **fields},
    )
    if not recent:
        order["next_check_at"] = None
    return dict(order)


@pytest.fixture(scope="module")
def seeded(mongodb_url: str) -> Iterator[Seeded]:
    client, recorder = recording_client(mongodb_url)
    database = client[unique_name("test_dispatch_plans_")]
    ensure_indexes(database, [*OUTBOX_INDEXES, *KERNEL_INDEXES, *INDEXES])
    clock = FrozenClock(MONDAY_MORNING)
    store = DispatchStore(database, clock=clock)
    rng = random.Random(16)
    orders = [_order(rng, estate_id="NS01", region_id="R1", index=n, count=HISTORY) for n in range(HISTORY)]
    # A typhoon's burst: building 3's water complaints of the last month, dealt with since (received 5 to 25 days ago).
    orders += [
        _order(rng, estate_id="NS01", region_id="R1", index=n, count=BURST * 20, building="3", subcategory="water", status="closed")
        | {"received_at": MONDAY_MORNING - timedelta(days=5) - timedelta(days=20) * (n / BURST), "next_check_at": None}
        for n in range(BURST)
    ]
    orders += [_order(rng, estate_id="FT02", region_id="R2", index=n, count=OTHER_ESTATE) for n in range(OTHER_ESTATE)]
    database["work_orders"].insert_many(orders, ordered=False)
    database["timeline"].insert_many(
        [{"_id": new_id(), "complaint_id": order["_id"], "at": order["received_at"], "action": "assign"} for order in orders], ordered=False
    )
    for estate_id, region_id in (("NS01", "R1"), ("FT02", "R2")):
        store.directory.estates.keep(
            estate_id=estate_id,
            values={"group_id": "G1", "region_id": region_id, "code": estate_id, "name": estate_id, "timezone": "Asia/Shanghai"},
            as_of=clock(),
        )
        for staff_id in STAFF:
            database["staff"].insert_one(
                {"_id": new_id(), "estate_id": estate_id, "staff_id": staff_id, "department": "engineering", "role": "handler", "grids": []}
            )
        database["grids"].insert_one({"_id": new_id(), "estate_id": estate_id, "grid_id": "g1", "buildings": BUILDINGS, "owner_id": None})
    uow = UnitOfWork(client=client, database=database, producer="dispatch", clock=clock)
    open_ids = [order["_id"] for order in orders if order["estate_id"] == "NS01" and order["status"] in OPEN_STATUSES]
    yield Seeded(client, recorder, database, store, clock, uow, open_ids)
    client.drop_database(database.name)
    client.close()


def _open_order(seeded: Seeded) -> dict[str, Any]:
    order = seeded.store.work_orders.work_order(seeded.open_ids[0])
    assert order is not None
    return dict(order)


def test_the_seed_is_an_estate_with_a_long_history(seeded: Seeded) -> None:
    assert seeded.database["work_orders"].count_documents({"estate_id": "NS01"}) == HISTORY + BURST
    assert 50 < len(seeded.open_ids) < 500


def _burst_order(seeded: Seeded, *, with_household_id: bool) -> dict[str, Any]:
    """A household of building 3 that complained of water during the typhoon, with or without a household id."""
    order = seeded.database["work_orders"].find_one(
        {"estate_id": "NS01", "building": "3", "subcategory": "water", "household_id": {"$ne": None} if with_household_id else None},
        sort=[("received_at", -1)],
    )
    assert order is not None
    return dict(order)


@pytest.mark.parametrize("with_household_id", [True, False], ids=["household-id", "building-unit-room"])
def test_the_repeat_look_up_examines_only_the_households_recent_orders(seeded: Seeded, with_household_id: bool) -> None:
    """The look-up of ``dispatch.work_orders._repeats`` for a household in a building with 2,500 recent orders of the subcategory."""
    order = _burst_order(seeded, with_household_id=with_household_id)
    complaint = {key: order[key] for key in ("household_id", "building", "unit", "room")}
    household = household_filter(complaint)
    assert household is not None and ("household_id" in household) == with_household_id
    since = MONDAY_MORNING - HISTORY_WINDOW
    count, plans = seeded.plans(
        lambda: seeded.store.work_orders.count_recent(estate_id="NS01", subcategory="water", since=since, household=household)
    )
    assert 1 <= count < 20
    served(plans, needs=count)


def test_the_buildings_repeat_count_examines_only_what_it_counts(seeded: Seeded) -> None:
    since = MONDAY_MORNING - HISTORY_WINDOW
    count, plans = seeded.plans(
        lambda: seeded.store.work_orders.count_recent(estate_id="NS01", subcategory="water", since=since, building="3")
    )
    assert count >= BURST
    for plan in plans:
        assert plan.docs_examined <= SLACK, "counts documents, not index keys: " + plan.describe()
    served(plans, needs=count)


def test_open_counts_examine_only_the_open_orders_of_the_staff(seeded: Seeded) -> None:
    counts, plans = seeded.plans(lambda: seeded.store.work_orders.open_counts("NS01", STAFF))
    assert 0 < sum(counts.values()) <= len(seeded.open_ids)
    served(plans, needs=sum(counts.values()))
    assert all(plan.docs_examined == 0 for plan in plans), [plan.describe() for plan in plans]


def _create(tx: Transaction, *, store: DispatchStore, event: Event) -> Any:
    return create_from_complaint(tx, store=store, event=event, now=MONDAY_MORNING)


def test_a_received_complaint_is_handled_with_indexed_reads_only(seeded: Seeded) -> None:
    """The whole of ``complaint.received``'s handling: the order's absence, repeats, staff, grids, counts, policy, estate."""
    burst = seeded.database["work_orders"].count_documents({"estate_id": "NS01", "building": "3", "subcategory": "water"})
    for household_id in ("NS01-H-3-2-1502", None):
        event = received_event(text="楼上漏水，天花板一直滴水", received_at=MONDAY_MORNING, household_id=household_id)
        change, plans = seeded.plans(partial(seeded.uow.run, partial(_create, store=seeded.store, event=event)))
        assert change is not None and change.order["assignee_id"] in STAFF
        for plan in plans:  # the building's count and open_counts examine what they count, the rest what they return
            counts = plan.command.get("aggregate") == "work_orders"
            check_plan(plan, slack=SLACK + (max(burst, len(seeded.open_ids)) if counts else 0))
            assert plan.docs_examined <= SLACK or not counts, "counts documents, not index keys: " + plan.describe()


def test_an_action_reads_and_writes_by_id(seeded: Seeded) -> None:
    order = _open_order(seeded)
    with seeded.client.start_session() as session:
        _, plans = seeded.plans(
            lambda: seeded.store.work_orders.update_work_order(
                order["_id"], expected_seq=-1, changes={"note": "x"}, events=0, session=session
            )
        )
    served(plans)
    _, plans = seeded.plans(lambda: seeded.store.work_orders.timeline(order["_id"]))
    served(plans)


def test_the_scanners_query_examines_only_the_orders_due(seeded: Seeded) -> None:
    """A pass reads the due orders from the keys of ``{next_check_at, _id}``, page by page, then checks each by id."""
    now = MONDAY_MORNING + timedelta(hours=2)
    first, plans = seeded.plans(lambda: seeded.store.work_orders.due_checks(now=now, limit=20))
    assert len(first) == 20
    served(plans)
    assert all(plan.docs_examined == 0 for plan in plans), [plan.describe() for plan in plans]
    second, plans = seeded.plans(lambda: seeded.store.work_orders.due_checks(now=now, limit=20, after=first[-1]))
    assert second and second[0] > first[-1]
    served(plans)
    complaint_id = first[0][1]
    _, plans = seeded.plans(lambda: seeded.uow.run(lambda tx: escalate(tx, store=seeded.store, complaint_id=complaint_id, now=now)))
    served(plans)


def test_the_open_complaints_gauge_reads_the_open_orders_only(seeded: Seeded) -> None:
    rows, plans = seeded.plans(lambda: seeded.store.work_orders.open_and_overdue(now=MONDAY_MORNING))
    open_orders = sum(row["open"] for row in rows)
    assert len(seeded.open_ids) <= open_orders < 1_000
    served(plans, needs=open_orders)


def _principal(role: str, **scope: Any) -> Principal:
    return Principal(sub="u-1", role=role, group_id="G1", **scope)


LISTS: dict[str, Callable[[], dict[str, Any]]] = {
    "estate": lambda: {**_principal("manager", estates=("NS01",)).query(), "estate_id": "NS01"},
    "estate-status": lambda: {**_principal("manager", estates=("NS01",)).query(), "estate_id": "NS01", "status": "assigned"},
    "estate-assignee": lambda: {**_principal("manager", estates=("NS01",)).query(), "estate_id": "NS01", "assignee_id": "eng-3"},
    "estate-tier": lambda: {**_principal("manager", estates=("NS01",)).query(), "estate_id": "NS01", "tier": "important"},
    "estates": lambda: _principal("manager", estates=("NS01", "FT02")).query(),
    "region": lambda: _principal("regional_ops", regions=("R1",)).query(),
    "group": lambda: _principal("group_admin").query(),
    "group-status": lambda: {**_principal("group_admin").query(), "status": "in_progress"},
    "needs-review": lambda: {**_principal("manager", estates=("NS01",)).query(), "needs_review": True},
    "overdue": lambda: {"$and": [_principal("manager", estates=("NS01",)).query(), overdue_query(MONDAY_MORNING)]},
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_work_order_lists_are_served_by_an_index_in_their_sort_order(seeded: Seeded, name: str) -> None:
    query = {"$and": [LISTS[name]()]}
    (items, cursor), plans = seeded.plans(lambda: seeded.store.work_orders.list_work_orders(query=query, limit=PAGE, cursor=None))
    assert items
    needs = len(seeded.open_ids) if name == "overdue" else 0  # overdue is decided on the open orders' deadlines
    served(plans, needs=needs)
    assert all("SORT" not in plan.stages for plan in plans), [plan.describe() for plan in plans]
    if cursor:
        _, plans = seeded.plans(lambda: seeded.store.work_orders.list_work_orders(query=query, limit=PAGE, cursor=cursor))
        served(plans, needs=needs)


def test_routing_reads_are_served_by_indexes(seeded: Seeded) -> None:
    estate = seeded.store.directory.estate("NS01")
    for call in (
        lambda: seeded.store.directory.staff_members("NS01"),
        lambda: seeded.store.directory.grid_values("NS01"),
        lambda: seeded.store.directory.estate("NS01"),
        lambda: seeded.store.policies.policy_and_calendar_for(estate),
    ):
        _, plans = seeded.plans(call)
        served(plans)
