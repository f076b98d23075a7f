"""The resident's survey page: rendered, answered by its form without JavaScript, and in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from playwright.sync_api import sync_playwright

from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from tests.survey.conftest import SATISFIED

CHROMIUM = "/usr/bin/chromium"
FORM = {"solved": "true", "result": "5", "speed": "4", "attitude": "5", "comment": "谢谢"}


def test_the_page_shows_a_form_with_every_question(invite: Callable[..., dict[str, Any]], client: FlaskClient) -> None:
    page = client.get(f"/s/{invite()['token']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "<form" in html and 'name="viewport"' in html and 'method="post"' in html
    assert "http://" not in html and "https://" not in html and "<script" not in html  # no external assets, no JavaScript needed
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    for field in ("solved", "result", "speed", "attitude", "comment"):
        assert f'name="{field}"' in html


def test_the_form_records_the_answer_without_javascript(
    invite: Callable[..., dict[str, Any]], client: FlaskClient, context: ServiceContext
) -> None:
    invited = invite()
    thanks = client.post(f"/s/{invited['token']}", data=FORM)
    assert thanks.status_code == 201 and "感谢您的反馈" in thanks.get_data(as_text=True)
    response = context.database.responses.find_one({"_id": invited["data"]["invitation_id"]})
    assert response["scores"] == {"result": 5, "speed": 4, "attitude": 5} and response["comment"] == "谢谢" and response["solved"] is True
    again = client.get(f"/s/{invited['token']}")
    assert again.status_code == 409 and "已经提交过了" in again.get_data(as_text=True)


def test_an_incomplete_form_comes_back_with_the_errors(
    invite: Callable[..., dict[str, Any]], client: FlaskClient, context: ServiceContext
) -> None:
    invited = invite()
    page = client.post(f"/s/{invited['token']}", data={"solved": "true", "result": "5"})
    assert page.status_code == 422 and "<form" in page.get_data(as_text=True) and "speed" in page.get_data(as_text=True)
    assert context.database.responses.count_documents({}) == 0


def test_bad_and_expired_links_get_pages_not_errors(invite: Callable[..., dict[str, Any]], client: FlaskClient, clock: FrozenClock) -> None:
    invited = invite()
    assert client.get("/s/forged.token").status_code == 404
    clock.advance(timedelta(days=8))
    expired = client.get(f"/s/{invited['token']}")
    assert expired.status_code == 410 and expired.mimetype == "text/html" and "回访已结束" in expired.get_data(as_text=True)
    assert client.post(f"/s/{invited['token']}", data=FORM).status_code == 410


def test_a_resident_answers_in_a_real_browser(invite: Callable[..., dict[str, Any]], served: str, context: ServiceContext) -> None:
    invited = invite()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
            page.goto(f"{served}/s/{invited['token']}")
            page.get_by_label("否").check()
            for name, score in (("result", "2"), ("speed", "3"), ("attitude", "4")):
                page.locator(f"input[name={name}][value='{score}']").check()
            page.locator("#comment").fill("电梯又停了")
            page.get_by_role("button").click()
            page.wait_for_load_state()
            assert "感谢您的反馈" in page.content()
        finally:
            browser.close()
    response = context.database.responses.find_one({"_id": invited["data"]["invitation_id"]})
    assert response is not None and response["solved"] is False and response["satisfied"] is False
    assert response["scores"] == {"result": 2, "speed": 3, "attitude": 4} and response["comment"] == "电梯又停了"


def test_the_json_answer_and_the_page_share_one_invitation(invite: Callable[..., dict[str, Any]], client: FlaskClient) -> None:
    invited = invite()
    assert client.post(f"/api/v1/surveys/{invited['token']}/responses", json=SATISFIED).status_code == 201
    assert client.post(f"/s/{invited['token']}", data=FORM).status_code == 409
