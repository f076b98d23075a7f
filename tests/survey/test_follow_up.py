"""Follow-up surveys: one invitation per resolve, answered once, reminded once, expired once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import AlreadyHandled
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events
from survey.schedule import follow_up_pass
from survey.store import SurveyStore
from survey.tokens import invitation_of, sign_invitation
from tests.survey.conftest import CONFIG, MONDAY_MORNING, SATISFIED, resolved_event


def answer(client: FlaskClient, token: str, body: dict[str, Any] = SATISFIED) -> Any:
    return client.post(f"/api/v1/surveys/{token}/responses", json=body)


def event_types(context: ServiceContext, complaint_id: str) -> list[str]:
    return [event["type"] for event in outbox_events(context.database, complaint_id)]


def test_a_resolve_invites_once_with_a_signed_seven_day_link(invite: Callable[..., dict[str, Any]], settings: Settings) -> None:
    invited = invite(channel="wechat")
    data = invited["data"]
    assert data["link"].startswith("https://propcare.example.cn/s/") and data["kind"] == "follow_up"
    assert data["channel"] == "wechat" and data["expires_at"] == MONDAY_MORNING + timedelta(days=7) and data["reminder"] is False
    assert (invited["estate_id"], invited["correlation_id"]) == ("NS01", invited["complaint_id"])
    assert invitation_of(settings.jwt_secret, invited["token"]) == data["invitation_id"]
    assert invitation_of("another-secret-of-at-least-32-bytes!!", invited["token"]) is None


def test_the_same_resolve_twice_makes_one_invitation(handle: Callable[[Event], None], store: SurveyStore, context: ServiceContext) -> None:
    event = resolved_event()
    handle(event)
    with pytest.raises(AlreadyHandled):
        handle(event)
    handle(resolved_event(complaint_id=event.data["complaint_id"], seq=event.seq or 0))  # the same fact under another event id
    assert context.database.invitations.count_documents({"complaint_id": event.data["complaint_id"]}) == 1


def test_a_resolve_after_a_reopen_withdraws_the_pending_invitation(
    invite: Callable[..., dict[str, Any]], client: FlaskClient, context: ServiceContext
) -> None:
    first = invite(seq=5)
    second = invite(complaint_id=first["complaint_id"], seq=9)
    assert answer(client, first["token"]).status_code == 410
    assert answer(client, second["token"]).status_code == 201
    statuses = {doc["resolve_seq"]: doc["status"] for doc in context.database.invitations.find({"complaint_id": first["complaint_id"]})}
    assert statuses == {5: "withdrawn", 9: "answered"}


def test_a_late_copy_of_an_earlier_resolve_invites_nobody(
    handle: Callable[[Event], None], invite: Callable[..., dict[str, Any]], context: ServiceContext
) -> None:
    latest = invite(seq=9)
    handle(resolved_event(complaint_id=latest["complaint_id"], seq=5))
    [invitation] = context.database.invitations.find({"complaint_id": latest["complaint_id"]})
    assert (invitation["resolve_seq"], invitation["status"]) == (9, "pending")
    assert event_types(context, latest["complaint_id"]) == ["survey.invited"]


def test_a_satisfied_answer_completes_the_survey_once(
    invite: Callable[..., dict[str, Any]], client: FlaskClient, context: ServiceContext
) -> None:
    invited = invite()
    first = answer(client, invited["token"])
    assert first.status_code == 201 and first.get_json()["satisfied"] is True
    assert answer(client, invited["token"]).status_code == 409
    [completed] = [
        e
        for e in outbox_events(context.database, invited["complaint_id"])
        if e["type"].startswith("survey.") and e["type"] != "survey.invited"
    ]
    assert completed["type"] == "survey.completed"
    assert completed["data"]["scores"] == {"result": 5.0, "speed": 4.0, "attitude": 5.0} and completed["data"]["channel"] == "online"
    assert "comment" not in completed["data"] and "师傅" not in str(completed)  # free text stays in survey's database


@pytest.mark.parametrize(
    ("solved", "scores"), [(False, {"result": 5, "speed": 5, "attitude": 5}), (True, {"result": 4, "speed": 2, "attitude": 5})]
)
def test_not_solved_or_a_low_score_is_dissatisfied(
    invite: Callable[..., dict[str, Any]], client: FlaskClient, context: ServiceContext, solved: bool, scores: dict[str, int]
) -> None:
    invited = invite()
    response = answer(client, invited["token"], {"solved": solved, "scores": scores})
    assert response.status_code == 201 and response.get_json()["satisfied"] is False
    assert event_types(context, invited["complaint_id"])[-1] == "survey.dissatisfied"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scores": {"result": 5, "speed": 4, "attitude": 5}}, "solved"),
        ({"solved": "yes", "scores": {"result": 5, "speed": 4, "attitude": 5}}, "solved"),
        ({"solved": True, "scores": {"result": 6, "speed": 4, "attitude": 5}}, "scores"),
        ({"solved": True, "scores": {"result": 4.5, "speed": 4, "attitude": 5}}, "scores"),
        ({"solved": True, "scores": {"result": 5, "speed": 4}}, "scores"),
        ({"solved": True, "scores": {"result": 5, "speed": 4, "attitude": 5, "price": 1}}, "scores"),
        ({"solved": True, "scores": {"result": 5, "speed": 4, "attitude": 5}, "comment": "长" * 1001}, "comment"),
    ],
)
def test_invalid_answers_get_422_and_leave_the_invitation_open(
    invite: Callable[..., dict[str, Any]], client: FlaskClient, store: SurveyStore, body: dict[str, Any], field: str
) -> None:
    invited = invite()
    response = answer(client, invited["token"], body)
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert store.invitation(invited["data"]["invitation_id"])["status"] == "pending"
    assert answer(client, invited["token"]).status_code == 201


def test_a_forged_token_is_404_and_an_expired_invitation_410(
    invite: Callable[..., dict[str, Any]], client: FlaskClient, settings: Settings, clock: FrozenClock
) -> None:
    invited = invite()
    assert answer(client, invited["token"][:-2] + "xx").status_code == 404
    assert answer(client, sign_invitation(settings.jwt_secret, "no-such-invitation")).status_code == 404
    clock.advance(timedelta(days=7))
    assert answer(client, invited["token"]).status_code == 410


def test_two_answers_at_once_record_one(invite: Callable[..., dict[str, Any]], app: Any, context: ServiceContext) -> None:
    invited = invite()
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def submit() -> None:
        barrier.wait()
        statuses.append(app.test_client().post(f"/api/v1/surveys/{invited['token']}/responses", json=SATISFIED).status_code)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409, 409, 409]
    assert context.database.responses.count_documents({}) == 1
    assert event_types(context, invited["complaint_id"]).count("survey.completed") == 1


def test_staff_record_a_phone_answer_within_their_scope(
    invite: Callable[..., dict[str, Any]], client: FlaskClient, settings: Settings, context: ServiceContext
) -> None:
    invited = invite()
    url = f"/api/v1/surveys/invitations/{invited['data']['invitation_id']}/responses"
    body = {**SATISFIED, "channel": "phone"}
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers=bearer(settings, role="agent", estates=["FT02"])).status_code == 403
    recorded = client.post(url, json=body, headers=bearer(settings, role="agent", estates=["NS01"]))
    assert recorded.status_code == 201
    [completed] = [e for e in outbox_events(context.database, invited["complaint_id"]) if e["type"] == "survey.completed"]
    assert completed["data"]["channel"] == "phone"
    assert client.post(url, json=body, headers=bearer(settings, role="agent", estates=["NS01"])).status_code == 409


def test_invitations_are_listed_within_the_callers_scope(
    invite: Callable[..., dict[str, Any]], client: FlaskClient, settings: Settings
) -> None:
    ns = invite()
    invite(estate_id="FT02", region_id="R2")
    listed = client.get(
        f"/api/v1/surveys?complaint_id={ns['complaint_id']}", headers=bearer(settings, role="manager", estates=["NS01"])
    ).get_json()
    [item] = listed["items"]
    assert item["status"] == "pending" and item["link"] == ns["data"]["link"] and item["complaint_id"] == ns["complaint_id"]
    assert len(client.get("/api/v1/surveys", headers=bearer(settings, role="manager", estates=["NS01"])).get_json()["items"]) == 1
    assert len(client.get("/api/v1/surveys", headers=bearer(settings)).get_json()["items"]) == 2
    assert client.get("/api/v1/surveys?status=lost", headers=bearer(settings)).status_code == 422


def test_reminder_after_three_days_and_auto_close_after_seven_each_once(
    invite: Callable[..., dict[str, Any]], context: ServiceContext, clock: FrozenClock
) -> None:
    invited = invite()
    assert follow_up_pass(context) == (0, 0)
    clock.advance(timedelta(days=3))
    assert follow_up_pass(context) == (1, 0)
    assert follow_up_pass(context) == (0, 0)
    clock.advance(timedelta(days=4))
    assert follow_up_pass(context) == (0, 1)
    assert follow_up_pass(context) == (0, 0)
    events = [e for e in outbox_events(context.database, invited["complaint_id"]) if e["type"].startswith("survey.")]
    assert [(e["type"], e["data"].get("reminder"), e["data"].get("auto_closed")) for e in events] == [
        ("survey.invited", False, None),
        ("survey.invited", True, None),
        ("survey.completed", None, True),
    ]
    assert events[-1]["data"]["satisfied"] is True


def test_two_passes_at_once_remind_and_expire_each_invitation_once(
    invite: Callable[..., dict[str, Any]],
    open_context: Callable[..., ServiceContext],
    settings: Settings,
    context: ServiceContext,
    clock: FrozenClock,
) -> None:
    complaints = [invite()["complaint_id"] for _ in range(20)]
    other = open_context(settings, clock=clock, config=CONFIG)  # a second worker process on the same database

    def race() -> None:
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=lambda c=c: (barrier.wait(), follow_up_pass(c))) for c in (context, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    clock.advance(timedelta(days=3, seconds=1))
    race()
    clock.advance(timedelta(days=4))
    race()
    for complaint_id in complaints:
        types = event_types(context, complaint_id)
        assert types == ["survey.invited", "survey.invited", "survey.completed"], types


def test_an_answer_after_the_reminder_stops_the_expiry(
    invite: Callable[..., dict[str, Any]], client: FlaskClient, context: ServiceContext, clock: FrozenClock
) -> None:
    invited = invite()
    clock.advance(timedelta(days=3))
    follow_up_pass(context)
    assert answer(client, invited["token"]).status_code == 201
    clock.advance(timedelta(days=5))
    assert follow_up_pass(context) == (0, 0)


def test_the_same_resolve_under_two_event_ids_at_once_makes_one_invitation(
    handle: Callable[[Event], None], context: ServiceContext
) -> None:
    first = resolved_event()
    copies = [first, resolved_event(complaint_id=first.data["complaint_id"], seq=first.seq or 0)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(copies))

    def deliver(event: Event) -> None:
        barrier.wait()
        try:
            handle(event)
        except BaseException as error:  # noqa: BLE001 - collected and asserted on below
            errors.append(error)

    threads = [threading.Thread(target=deliver, args=(event,)) for event in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert context.database.invitations.count_documents({"complaint_id": first.data["complaint_id"]}) == 1
    assert event_types(context, first.data["complaint_id"]) == ["survey.invited"]


def test_a_repeated_idempotency_key_replays_the_first_answer(invite: Callable[..., dict[str, Any]], client: FlaskClient) -> None:
    invited = invite()
    url = f"/api/v1/surveys/{invited['token']}/responses"
    first = client.post(url, json=SATISFIED, headers={"Idempotency-Key": "answer-1"})
    again = client.post(url, json=SATISFIED, headers={"Idempotency-Key": "answer-1"})
    assert first.status_code == again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.get_json()["invitation_id"] == invited["data"]["invitation_id"] and first.get_json()["answered_at"].endswith("Z")
    assert client.post(url, json=SATISFIED).status_code == 409


def test_a_machine_client_cannot_record_or_list_answers(
    invite: Callable[..., dict[str, Any]], client: FlaskClient, settings: Settings
) -> None:
    invited = invite()
    service = bearer(settings, role="service")
    url = f"/api/v1/surveys/invitations/{invited['data']['invitation_id']}/responses"
    assert client.post(url, json={**SATISFIED, "channel": "phone"}, headers=service).status_code == 403
    assert client.get("/api/v1/surveys", headers=service).status_code == 403


def test_answers_are_counted_by_kind(invite: Callable[..., dict[str, Any]], client: FlaskClient) -> None:
    def counted() -> float:
        for line in client.get("/metrics").get_data(as_text=True).splitlines():
            if line.startswith('survey_responses_total{kind="follow_up"}'):
                return float(line.split()[-1])
        return 0.0

    before = counted()
    invited = invite()
    assert answer(client, invited["token"]).status_code == 201
    assert answer(client, invited["token"]).status_code == 409
    assert counted() == before + 1
