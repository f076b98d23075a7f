"""Fixtures for intake: its context on a throwaway database with a controllable clock, an app, the
status handler as the worker runs it, and the estate NS01 (region R1 of group G1) created through the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.app import create_app
from intake.config import IntakeConfig
from intake.handlers import HANDLERS
from intake.store import INDEXES, IntakeStore
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.handling import subscriptions
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer

# Sunday 22 November 2026, 23:30 in Shanghai (15:30 UTC): the local date differs from the UTC one
# an hour later, which the ticket numbers must follow.
LATE_SUNDAY = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
PURPOSES = ("complaint-status", "hotline-callbacks")
ESTATE = {"name": "南山花园", "code": "NS01", "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"}
HOUSEHOLDS_CSV = (
    "building,unit,room,household_type,age_band,resident_name,resident_phone\n"
    "3,2,1502,owner,65+,王女士,13800138000\n"
    "3,2,1503,tenant,36-50,,\n"
    "5,1,0101,vacant,,,\n"
)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(LATE_SUNDAY)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings("intake", purposes=PURPOSES)


@pytest.fixture
def context(open_context: Callable[..., ServiceContext], settings: Settings, clock: FrozenClock) -> ServiceContext:
    return open_context(
        settings, indexes=INDEXES, clock=clock, config=IntakeConfig(resident_limit_per_address=1000, resident_limit_per_phone=1000)
    )


@pytest.fixture
def store(context: ServiceContext, clock: FrozenClock) -> IntakeStore:
    return IntakeStore(context.database, clock=clock)


@pytest.fixture
def app(context: ServiceContext) -> Flask:
    return create_app(context)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def handle(context: ServiceContext) -> Callable[[Event], None]:
    """The status handler as the worker runs it: in a unit of work with the inbox."""
    [subscription] = subscriptions(context, HANDLERS)
    return subscription.handler


@pytest.fixture
def admin(settings: Settings) -> dict[str, str]:
    return bearer(settings, role="group_admin", sub="admin-1")


@pytest.fixture
def agent(settings: Settings) -> dict[str, str]:
    return bearer(settings, role="agent", sub="agent-7", estates=["NS01"])


@pytest.fixture
def estate(client: FlaskClient, admin: dict[str, str]) -> dict[str, Any]:
    """NS01 in the directory, with three households."""
    response = client.put("/api/v1/estates/NS01", json=ESTATE, headers=admin)
    assert response.status_code == 201, response.get_json()
    imported = client.post(
        "/api/v1/estates/NS01/households:import", data=HOUSEHOLDS_CSV.encode(), headers={**admin, "Content-Type": "text/csv"}
    )
    assert imported.status_code == 200 and imported.get_json()["created"] == 3, imported.get_json()
    return response.get_json()


def complaint_body(**changes: Any) -> dict[str, Any]:
    """Return a resident's complaint about the lift of building 3, with some fields changed."""
    body: dict[str, Any] = {
        "estate_id": "NS01",
        "building": "3",
        "unit": "2",
        "room": "1502",
        "reporter": {"name": "王女士", "phone": "13800138000", "role": "owner"},
        "channel": "app",
        "description": "3号楼2单元电梯停在两层之间不动了",
        "demand": "尽快修好",
    }
    body.update(changes)
    return body
