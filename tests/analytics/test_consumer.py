"""Analytics' consumer against the real broker: a complaint's events in, KPIs out, no personal data kept;
duplicates counted once, any arrival order the same, and a hotspot announced once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from bson import json_util
from flask.testing import FlaskClient
from kombu import Connection, Exchange, Queue
from prometheus_client import REGISTRY

from analytics.store import COMPLAINT_FACTS
from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, unique_name, wait_for
from tests.analytics.factories import CONTACT, PERSONAL_TEXTS, ComplaintStory, estate_upserted, utc_now

pytestmark = pytest.mark.usefixtures("worker")


def publish(bus: EventBus, events: Iterable[Event]) -> None:
    for event in events:
        bus.publish(event)


def handled(context: ServiceContext) -> int:
    return context.database["inbox"].count_documents({})


def wait_handled(context: ServiceContext, count: int) -> None:
    wait_for(lambda: handled(context) >= count, timeout=20, message=f"{count} events handled")
    assert handled(context) == count


def duplicates() -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "events_consumed"
        for sample in metric.samples
        if sample.name == "events_consumed_total"
        and sample.labels.get("service") == "analytics"
        and sample.labels.get("outcome") == "duplicate"
    )


def kpis(client: FlaskClient, settings: Settings, scope: str = "estate:NS01") -> dict[str, Any]:
    response = client.get(
        "/api/v1/analytics/kpis", query_string={"scope": scope}, headers=bearer(settings, role="group_admin", group_id="G1")
    )
    assert response.status_code == 200, response.json
    return response.json


def stored_documents(context: ServiceContext) -> Iterator[tuple[str, str]]:
    for name in context.database.list_collection_names():
        for document in context.database[name].find():
            yield name, json_util.dumps(document, ensure_ascii=False)


@pytest.fixture
def hotspot_messages(analytics_settings: Settings) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Everything published as ``hotspot.detected`` on the test's exchange, read from a queue of its own."""
    connection = Connection(analytics_settings.rabbitmq_url)
    channel = connection.channel()
    exchange = Exchange(analytics_settings.event_exchange, type="topic", durable=True)
    queue = Queue(unique_name("test.hotspots."), exchange=exchange, routing_key="hotspot.detected", channel=channel, durable=False)
    queue.declare()
    received: list[dict[str, Any]] = []

    def drain() -> list[dict[str, Any]]:
        while (message := queue.get(no_ack=True)) is not None:
            received.append(message.payload)
        return received

    yield drain
    queue.delete()
    connection.release()


def test_a_complaints_life_shows_in_the_kpis_and_no_personal_data_is_kept(
    publisher: EventBus, client: FlaskClient, context: ServiceContext, analytics_settings: Settings
) -> None:
    complaint = ComplaintStory(received_at=utc_now() - timedelta(days=2))
    publish(publisher, complaint.lifecycle())
    wait_handled(context, 7)

    body = kpis(client, analytics_settings)
    assert body["volume"] == {
        "total": 1,
        "cancelled": 0,
        "by_category": {"facility": 1},
        "by_subcategory": {"elevator": 1},
        "by_channel": {"app": 1},
        "by_tier": {"general": 1},
    }
    assert body["resolution_rate"] == 1.0
    assert body["on_time"]["response"]["general"] == {"rate": 1.0, "met": 1, "breached": 0, "light": "green"}
    assert body["on_time"]["resolve"]["general"] == {"rate": 1.0, "met": 1, "breached": 0, "light": "green"}
    assert body["on_time"]["follow_up"]["general"] == {"rate": None, "met": 0, "breached": 0, "light": None}
    assert body["response_time"] == {"count": 1, "mean": 1800.0, "p50": 1800.0, "p90": 1800.0}
    assert body["resolution_time"] == {"count": 1, "mean": 86400.0, "p50": 86400.0, "p90": 86400.0}
    assert body["reopen_rate"] == 0.0
    assert body["survey"] == {"invited": 1, "answered": 1, "response_rate": 1.0, "csat_mean": pytest.approx(14 / 3), "csat_share_4_5": 1.0}
    assert body["scope"] == "estate:NS01" and body["from"].endswith("Z") and body["to"].endswith("Z")

    assert complaint.received().data["contact"] == CONTACT
    documents = list(stored_documents(context))
    assert {name for name, _ in documents} >= {COMPLAINT_FACTS, "inbox"}
    for name, text in documents:
        for secret in PERSONAL_TEXTS:
            assert secret not in text, f"{secret!r} found in {name}"
        assert '"contact"' not in text and '"reporter' not in text, f"a reporter's field found in {name}"


def test_an_estate_of_the_directory_is_a_scope_before_its_first_complaint(
    publisher: EventBus, client: FlaskClient, context: ServiceContext, analytics_settings: Settings
) -> None:
    headers = bearer(analytics_settings, role="group_admin", group_id="G1")
    assert client.get("/api/v1/analytics/kpis", query_string={"scope": "estate:NS09"}, headers=headers).status_code == 404

    estate = estate_upserted("NS09", region_id="R9")
    publish(publisher, [estate, estate])
    wait_handled(context, 1)

    assert kpis(client, analytics_settings, scope="estate:NS09")["volume"]["total"] == 0
    assert kpis(client, analytics_settings, scope="region:R9")["volume"]["total"] == 0
    [marker] = context.database["inbox"].find()
    assert marker["consumer"] == "analytics.estate-upserted"


def test_duplicate_deliveries_are_counted_once(
    publisher: EventBus, client: FlaskClient, context: ServiceContext, analytics_settings: Settings
) -> None:
    complaint = ComplaintStory(received_at=utc_now() - timedelta(days=3))
    events = [*complaint.lifecycle(), complaint.reopened()]
    answer_again = new_event("survey.completed", producer="survey", data=complaint.survey_completed().data, **complaint.envelope(None))
    duplicates_before = duplicates()

    publish(publisher, events)
    publish(publisher, events)
    publish(publisher, [answer_again])
    wait_handled(context, len(events) + 1)
    wait_for(lambda: duplicates() - duplicates_before >= len(events), message="the redeliveries counted as duplicates")

    body = kpis(client, analytics_settings)
    assert body["volume"]["total"] == 1
    assert body["survey"]["invited"] == 1 and body["survey"]["answered"] == 1
    assert body["reopen_rate"] == 1.0
    assert body["resolution_rate"] == 0.0
    facts = context.database[COMPLAINT_FACTS].find_one({"_id": complaint.complaint_id})
    assert facts["reopen_count"] == 1 and facts["status"] == "assigned"


def test_out_of_order_arrival_gives_the_same_facts(
    publisher: EventBus, client: FlaskClient, context: ServiceContext, analytics_settings: Settings
) -> None:
    received_at = utc_now() - timedelta(days=4)
    in_order = ComplaintStory(received_at=received_at)
    backwards = ComplaintStory(received_at=received_at, invitation_id=in_order.invitation_id)
    publish(publisher, in_order.lifecycle())
    publish(publisher, reversed(backwards.lifecycle()))
    wait_handled(context, 14)

    def comparable(complaint: ComplaintStory) -> dict[str, Any]:
        facts = context.database[COMPLAINT_FACTS].find_one({"_id": complaint.complaint_id})
        return {key: value for key, value in facts.items() if key not in {"_id", "complaint_id", "ticket_no"}}

    assert comparable(backwards) == comparable(in_order)
    body = kpis(client, analytics_settings)
    assert body["volume"]["total"] == 2
    assert body["resolution_rate"] == 1.0
    assert body["on_time"]["response"]["general"]["met"] == 2
    assert body["survey"]["answered"] == 2 and body["survey"]["csat_mean"] == pytest.approx(14 / 3)


def test_hotspot_is_announced_once_at_the_third_lift_complaint(
    publisher: EventBus,
    client: FlaskClient,
    context: ServiceContext,
    analytics_settings: Settings,
    hotspot_messages: Callable[[], list[dict[str, Any]]],
) -> None:
    now = utc_now()
    lifts = [ComplaintStory(received_at=now - timedelta(days=days)) for days in (20, 10, 5, 1)]
    elsewhere = [
        ComplaintStory(received_at=now - timedelta(days=3), building="5"),
        ComplaintStory(received_at=now - timedelta(days=2), subcategory="water"),
    ]

    def arrive(complaints: list[ComplaintStory]) -> None:
        publish(publisher, [event for complaint in complaints for event in (complaint.received(), complaint.classified())])

    def announced_in_outbox() -> list[dict[str, Any]]:
        return list(context.database["outbox"].find({"event.type": "hotspot.detected"}))

    arrive([lifts[0], lifts[1], *elsewhere])
    wait_handled(context, 8)
    assert announced_in_outbox() == []

    arrive([lifts[2]])
    wait_handled(context, 10)
    [stored] = announced_in_outbox()
    [message] = wait_for(hotspot_messages, message="hotspot.detected on the exchange")
    assert (message["group_id"], message["region_id"], message["estate_id"]) == ("G1", "R1", "NS01")
    assert message["producer"] == "analytics"
    data = message["data"]
    assert (data["location"], data["building"], data["subcategory"]) == ("NS01/3", "3", "elevator")
    assert (data["count"], data["days"], data["threshold"]) == (3, 30, 3)
    assert data["complaint_ids"] == [complaint.complaint_id for complaint in lifts[:3]]
    assert stored["event"]["id"] == message["id"]

    arrive([lifts[3]])
    wait_handled(context, 12)
    assert len(announced_in_outbox()) == 1
    wait_for(lambda: context.database["outbox"].count_documents({"published_at": None}) == 0, message="outbox relayed")
    assert len(hotspot_messages()) == 1

    response = client.get(
        "/api/v1/analytics/hotspots",
        query_string={"scope": "region:R1", "days": 30},
        headers=bearer(analytics_settings, role="regional_ops", regions=["R1"]),
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body["total"] == 6 and body["threshold"] == 3
    top = body["items"][0]
    assert (top["estate_id"], top["building"], top["subcategory"], top["count"]) == ("NS01", "3", "elevator", 4)
    assert top["share"] == pytest.approx(4 / 6)
    assert top["reaches_threshold"] is True and top["last_detected_at"] is not None
    assert [item["count"] for item in body["items"][1:]] == [1, 1]
    assert all(item["last_detected_at"] is None for item in body["items"][1:])


def test_two_groups_complaints_never_count_in_one_hotspot(
    publisher: EventBus, context: ServiceContext, hotspot_messages: Callable[[], list[dict[str, Any]]]
) -> None:
    now = utc_now()
    # Estate ids are unique in a deployment; even if one were reused by a second group, its complaints stay apart.
    g1 = [ComplaintStory(received_at=now - timedelta(days=days)) for days in (6, 5)]
    g2 = [ComplaintStory(received_at=now - timedelta(days=days), group_id="G2") for days in (4, 3)]
    publish(publisher, [event for complaint in (*g1, *g2) for event in (complaint.received(), complaint.classified())])
    wait_handled(context, 8)
    assert context.database["outbox"].count_documents({"event.type": "hotspot.detected"}) == 0

    third = ComplaintStory(received_at=now - timedelta(days=2), group_id="G2")
    publish(publisher, [third.received(), third.classified()])
    wait_handled(context, 10)
    [message] = wait_for(hotspot_messages, message="hotspot.detected on the exchange")
    assert (message["group_id"], message["region_id"], message["estate_id"]) == ("G2", "R1", "NS01")
    assert message["data"]["complaint_ids"] == [complaint.complaint_id for complaint in (*g2, third)]
    [stored] = context.database["hotspots"].find()
    assert (stored["_id"]["group_id"], stored["group_id"], stored["region_id"]) == ("G2", "G2", "R1")
