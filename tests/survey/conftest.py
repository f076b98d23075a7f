"""Fixtures for survey: its context with a controllable clock, an app, follow-up invitations made the way
the handler makes them (from ``complaint.resolved``), and for campaigns a generated estate delivered
through the real directory handlers, a questionnaire made through the API and campaigns started on it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from infra.local.mongod import free_port
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.handling import subscriptions
from propcare_shared.mongo import new_id
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events
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
def served(app: Flask) -> Iterator[str]:
    """The survey app on a real HTTP port."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join()


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


# campaigns ---------------------------------------------------------------------------------------

CAMPAIGN_URL = "/api/v1/campaigns"
SEALED_CONTACT = "sealed:v1:not-a-name-or-phone"
QUESTIONS = ("cleaning", "security", "complaint_speed")


def _question(question_id: str, measures: str | None = None) -> dict[str, Any]:
    return {
        "id": question_id,
        "text": {"zh-CN": f"您对{question_id}满意吗？", "en": f"How satisfied are you with {question_id}?"},
        "measures": measures,
    }


CAMPAIGN_QUESTIONNAIRE: dict[str, Any] = {
    "title": {"zh-CN": "2026年第四季度满意度调查", "en": "Q4 2026 satisfaction survey"},
    "dimensions": [
        {
            "id": "basic_services",
            "title": {"zh-CN": "基础服务", "en": "Basic services"},
            "questions": [_question("cleaning"), _question("security")],
        },
        {
            "id": "communication",
            "title": {"zh-CN": "沟通", "en": "Communication"},
            "questions": [_question("complaint_speed", "complaint_handling")],
        },
    ],
}
CAMPAIGN_ANSWER = {"answers": {"cleaning": 4, "security": 5, "complaint_speed": 3}, "overall": 8, "recommend": 9, "comment": "保安很好"}


def generated_households(estate_id: str, *, buildings: int = 4, units: int = 2, rooms: int = 60) -> list[dict[str, Any]]:
    """Return an estate's households as intake publishes them: every 10th vacant, 7 in 10 owners, age bands in turn."""
    households = []
    for number in range(buildings * units * rooms):
        building, rest = divmod(number, units * rooms)
        unit, room = divmod(rest, rooms)
        household_type = "vacant" if number % 10 == 9 else ("tenant" if number % 10 >= 6 else "owner")
        households.append(
            {
                "household_id": f"{estate_id}:{building + 1}:{unit + 1}:{room + 101}",
                "building": str(building + 1),
                "unit": str(unit + 1),
                "room": str(room + 101),
                "household_type": household_type,
                "age_band": ("18-35", "36-50", "51-65", "65+")[number % 4],
                "contact": SEALED_CONTACT,
            }
        )
    return households


def estate_upserted(estate_id: str, *, region_id: str = "R1", group_id: str = "G1") -> Event:
    """Return the directory's ``directory.estate.upserted``, as intake publishes it."""
    return new_event(
        "directory.estate.upserted",
        producer="intake",
        data={"estate_id": estate_id, "name": f"{estate_id} 花园", "code": estate_id, "region_id": region_id, "group_id": group_id},
        estate_id=estate_id,
        region_id=region_id,
        group_id=group_id,
    )


def households_imported(
    estate_id: str, households: list[dict[str, Any]], *, region_id: str = "R1", group_id: str = "G1", occurred_at: datetime | None = None
) -> Event:
    """Return ``directory.households.imported`` for some households of an estate."""
    return new_event(
        "directory.households.imported",
        producer="intake",
        data={"households": households},
        estate_id=estate_id,
        region_id=region_id,
        group_id=group_id,
        occurred_at=occurred_at,
    )


@pytest.fixture
def directory(context: ServiceContext) -> Callable[..., list[dict[str, Any]]]:
    """Deliver an estate and its households to survey through its real handlers (200 households an event, as intake sends them)."""

    def deliver(estate_id: str = "NS01", *, region_id: str = "R1", group_id: str = "G1", **sizes: int) -> list[dict[str, Any]]:
        handler_of(context, "estate-upserted")(estate_upserted(estate_id, region_id=region_id, group_id=group_id))
        households = generated_households(estate_id, **sizes)
        for start in range(0, len(households), 200):
            handler_of(context, "households")(
                households_imported(estate_id, households[start : start + 200], region_id=region_id, group_id=group_id)
            )
        return households

    return deliver


@pytest.fixture
def questionnaire(client: FlaskClient, settings: Settings) -> dict[str, Any]:
    """A questionnaire of G1, created by its group admin through the API."""
    created = client.post("/api/v1/questionnaires", json=CAMPAIGN_QUESTIONNAIRE, headers=bearer(settings))
    assert created.status_code == 201, created.get_json()
    return dict(created.get_json())


@pytest.fixture
def campaign_body(questionnaire: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """The body of a campaign over NS01 (10%, by building and household type, the default mix, seed 42), open now for 14 days."""

    def body(**changes: Any) -> dict[str, Any]:
        return {
            "estate_id": "NS01",
            "questionnaire_id": questionnaire["id"],
            "kind": "regular",
            "sample_rate": 0.1,
            "strata": ["building", "household_type"],
            "channel_mix": {"online": 0.6, "offline": 0.3, "phone": 0.1},
            "seed": 42,
            "opens_at": MONDAY_MORNING.isoformat(),
            "closes_at": (MONDAY_MORNING + timedelta(days=14)).isoformat(),
            **changes,
        }

    return body


@pytest.fixture
def start_campaign(
    client: FlaskClient, settings: Settings, directory: Callable[..., list[dict[str, Any]]], campaign_body: Callable[..., dict[str, Any]]
) -> Callable[..., dict[str, Any]]:
    """Start a campaign over NS01 (delivered once) as its group admin; return the 201's body."""
    delivered: list[str] = []

    def start(**changes: Any) -> dict[str, Any]:
        if not delivered:
            directory("NS01")
            delivered.append("NS01")
        created = client.post(CAMPAIGN_URL, json=campaign_body(**changes), headers=bearer(settings))
        assert created.status_code == 201, created.get_json()
        return dict(created.get_json())

    return start


def all_invitations(client: FlaskClient, settings: Settings, campaign_id: str, **query: str) -> list[dict[str, Any]]:
    """Return every invitation of a campaign through the paginated list."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(
            f"{CAMPAIGN_URL}/{campaign_id}/invitations",
            query_string={**query, "limit": "500", **({"cursor": cursor} if cursor else {})},
            headers=bearer(settings),
        )
        assert page.status_code == 200, page.get_json()
        items.extend(page.get_json()["items"])
        cursor = page.get_json()["next_cursor"]
        if not cursor:
            return items


def campaign_tokens(context: ServiceContext, campaign_id: str) -> dict[str, str]:
    """Return the token of each online invitation of a campaign, from the ``survey.invited`` events in the outbox."""
    return {
        event["data"]["invitation_id"]: token_of(event["data"]["link"])
        for event in outbox_events(context.database, campaign_id)
        if event["type"] == "survey.invited" and not event["data"]["reminder"]
    }
