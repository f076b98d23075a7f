"""Routing's in-process cache (``dispatch.cache``): what it keeps, how long, and what makes it forget at once.

Against a real mongod: the staff, grids, estate and policy a received complaint is routed with are
read once per ``ROUTING_CACHE_SECONDS``; dispatch's own writes (``put_staff``, a policy, an estate
upsert handled by this process) are seen by the very next complaint; a write by another process
is seen only once the entry expires (the staleness docs/PERFORMANCE.md, "Workers", allows). The
repeat counts' one aggregate is checked against the separate counts it replaces and for its index use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from dispatch.cache import STAFF, RoutingCache
from dispatch.domain.opening import HISTORY_WINDOW
from dispatch.handlers import HANDLERS
from dispatch.store import DispatchStore
from dispatch.work_orders import household_filter
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import new_event
from tests.dispatch.factories import MONDAY_MORNING
from tests.dispatch.test_query_plans import SLACK, Seeded, _burst_order, seeded  # noqa: F401 - the module's seeded fixture

LEAK = "楼上漏水，天花板一直滴水"


class Ticking:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def test_an_entry_is_read_once_then_again_after_it_expires() -> None:
    now = Ticking()
    cache = RoutingCache(seconds=5, now=now)
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert [cache.get(STAFF, "NS01", load) for _ in range(3)] == [1, 1, 1]
    now.at += 4.9
    assert cache.get(STAFF, "NS01", load) == 1
    now.at += 0.2
    assert cache.get(STAFF, "NS01", load) == 2


def test_a_read_in_flight_during_an_invalidation_is_not_kept() -> None:
    cache = RoutingCache(seconds=60)
    reading, invalidated = threading.Event(), threading.Event()

    def slow_old_value() -> str:
        reading.set()
        invalidated.wait(5)
        return "old"

    reader = threading.Thread(target=lambda: cache.get(STAFF, "NS01", slow_old_value))
    reader.start()
    reading.wait(5)
    cache.invalidate(STAFF, "NS01")  # another lane committed a change meanwhile
    invalidated.set()
    reader.join(5)
    assert cache.get(STAFF, "NS01", lambda: "new") == "new"


def test_zero_seconds_reads_every_time() -> None:
    cache = RoutingCache(seconds=0)
    values = iter(range(10))
    assert [cache.get(STAFF, "NS01", lambda: next(values)) for _ in range(3)] == [0, 1, 2]


def test_the_oldest_entries_go_beyond_the_bound() -> None:
    cache = RoutingCache(seconds=60, max_entries=2)
    for estate_id in ("A", "B", "C"):
        cache.get(STAFF, estate_id, lambda estate_id=estate_id: estate_id)
    assert cache.get(STAFF, "A", lambda: "reloaded") == "reloaded"
    assert cache.get(STAFF, "C", lambda: "reloaded") == "C"


def test_a_staff_member_deactivated_by_dispatch_gets_no_order_from_the_next_complaint(
    store: DispatchStore, add_staff: Callable[..., dict[str, Any]], make_work_order: Callable[..., dict[str, Any]]
) -> None:
    add_staff("eng-1", "engineering")
    assert make_work_order(text=LEAK)["assignee_id"] == "eng-1"  # the staff are now cached
    add_staff("eng-1", "engineering", on_duty=False)
    add_staff("eng-2", "engineering")
    assert make_work_order(text=LEAK, room="1503")["assignee_id"] == "eng-2"


def test_a_change_by_another_process_is_seen_once_the_entry_expires(
    store: DispatchStore, add_staff: Callable[..., dict[str, Any]], make_work_order: Callable[..., dict[str, Any]]
) -> None:
    add_staff("eng-1", "engineering")
    assert make_work_order(text=LEAK)["assignee_id"] == "eng-1"
    # The web process (another cache) takes eng-1 off duty and adds eng-2: this process does not know yet.
    store.database["staff"].update_one({"staff_id": "eng-1"}, {"$set": {"on_duty": False}})
    add_staff_elsewhere = {**store.database["staff"].find_one({"staff_id": "eng-1"}, {"_id": 0}), "staff_id": "eng-2", "on_duty": True}
    store.database["staff"].insert_one(add_staff_elsewhere)
    assert make_work_order(text=LEAK, room="1503")["assignee_id"] == "eng-1"  # stale, within ROUTING_CACHE_SECONDS
    store.cache.clear()  # what expiry does ROUTING_CACHE_SECONDS later
    assert make_work_order(text=LEAK, room="1504")["assignee_id"] == "eng-2"


def test_a_policy_written_by_dispatch_times_the_next_complaint(
    store: DispatchStore, staff: None, make_work_order: Callable[..., dict[str, Any]]
) -> None:
    before = make_work_order(text=LEAK)
    cell = {"duration": "PT7H", "clock": "calendar"}
    store.policies.put_policy(scope_key="estate:NS01", group_id="G1", tiers={before["tier"]: {"resolve": cell}}, actor_id="admin")
    after = make_work_order(text=LEAK, room="1503")
    assert after["tier"] == before["tier"]
    assert after["deadlines"]["resolve"]["due_at"] - after["received_at"] == timedelta(hours=7)
    assert before["deadlines"]["resolve"]["due_at"] - before["received_at"] != timedelta(hours=7)


def test_an_estate_upserted_through_the_handler_is_forgotten_once_committed(
    context: ServiceContext, store: DispatchStore, estates: dict[str, dict[str, Any]], clock: FrozenClock
) -> None:
    assert store.directory.cached_estate("NS01")["timezone"] == "Asia/Shanghai"
    estate_upserted = next(handles for handles in HANDLERS if handles.purpose == "estate-upserted")
    values = {"estate_id": "NS01", "name": "南山花园", "code": "NS01", "region_id": "R1", "group_id": "G1", "timezone": "Asia/Hong_Kong"}
    clock.advance(timedelta(minutes=1))
    event = new_event("directory.estate.upserted", producer="intake", data=values, group_id="G1", region_id="R1", estate_id="NS01")
    result = context.uow.run(lambda tx: estate_upserted.handle(context, tx, event))
    assert store.directory.cached_estate("NS01")["timezone"] == "Asia/Shanghai"  # committed, not yet forgotten
    assert estate_upserted.after is not None
    estate_upserted.after(context, event, result)
    assert store.directory.cached_estate("NS01")["timezone"] == "Asia/Hong_Kong"


def test_the_repeat_counts_are_one_aggregate_served_by_the_repeat_indexes(seeded: Seeded) -> None:  # noqa: F811
    """Both counts of a household in building 3 (2,500 recent water orders) in one command, each from its index's keys."""
    since = MONDAY_MORNING - HISTORY_WINDOW
    work_orders = seeded.store.work_orders
    for with_household_id in (True, False):
        order = _burst_order(seeded, with_household_id=with_household_id)
        household = household_filter({key: order[key] for key in ("household_id", "building", "unit", "room")})
        separately = (
            work_orders.count_recent(estate_id="NS01", subcategory="water", since=since, household=household),
            work_orders.count_recent(estate_id="NS01", subcategory="water", since=since, building="3"),
        )
        with seeded.client.start_session() as session, session.start_transaction():
            counts = work_orders.count_repeats(
                estate_id="NS01", subcategory="water", since=since, household=household, building="3", session=session
            )
        assert counts == separately and counts[0] >= 1 and counts[1] >= 2_500
        _, plans = seeded.plans(
            lambda household=household: work_orders.count_repeats(
                estate_id="NS01", subcategory="water", since=since, household=household, building="3"
            )
        )
        assert len(plans) == 1, "one round trip"
        explained = seeded.database.command({"explain": plans[0].command, "verbosity": "executionStats"})
        lookups = [stage for stage in explained["stages"] if "$lookup" in stage]
        assert len(lookups) == 2
        for stage, count in zip(lookups, counts, strict=True):
            assert stage["collectionScans"] == 0 and stage["indexesUsed"], stage
            assert stage["totalDocsExamined"] <= SLACK, "counts documents, not index keys: " + str(stage)
            assert stage["totalKeysExamined"] <= count + SLACK, "examines more than it counts: " + str(stage)


def test_the_repeat_counts_without_an_estate_copy_are_counted_apart(seeded: Seeded) -> None:  # noqa: F811
    """Orders of an estate dispatch has no copy of yet (its directory event not arrived): the two counts run on their own."""
    since = MONDAY_MORNING - HISTORY_WINDOW
    template = _burst_order(seeded, with_household_id=False)
    seeded.database["work_orders"].insert_many(
        [
            {**template, "_id": f"X9-{n}", "estate_id": "X9", "room": "101" if n < 2 else "102", "received_at": MONDAY_MORNING}
            for n in range(3)
        ]
    )
    household = {"building": "3", "unit": template["unit"], "room": "101"}
    counts = seeded.store.work_orders.count_repeats(estate_id="X9", subcategory="water", since=since, household=household, building="3")
    assert counts == (2, 3)
