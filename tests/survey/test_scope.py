"""Survey for staff: the caller's scope (always their group), never a usable link, answers recorded as
the caller, idempotency keys checked after the scope, and token lookups limited per client address."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events
from survey.app import create_app
from survey.store import INDEXES
from tests.survey.conftest import CONFIG, SATISFIED

PHONE_ANSWER = {**SATISFIED, "channel": "phone"}


def staff_url(invited: dict[str, Any]) -> str:
    return f"/api/v1/surveys/invitations/{invited['data']['invitation_id']}/responses"


def listed(client: FlaskClient, headers: dict[str, str], **query: str) -> Any:
    return client.get("/api/v1/surveys", query_string=query, headers=headers)


@pytest.fixture
def g1_and_g2(invite: Callable[..., dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Invitations of group G1 in NS01 (region R1) and FT02 (region R2), and of group G2 in its own R1 (estate G2E1)."""
    return {
        "NS01": invite(),
        "FT02": invite(estate_id="FT02", region_id="R2"),
        "G2E1": invite(estate_id="G2E1", region_id="R1", group_id="G2"),
    }


def test_staff_who_may_record_answers_see_each_invitations_link_and_a_handler_does_not(
    client: FlaskClient, settings: Settings, g1_and_g2: dict[str, dict[str, Any]]
) -> None:
    response = listed(client, bearer(settings))
    items = response.get_json()["items"]
    assert {item["estate_id"] for item in items} == {"NS01", "FT02"}
    assert all(item["status"] == "pending" for item in items)
    links = {item["complaint_id"]: item["link"] for item in items}
    for estate_id in ("NS01", "FT02"):
        invited = g1_and_g2[estate_id]
        assert links[invited["complaint_id"]] == invited["data"]["link"]
    assert g1_and_g2["G2E1"]["token"] not in response.get_data(as_text=True)
    handler = listed(client, bearer(settings, role="handler", estates=["NS01"]))
    assert handler.status_code == 200
    assert [item["link"] for item in handler.get_json()["items"]] == [None]
    assert "/s/" not in handler.get_data(as_text=True)


def test_a_regional_ops_token_of_another_group_for_its_own_r1_sees_nothing_of_g1(
    client: FlaskClient, settings: Settings, g1_and_g2: dict[str, dict[str, Any]]
) -> None:
    g2_regional = bearer(settings, role="regional_ops", group_id="G2", regions=["R1"])
    items = listed(client, g2_regional).get_json()["items"]
    assert [item["complaint_id"] for item in items] == [g1_and_g2["G2E1"]["complaint_id"]]
    assert listed(client, g2_regional, complaint_id=g1_and_g2["NS01"]["complaint_id"]).get_json()["items"] == []
    assert listed(client, g2_regional, estate_id="NS01").status_code == 404
    assert client.post(staff_url(g1_and_g2["NS01"]), json=PHONE_ANSWER, headers=g2_regional).status_code == 404


def test_a_manager_of_another_group_naming_a_g1_estate_sees_nothing_of_it(
    client: FlaskClient, settings: Settings, g1_and_g2: dict[str, dict[str, Any]], context: ServiceContext
) -> None:
    g2_manager = bearer(settings, role="manager", group_id="G2", estates=["NS01"])
    assert listed(client, g2_manager).get_json()["items"] == []
    refused = listed(client, g2_manager, estate_id="NS01")
    assert refused.status_code == 404 and refused.headers["Content-Type"].startswith("application/problem+json")
    assert client.post(staff_url(g1_and_g2["NS01"]), json=PHONE_ANSWER, headers=g2_manager).status_code == 404
    assert context.database.invitations.find_one({"_id": g1_and_g2["NS01"]["data"]["invitation_id"]})["status"] == "pending"


def test_an_estate_filter_outside_the_callers_scope_is_refused_not_an_empty_page(
    client: FlaskClient, settings: Settings, g1_and_g2: dict[str, dict[str, Any]]
) -> None:
    ns01_manager = bearer(settings, role="manager", estates=["NS01"])
    assert listed(client, ns01_manager, estate_id="FT02").status_code == 403  # own group, another estate
    assert listed(client, bearer(settings, role="regional_ops", regions=["R1"]), estate_id="FT02").status_code == 403
    assert listed(client, ns01_manager, estate_id="NO-SUCH").status_code == 404
    [item] = listed(client, ns01_manager, estate_id="NS01").get_json()["items"]
    assert item["estate_id"] == "NS01"
    quiet = listed(client, bearer(settings, role="manager", estates=["NS09"]), estate_id="NS09")
    assert quiet.status_code == 200 and quiet.get_json()["items"] == []  # the caller's own estate, no invitation yet


def test_single_reads_answer_404_for_another_group_or_none_and_403_outside_the_callers_estates(
    client: FlaskClient, settings: Settings, g1_and_g2: dict[str, dict[str, Any]]
) -> None:
    ft02_agent = bearer(settings, role="agent", estates=["FT02"])
    assert client.post(staff_url(g1_and_g2["NS01"]), json=PHONE_ANSWER, headers=ft02_agent).status_code == 403
    assert client.post(staff_url(g1_and_g2["G2E1"]), json=PHONE_ANSWER, headers=ft02_agent).status_code == 404
    missing = client.post("/api/v1/surveys/invitations/no-such-invitation/responses", json=PHONE_ANSWER, headers=ft02_agent)
    assert missing.status_code == 404


def test_a_phone_answer_is_recorded_as_the_caller_with_its_channel(
    client: FlaskClient, settings: Settings, invite: Callable[..., dict[str, Any]], context: ServiceContext
) -> None:
    invited = invite()
    agent = bearer(settings, role="agent", sub="agent-7", estates=["NS01"])
    recorded = client.post(staff_url(invited), json=PHONE_ANSWER, headers=agent)
    assert recorded.status_code == 201
    assert (recorded.get_json()["channel"], recorded.get_json()["recorded_by"]) == ("phone", "agent-7")
    stored = context.database.responses.find_one({"_id": invited["data"]["invitation_id"]})
    assert (stored["channel"], stored["recorded_by"]) == ("phone", "agent-7")
    [item] = listed(client, agent).get_json()["items"]
    assert (item["status"], item["answer_channel"], item["recorded_by"]) == ("answered", "phone", "agent-7")
    [completed] = [e for e in outbox_events(context.database, invited["complaint_id"]) if e["type"] == "survey.completed"]
    assert completed["data"]["channel"] == "phone"


def test_the_residents_own_answer_is_online_and_recorded_by_nobody(
    client: FlaskClient, settings: Settings, invite: Callable[..., dict[str, Any]]
) -> None:
    invited = invite()
    answered = client.post(f"/api/v1/surveys/{invited['token']}/responses", json=SATISFIED)
    assert answered.status_code == 201 and answered.get_json()["channel"] == "online" and answered.get_json()["recorded_by"] is None
    [item] = listed(client, bearer(settings)).get_json()["items"]
    assert (item["answer_channel"], item["recorded_by"]) == ("online", None)


def test_whoever_resolved_the_complaint_may_not_record_its_answer(
    client: FlaskClient, settings: Settings, invite: Callable[..., dict[str, Any]]
) -> None:
    invited = invite(assignee_id="sup-1")
    resolver = bearer(settings, role="supervisor", sub="sup-1", estates=["NS01"])
    assert client.post(staff_url(invited), json=PHONE_ANSWER, headers=resolver).status_code == 403
    colleague = bearer(settings, role="agent", sub="agent-7", estates=["NS01"])
    assert client.post(staff_url(invited), json=PHONE_ANSWER, headers=colleague).status_code == 201


def test_no_handler_records_a_follow_up_answer(client: FlaskClient, settings: Settings, invite: Callable[..., dict[str, Any]]) -> None:
    invited = invite(assignee_id="eng-1")
    other_handler = bearer(settings, role="handler", sub="eng-2", estates=["NS01"])
    refused = client.post(staff_url(invited), json=PHONE_ANSWER, headers=other_handler)
    assert refused.status_code == 403 and "handler" not in refused.get_json()["required_roles"]


def test_an_actor_id_other_than_the_caller_is_422_and_the_callers_own_is_accepted(
    client: FlaskClient, settings: Settings, invite: Callable[..., dict[str, Any]]
) -> None:
    invited = invite()
    agent = bearer(settings, role="agent", sub="agent-7", estates=["NS01"])
    impersonating = client.post(staff_url(invited), json={**PHONE_ANSWER, "actor_id": "manager-1"}, headers=agent)
    assert impersonating.status_code == 422 and "actor_id" in impersonating.get_json()["errors"]
    own = client.post(staff_url(invited), json={**PHONE_ANSWER, "actor_id": "agent-7"}, headers=agent)
    assert own.status_code == 201 and own.get_json()["recorded_by"] == "agent-7"


def test_a_staff_idempotency_key_is_replayed_only_after_the_scope_check(
    client: FlaskClient, settings: Settings, invite: Callable[..., dict[str, Any]]
) -> None:
    invited = invite()
    key = {"Idempotency-Key": "phone-answer-1"}
    in_scope = bearer(settings, role="agent", sub="agent-7", estates=["NS01"])
    first = client.post(staff_url(invited), json=PHONE_ANSWER, headers={**in_scope, **key})
    again = client.post(staff_url(invited), json=PHONE_ANSWER, headers={**in_scope, **key})
    assert first.status_code == again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    # The same person (group and sub), now with a token for another estate only: the scope check runs first.
    moved = bearer(settings, role="agent", sub="agent-7", estates=["FT02"])
    assert client.post(staff_url(invited), json=PHONE_ANSWER, headers={**moved, **key}).status_code == 403
    # Another caller's key is another key: no replay of agent-7's answer.
    other = client.post(
        staff_url(invited), json=PHONE_ANSWER, headers={**bearer(settings, role="agent", sub="agent-8", estates=["NS01"]), **key}
    )
    assert other.status_code == 409 and "Idempotent-Replayed" not in other.headers


def test_a_residents_idempotency_key_belongs_to_their_address(
    client: FlaskClient, app: Flask, invite: Callable[..., dict[str, Any]]
) -> None:
    invited = invite()
    url, key = f"/api/v1/surveys/{invited['token']}/responses", {"Idempotency-Key": "answer-1"}
    assert client.post(url, json=SATISFIED, headers=key).status_code == 201
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    replay_elsewhere = elsewhere.post(url, json=SATISFIED, headers=key)
    assert replay_elsewhere.status_code == 409 and "Idempotent-Replayed" not in replay_elsewhere.headers


@pytest.fixture
def limited_app(open_context: Callable[..., ServiceContext], make_settings: Callable[..., Settings], clock: FrozenClock) -> Flask:
    """Survey with three token lookups per client address and window."""
    settings = make_settings("survey", lookup_limit_per_address=3)
    return create_app(open_context(settings, indexes=INDEXES, clock=clock, config=CONFIG))


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/s/{token}", {}),
        ("POST", "/s/{token}", {"data": {"solved": "true"}}),
        ("POST", "/api/v1/surveys/{token}/responses", {"json": SATISFIED}),
    ],
)
def test_token_lookups_are_limited_per_client_address(limited_app: Flask, method: str, path: str, kwargs: dict[str, Any]) -> None:
    client = limited_app.test_client()
    url = path.format(token="guessed.token")
    statuses = [client.open(url, method=method, **kwargs).status_code for _ in range(4)]
    assert statuses[:3] != [429] * 3 and statuses[3] == 429
    refused = client.open(url, method=method, **kwargs)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    elsewhere = limited_app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert elsewhere.open(url, method=method, **kwargs).status_code != 429


def test_the_limit_counts_every_token_route_together_and_the_page_says_so(limited_app: Flask) -> None:
    client = limited_app.test_client()
    client.get("/s/a.b")
    client.post("/s/a.b", data={})
    client.post("/api/v1/surveys/a.b/responses", json=SATISFIED)
    page = client.get("/s/a.b")
    assert page.status_code == 429 and page.mimetype == "text/html" and "请稍后再试" in page.get_data(as_text=True)
    assert page.headers["Retry-After"] and page.headers["Cache-Control"] == "no-store"
