"""The tracking page ``/r/t/{tracking_token}``: status and time limits, the timeline, the survey link, adding information."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from intake.resident_updates import RESIDENT_HANDLERS
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.handling import subscriptions
from propcare_shared.testing import outbox_events
from tests.intake.test_resident_pages import EXE, HOSTILE, JPEG, fields, form_token, tracking_path
from tests.intake.test_status import dispatch_event

# The action each of dispatch's events carries (dispatch.domain.workflow, dispatch.domain.opening).
ACTIONS = {
    "complaint.classified": "classify",
    "complaint.assigned": "assign",
    "complaint.resolved": "resolve",
    "complaint.reopened": "reopen",
    "complaint.closed": "close",
    "complaint.cancelled": "cancel",
}


@pytest.fixture
def survey_handle(context: ServiceContext) -> Callable[[Event], None]:
    """Intake's survey handlers as the worker runs them (in a unit of work with the inbox), by event type."""
    handlers = {event_type: sub.handler for sub in subscriptions(context, RESIDENT_HANDLERS) for event_type in sub.event_types}
    return lambda event: handlers[event.type](event)


@pytest.fixture
def filed(client: FlaskClient, estate: dict[str, Any], context: ServiceContext) -> dict[str, Any]:
    """A complaint filed from the page: its id, ticket number and tracking path."""
    page = client.post("/r/NS01", data=fields(client), content_type="multipart/form-data")
    assert page.status_code == 201
    complaint = context.database.complaints.find_one({})
    return {"id": complaint["_id"], "ticket_no": complaint["ticket_no"], "path": tracking_path(page.get_data(as_text=True))}


def move(
    handle: Callable[[Event], None], filed: dict[str, Any], clock: FrozenClock, event_type: str, seq: int, status: str, **data: Any
) -> None:
    clock.advance(timedelta(minutes=5))
    handle(dispatch_event(filed, event_type, seq=seq, status=status, clock=clock, action=ACTIONS[event_type], **data))


def add(client: FlaskClient, path: str, **data: Any) -> Any:
    page = client.get(path).get_data(as_text=True)
    token = form_token(page) if 'name="form_token"' in page else secrets.token_urlsafe(32)  # a form kept open in another tab
    return client.post(path, data={"form_token": token, **data}, content_type="multipart/form-data")


def survey_event(event_type: str, filed: dict[str, Any], clock: FrozenClock, **data: Any) -> Event:
    return new_event(
        event_type,
        producer="survey",
        data={"invitation_id": "inv-1", "kind": "follow_up", "complaint_id": filed["id"], **data},
        correlation_id=filed["id"],
        group_id="G1",
        region_id="R1",
        estate_id="NS01",
    )


def test_the_page_shows_the_status_in_words_and_time_limits_in_local_time(
    client: FlaskClient, filed: dict[str, Any], handle: Callable[[Event], None], clock: FrozenClock
) -> None:
    page = client.get(filed["path"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "已收到，正在分类" in html and "分类后我们会在这里显示处理时限" in html
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "<script" not in html and "https://" not in html
    # 15:30 UTC (when filed) + 30 minutes is midnight, the next day, in Shanghai
    move(
        handle,
        filed,
        clock,
        "complaint.classified",
        2,
        "classified",
        tier="emergency",
        deadlines={"response": clock() + timedelta(minutes=30)},
    )
    move(handle, filed, clock, "complaint.assigned", 3, "assigned", assignee_id="eng-1", actor_id="supervisor-9", note="给陈师傅")
    html = client.get(filed["path"]).get_data(as_text=True)
    assert "已安排处理人员" in html and "2026-11-23 00:00" in html and "Asia/Shanghai" in html
    assert "eng-1" not in html and "supervisor-9" not in html and "陈师傅" not in html  # nobody named
    english = client.get(filed["path"] + "?lang=en").get_data(as_text=True)
    assert "Passed to the person who will handle it" in english and "First contact" in english


def test_a_bad_token_gets_one_404_whatever_it_is(client: FlaskClient, filed: dict[str, Any]) -> None:
    token = filed["path"].rsplit("/", 1)[1]
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    bodies = set()
    for candidate in (changed, token.upper() if token.upper() != token else token.lower(), "forged", "x" * 500, "%3Cscript%3E"):
        page = client.get(f"/r/t/{candidate}")
        assert page.status_code == 404 and "链接无效" in page.get_data(as_text=True)
        bodies.add(page.get_data())
        assert client.post(f"/r/t/{candidate}", data={"note": "hi"}, content_type="multipart/form-data").status_code == 404
    assert len(bodies) == 1


def test_adding_information_and_a_photo_emits_the_fact_once(client: FlaskClient, filed: dict[str, Any], context: ServiceContext) -> None:
    token = form_token(client.get(filed["path"]).get_data(as_text=True))
    data = {"form_token": token, "note": "电梯里的按钮也坏了"}
    added = client.post(filed["path"], data={**data, "photos": [(io.BytesIO(JPEG), "button.jpg")]}, content_type="multipart/form-data")
    assert added.status_code == 201 and "已补充" in added.get_data(as_text=True)
    again = client.post(filed["path"], data={**data, "photos": [(io.BytesIO(JPEG), "button.jpg")]}, content_type="multipart/form-data")
    assert again.status_code == 201
    [event] = [event for event in outbox_events(context.database) if event["type"] == "complaint.updated_by_resident"]
    assert event["data"] == {"complaint_id": filed["id"], "note": "电梯里的按钮也坏了"} and event["estate_id"] == "NS01"
    assert event["correlation_id"] == filed["id"]
    complaint = context.database.complaints.find_one({"_id": filed["id"]})
    assert [item["filename"] for item in complaint["attachments"]] == ["button.jpg"]
    [entry] = list(context.database.complaint_timeline.find({"action": "updated_by_resident"}))
    assert entry["_id"] == event["id"] and entry["actor_id"] is None
    html = client.get(filed["path"]).get_data(as_text=True)
    assert "您补充了信息" in html and "电梯里的按钮也坏了" in html and "已上传照片" in html


def test_bad_additions_are_refused_with_nothing_stored(client: FlaskClient, filed: dict[str, Any], context: ServiceContext) -> None:
    cases = [
        ({"note": ""}, "请填写补充说明"),
        ({"note": "长" * 5000}, "请填写补充说明"),
        ({"note": "看照片", "photos": [(io.BytesIO(EXE), "photo.jpg")]}, "photo.jpg 不是照片"),
        ({"note": "看照片", "photos": [(io.BytesIO(JPEG), f"p{index}.jpg") for index in range(20)]}, "最多上传6张照片"),
        ({"note": "x", "form_token": "forged"}, "表单已过期"),
    ]
    for data, message in cases:
        page = add(client, filed["path"], **data)
        assert page.status_code == 422 and message in page.get_data(as_text=True), message
    assert [event for event in outbox_events(context.database) if event["type"] == "complaint.updated_by_resident"] == []
    assert context.database.complaints.find_one({"_id": filed["id"]})["attachments"] == []
    assert context.database.complaint_timeline.count_documents({"action": "updated_by_resident"}) == 0


def test_photos_stop_at_the_complaints_limit(client: FlaskClient, filed: dict[str, Any], context: ServiceContext) -> None:
    assert add(client, filed["path"], photos=[(io.BytesIO(JPEG), f"a{index}.jpg") for index in range(6)]).status_code == 201
    full = add(client, filed["path"], photos=[(io.BytesIO(JPEG), f"b{index}.jpg") for index in range(4)])
    assert full.status_code == 422 and "还能再加3张" in full.get_data(as_text=True)
    assert add(client, filed["path"], photos=[(io.BytesIO(JPEG), f"c{index}.jpg") for index in range(3)]).status_code == 201
    assert len(context.database.complaints.find_one({"_id": filed["id"]})["attachments"]) == 9
    page = client.get(filed["path"]).get_data(as_text=True)
    assert 'name="photos"' not in page and 'name="note"' in page  # no room for photos; words still welcome


def test_html_in_an_addition_is_escaped(client: FlaskClient, filed: dict[str, Any]) -> None:
    assert add(client, filed["path"], note=HOSTILE).status_code == 201
    html = client.get(filed["path"]).get_data(as_text=True)
    assert "<script>" not in html and "<img src=x" not in html and "&lt;script&gt;alert" in html


def test_resolved_shows_the_survey_link_then_the_answer(
    client: FlaskClient,
    filed: dict[str, Any],
    handle: Callable[[Event], None],
    survey_handle: Callable[[Event], None],
    clock: FrozenClock,
    context: ServiceContext,
) -> None:
    move(handle, filed, clock, "complaint.assigned", 2, "assigned")
    move(handle, filed, clock, "complaint.resolved", 3, "resolved", note="更换了电梯控制板")
    html = client.get(filed["path"]).get_data(as_text=True)
    assert "已处理完毕" in html and "更换了电梯控制板" in html and 'name="note"' not in html and "回访" in html
    link = "http://127.0.0.1:8080/s/signed.token"
    survey_handle(survey_event("survey.invited", filed, clock, link=link, expires_at=clock() + timedelta(days=7)))
    html = client.get(filed["path"]).get_data(as_text=True)
    assert f'href="{link}"' in html
    refused = add(client, filed["path"], note="还是坏的")
    assert refused.status_code == 409 and "回访问卷中选择“否”" in refused.get_data(as_text=True)
    survey_handle(survey_event("survey.completed", filed, clock, satisfied=True, answered_at=clock(), solved=True))
    move(handle, filed, clock, "complaint.closed", 4, "closed")
    html = client.get(filed["path"]).get_data(as_text=True)
    assert "已结案" in html and "感谢您完成回访" in html and link not in html and "提交新的投诉" in html
    assert [event for event in outbox_events(context.database) if event["type"] == "complaint.updated_by_resident"] == []


def test_an_expired_survey_link_is_not_offered(
    client: FlaskClient, filed: dict[str, Any], handle: Callable[[Event], None], survey_handle: Callable[[Event], None], clock: FrozenClock
) -> None:
    move(handle, filed, clock, "complaint.resolved", 2, "resolved", note="已修复")
    survey_handle(survey_event("survey.invited", filed, clock, link="http://x/s/old", expires_at=clock() + timedelta(days=7)))
    clock.advance(timedelta(days=8))
    assert "http://x/s/old" not in client.get(filed["path"]).get_data(as_text=True)


def test_a_reopened_or_cancelled_complaint_says_what_to_do_instead(
    client: FlaskClient, filed: dict[str, Any], handle: Callable[[Event], None], clock: FrozenClock, context: ServiceContext
) -> None:
    move(handle, filed, clock, "complaint.resolved", 2, "resolved", note="已修复")
    move(handle, filed, clock, "complaint.reopened", 3, "assigned", note="回访不满意")
    html = client.get(filed["path"]).get_data(as_text=True)
    assert "已根据您的回访重新处理" in html and 'name="note"' not in html
    assert add(client, filed["path"], note="又坏了").status_code == 409
    move(handle, filed, clock, "complaint.cancelled", 4, "cancelled", note="重复投诉，已合并到NS01-20261122-0002")
    html = client.get(filed["path"] + "?lang=en").get_data(as_text=True)
    assert "Cancelled" in html and "合并到NS01-20261122-0002" in html and "Report a new problem" in html
    assert context.database.complaint_timeline.count_documents({"action": "updated_by_resident"}) == 0
