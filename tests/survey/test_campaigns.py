"""Campaigns over HTTP on a generated estate of 480 households delivered through survey's real handlers:
the sample (reproducible, proportional per stratum, the channel mix, never vacant), its invitations and
events in one unit of work, every refusal as a field error with nothing written, the scope, and the
households copy."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from flask.testing import FlaskClient

from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.outbox import AlreadyHandled
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events
from survey.domain.sampling import channel_counts
from survey.schedule import campaign_pass
from tests.survey.conftest import (
    CAMPAIGN_ANSWER,
    CAMPAIGN_QUESTIONNAIRE,
    CAMPAIGN_URL,
    MONDAY_MORNING,
    SEALED_CONTACT,
    all_invitations,
    campaign_tokens,
    estate_upserted,
    generated_households,
    handler_of,
    households_imported,
)


def address(invitation: dict[str, Any]) -> tuple[str, str, str]:
    return (invitation["building"], invitation["unit"], invitation["room"])


def test_the_sample_is_proportional_per_stratum_never_vacant_and_follows_the_mix(
    start_campaign: Callable[..., dict[str, Any]], client: FlaskClient, settings: Settings
) -> None:
    campaign = start_campaign()
    # 4 buildings of 120 households: 72 owners, 36 tenants, 12 vacant each.
    assert {(tuple(sorted(s["key"].items())), s["households"], s["sampled"]) for s in campaign["strata"]} == {
        ((("building", b), ("household_type", t)), n, math.ceil(0.1 * n)) for b in "1234" for t, n in (("owner", 72), ("tenant", 36))
    }
    assert campaign["sample_size"] == 48 and campaign["status"] == "open" and campaign["strata_fields"] == ["building", "household_type"]
    assert (
        campaign["channels"]
        == channel_counts(48, {"online": 0.6, "offline": 0.3, "phone": 0.1})
        == {"online": 29, "offline": 14, "phone": 5}
    )
    invitations = all_invitations(client, settings, campaign["id"])
    assert len(invitations) == 48 and len({address(item) for item in invitations}) == 48
    assert all(item["household_type"] in ("owner", "tenant") for item in invitations)
    assert Counter(item["channel"] for item in invitations) == Counter(campaign["channels"])
    per_stratum = Counter((item["building"], item["household_type"]) for item in invitations)
    assert per_stratum == {(b, t): n for b in "1234" for t, n in (("owner", 8), ("tenant", 4))}
    assert (campaign["invited"], campaign["responded"], campaign["response_rate"]) == (48, 0, 0.0)


def test_the_same_households_strata_rate_and_seed_give_the_same_sample(
    start_campaign: Callable[..., dict[str, Any]], client: FlaskClient, settings: Settings
) -> None:
    first, again, other_seed = start_campaign(), start_campaign(), start_campaign(seed=7)
    sample = {address(item): item["channel"] for item in all_invitations(client, settings, first["id"])}
    assert {address(item): item["channel"] for item in all_invitations(client, settings, again["id"])} == sample
    assert {address(item) for item in all_invitations(client, settings, other_seed["id"])} != set(sample)


def test_starting_stores_the_invitations_and_announces_them_in_one_go(
    start_campaign: Callable[..., dict[str, Any]], client: FlaskClient, settings: Settings, context: ServiceContext
) -> None:
    campaign = start_campaign()
    events = outbox_events(context.database, campaign["id"])
    [started] = [event for event in events if event["type"] == "campaign.started"]
    assert started["estate_id"] == "NS01" and started["region_id"] == "R1" and started["group_id"] == "G1"
    assert started["data"]["dimensions"] == [
        {"id": "basic_services", "questions": ["cleaning", "security"]},
        {"id": "communication", "questions": ["complaint_speed"]},
    ]
    assert started["data"]["complaint_handling_question"] == "complaint_speed"
    assert (started["data"]["sample_size"], started["data"]["channels"], started["data"]["strata"]) == (
        48,
        {"online": 29, "offline": 14, "phone": 5},
        ["building", "household_type"],
    )
    invited = [event for event in events if event["type"] == "survey.invited"]
    assert len(invited) == 29 and all(event["data"]["channel"] == "online" and event["data"]["reminder"] is False for event in invited)
    assert all(event["data"]["link"].startswith("https://propcare.example.cn/s/") and event["data"]["household_id"] for event in invited)
    assert SEALED_CONTACT not in str(events)
    questionnaire = client.get(f"/api/v1/questionnaires/{campaign['questionnaire_id']}", headers=bearer(settings)).get_json()
    assert questionnaire["in_use"] is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sample_rate": 0.05}, "sample_rate"),
        ({"sample_rate": 1.5}, "sample_rate"),
        ({"closes_at": MONDAY_MORNING.isoformat()}, "closes_at"),
        (
            {"opens_at": (MONDAY_MORNING - timedelta(days=9)).isoformat(), "closes_at": (MONDAY_MORNING - timedelta(days=1)).isoformat()},
            "closes_at",
        ),
        ({"strata": ["floor"]}, "strata"),
        ({"channel_mix": {"online": 0.6, "offline": 0.3}}, "channel_mix"),
        ({"channel_mix": {"online": 0.5, "sms": 0.5}}, "channel_mix"),
        ({"questionnaire_id": "000000000000000000000000"}, "questionnaire_id"),
        ({"kind": "weekly"}, "kind"),
        ({"seed": "forty-two"}, "seed"),
        ({"sample_rate": None}, "sample_rate"),
    ],
)
def test_a_bad_campaign_is_a_field_error_and_writes_nothing(
    changes: dict[str, Any],
    field: str,
    client: FlaskClient,
    settings: Settings,
    context: ServiceContext,
    directory: Callable[..., list[dict[str, Any]]],
    campaign_body: Callable[..., dict[str, Any]],
    questionnaire: dict[str, Any],
) -> None:
    directory("NS01")
    refused = client.post(CAMPAIGN_URL, json=campaign_body(**changes), headers=bearer(settings))
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert field in refused.get_json()["errors"], refused.get_json()
    assert context.database.campaigns.count_documents({}) == 0 and context.database.invitations.count_documents({}) == 0
    assert outbox_events(context.database) == []
    assert context.database.questionnaires.find_one({"_id": questionnaire["id"]})["used_by_campaigns"] == []


def test_an_estate_without_occupied_households_is_refused(
    client: FlaskClient, settings: Settings, context: ServiceContext, campaign_body: Callable[..., dict[str, Any]]
) -> None:
    handler_of(context, "estate-upserted")(estate_upserted("NS01"))
    empty = client.post(CAMPAIGN_URL, json=campaign_body(), headers=bearer(settings))
    assert empty.status_code == 422 and "estate_id" in empty.get_json()["errors"]
    vacant = [{**household, "household_type": "vacant"} for household in generated_households("NS01", buildings=1, units=1, rooms=20)]
    handler_of(context, "households")(households_imported("NS01", vacant))
    only_vacant = client.post(CAMPAIGN_URL, json=campaign_body(), headers=bearer(settings))
    assert only_vacant.status_code == 422 and "estate_id" in only_vacant.get_json()["errors"]
    assert context.database.campaigns.count_documents({}) == 0


def test_another_groups_questionnaire_is_unknown(
    client: FlaskClient, settings: Settings, directory: Callable[..., list[dict[str, Any]]], campaign_body: Callable[..., dict[str, Any]]
) -> None:
    directory("NS01")
    theirs = client.post("/api/v1/questionnaires", json=CAMPAIGN_QUESTIONNAIRE, headers=bearer(settings, group_id="G2")).get_json()
    refused = client.post(CAMPAIGN_URL, json=campaign_body(questionnaire_id=theirs["id"]), headers=bearer(settings))
    assert refused.status_code == 422 and "questionnaire_id" in refused.get_json()["errors"]


def test_who_may_start_and_read_a_campaign(
    client: FlaskClient,
    settings: Settings,
    directory: Callable[..., list[dict[str, Any]]],
    campaign_body: Callable[..., dict[str, Any]],
    context: ServiceContext,
) -> None:
    directory("NS01")
    directory("FT02", region_id="R2", buildings=1, units=1, rooms=20)
    directory("G2E1", group_id="G2", buildings=1, units=1, rooms=20)
    manager = bearer(settings, role="manager", estates=["NS01"])
    assert client.post(CAMPAIGN_URL, json=campaign_body(), headers=bearer(settings, role="agent", estates=["NS01"])).status_code == 403
    assert client.post(CAMPAIGN_URL, json=campaign_body(estate_id="FT02"), headers=manager).status_code == 403
    assert client.post(CAMPAIGN_URL, json=campaign_body(estate_id="G2E1"), headers=manager).status_code == 404
    assert client.post(CAMPAIGN_URL, json=campaign_body(estate_id="NOWHERE"), headers=manager).status_code == 404
    created = client.post(CAMPAIGN_URL, json=campaign_body(), headers=manager)
    assert created.status_code == 201 and created.headers["Location"].endswith(f"/api/v1/campaigns/{created.get_json()['id']}")
    campaign_id = created.get_json()["id"]
    assert client.get(f"{CAMPAIGN_URL}/{campaign_id}", headers=bearer(settings, role="agent", estates=["NS01"])).status_code == 200
    assert client.get(f"{CAMPAIGN_URL}/{campaign_id}", headers=bearer(settings, role="regional_ops", regions=["R2"])).status_code == 403
    assert client.get(f"{CAMPAIGN_URL}/{campaign_id}", headers=bearer(settings, group_id="G2")).status_code == 404
    assert (
        client.get(f"{CAMPAIGN_URL}/{campaign_id}/invitations", headers=bearer(settings, role="manager", estates=["FT02"])).status_code
        == 403
    )
    assert client.get(f"{CAMPAIGN_URL}/nothing", headers=manager).status_code == 404
    assert context.database.campaigns.count_documents({}) == 1


def test_the_list_is_scoped_and_filtered(
    start_campaign: Callable[..., dict[str, Any]], client: FlaskClient, settings: Settings, clock: FrozenClock, context: ServiceContext
) -> None:
    early = start_campaign(closes_at=(MONDAY_MORNING + timedelta(days=2)).isoformat())
    later = start_campaign()
    clock.advance(timedelta(days=3))
    campaign_pass(context)
    listed = client.get(
        CAMPAIGN_URL, query_string={"estate_id": "NS01"}, headers=bearer(settings, role="agent", estates=["NS01"])
    ).get_json()
    assert [item["id"] for item in listed["items"]] == [later["id"], early["id"]]
    open_only = client.get(CAMPAIGN_URL, query_string={"status": "open"}, headers=bearer(settings)).get_json()["items"]
    assert [item["id"] for item in open_only] == [later["id"]]
    assert client.get(CAMPAIGN_URL, headers=bearer(settings, role="manager", estates=["FT02"])).get_json()["items"] == []
    assert (
        client.get(CAMPAIGN_URL, query_string={"estate_id": "NS01"}, headers=bearer(settings, role="manager", estates=["FT02"])).status_code
        == 403
    )
    assert client.get(CAMPAIGN_URL, query_string={"estate_id": "NS01"}, headers=bearer(settings, group_id="G2")).status_code == 404
    assert client.get(CAMPAIGN_URL, headers=bearer(settings, group_id="G2")).get_json()["items"] == []


def test_staff_get_the_phone_list_to_work_from_and_each_online_invitations_link(
    start_campaign: Callable[..., dict[str, Any]], client: FlaskClient, settings: Settings, context: ServiceContext
) -> None:
    campaign = start_campaign()
    phone = all_invitations(client, settings, campaign["id"], channel="phone", status="pending")
    assert len(phone) == 5 and {item["channel"] for item in phone} == {"phone"} and all(item["link"] is None for item in phone)
    online = all_invitations(client, settings, campaign["id"], channel="online")
    tokens = campaign_tokens(context, campaign["id"])
    assert online and all(item["link_sent"] is True for item in online)
    assert all(item["link"] == f"https://propcare.example.cn/s/{tokens[item['id']]}" for item in online)
    # The link opens the resident's page, which answers like the link the resident got.
    assert client.get(urlparse(online[0]["link"]).path).status_code == 200
    refused = client.get(f"{CAMPAIGN_URL}/{campaign['id']}/invitations", query_string={"channel": "sms"}, headers=bearer(settings))
    assert refused.status_code == 422 and "channel" in refused.get_json()["errors"]


def test_an_idempotency_key_replays_the_first_campaign(
    client: FlaskClient,
    settings: Settings,
    directory: Callable[..., list[dict[str, Any]]],
    campaign_body: Callable[..., dict[str, Any]],
    context: ServiceContext,
) -> None:
    directory("NS01")
    headers = {**bearer(settings), "Idempotency-Key": "q4-ns01"}
    first = client.post(CAMPAIGN_URL, json=campaign_body(seed=None), headers=headers)
    again = client.post(CAMPAIGN_URL, json=campaign_body(seed=None), headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json() == again.get_json() and isinstance(first.get_json()["seed"], int)
    assert context.database.campaigns.count_documents({}) == 1
    outsider = {**bearer(settings, role="manager", estates=["FT02"]), "Idempotency-Key": "q4-ns01"}
    assert client.post(CAMPAIGN_URL, json=campaign_body(seed=None), headers=outsider).status_code == 403


def test_a_campaign_opening_later_sends_its_links_at_opens_at_once(
    start_campaign: Callable[..., dict[str, Any]], client: FlaskClient, settings: Settings, clock: FrozenClock, context: ServiceContext
) -> None:
    campaign = start_campaign(opens_at=(MONDAY_MORNING + timedelta(days=1)).isoformat())
    assert [event["type"] for event in outbox_events(context.database, campaign["id"])] == ["campaign.started"]
    assert campaign["invited"] == 0
    [phone, *_] = all_invitations(client, settings, campaign["id"], channel="phone")
    early = client.post(
        f"/api/v1/surveys/invitations/{phone['id']}/responses", json={**CAMPAIGN_ANSWER, "channel": "phone"}, headers=bearer(settings)
    )
    assert early.status_code == 409 and "opens_at" in early.get_json()
    assert campaign_pass(context) == (0, 0, 0)
    clock.advance(timedelta(days=1))
    assert campaign_pass(context) == (48, 0, 0) and campaign_pass(context) == (0, 0, 0)
    invited = [event for event in outbox_events(context.database, campaign["id"]) if event["type"] == "survey.invited"]
    assert len(invited) == 29 and len({event["data"]["invitation_id"] for event in invited}) == 29
    assert client.get(f"{CAMPAIGN_URL}/{campaign['id']}", headers=bearer(settings)).get_json()["invited"] == 48


def test_the_households_copy_keeps_the_latest_version_and_no_contact(context: ServiceContext) -> None:
    handle = handler_of(context, "households")
    [household] = generated_households("NS01", buildings=1, units=1, rooms=1)
    newer = households_imported("NS01", [{**household, "household_type": "tenant"}])
    older = households_imported("NS01", [household], occurred_at=newer.occurred_at - timedelta(minutes=5))  # a late earlier import
    handle(newer)
    with pytest.raises(AlreadyHandled):
        handle(newer)
    handle(older)
    kept = context.database.households.find_one({"_id": household["household_id"]})
    assert kept["household_type"] == "tenant" and (kept["estate_id"], kept["group_id"], kept["region_id"]) == ("NS01", "G1", "R1")
    assert "contact" not in kept and SEALED_CONTACT not in str(kept)
