"""Fixtures for dispatch: its context on a throwaway database with a controllable clock, known
estates, staff, and work orders made the way the handler makes them (from ``complaint.received``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dispatch.app import create_app
from dispatch.config import DispatchConfig
from dispatch.store import INDEXES, DispatchStore
from dispatch.work_orders import create_from_complaint
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from tests.dispatch.factories import MONDAY_MORNING, PURPOSES, received_event

CONFIG = DispatchConfig(sla_scan_interval=0.2)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MONDAY_MORNING)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings("dispatch", purposes=PURPOSES)


@pytest.fixture
def context(open_context: Callable[..., ServiceContext], settings: Settings, clock: FrozenClock) -> ServiceContext:
    return open_context(settings, indexes=INDEXES, clock=clock, config=CONFIG)


@pytest.fixture
def store(context: ServiceContext, clock: FrozenClock) -> DispatchStore:
    return DispatchStore(context.database, clock=clock)


@pytest.fixture
def estates(store: DispatchStore, clock: FrozenClock) -> dict[str, dict[str, Any]]:
    """Two estates dispatch has heard of: NS01 in region R1 and FT02 in region R2."""
    for estate_id, region_id in (("NS01", "R1"), ("FT02", "R2")):
        store.directory.estates.keep(
            estate_id=estate_id,
            values={
                "group_id": "G1",
                "region_id": region_id,
                "code": estate_id,
                "name": f"estate {estate_id}",
                "timezone": "Asia/Shanghai",
            },
            as_of=clock(),
        )
    return {estate_id: store.directory.estate(estate_id) for estate_id in ("NS01", "FT02")}


@pytest.fixture
def add_staff(store: DispatchStore, estates: dict[str, dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Put a staff member into an estate's directory."""

    def add(
        staff_id: str, department: str, role: str = "handler", *, estate_id: str = "NS01", on_duty: bool = True, name: str = "张工"
    ) -> dict[str, Any]:
        document, _ = store.directory.put_staff(
            estate=estates[estate_id],
            staff_id=staff_id,
            values={"name": name, "department": department, "role": role, "grids": [], "on_duty": on_duty},
        )
        return document

    return add


@pytest.fixture
def staff(add_staff: Callable[..., dict[str, Any]]) -> None:
    """NS01: two engineers, an engineering supervisor, a security handler, a manager; FT02: one engineer."""
    add_staff("eng-1", "engineering")
    add_staff("eng-2", "engineering")
    add_staff("eng-sup", "engineering", "supervisor")
    add_staff("sec-1", "security")
    add_staff("mgr", "management", "manager")
    add_staff("ft-eng", "engineering", estate_id="FT02")


@pytest.fixture
def make_work_order(context: ServiceContext, store: DispatchStore, clock: FrozenClock) -> Callable[..., dict[str, Any]]:
    """Make a work order from a received complaint, as the handler does; return the stored order."""

    def make(**kwargs: Any) -> dict[str, Any]:
        event = received_event(**kwargs)
        context.uow.run(lambda tx: create_from_complaint(tx, store=store, event=event, now=clock()))
        order = store.work_orders.work_order(event.data["complaint_id"])
        assert order is not None
        return order

    return make


@pytest.fixture
def app(context: ServiceContext) -> Flask:
    return create_app(context)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
