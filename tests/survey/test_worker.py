"""Survey's worker against the real broker and mongod: it consumes ``complaint.resolved`` from the
exchange (published by another service), makes one invitation however often the event arrives, and
publishes ``survey.invited`` through its outbox relay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus
from propcare_shared.settings import Settings
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker
from survey.service import periodic_loops
from survey.worker import build_worker
from tests.survey.conftest import CONFIG, resolved_event


@pytest.fixture
def worker(context: ServiceContext, start_worker: Callable[[Worker], Worker]) -> Worker:
    return start_worker(build_worker(context))


@pytest.fixture
def dispatch_bus(bus_as: Callable[[str], EventBus]) -> EventBus:
    """A publisher with dispatch's settings on survey's exchange."""
    return bus_as("dispatch")


@pytest.fixture
def published_surveys(capture: Callable[[str], Callable[[], list[dict[str, Any]]]]) -> Callable[[], list[dict[str, Any]]]:
    """Every ``survey.*`` event on the exchange; returns a reader of what arrived."""
    return capture("survey.#")


def test_the_worker_wires_the_handlers_and_the_follow_up_and_campaign_passes(context: ServiceContext, settings: Settings) -> None:
    worker = build_worker(context)
    assert {(subscription.purpose, tuple(subscription.event_types)) for subscription in worker.subscriptions} == {
        ("complaint-resolved", ("complaint.resolved",)),
        ("households", ("directory.households.imported",)),
        ("estate-upserted", ("directory.estate.upserted",)),
    }
    assert [(loop.name, loop.interval) for loop in periodic_loops(context)] == [
        ("survey-follow-ups", CONFIG.follow_up_interval),
        ("survey-campaigns", CONFIG.follow_up_interval),
    ]
    assert [loop.name for loop in worker.loops] == ["survey-follow-ups", "survey-campaigns"]


def test_a_resolve_on_the_bus_invites_once_and_publishes_the_invitation(
    worker: Worker, dispatch_bus: EventBus, context: ServiceContext, published_surveys: Callable[[], list[dict[str, Any]]]
) -> None:
    event = resolved_event(channel="wechat")
    dispatch_bus.publish(event)
    dispatch_bus.publish(event)  # a redelivery after a lost confirm
    complaint_id = event.data["complaint_id"]
    [invited] = wait_for(
        lambda: [body for body in published_surveys() if body["type"] == "survey.invited"], timeout=15, message="survey.invited on the bus"
    )
    wait_for(lambda: context.database.inbox.count_documents({"event_id": event.id}) == 1, message="the event handled")
    wait_for(lambda: context.database.outbox.count_documents({"published_at": None}) == 0, timeout=15, message="outbox drained")
    assert invited["data"]["complaint_id"] == complaint_id and invited["data"]["channel"] == "wechat"
    assert (invited["producer"], invited["causation_id"], invited["estate_id"]) == ("survey", event.id, "NS01")
    assert context.database.invitations.count_documents({"complaint_id": complaint_id}) == 1
    assert [body["type"] for body in published_surveys()] == ["survey.invited"]
