"""Campaign answers: through the resident's link (JSON and the page, in a real browser too) and from staff on
the phone, each counted once with its ``campaign.response_recorded``; bad answers as field errors; the
campaign pass reminding once and closing once, with the FrozenClock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import sync_playwright

from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events
from survey.schedule import campaign_pass
from tests.survey.conftest import CAMPAIGN_ANSWER, CAMPAIGN_URL, SATISFIED, all_invitations, campaign_tokens
from tests.survey.test_page import CHROMIUM

PERSONAL = ("household_id", "comment", "name", "phone")


def recorded(context: ServiceContext, campaign_id: str) -> list[dict[str, Any]]:
    return [event for event in outbox_events(context.database, campaign_id) if event["type"] == "campaign.response_recorded"]


def staff_answer(client: FlaskClient, settings: Settings, invitation_id: str, **changes: Any) -> Any:
    body = {**CAMPAIGN_ANSWER, "channel": "phone", **changes}
    return client.post(
        f"/api/v1/surveys/invitations/{invitation_id}/responses",
        json=body,
        headers=bearer(settings, sub="agent-7", role="agent", estates=["NS01"]),
    )


@pytest.fixture
def campaign(start_campaign: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return start_campaign()


@pytest.fixture
def tokens(campaign: dict[str, Any], context: ServiceContext) -> list[tuple[str, str]]:
    """(invitation id, token) of each online invitation."""
    return sorted(campaign_tokens(context, campaign["id"]).items())


def test_an_online_answer_counts_once_and_its_event_carries_nobody(
    campaign: dict[str, Any], tokens: list[tuple[str, str]], client: FlaskClient, settings: Settings, context: ServiceContext
) -> None:
    invitation_id, token = tokens[0]
    first = client.post(f"/api/v1/surveys/{token}/responses", json=CAMPAIGN_ANSWER)
    assert first.status_code == 201 and first.get_json()["source"] == "online" and first.get_json()["campaign_id"] == campaign["id"]
    assert client.post(f"/api/v1/surveys/{token}/responses", json=CAMPAIGN_ANSWER).status_code == 409
    [event] = recorded(context, campaign["id"])
    assert event["data"] == {
        "campaign_id": campaign["id"],
        "invitation_id": invitation_id,
        "channel": "online",
        "source": "online",
        "household_type": event["data"]["household_type"],
        "age_band": event["data"]["age_band"],
        "answers": CAMPAIGN_ANSWER["answers"],
        "overall": 8,
        "recommend": 9,
        "answered_at": event["data"]["answered_at"],
    }
    assert event["data"]["household_type"] in ("owner", "tenant") and event["estate_id"] == "NS01"
    assert "保安很好" not in str(event) and not set(PERSONAL) & set(event["data"])
    assert context.database.responses.find_one({"_id": invitation_id})["comment"] == "保安很好"
    progress = client.get(f"{CAMPAIGN_URL}/{campaign['id']}", headers=bearer(settings)).get_json()
    assert (progress["responded"], progress["response_rate"]) == (1, round(1 / 48, 4))
    assert sum(stratum["responded"] for stratum in progress["strata"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CAMPAIGN_ANSWER, "answers": {**CAMPAIGN_ANSWER["answers"], "cleaning": 6}}, "answers.cleaning"),
        ({**CAMPAIGN_ANSWER, "answers": {**CAMPAIGN_ANSWER["answers"], "cleaning": "4"}}, "answers.cleaning"),
        ({**CAMPAIGN_ANSWER, "answers": {**CAMPAIGN_ANSWER["answers"], "parking": 3}}, "answers"),
        ({**CAMPAIGN_ANSWER, "answers": {"cleaning": 4}}, "answers"),
        ({**CAMPAIGN_ANSWER, "overall": 11}, "overall"),
        ({**CAMPAIGN_ANSWER, "recommend": -1}, "recommend"),
        ({"answers": CAMPAIGN_ANSWER["answers"], "overall": 8}, "recommend"),
        (SATISFIED, "answers"),
        ({**CAMPAIGN_ANSWER, "solved": True}, "solved"),
        ({**CAMPAIGN_ANSWER, "comment": "长" * 1001}, "comment"),
    ],
)
def test_a_bad_answer_is_a_field_error_and_the_invitation_stays_open(
    body: dict[str, Any], field: str, campaign: dict[str, Any], tokens: list[tuple[str, str]], client: FlaskClient, context: ServiceContext
) -> None:
    invitation_id, token = tokens[0]
    refused = client.post(f"/api/v1/surveys/{token}/responses", json=body)
    assert refused.status_code == 422 and field in refused.get_json()["errors"], refused.get_json()
    assert context.database.invitations.find_one({"_id": invitation_id})["status"] == "pending"
    assert recorded(context, campaign["id"]) == [] and context.database.responses.count_documents({}) == 0
    assert client.post(f"/api/v1/surveys/{token}/responses", json=CAMPAIGN_ANSWER).status_code == 201


def test_a_campaign_body_on_a_follow_up_link_is_refused(invite: Callable[..., dict[str, Any]], client: FlaskClient) -> None:
    invited = invite()
    refused = client.post(f"/api/v1/surveys/{invited['token']}/responses", json=CAMPAIGN_ANSWER)
    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"solved", "scores"}
    assert client.post(f"/api/v1/surveys/{invited['token']}/responses", json=SATISFIED).status_code == 201


def test_staff_record_a_phone_answer_once(
    campaign: dict[str, Any], client: FlaskClient, settings: Settings, context: ServiceContext
) -> None:
    [phone, *_] = all_invitations(client, settings, campaign["id"], channel="phone")
    first = staff_answer(client, settings, phone["id"])
    assert first.status_code == 201 and (first.get_json()["channel"], first.get_json()["recorded_by"]) == ("phone", "agent-7")
    assert staff_answer(client, settings, phone["id"]).status_code == 409
    [event] = recorded(context, campaign["id"])
    assert (event["data"]["channel"], event["data"]["source"]) == ("phone", "staff")
    [paper, *_] = all_invitations(client, settings, campaign["id"], channel="offline")
    assert staff_answer(client, settings, paper["id"], channel="paper").get_json()["channel"] == "offline"
    assert staff_answer(client, settings, paper["id"], channel="online").status_code == 422
    outsider = client.post(
        f"/api/v1/surveys/invitations/{phone['id']}/responses",
        json={**CAMPAIGN_ANSWER, "channel": "phone"},
        headers=bearer(settings, role="agent", estates=["FT02"]),
    )
    assert outsider.status_code == 403
    listed = {item["id"]: item for item in all_invitations(client, settings, campaign["id"], status="answered")}
    assert set(listed) == {phone["id"], paper["id"]} and listed[phone["id"]]["answer_source"] == "staff"


def test_four_answers_at_once_count_once(
    campaign: dict[str, Any], tokens: list[tuple[str, str]], client: FlaskClient, context: ServiceContext
) -> None:
    _, token = tokens[0]
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def answer() -> None:
        barrier.wait()
        statuses.append(client.application.test_client().post(f"/api/v1/surveys/{token}/responses", json=CAMPAIGN_ANSWER).status_code)

    threads = [threading.Thread(target=answer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409, 409, 409]
    assert len(recorded(context, campaign["id"])) == 1


def test_reminders_go_once_to_online_invitations_still_pending(
    campaign: dict[str, Any], tokens: list[tuple[str, str]], client: FlaskClient, clock: FrozenClock, context: ServiceContext
) -> None:
    answered_id, token = tokens[0]
    client.post(f"/api/v1/surveys/{token}/responses", json=CAMPAIGN_ANSWER)
    clock.advance(timedelta(days=3) - timedelta(minutes=1))
    assert campaign_pass(context) == (0, 0, 0)
    clock.advance(timedelta(minutes=1))
    passes: list[tuple[int, int, int]] = []
    racing = [threading.Thread(target=lambda: passes.append(campaign_pass(context))) for _ in range(2)]
    for thread in racing:
        thread.start()
    for thread in racing:
        thread.join()
    assert sum(reminded for _, reminded, _ in passes) == 28
    reminders = [event for event in outbox_events(context.database, campaign["id"]) if event["data"].get("reminder") is True]
    assert len(reminders) == 28 and answered_id not in {event["data"]["invitation_id"] for event in reminders}
    assert all(event["type"] == "survey.invited" and event["data"]["channel"] == "online" for event in reminders)
    assert campaign_pass(context) == (0, 0, 0)


def test_the_campaign_closes_once_at_closes_at(
    campaign: dict[str, Any],
    tokens: list[tuple[str, str]],
    client: FlaskClient,
    settings: Settings,
    clock: FrozenClock,
    context: ServiceContext,
) -> None:
    for _, token in tokens[:3]:
        assert client.post(f"/api/v1/surveys/{token}/responses", json=CAMPAIGN_ANSWER).status_code == 201
    clock.advance(timedelta(days=14))
    assert client.post(f"/api/v1/surveys/{tokens[3][1]}/responses", json=CAMPAIGN_ANSWER).status_code == 410  # before the pass, too
    passes: list[tuple[int, int, int]] = []
    racing = [threading.Thread(target=lambda: passes.append(campaign_pass(context))) for _ in range(2)]
    for thread in racing:
        thread.start()
    for thread in racing:
        thread.join()
    assert sum(closed for _, _, closed in passes) == 1 and campaign_pass(context) == (0, 0, 0)
    [closed] = [event for event in outbox_events(context.database, campaign["id"]) if event["type"] == "campaign.closed"]
    assert closed["data"]["responded"] == 3 and closed["data"]["sample_size"] == 48
    progress = client.get(f"{CAMPAIGN_URL}/{campaign['id']}", headers=bearer(settings)).get_json()
    assert (progress["status"], progress["responded"], progress["response_rate"]) == ("closed", 3, round(3 / 48, 4))
    assert context.database.invitations.count_documents({"campaign_id": campaign["id"], "status": "expired"}) == 45
    assert client.get(f"/s/{tokens[4][1]}").status_code == 410


def test_the_page_shows_the_questionnaire_and_its_form_records_the_answer(
    campaign: dict[str, Any], tokens: list[tuple[str, str]], client: FlaskClient, context: ServiceContext
) -> None:
    invitation_id, token = tokens[0]
    page = client.get(f"/s/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "基础服务" in html and "Basic services" in html and "<script" not in html and "https://" not in html
    for name in ("cleaning", "security", "complaint_speed", "overall", "recommend", "comment"):
        assert f'name="{name}"' in html
    incomplete = client.post(f"/s/{token}", data={"cleaning": "4", "overall": "8", "comment": "电梯"})
    assert (
        incomplete.status_code == 422 and "<form" in incomplete.get_data(as_text=True) and "recommend" in incomplete.get_data(as_text=True)
    )
    assert "电梯" in incomplete.get_data(as_text=True) and context.database.responses.count_documents({}) == 0
    form = {"cleaning": "4", "security": "5", "complaint_speed": "2", "overall": "7", "recommend": "10", "comment": "电梯很好"}
    thanks = client.post(f"/s/{token}", data=form)
    assert thanks.status_code == 201 and "感谢您的反馈" in thanks.get_data(as_text=True)
    response = context.database.responses.find_one({"_id": invitation_id})
    assert response["answers"] == {"cleaning": 4, "security": 5, "complaint_speed": 2} and (response["overall"], response["recommend"]) == (
        7,
        10,
    )
    assert client.get(f"/s/{token}").status_code == 409


def test_a_resident_answers_the_campaign_in_a_real_browser(
    campaign: dict[str, Any], tokens: list[tuple[str, str]], served: str, context: ServiceContext
) -> None:
    invitation_id, token = tokens[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", java_script_enabled=False)
            page.goto(f"{served}/s/{token}")
            for name, score in (("cleaning", "5"), ("security", "3"), ("complaint_speed", "1"), ("overall", "6"), ("recommend", "0")):
                page.locator(f"input[name={name}][value='{score}']").check()
            page.locator("#comment").fill("门禁常坏")
            page.get_by_role("button").click()
            page.wait_for_load_state()
            assert "感谢您的反馈" in page.content()
        finally:
            browser.close()
    response = context.database.responses.find_one({"_id": invitation_id})
    assert response["answers"] == {"cleaning": 5, "security": 3, "complaint_speed": 1}
    assert (response["overall"], response["recommend"], response["comment"], response["channel"]) == (6, 0, "门禁常坏", "online")
    assert len(recorded(context, campaign["id"])) == 1
