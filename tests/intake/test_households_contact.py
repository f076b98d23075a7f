"""Households on the bus: each resident's name and phone only sealed in ``contact``, for notification alone."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from intake.config import config_of
from propcare_shared.context import ServiceContext
from propcare_shared.sealing import Sealer, UnreadableSeal, new_key
from propcare_shared.testing import outbox_events


def _imported(context: ServiceContext) -> dict[str, dict[str, Any]]:
    events = [event for event in outbox_events(context.database) if event["type"] == "directory.households.imported"]
    return {household["household_id"]: household for event in events for household in event["data"]["households"]}


def test_a_household_with_a_phone_carries_its_contact_sealed_in_e164_and_nothing_in_clear(
    client: FlaskClient, admin: dict[str, str], estate: dict[str, Any], context: ServiceContext
) -> None:
    csv = "building,unit,room,household_type,resident_name,resident_phone\n7,1,0101,owner,李四,86-139 0013 9000\n"
    response = client.post("/api/v1/estates/NS01/households:import", data=csv.encode(), headers={**admin, "Content-Type": "text/csv"})
    assert response.status_code == 200
    households = _imported(context)
    sealer = Sealer(config_of(context).personal_data_keys)
    assert sealer.open(households["NS01:7:1:0101"]["contact"]) == {"name": "李四", "phone": "+8613900139000"}
    assert sealer.open(households["NS01:3:2:1502"]["contact"]) == {"name": "王女士", "phone": "+8613800138000"}
    raw = str(outbox_events(context.database))
    for clear in ("李四", "王女士", "13900139000", "13800138000", "resident_name", "resident_phone"):
        assert clear not in raw


def test_a_household_without_a_phone_has_no_contact(client: FlaskClient, estate: dict[str, Any], context: ServiceContext) -> None:
    households = _imported(context)
    assert households["NS01:3:2:1503"]["contact"] is None
    assert households["NS01:5:1:0101"]["contact"] is None
    assert households["NS01:3:2:1503"]["household_type"] == "tenant"


def test_a_name_without_a_phone_is_not_sent(
    client: FlaskClient, admin: dict[str, str], estate: dict[str, Any], context: ServiceContext
) -> None:
    lines = '{"building": "8", "room": "0808", "household_type": "owner", "resident_name": "赵六"}\n'
    response = client.post(
        "/api/v1/estates/NS01/households:import", data=lines.encode(), headers={**admin, "Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 200
    assert _imported(context)["NS01:8:-:0808"]["contact"] is None
    assert "赵六" not in str(outbox_events(context.database))


def test_another_key_does_not_open_a_household_contact(estate: dict[str, Any], context: ServiceContext) -> None:
    sealed = _imported(context)["NS01:3:2:1502"]["contact"]
    with pytest.raises(UnreadableSeal):
        Sealer([new_key()]).open(sealed)
