"""The per-process directory cache of the complaint write path (``intake.directory_cache``), on a real MongoDB.

- this process's own directory writes (PUT an estate, a households import) reach the next complaint at once;
- another process's write (simulated: the database changed behind the cache) is seen once the TTL passed,
  not before;
- an unknown estate is never cached, so an estate created a moment later takes complaints at once;
- the cache is bounded.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from intake.directory_cache import DIRECTORY_CACHE_SECONDS, DirectoryCache
from intake.store import IntakeStore
from propcare_shared.context import ServiceContext
from tests.intake.conftest import ESTATE, complaint_body


class Ticking:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def stored(context: ServiceContext, complaint_id: str) -> dict[str, Any]:
    found = context.database.complaints.find_one({"_id": complaint_id})
    assert found is not None
    return found


def post(client: FlaskClient, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/v1/complaints", json=complaint_body(**changes))
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_an_estate_renamed_through_this_process_numbers_the_next_complaint_with_its_new_code(
    client: FlaskClient, admin: dict[str, str], estate: dict[str, Any], store: IntakeStore
) -> None:
    assert post(client)["ticket_no"] == "NS01-20261122-0001"  # NS01 is cached now
    store.cache.now = Ticking()  # the TTL cannot pass: only the write's own invalidation can show the change
    renamed = client.put("/api/v1/estates/NS01", json={**ESTATE, "code": "NSX1", "name": "南山新苑"}, headers=admin)
    assert renamed.status_code == 200, renamed.get_json()
    assert post(client)["ticket_no"] == "NSX1-20261122-0002"


def test_another_process_change_is_seen_after_the_ttl_and_not_before(
    client: FlaskClient, estate: dict[str, Any], store: IntakeStore, context: ServiceContext
) -> None:
    clock = Ticking()
    store.cache.now = clock
    assert post(client)["ticket_no"].startswith("NS01-")
    context.database.estates.update_one({"_id": "NS01"}, {"$set": {"code": "NS09", "region_id": "R2"}})  # another process's PUT
    clock.seconds += DIRECTORY_CACHE_SECONDS - 0.5
    still = post(client)
    assert still["ticket_no"].startswith("NS01-")  # within the TTL: what this process read a moment ago
    assert stored(context, still["id"])["region_id"] == "R1"
    clock.seconds += 1.0
    moved = post(client)
    assert moved["ticket_no"].startswith("NS09-")
    assert stored(context, moved["id"])["region_id"] == "R2"


def test_households_imported_through_this_process_link_the_next_complaint(
    client: FlaskClient, admin: dict[str, str], estate: dict[str, Any], store: IntakeStore, context: ServiceContext
) -> None:
    store.cache.now = Ticking()
    address = {"building": "9", "unit": "1", "room": "0901"}
    first = post(client, **address)
    assert stored(context, first["id"])["household_id"] is None  # the absence is cached
    imported = client.post(
        "/api/v1/estates/NS01/households:import",
        data=b"building,unit,room,household_type,age_band,resident_name,resident_phone\n9,1,0901,tenant,18-35,,\n",
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.get_json()
    second = post(client, **address)
    assert stored(context, second["id"])["household_id"] == "NS01:9:1:0901"


def test_an_unknown_estate_is_not_cached(client: FlaskClient, admin: dict[str, str], store: IntakeStore) -> None:
    store.cache.now = Ticking()
    refused = client.post("/api/v1/complaints", json=complaint_body())
    assert refused.status_code == 422 and "estate_id" in refused.get_json()["errors"]
    store.database.estates.insert_one({"_id": "NS01", **ESTATE})  # created by another process
    assert post(client)["ticket_no"] == "NS01-20261122-0001"


def test_the_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    cache = DirectoryCache(ttl=60, now=Ticking(), max_entries=3)
    loads: list[str] = []

    def loader(estate_id: str) -> Any:
        def load() -> dict[str, Any]:
            loads.append(estate_id)
            return {"_id": estate_id}

        return load

    for estate_id in ("A", "B", "C", "A", "D"):  # D pushes out B, the least recently used
        cache.estate(estate_id, loader(estate_id))
    assert len(cache.estates) == 3
    cache.estate("A", loader("A"))
    cache.estate("B", loader("B"))
    assert loads == ["A", "B", "C", "D", "B"]
