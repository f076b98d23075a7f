"""Paper and phone answers imported from CSV: UTF-8 with and without a BOM and GBK, each answer counted once
whatever path came first (the same file twice, staff then CSV), per-row reasons, and whole-file refusals
that write nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events
from survey.domain.campaign_import import MAX_BYTES, MAX_ROWS
from tests.survey.conftest import CAMPAIGN_ANSWER, CAMPAIGN_URL, all_invitations

HEADER = "invitation_id,channel,overall,recommend,comment,cleaning,security,complaint_speed"


def row(
    invitation_id: str, channel: str = "phone", overall: str = "8", recommend: str = "9", comment: str = "", cleaning: str = "4"
) -> str:
    return f"{invitation_id},{channel},{overall},{recommend},{comment},{cleaning},5,3"


def upload(client: FlaskClient, settings: Settings, campaign_id: str, data: bytes, content_type: str = "text/csv; charset=utf-8") -> Any:
    return client.post(
        f"{CAMPAIGN_URL}/{campaign_id}/responses:import",
        data=data,
        content_type=content_type,
        headers=bearer(settings, sub="clerk-3", role="agent", estates=["NS01"]),
    )


def recorded(context: ServiceContext, campaign_id: str) -> list[dict[str, Any]]:
    return [event for event in outbox_events(context.database, campaign_id) if event["type"] == "campaign.response_recorded"]


@pytest.fixture
def campaign(start_campaign: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return start_campaign()


@pytest.fixture
def offline_ids(campaign: dict[str, Any], client: FlaskClient, settings: Settings) -> list[str]:
    """The ids of the campaign's offline and phone invitations."""
    return sorted(item["id"] for item in all_invitations(client, settings, campaign["id"]) if item["channel"] in ("offline", "phone"))


def test_the_same_file_twice_counts_each_answer_once(
    campaign: dict[str, Any], offline_ids: list[str], client: FlaskClient, settings: Settings, context: ServiceContext
) -> None:
    csv = "\n".join([HEADER, *(row(invitation_id, "offline" if index % 2 else "phone") for index, invitation_id in enumerate(offline_ids))])
    first = upload(client, settings, campaign["id"], csv.encode())
    assert first.status_code == 200 and first.get_json() == {"imported": 19, "rejected": [], "encoding": "utf-8"}
    again = upload(client, settings, campaign["id"], csv.encode()).get_json()
    assert again["imported"] == 0 and [item["row"] for item in again["rejected"]] == list(range(1, 20))
    assert all(item["reason"].startswith("duplicate") for item in again["rejected"])
    events = recorded(context, campaign["id"])
    assert len(events) == 19 and {event["data"]["source"] for event in events} == {"import"}
    assert {event["data"]["channel"] for event in events} == {"offline", "phone"}
    response = context.database.responses.find_one({"_id": offline_ids[0]})
    assert (response["recorded_by"], response["source"]) == ("clerk-3", "import")
    assert client.get(f"{CAMPAIGN_URL}/{campaign['id']}", headers=bearer(settings)).get_json()["responded"] == 19


def test_an_answer_staff_recorded_is_a_duplicate_in_the_import(
    campaign: dict[str, Any], offline_ids: list[str], client: FlaskClient, settings: Settings, context: ServiceContext
) -> None:
    body = {**CAMPAIGN_ANSWER, "channel": "phone"}
    assert client.post(f"/api/v1/surveys/invitations/{offline_ids[0]}/responses", json=body, headers=bearer(settings)).status_code == 201
    imported = upload(client, settings, campaign["id"], f"{HEADER}\n{row(offline_ids[0])}\n{row(offline_ids[1])}\n".encode()).get_json()
    assert imported["imported"] == 1 and imported["rejected"] == [{"row": 1, "reason": "duplicate: the invitation is answered already"}]
    assert len(recorded(context, campaign["id"])) == 2


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (f"{HEADER}\n{{id}},offline,9,10,楼道灯坏了三天,4,5,3\n".encode("gbk"), "gbk"),
        (b"\xef\xbb\xbf" + f"{HEADER}\r\n{{id}},offline,9,10,楼道灯坏了三天,4,5,3\r\n".encode(), "utf-8-sig"),
        (f"{HEADER}\n{{id}},offline,9,10,楼道灯坏了三天,4,5,3\n".encode(), "utf-8"),
    ],
)
def test_excel_files_in_gbk_or_with_a_bom_are_read(
    data: bytes,
    encoding: str,
    campaign: dict[str, Any],
    offline_ids: list[str],
    client: FlaskClient,
    settings: Settings,
    context: ServiceContext,
) -> None:
    file = data.replace(b"{id}", offline_ids[0].encode())
    imported = upload(client, settings, campaign["id"], file).get_json()
    assert imported == {"imported": 1, "rejected": [], "encoding": encoding}
    response = context.database.responses.find_one({"_id": offline_ids[0]})
    assert response["comment"] == "楼道灯坏了三天" and response["answers"] == {"cleaning": 4, "security": 5, "complaint_speed": 3}


def test_each_bad_row_comes_back_with_its_reason_and_the_rest_are_recorded(
    campaign: dict[str, Any],
    offline_ids: list[str],
    client: FlaskClient,
    settings: Settings,
    context: ServiceContext,
    start_campaign: Callable[..., dict[str, Any]],
) -> None:
    other = start_campaign(seed=7)
    [elsewhere, *_] = all_invitations(client, settings, other["id"], channel="phone")
    lines = [
        HEADER,
        row(offline_ids[0]),
        row("000000000000000000000000"),
        row(elsewhere["id"]),
        row(offline_ids[1], cleaning="6"),
        row(offline_ids[2], overall="ten"),
        row(offline_ids[3], channel="email"),
        row(offline_ids[4], recommend=""),
        f"{offline_ids[5]},phone,8",
        "",
        row(offline_ids[6], channel="Offline"),
    ]
    imported = upload(client, settings, campaign["id"], "\n".join(lines).encode()).get_json()
    reasons = {item["row"]: item["reason"] for item in imported["rejected"]}
    assert imported["imported"] == 2 and sorted(reasons) == [2, 3, 4, 5, 6, 7, 8]
    assert reasons[2] == "unknown invitation" and reasons[3] == "invitation of another campaign"
    assert reasons[4].startswith("score out of range: cleaning") and "overall" in reasons[5] and reasons[6].startswith("bad channel")
    assert "recommend" in reasons[7] and "cells" in reasons[8]
    assert {event["data"]["invitation_id"] for event in recorded(context, campaign["id"])} == {offline_ids[0], offline_ids[6]}
    assert context.database.invitations.find_one({"_id": elsewhere["id"]})["status"] == "pending"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\xff\xfe\x00i\x00n\x00v\x00\x00\x00", "decoded"),
        (b"invitation_id,channel,overall,recommend\n\x81\x20,phone,8,9\n", "decoded"),
        (b"invitation_id,channel,overall,comment,cleaning,security,complaint_speed\nx,phone,8,,4,5,3\n", "recommend"),
        (b"invitation_id,channel,overall,recommend,cleaning,security\nx,phone,8,9,4,5\n", "complaint_speed"),
        (f"{HEADER},parking\nx,phone,8,9,,4,5,3,2\n".encode(), "parking"),
        (b"", "empty"),
    ],
)
def test_an_unreadable_file_is_refused_whole(
    data: bytes, words: str, campaign: dict[str, Any], client: FlaskClient, settings: Settings, context: ServiceContext
) -> None:
    refused = upload(client, settings, campaign["id"], data)
    assert refused.status_code == 422 and words in refused.get_json()["detail"] and "file" in refused.get_json()["errors"]
    assert recorded(context, campaign["id"]) == [] and context.database.responses.count_documents({}) == 0


def test_size_row_count_type_and_scope_are_checked_before_anything_is_written(
    campaign: dict[str, Any], offline_ids: list[str], client: FlaskClient, settings: Settings, context: ServiceContext
) -> None:
    too_big = HEADER.encode() + b"\n" + b"x" * MAX_BYTES
    assert upload(client, settings, campaign["id"], too_big).status_code == 413
    too_many = "\n".join([HEADER, *(row(offline_ids[0]) for _ in range(MAX_ROWS + 1))]).encode()
    assert len(too_many) < MAX_BYTES and upload(client, settings, campaign["id"], too_many).status_code == 413
    assert upload(client, settings, campaign["id"], b"{}", content_type="application/json").status_code == 415
    outsider = client.post(
        f"{CAMPAIGN_URL}/{campaign['id']}/responses:import",
        data=f"{HEADER}\n{row(offline_ids[0])}\n".encode(),
        content_type="text/csv",
        headers=bearer(settings, role="agent", estates=["FT02"]),
    )
    assert outsider.status_code == 403
    handler = client.post(
        f"{CAMPAIGN_URL}/{campaign['id']}/responses:import",
        data=f"{HEADER}\n{row(offline_ids[0])}\n".encode(),
        content_type="text/csv",
        headers=bearer(settings, role="handler", estates=["NS01"]),
    )
    assert handler.status_code == 403
    assert recorded(context, campaign["id"]) == [] and context.database.responses.count_documents({}) == 0
