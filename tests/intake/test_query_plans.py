"""Query plans of intake's hot paths on seeded collections: no collection scan, nothing examined beyond the answer.

Seeds 4,000 complaints (three estates in two regions of one group and one estate of another group,
each complaint with a timeline entry), 4,000 households and 4,000 residents in a real mongod, then records what the store sends to MongoDB
(``tests.query_plans``) while it files a complaint (``complaints.receive`` in a unit of work, the
directory cache emptied first so its reads are recorded), applies a dispatch event (``follow``), and
answers the complaint lookups and lists of each scope (group, region, estates, one estate, one status).
Each recorded command is explained and must use an index and examine no more keys or documents than
it returns plus a small slack: a cost that does not grow with the collection.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from pymongo import MongoClient

from intake import complaints
from intake.directory_cache import DirectoryCache
from intake.domain.tickets import token_digest
from intake.schemas import ComplaintIn
from intake.store import COMPLAINTS, ESTATES, HOUSEHOLDS, RESIDENTS, TIMELINE, IntakeStore
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import new_event
from propcare_shared.events.outbox import UnitOfWork
from propcare_shared.mongo import new_id
from propcare_shared.sealing import DEVELOPMENT_PERSONAL_DATA_KEY, Sealer
from tests.intake.conftest import LATE_SUNDAY, complaint_body
from tests.query_plans import Plan, check_plan, explain_all, recording, recording_client

# Another group's estate is seeded last, so its complaints are the newest: a G1 list that walked ``_id`` alone would pass them all.
ESTATES_SEEDED = (("NS01", "R1", "G1"), ("NS02", "R1", "G1"), ("FT01", "R2", "G1"), ("GZ01", "R1", "G2"))
PER_ESTATE = 1000
STATUSES = ("received", "assigned", "in_progress", "resolved", "closed")


@pytest.fixture
def seeded(context: ServiceContext) -> ServiceContext:
    database = context.database
    database[ESTATES].insert_many(
        [
            {"_id": estate_id, "name": estate_id, "code": estate_id, "region_id": region, "group_id": group, "timezone": "Asia/Shanghai"}
            for estate_id, region, group in ESTATES_SEEDED
        ]
    )
    households: list[dict[str, Any]] = []
    residents: list[dict[str, Any]] = []
    filed: list[dict[str, Any]] = []
    timeline: list[dict[str, Any]] = []
    start = LATE_SUNDAY - timedelta(days=60)
    for estate_id, region, group in ESTATES_SEEDED:
        for index in range(PER_ESTATE):
            building, room = str(1 + index % 20), f"{1 + index // 20:02d}01"
            household_id = f"{estate_id}:{building}:1:{room}"
            households.append(
                {"_id": household_id, "estate_id": estate_id, "region_id": region, "group_id": group, "building": building, "unit": "1"}
                | {"room": room, "household_type": "owner", "age_band": "36-50"}
            )
            residents.append(
                {
                    "_id": new_id(),
                    "group_id": group,
                    "phone": f"+86138{len(residents):08d}",
                    "household_ids": [household_id],
                    "complaints": 1,
                }
            )
            complaint_id = new_id()
            filed.append(
                {
                    "_id": complaint_id,
                    "ticket_no": f"{estate_id}-20261001-{index + 1:04d}",
                    "tracking_digest": token_digest(f"token-{complaint_id}"),
                    "group_id": group,
                    "region_id": region,
                    "estate_id": estate_id,
                    "household_id": household_id,
                    "channel": "app",
                    "status": STATUSES[index % len(STATUSES)],
                    "seq": 1,
                    "external_ref": f"CRM-{estate_id}-{index}",
                    "received_at": start + timedelta(minutes=index),
                }
            )
            timeline.append({"_id": new_id(), "complaint_id": complaint_id, "at": start + timedelta(minutes=index), "seq": 1})
    database[HOUSEHOLDS].insert_many(households)
    database[RESIDENTS].insert_many(residents)
    database[COMPLAINTS].insert_many(filed)
    database[TIMELINE].insert_many(timeline)
    return context


@pytest.fixture
def recorded_store(seeded: ServiceContext) -> Iterator[tuple[MongoClient, Any, IntakeStore, UnitOfWork]]:
    client, recorder = recording_client(seeded.settings.mongodb_url)
    database = client[seeded.settings.mongodb_database]
    store = IntakeStore(database, clock=seeded.clock)
    store.cache = DirectoryCache()  # empty: the write path's directory reads are recorded
    uow = UnitOfWork(client=client, database=database, producer="intake", clock=seeded.clock)
    yield client, recorder, store, uow
    client.close()


def checked(client: MongoClient, recorded: list[Any], *, slack: int = 10) -> list[Plan]:
    plans = explain_all(client, recorded)
    assert plans, "nothing was recorded"
    for plan in plans:
        check_plan(plan, slack=slack)
    return plans


def test_filing_a_complaint_uses_an_index_for_every_read_and_write(
    recorded_store: tuple[MongoClient, Any, IntakeStore, UnitOfWork], seeded: ServiceContext
) -> None:
    client, recorder, store, uow = recorded_store
    estate = store.cached_estate("NS01")
    assert estate is not None
    sealer = Sealer([DEVELOPMENT_PERSONAL_DATA_KEY])
    with recording(recorder, seeded.settings.mongodb_database) as recorded:
        store.cache = DirectoryCache()
        estate = store.cached_estate("NS01")
        assert estate is not None
        for values in (
            ComplaintIn().load(
                complaint_body(building="7", unit="1", room="0301", reporter={"name": "A", "phone": "13800000007", "role": "owner"})
            ),
            # no address: the resident's one household of the estate is looked up by id
            ComplaintIn().load(
                complaint_body(building=None, unit=None, room=None, reporter={"name": "B", "phone": "13800000001", "role": "tenant"})
            ),
        ):
            uow.run(partial(complaints.receive, store=store, estate=estate, values=values, now=LATE_SUNDAY, actor_id=None, sealer=sealer))
        store.complaint_by_external_ref(group_id="G1", external_ref="CRM-NS01-17")
    plans = checked(client, recorded)
    collections = {next(iter(plan.command.values())) for plan in plans}
    assert {ESTATES, HOUSEHOLDS, RESIDENTS, "ticket_counters", COMPLAINTS} <= collections, collections


def test_following_dispatch_and_looking_up_a_complaint_use_an_index(
    recorded_store: tuple[MongoClient, Any, IntakeStore, UnitOfWork], seeded: ServiceContext
) -> None:
    client, recorder, store, uow = recorded_store
    some = seeded.database[COMPLAINTS].find_one({"estate_id": "NS02"}, skip=500)
    assert some is not None
    event = new_event(
        "complaint.assigned",
        producer="dispatch",
        seq=2,
        correlation_id=some["_id"],
        group_id="G1",
        region_id="R1",
        estate_id="NS02",
        data={
            "complaint_id": some["_id"],
            "ticket_no": some["ticket_no"],
            "at": datetime(2026, 11, 22, 16, tzinfo=UTC),
            "action": "assigned",
            "status": "assigned",
        },
    )
    with recording(recorder, seeded.settings.mongodb_database) as recorded:
        uow.run(lambda tx: complaints.follow(tx, store=store, event=event))
        assert store.complaint(some["_id"]) is not None
        assert store.complaint_by_token(some["tracking_digest"]) is not None
        assert len(store.timeline(some["_id"])) == 2
        assert store.resident(group_id="G1", phone="+8613800000042") is not None
    checked(client, recorded)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"group_id": "G1"}, id="group"),
        pytest.param({"group_id": "G1", "region_id": {"$in": ["R2"]}}, id="region"),
        pytest.param({"group_id": "G1", "region_id": {"$in": ["R1", "R2"]}}, id="regions"),
        pytest.param({"group_id": "G1", "estate_id": {"$in": ["NS01", "FT01"]}}, id="estates"),
        pytest.param({"group_id": "G1", "estate_id": "NS02"}, id="one-estate"),
        pytest.param({"group_id": "G1", "estate_id": "NS02", "status": "received"}, id="one-estate-status"),
        pytest.param({"group_id": "G1", "status": "resolved"}, id="group-status"),
    ],
)
def test_complaint_lists_of_every_scope_read_one_page(
    recorded_store: tuple[MongoClient, Any, IntakeStore, UnitOfWork], seeded: ServiceContext, query: dict[str, Any]
) -> None:
    client, recorder, store, _uow = recorded_store
    scope = {key: value for key, value in query.items() if key != "status"}
    filters = {"status": query["status"]} if "status" in query else {}
    with recording(recorder, seeded.settings.mongodb_database) as recorded:
        page, cursor = store.list_complaints(query={"$and": [filters, scope]}, limit=20, cursor=None)
        assert len(page) == 20 and cursor is not None
        second, _ = store.list_complaints(query={"$and": [filters, scope]}, limit=20, cursor=cursor)
        assert second and second[0]["_id"] < page[-1]["_id"]
    checked(client, recorded)
