"""The transfer list keeps each callback's delivery state from notification's ``hotline.callback_updated``, over the broker."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from intake.config import IntakeConfig
from intake.hotline import HOTLINE_HANDLERS
from intake.store import INDEXES
from intake.worker import build_worker
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.events.outbox import AlreadyHandled
from propcare_shared.handling import subscriptions
from propcare_shared.settings import Settings
from propcare_shared.testing import fetch_until
from propcare_shared.worker import Worker
from tests.intake.test_hotline import SECRET, listed, transfer

TICKET = "12345-20261122-000123"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings("intake", purposes=("complaint-status", "hotline-callbacks"))


@pytest.fixture
def context(open_context: Callable[..., ServiceContext], settings: Settings, clock: FrozenClock) -> ServiceContext:
    config = IntakeConfig(resident_limit_per_address=1000, resident_limit_per_phone=1000, hotline_secret=SECRET)
    return open_context(settings, indexes=INDEXES, clock=clock, config=config)


@pytest.fixture
def handle_callback(context: ServiceContext) -> Callable[[Event], None]:
    """The callback handler as the worker runs it: in a unit of work with the inbox."""
    [subscription] = subscriptions(context, HOTLINE_HANDLERS)
    return subscription.handler


def callback_updated(*, callback_id: str, event: str, state: str, at: datetime, attempts: int = 0, last_error: str | None = None) -> Event:
    """Return notification's report of one callback's delivery."""
    return new_event(
        "hotline.callback_updated",
        producer="notification",
        data={
            "hotline_ticket_id": TICKET,
            "callback_id": callback_id,
            "event": event,
            "state": state,
            "attempts": attempts,
            "last_error": last_error,
            "at": at,
        },
        group_id="G1",
        region_id="R1",
        estate_id="NS01",
    )


def test_the_list_shows_each_callbacks_latest_delivery_state_and_completion(
    client: FlaskClient,
    estate: dict[str, Any],
    agent: dict[str, str],
    clock: FrozenClock,
    handle_callback: Callable[[Event], None],
) -> None:
    transfer(client, clock)
    client.post(f"/api/v1/hotline/transfers/{TICKET}/accept", headers=agent)
    at = clock()
    delivered = callback_updated(callback_id="cb-1", event="accepted", state="delivered", attempts=2, at=at + timedelta(seconds=5))
    handle_callback(delivered)
    handle_callback(
        callback_updated(
            callback_id="cb-1", event="accepted", state="failing", attempts=1, last_error="HTTP 500", at=at + timedelta(seconds=1)
        )
    )
    handle_callback(callback_updated(callback_id="cb-2", event="progress", state="failing", attempts=3, last_error="timed out", at=at))
    with pytest.raises(AlreadyHandled):
        handle_callback(delivered)
    [item] = listed(client, agent)
    assert item["state"] == "accepted"
    assert [
        (callback["callback_id"], callback["state"], callback["attempts"], callback["last_error"]) for callback in item["callbacks"]
    ] == [
        ("cb-2", "failing", 3, "timed out"),
        ("cb-1", "delivered", 2, None),
    ]
    handle_callback(callback_updated(callback_id="cb-3", event="completed", state="pending", at=at + timedelta(seconds=9)))
    [item] = listed(client, agent)
    assert item["state"] == "completed" and item["allowed_actions"] == [] and item["reply_overdue"] is False


def test_the_worker_consumes_callback_reports_from_the_broker(
    client: FlaskClient,
    estate: dict[str, Any],
    agent: dict[str, str],
    context: ServiceContext,
    clock: FrozenClock,
    start_worker: Callable[[Worker], Worker],
    bus_as: Callable[[str], EventBus],
    capture: Callable[[str], Callable[[], list[dict[str, Any]]]],
) -> None:
    accepted_events = capture("hotline.accepted")
    received_events = capture("complaint.received")
    transfer(client, clock)
    client.post(f"/api/v1/hotline/transfers/{TICKET}/accept", headers=agent)
    start_worker(build_worker(context))
    bus_as("notification").publish(callback_updated(callback_id="cb-1", event="accepted", state="delivered", attempts=1, at=clock()))
    item = fetch_until(lambda: listed(client, agent)[0], lambda item: bool(item["callbacks"]), message="the callback's state listed")
    assert item["callbacks"][0]["state"] == "delivered"
    published = fetch_until(lambda: accepted_events() + received_events(), lambda events: len(events) == 2, message="both events published")
    assert {event["type"] for event in published} == {"hotline.accepted", "complaint.received"}
    assert "13900139000" not in json.dumps(published, ensure_ascii=False)
