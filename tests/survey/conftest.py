"""Fixtures for survey: its context with a controllable clock, an app, and follow-up invitations made
the way the handler makes them (from ``complaint.resolved``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient

from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.handling import subscriptions
from propcare_shared.mongo import new_id
from propcare_shared.settings import Settings
from propcare_shared.testing import outbox_events
from survey.app import create_app
from survey.config import SurveyConfig
from survey.handlers import HANDLERS
from survey.store import INDEXES, SurveyStore

# Monday 23 November 2026, 10:00 in Shanghai.
MONDAY_MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CONFIG = SurveyConfig(public_base_url="https://propcare.example.cn", follow_up_interval=0.2)
PURPOSES = ("complaint-resolved", "households", "estate-upserted")
SATISFIED = {"solved": True, "scores": {"result": 5, "speed": 4, "attitude": 5}, "comment": "师傅很负责"}


def resolved_event(
    *,
    complaint_id: str | None = None,
    seq: int = 5,
    channel: str = "app",
    estate_id: str = "NS01",
    region_id: str = "R1",
    group_id: str = "G1",
    assignee_id: str = "eng-1",
) -> Event:
    """Return a ``complaint.resolved`` as dispatch emits it."""
    complaint_id = complaint_id or new_id()
    return new_event(
        "complaint.resolved",
        producer="dispatch",
        data={
            "complaint_id": complaint_id,
            "ticket_no": f"{estate_id}-20261123-0001",
            "status": "resolved",
            "action": "resolve",
            "at": MONDAY_MORNING,
            "channel": channel,
            "resolution": "更换了控制板",
            "assignee_id": assignee_id,
        },
        correlation_id=complaint_id,
        group_id=group_id,
        region_id=region_id,
        estate_id=estate_id,
        seq=seq,
    )


def handler_of(context: ServiceContext, purpose: str) -> Callable[[Event], None]:
    """Return one of survey's handlers as the worker runs it: in a unit of work with the inbox."""
    [subscription] = [subscription for subscription in subscriptions(context, HANDLERS) if subscription.purpose == purpose]
    return subscription.handler


def token_of(link: str) -> str:
    """Return the token at the end of a survey link."""
    return urlparse(link).path.rsplit("/", 1)[-1]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MONDAY_MORNING)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings("survey", purposes=PURPOSES)


@pytest.fixture
def context(open_context: Callable[..., ServiceContext], settings: Settings, clock: FrozenClock) -> ServiceContext:
    return open_context(settings, indexes=INDEXES, clock=clock, config=CONFIG)


@pytest.fixture
def store(context: ServiceContext, clock: FrozenClock) -> SurveyStore:
    return SurveyStore(context.database, clock=clock)


@pytest.fixture
def app(context: ServiceContext) -> Flask:
    return create_app(context)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def handle(context: ServiceContext) -> Callable[[Event], None]:
    """The resolve handler as the worker runs it: in a unit of work with the inbox."""
    return handler_of(context, "complaint-resolved")


@pytest.fixture
def invite(handle: Callable[[Event], None], context: ServiceContext) -> Callable[..., dict[str, Any]]:
    """Resolve a complaint; return its ``survey.invited`` event with the invitation's token."""

    def make(**kwargs: Any) -> dict[str, Any]:
        event = resolved_event(**kwargs)
        handle(event)
        invited = [e for e in outbox_events(context.database, event.data["complaint_id"]) if e["type"] == "survey.invited"]
        return {**invited[-1], "token": token_of(invited[-1]["data"]["link"]), "complaint_id": event.data["complaint_id"]}

    return make
