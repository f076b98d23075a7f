"""Notification's HTTP API: messages with their attempts, masked, within the caller's scope; templates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from notification.dispatcher import Dispatcher
from notification.store import NotificationStore
from propcare_shared.events.envelope import Event
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer
from tests.notification.factories import (
    HOUSEHOLD,
    NAME,
    PHONE,
    PHONE_E164,
    campaign_invited_event,
    estate_event,
    households_event,
    received_event,
    survey_event,
    work_order_event,
)


@pytest.fixture
def recorded(handle: Callable[[Event], bool], make_dispatcher: Callable[..., Dispatcher]) -> dict[str, Event]:
    """An acknowledged and resolved complaint in NS01 (sent), and an acknowledged one in FT02 (region R2)."""
    ns01, ft02 = received_event(), received_event(estate_id="FT02", region_id="R2")
    for received in (ns01, ft02):
        handle(received)
        handle(work_order_event("complaint.classified", received, action="classify", status="classified"))
    make_dispatcher().dispatch_due()
    handle(work_order_event("complaint.resolved", ns01, seq=4, resolution="更换了灯管"))
    return {"NS01": ns01, "FT02": ft02}


def manager(settings: Settings, estate: str = "NS01") -> dict[str, str]:
    return bearer(settings, role="manager", estates=[estate])


def test_the_list_shows_the_callers_estates_with_attempts_and_masked_recipients(
    client: FlaskClient, settings: Settings, recorded: dict[str, Event]
) -> None:
    response = client.get("/api/v1/notifications", headers=manager(settings))
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [item["kind"] for item in items] == ["resolved", "acknowledgement"]
    assert {item["estate_id"] for item in items} == {"NS01"}
    acknowledgement = items[1]
    assert acknowledgement["recipient"] == "+86 138****8000" and acknowledgement["status"] == "sent"
    assert [(a["number"], a["provider"], a["status"]) for a in acknowledgement["attempts"]] == [(1, "log", "sent")]
    assert acknowledgement["attempt_count"] == 1 and acknowledgement["sent_at"].endswith("Z")
    assert items[0]["status"] == "queued" and items[0]["attempts"] == []
    body = response.get_data(as_text=True)
    assert PHONE not in body and PHONE_E164 not in body and NAME not in body


def test_the_list_filters_by_complaint_status_channel_and_kind(client: FlaskClient, settings: Settings, recorded: dict[str, Event]) -> None:
    admin = bearer(settings, role="group_admin")
    complaint_id = recorded["FT02"].data["complaint_id"]

    def listed(**query: str) -> list[dict[str, Any]]:
        response = client.get("/api/v1/notifications", query_string=query, headers=admin)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["items"]

    assert [item["complaint_id"] for item in listed(complaint_id=complaint_id)] == [complaint_id]
    assert len(listed()) == 3
    assert [item["kind"] for item in listed(status="queued")] == ["resolved"]
    assert len(listed(channel="app_push")) == 3 and listed(channel="sms") == []
    assert len(listed(kind="acknowledgement")) == 2
    page = client.get("/api/v1/notifications", query_string={"limit": 2}, headers=admin).get_json()
    rest = client.get("/api/v1/notifications", query_string={"limit": 2, "cursor": page["next_cursor"]}, headers=admin).get_json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None


def test_another_estate_is_forbidden(client: FlaskClient, settings: Settings, recorded: dict[str, Event]) -> None:
    assert client.get("/api/v1/notifications", query_string={"estate_id": "FT02"}, headers=manager(settings)).status_code == 403
    other = client.get(
        "/api/v1/notifications", query_string={"complaint_id": recorded["FT02"].data["complaint_id"]}, headers=manager(settings)
    )
    assert other.status_code == 200 and other.get_json()["items"] == []
    ft02_id = client.get("/api/v1/notifications", headers=manager(settings, "FT02")).get_json()["items"][0]["id"]
    forbidden = client.get(f"/api/v1/notifications/{ft02_id}", headers=manager(settings))
    assert forbidden.status_code == 403 and forbidden.headers["Content-Type"].startswith("application/problem+json")
    regional = bearer(settings, role="regional_ops", regions=["R1"])
    assert client.get("/api/v1/notifications", query_string={"estate_id": "FT02"}, headers=regional).status_code == 403
    assert {item["estate_id"] for item in client.get("/api/v1/notifications", headers=regional).get_json()["items"]} == {"NS01"}
    # An estate notification knows nothing of is "not yours" (404), unless the caller's own token names it.
    assert client.get("/api/v1/notifications", query_string={"estate_id": "NS02"}, headers=regional).status_code == 404
    assert client.get("/api/v1/notifications", query_string={"estate_id": "NS02"}, headers=manager(settings)).status_code == 404
    own_quiet_estate = client.get("/api/v1/notifications", query_string={"estate_id": "NS02"}, headers=manager(settings, "NS02"))
    assert own_quiet_estate.status_code == 200 and own_quiet_estate.get_json()["items"] == []


def test_one_message_with_its_attempts(client: FlaskClient, settings: Settings, recorded: dict[str, Event]) -> None:
    listed = client.get(
        "/api/v1/notifications", query_string={"kind": "acknowledgement", "estate_id": "NS01"}, headers=manager(settings)
    ).get_json()["items"]
    response = client.get(f"/api/v1/notifications/{listed[0]['id']}", headers=manager(settings))
    assert response.status_code == 200
    message = response.get_json()
    assert message["recipient"] == "+86 138****8000" and message["attempts"][0]["status"] == "sent" and message["call_task"] is None
    assert client.get("/api/v1/notifications/nope", headers=manager(settings)).status_code == 404


def test_another_group_using_the_same_region_and_estate_names_sees_nothing_of_g1(
    client: FlaskClient, settings: Settings, handle: Callable[[Event], bool], recorded: dict[str, Event]
) -> None:
    g2_own = received_event(estate_id="G2E1", region_id="R1", group_id="G2")
    handle(g2_own)
    handle(work_order_event("complaint.classified", g2_own, action="classify", status="classified"))
    g1_ids = {item["id"] for item in client.get("/api/v1/notifications", headers=bearer(settings)).get_json()["items"]}
    assert len(g1_ids) == 3

    g2_regional = bearer(settings, role="regional_ops", group_id="G2", regions=["R1"])
    listed = client.get("/api/v1/notifications", headers=g2_regional).get_json()["items"]
    assert [item["complaint_id"] for item in listed] == [g2_own.data["complaint_id"]]
    assert client.get("/api/v1/notifications", query_string={"estate_id": "NS01"}, headers=g2_regional).status_code == 404

    g2_manager = bearer(settings, role="manager", group_id="G2", estates=["NS01"])
    assert client.get("/api/v1/notifications", headers=g2_manager).get_json()["items"] == []
    ns01_complaint = recorded["NS01"].data["complaint_id"]
    by_complaint = client.get("/api/v1/notifications", query_string={"complaint_id": ns01_complaint}, headers=g2_manager)
    assert by_complaint.status_code == 200 and by_complaint.get_json()["items"] == []
    assert client.get("/api/v1/notifications", query_string={"estate_id": "NS01"}, headers=g2_manager).status_code == 404
    for headers in (g2_regional, g2_manager):
        missing = client.get("/api/v1/notifications/no-such-message", headers=headers).get_json()
        for message_id in g1_ids:
            refused = client.get(f"/api/v1/notifications/{message_id}", headers=headers)
            # Another group's message is answered exactly as a missing one: its id cannot be told apart.
            assert refused.status_code == 404
            assert refused.get_json() == {**missing, "detail": missing["detail"].replace("no-such-message", message_id)}


def test_staff_see_survey_links_without_their_token_and_the_resident_gets_the_real_link(
    client: FlaskClient, settings: Settings, handle: Callable[[Event], bool], store: NotificationStore
) -> None:
    received = received_event()
    handle(received)
    invited = survey_event(received, invitation_id="inv-42")
    handle(invited)
    link = invited.data["link"]
    token = link.rsplit("/", 1)[-1]
    [listed] = client.get("/api/v1/notifications", query_string={"kind": "survey_invitation"}, headers=manager(settings)).get_json()[
        "items"
    ]
    one = client.get(f"/api/v1/notifications/{listed['id']}", headers=manager(settings))
    for shown in (listed, one.get_json()):
        assert token not in shown["body"] and token not in shown["title"]
        assert link.removesuffix(token) + "…" in shown["body"]
    [stored] = store.messages_of(received.data["complaint_id"])
    assert link in stored["body"]  # what the dispatcher delivers to the resident


def test_a_message_shows_its_call_task(client: FlaskClient, settings: Settings, handle: Callable[[Event], bool]) -> None:
    received = received_event(channel="phone")
    handle(received)
    handle(work_order_event("complaint.classified", received, action="classify", status="classified", tier="emergency"))
    [message] = client.get("/api/v1/notifications", headers=manager(settings)).get_json()["items"]
    assert message["channel"] == "sms" and message["call_task"]["reason"] == "phone_channel" and message["call_task"]["status"] == "open"


def test_requests_need_a_token_and_valid_filters(client: FlaskClient, settings: Settings) -> None:
    assert client.get("/api/v1/notifications").status_code == 401
    invalid = client.get("/api/v1/notifications", query_string={"status": "lost"}, headers=manager(settings))
    assert invalid.status_code == 422 and "status" in invalid.get_json()["errors"]


def test_templates_are_listed_and_shown_by_kind_and_an_unknown_kind_is_a_problem_naming_the_kinds(
    client: FlaskClient, settings: Settings
) -> None:
    listing = client.get("/api/v1/templates", headers=manager(settings))
    assert listing.status_code == 200
    items = listing.get_json()["items"]
    assert len(items) == 38 and {item["language"] for item in items} == {"zh-CN", "en"}
    assert {item["kind"] for item in items} >= {"campaign_invitation", "campaign_reminder"}
    one = client.get("/api/v1/templates/acknowledgement", headers=manager(settings)).get_json()
    assert one["audience"] == "resident" and "time_limit" in one["languages"]["en"] and "time_limit" in one["languages"]["zh-CN"]
    unknown = client.get("/api/v1/templates/complaint.assigned", headers=manager(settings))
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    assert "'complaint.assigned'" in unknown.get_json()["detail"] and "acknowledgement" in unknown.get_json()["detail"]


def test_the_openapi_document_lists_the_paths(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]
    assert {"/api/v1/notifications", "/api/v1/notifications/{message_id}", "/api/v1/templates", "/api/v1/templates/{kind}"} <= set(paths)


def test_a_campaign_invitation_is_listed_with_its_campaign_and_household_the_phone_and_token_masked(
    client: FlaskClient, settings: Settings, handle: Callable[[Event], bool]
) -> None:
    handle(estate_event())
    handle(households_event())
    handle(campaign_invited_event())
    response = client.get("/api/v1/notifications", query_string={"kind": "campaign_invitation"}, headers=manager(settings))
    [item] = response.get_json()["items"]
    assert (item["campaign_id"], item["household_id"], item["complaint_id"]) == ("camp-1", HOUSEHOLD, None)
    assert item["recipient"] == "+86 138****8000" and "/s/…" in item["body"] and "token-cinv-1" not in item["body"]
    assert PHONE not in response.get_data(as_text=True)


def test_an_estate_notification_knows_from_the_directory_is_checked_against_the_callers_scope(
    client: FlaskClient, settings: Settings, handle: Callable[[Event], bool]
) -> None:
    handle(estate_event(estate_id="TK01"))
    elsewhere = client.get("/api/v1/notifications", query_string={"estate_id": "TK01"}, headers=manager(settings))
    assert elsewhere.status_code == 403, "an estate of the caller's group outside their estates"
    other_group = bearer(settings, role="group_admin", group_id="G2")
    assert client.get("/api/v1/notifications", query_string={"estate_id": "TK01"}, headers=other_group).status_code == 404
