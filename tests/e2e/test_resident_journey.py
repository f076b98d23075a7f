"""A resident's whole journey in Chromium (the Debian package), in simplified Chinese and in English.

The platform runs in one process (``LocalStack``: real MongoDB, the five services and their workers,
the gateway on a real port). Chromium at phone width (390 by 844) files a complaint with a photo from
``/r/NS01``, follows it on the tracking page through assigned → resolved while a handler acts through
dispatch's API, adds a photo, opens the follow-up survey from the tracking page, answers it and sees
the result back on the tracking page. Every resident page passes axe-core (vendored, 4.14.1) with no
serious or critical violation. A screenshot of each page is written to ``SCREENSHOT_DIR`` (default:
the test's temporary folder), listed in the test's output and attached to its report as
``user_properties``; docs/RESIDENTS.md shows them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, sync_playwright

from infra.local.run import LocalStack
from propcare_shared.http.auth import issue_token
from propcare_shared.testing import fetch_until, wait_for
from tests.e2e.one_process import one_process_stack

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
SECRET = "resident-journey-jwt-secret-0123456789abcdef"
AXE = Path(__file__).resolve().parents[1] / "browser" / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
WORDS = {
    "zh-CN": {
        "description": "3号楼2单元电梯停在两层之间不动了，里面有老人",
        "demand": "尽快救人并检修",
        "note": "电梯里的应急按钮也不亮",
        "filed": "已收到您的投诉",
        "track": "查看进度",
        "assigned": "已安排处理人员",
        "added": "已补充",
        "back": "返回进度页面",
        "resolved": "已处理完毕",
        "survey": "填写回访问卷",
        "thanks": "感谢您完成回访",
    },
    "en": {
        "description": "The lift of building 3, unit 2 is stuck between floors with an old man inside",
        "demand": "Get him out and repair the lift",
        "note": "The alarm button in the lift does not light up either",
        "filed": "We have your complaint",
        "track": "Follow the progress",
        "assigned": "Passed to the person who will handle it",
        "added": "Added",
        "back": "Back to the progress page",
        "resolved": "Dealt with",
        "survey": "Answer the follow-up survey",
        "thanks": "Thank you for answering the follow-up survey",
    },
}


@pytest.fixture(scope="module")
def stack(mongodb_url: str) -> Iterator[LocalStack]:
    environ = {"JWT_SECRET": SECRET, "SLA_SCAN_INTERVAL": "3600", "OUTBOX_POLL_INTERVAL": "0.2", "NOTIFY_DISPATCH_INTERVAL": "0.05"}
    with one_process_stack(mongodb_url, environ, prefix="resident") as local:
        yield local


def client(stack: LocalStack, service: str) -> FlaskClient:
    return next(running.app for running in stack.running if running.name == service).test_client()


def bearer(*, sub: str, role: str, estates: tuple[str, ...] = ()) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(SECRET, sub=sub, role=role, group_id="G1", estates=estates)}


ADMIN = bearer(sub="admin-1", role="group_admin")


@pytest.fixture(scope="module")
def estate(stack: LocalStack) -> None:
    """NS01 of G1, with an engineer who owns the grid of building 3."""
    intake, dispatch = client(stack, "intake"), client(stack, "dispatch")
    body = {"name": "南山花园", "code": "NS01", "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"}
    assert intake.put("/api/v1/estates/NS01", json=body, headers=ADMIN).status_code in (200, 201)
    staff = {"name": "张工", "department": "engineering", "role": "handler", "grids": ["GR3"], "on_duty": True}
    fetch_until(
        lambda: dispatch.put("/api/v1/estates/NS01/staff/eng-1", json=staff, headers=ADMIN),
        lambda response: response.status_code in (200, 201),
        message="dispatch knows NS01",
    )
    grid = {"buildings": ["3"], "owner_id": "eng-1"}
    assert dispatch.put("/api/v1/estates/NS01/grids/GR3", json=grid, headers=ADMIN).status_code in (200, 201)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def photo_file(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real JPEG photo, drawn and encoded by Chromium."""
    page = browser.new_page(viewport={"width": 320, "height": 240})
    page.set_content(
        '<body style="margin:0;background:linear-gradient(#8aa,#344)"><h1 style="color:#fff;padding:2rem">Lift 3-2</h1></body>'
    )
    path = tmp_path_factory.mktemp("photos") / "lift.jpg"
    path.write_bytes(page.screenshot(type="jpeg", quality=80))
    page.close()
    return path


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("SCREENSHOT_DIR")
    path = Path(folder) if folder else tmp_path_factory.mktemp("resident-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_axe(page: Page) -> dict[str, Any]:
    """Run the vendored axe-core on a page against WCAG 2.1 A and AA and the best practices."""
    page.add_script_tag(path=str(AXE))
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
    return dict(page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", tags))


def serious_violations(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the serious and critical violations of an axe-core result: rule, impact and where."""
    return [
        {"id": violation["id"], "impact": violation["impact"], "nodes": [node["target"] for node in violation["nodes"]]}
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


class Journey:
    """One resident's browser tab: checks each page with axe-core and keeps a screenshot of it."""

    def __init__(self, page: Page, *, language: str, folder: Path, request: pytest.FixtureRequest) -> None:
        self.page = page
        self.language = language
        self.folder = folder
        self.request = request
        self.step = 0

    def check(self, name: str) -> None:
        """Screenshot the page and run axe-core on it: no serious or critical violation."""
        self.step += 1
        path = self.folder / f"{self.language}-{self.step:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.request.node.user_properties.append((f"screenshot {self.language} {name}", str(path)))
        print(f"screenshot: {path}")
        result = run_axe(self.page)
        assert result["passes"], "axe-core checked something"
        serious = serious_violations(result)
        assert serious == [], f"{name}: {serious}"
        assert self.page.locator("html").get_attribute("lang") == self.language or name == "survey"

    def reload_until(self, text: str) -> None:
        def shown() -> bool:
            self.page.reload()
            return text in self.page.content()

        wait_for(shown, timeout=30, interval=0.5, message=f"the tracking page shows {text!r}")


def work_order(stack: LocalStack, complaint_id: str) -> dict[str, Any]:
    response = fetch_until(
        lambda: client(stack, "dispatch").get(f"/api/v1/work-orders/{complaint_id}", headers=ADMIN),
        lambda response: response.status_code == 200 and response.get_json()["assignee_id"] == "eng-1",
        message="the complaint assigned to eng-1",
    )
    return dict(response.get_json())


def act(stack: LocalStack, complaint_id: str, action: str, **values: Any) -> None:
    handler = bearer(sub="eng-1", role="handler", estates=("NS01",))
    response = client(stack, "dispatch").post(
        f"/api/v1/work-orders/{complaint_id}/actions", json={"action": action, **values}, headers=handler
    )
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_resident_files_follows_adds_a_photo_and_answers_the_survey_in_chromium(
    stack: LocalStack, estate: None, browser: Browser, photo_file: Path, screenshots: Path, language: str, request: pytest.FixtureRequest
) -> None:
    words = WORDS[language]
    context = browser.new_context(viewport=PHONE, locale=language, device_scale_factor=1, is_mobile=True, has_touch=True, bypass_csp=True)
    page = context.new_page()
    journey = Journey(page, language=language, folder=screenshots, request=request)
    try:
        page.goto(f"{stack.base_url}/r/")
        journey.check("choose-estate")
        page.locator("#code").fill("NS01")
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert page.url.startswith(f"{stack.base_url}/r/NS01")

        page.locator("button[type=submit]").click()  # the browser refuses an empty form: nothing is sent
        assert page.url.startswith(f"{stack.base_url}/r/NS01")
        page.locator("#description").fill("x")
        page.locator("#phone").fill("12345")
        page.locator("input[name=consent]").check()
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("#description-error").is_visible() and page.locator("#phone-error").is_visible()
        journey.check("form-errors")

        page.locator("#building").fill("3")
        page.locator("#unit").fill("2")
        page.locator("#room").fill("1502")
        page.locator("#description").fill(words["description"])
        page.locator("#demand").fill(words["demand"])
        page.locator("#photos").set_input_files(str(photo_file))
        page.locator("#name").fill("王女士" if language == "zh-CN" else "Mrs Wang")
        page.locator("#phone").fill("13800138000")
        journey.check("form")
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert words["filed"] in page.content() and "NS01-" in page.content()
        journey.check("filed")

        page.get_by_role("link", name=words["track"]).click()
        page.wait_for_load_state()
        tracking_url = page.url.split("?")[0]
        complaint = client(stack, "intake").get(f"/api/v1/track/{tracking_url.rsplit('/', 1)[1]}").get_json()
        listed = client(stack, "intake").get("/api/v1/complaints?estate_id=NS01", headers=ADMIN).get_json()["items"]
        [complaint_id] = [item["id"] for item in listed if item["ticket_no"] == complaint["ticket_no"]]
        work_order(stack, complaint_id)
        journey.reload_until(words["assigned"])
        journey.check("tracking-assigned")

        act(stack, complaint_id, "respond", note="已电话联系业主")
        act(stack, complaint_id, "arrive")
        page.locator("#note").fill(words["note"])
        page.locator("#photos").set_input_files(str(photo_file))
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert words["added"] in page.content()
        journey.check("added")
        page.get_by_role("link", name=words["back"]).click()
        page.wait_for_load_state()
        assert words["note"] in page.content()

        act(stack, complaint_id, "resolve", note="更换了电梯控制板，电梯恢复运行")
        journey.reload_until(words["survey"])
        assert words["resolved"] in page.content()
        journey.check("tracking-resolved")

        page.get_by_role("link", name=words["survey"]).click()
        page.wait_for_load_state()
        assert "/s/" in page.url
        journey.check("survey")
        page.locator("input[name=solved][value=true]").check()
        for name in ("result", "speed", "attitude"):
            page.locator(f"input[name={name}][value='5']").check()
        page.get_by_role("button").click()
        page.wait_for_load_state()
        assert "感谢您的反馈" in page.content()

        page.goto(f"{tracking_url}?lang={language}")
        journey.reload_until(words["thanks"])
        journey.check("tracking-answered")
        stored = client(stack, "intake").get(f"/api/v1/complaints/{complaint_id}", headers=ADMIN).get_json()
        assert len(stored["attachments"]) == 2 and all(item["content_type"] == "image/jpeg" for item in stored["attachments"])
        assert "updated_by_resident" in [entry["action"] for entry in stored["timeline"]]
    finally:
        context.close()


def test_the_accessibility_check_finds_what_it_must(browser: Browser) -> None:
    page = browser.new_page()
    page.set_content('<html><body><img src="data:,"><input type="text"><a href="#"></a></body></html>')
    found = {violation["id"] for violation in serious_violations(run_axe(page))}
    page.close()
    assert {"image-alt", "label", "link-name"} <= found, found
