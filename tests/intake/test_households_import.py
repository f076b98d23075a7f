"""Households imports in batches: each batch one transaction, progress visible while a large file runs, idempotent."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from intake.config import IntakeConfig
from intake.store import INDEXES
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import outbox_events

BATCH_ROWS = 400
SYNC_ROWS = 1000
ROWS = 3000


@pytest.fixture
def context(open_context: Callable[..., ServiceContext], settings: Settings, clock: FrozenClock) -> ServiceContext:
    config = IntakeConfig(
        resident_limit_per_address=1000, resident_limit_per_phone=1000, import_batch_rows=BATCH_ROWS, import_sync_rows=SYNC_ROWS
    )
    return open_context(settings, indexes=INDEXES, clock=clock, config=config)


def _csv(rows: int, *, bad_row: int | None = None) -> bytes:
    lines = ["building,unit,room,household_type,age_band,resident_name,resident_phone"]
    for number in range(1, rows + 1):
        kind = "castle" if number == bad_row else "owner"
        lines.append(f"{number % 30},{number % 4},{number:05d},{kind},36-50,住户{number},1390013{number % 2000:04d}")
    return "\n".join(lines).encode()


def _finished(client: FlaskClient, location: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(location, headers=headers).get_json()
        if job["status"] != "running":
            return dict(job)
        assert 0 <= job["processed"] <= ROWS and job["processed"] % BATCH_ROWS == 0  # only whole batches are ever counted
        time.sleep(0.2)
    raise AssertionError("the import did not finish in two minutes")


def test_a_large_import_is_accepted_at_once_and_committed_batch_by_batch_with_its_progress(
    client: FlaskClient, context: ServiceContext, estate: dict[str, Any], admin: dict[str, str]
) -> None:
    headers = {**admin, "Content-Type": "text/csv"}
    accepted = client.post("/api/v1/estates/NS01/households:import", data=_csv(ROWS, bad_row=401), headers=headers)
    assert accepted.status_code == 202, accepted.get_json()
    assert accepted.get_json()["status"] == "running" and accepted.get_json()["rows"] == ROWS
    job = _finished(client, accepted.headers["Location"], admin)
    assert (job["status"], job["processed"], job["created"], job["updated"], job["rejected_count"]) == ("done", ROWS, ROWS - 1, 0, 1)
    assert job["rejected"] == [{"row": 401, "errors": {"household_type": ["Must be one of: owner, tenant, vacant."]}}]
    database = context.database
    assert database.households.count_documents({"estate_id": "NS01"}) == 3 + ROWS - 1
    assert database.residents.count_documents({"group_id": "G1"}) == 2000 + 1  # the fixture's resident too
    imported = [event for event in outbox_events(database) if event["type"] == "directory.households.imported"]
    # one event per batch (400 < 500 households): a single transaction would have sent six events of 500
    assert [len(event["data"]["households"]) for event in imported][1:] == [400, 399, *[400] * 5, 200]


def test_sending_the_same_file_again_converges_to_the_same_directory(
    client: FlaskClient, context: ServiceContext, estate: dict[str, Any], admin: dict[str, str]
) -> None:
    headers = {**admin, "Content-Type": "text/csv"}
    first = client.post("/api/v1/estates/NS01/households:import", data=_csv(SYNC_ROWS), headers=headers)
    again = client.post("/api/v1/estates/NS01/households:import", data=_csv(SYNC_ROWS), headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.get_json()["created"], again.get_json()["created"], again.get_json()["updated"]) == (SYNC_ROWS, 0, SYNC_ROWS)
    assert context.database.households.count_documents({"estate_id": "NS01"}) == 3 + SYNC_ROWS
    assert context.database.residents.count_documents({"group_id": "G1"}) == 1000 + 1
    assert client.get(first.headers["Location"], headers=admin).get_json()["status"] == "done"


def test_an_import_of_another_estate_is_not_found(client: FlaskClient, estate: dict[str, Any], admin: dict[str, str]) -> None:
    assert client.get("/api/v1/estates/NS01/households/imports/nope", headers=admin).status_code == 404
