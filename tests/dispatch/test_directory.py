"""The directory's consistency: an estate intake has just created is "not yet" (503, retry), never "unknown" (404) at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from dispatch.api.directory import ARRIVAL_GRACE, RETRY_AFTER_SECONDS
from dispatch.store import DispatchStore
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer

STAFF = {"name": "李工", "department": "engineering", "role": "handler"}
NEW_ESTATE = {"group_id": "G1", "region_id": "R1", "code": "NE03", "name": "new estate", "timezone": "Asia/Shanghai"}


def test_staff_for_an_estate_still_on_its_way_is_a_503_with_retry_after_then_created(
    client: FlaskClient, settings: Settings, context: ServiceContext, store: DispatchStore, clock: FrozenClock
) -> None:
    headers = bearer(settings, role="group_admin")
    early = client.put("/api/v1/estates/NE03/staff/s1", json=STAFF, headers=headers)
    assert early.status_code == 503, early.json
    assert early.headers["Retry-After"] == str(RETRY_AFTER_SECONDS) and early.mimetype == "application/problem+json"
    assert client.get("/api/v1/estates/NE03/grids", headers=headers).status_code == 503
    assert context.database.staff.count_documents({}) == 0
    clock.advance(timedelta(milliseconds=80))
    store.directory.estates.keep(estate_id="NE03", values=NEW_ESTATE, as_of=clock())  # directory.estate.upserted arrives
    retried = client.put("/api/v1/estates/NE03/staff/s1", json=STAFF, headers=headers)
    assert retried.status_code == 201, retried.json
    assert client.put("/api/v1/estates/NE03/grids/g1", json={"buildings": ["1"], "owner_id": "s1"}, headers=headers).status_code == 201


def test_an_estate_that_never_arrives_is_404_like_another_groups_after_the_grace(
    client: FlaskClient, settings: Settings, context: ServiceContext, clock: FrozenClock, estates: dict[str, Any]
) -> None:
    headers = bearer(settings, role="group_admin")
    assert client.put("/api/v1/estates/XX99/staff/s1", json=STAFF, headers=headers).status_code == 503
    clock.advance(ARRIVAL_GRACE - timedelta(seconds=1))
    assert client.get("/api/v1/estates/XX99/staff", headers=headers).status_code == 503
    clock.advance(timedelta(seconds=1))
    unknown = client.put("/api/v1/estates/XX99/staff/s1", json=STAFF, headers=headers)
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    assert client.get("/api/v1/estates/XX99/grids", headers=bearer(settings)).status_code == 404
    other_group = client.put("/api/v1/estates/NS01/staff/s1", json=STAFF, headers=bearer(settings, role="group_admin", group_id="G2"))
    assert (other_group.status_code, other_group.json["detail"]) == (404, unknown.json["detail"].replace("XX99", "NS01"))
    assert context.database.staff.count_documents({}) == 0


def test_a_miss_is_forgotten_after_an_hour_so_the_id_can_be_provisioned_later(
    client: FlaskClient, settings: Settings, clock: FrozenClock
) -> None:
    headers = bearer(settings, role="group_admin")
    assert client.get("/api/v1/estates/NE03/staff", headers=headers).status_code == 503
    clock.advance(timedelta(minutes=30))
    assert client.get("/api/v1/estates/NE03/staff", headers=headers).status_code == 404
    clock.advance(timedelta(minutes=31))
    assert client.get("/api/v1/estates/NE03/staff", headers=headers).status_code == 503
