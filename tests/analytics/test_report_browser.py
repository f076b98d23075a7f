"""The monthly review's HTML in a real Chromium: it renders offline (every request not to the app is blocked, and none is
made), its SVG charts are drawn and sized, its figures are those of the JSON, and it fits a phone without scrolling sideways.
A screenshot is saved under the test's tmp_path and its path printed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Page, Route, sync_playwright
from werkzeug.serving import make_server

from analytics.app import create_app
from analytics.report_satisfaction import figure
from infra.local.mongod import free_port
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer
from tests.analytics.campaign_factories import CampaignStory, at
from tests.analytics.factories import ComplaintStory, estate_upserted

CHROMIUM = "/usr/bin/chromium"
ADMIN = {"role": "group_admin", "group_id": "G1"}
QUERY = "scope=estate:NS01&month=2025-11"
Feed = Callable[[Iterable[Event]], None]


@pytest.fixture
def city(feed: Feed) -> dict[str, str]:
    """NS01 in November 2025: complaints in two buildings, a campaign answered in October and November, another in November."""
    feed([estate_upserted("NS01", region_id="R1")])
    complaints = [ComplaintStory(received_at=at(2025, 11, day), building=str(1 + day % 2)) for day in range(2, 28, 3)]
    complaints += [ComplaintStory(received_at=at(2025, 10, day), channel="wechat") for day in (8, 19)]
    feed(event for complaint in complaints for event in complaint.lifecycle())
    first = CampaignStory(campaign_id="C-2025-10", opens_at=at(2025, 10, 20), closes_at=at(2025, 11, 10), sample_size=120)
    second = CampaignStory(campaign_id="C-2025-11", opens_at=at(2025, 11, 12), closes_at=at(2025, 11, 26), sample_size=60)
    feed([first.started(), second.started()])
    feed(first.generated(40, seed=5, start=at(2025, 10, 21), days=7) + first.generated(25, seed=6, start=at(2025, 11, 2), days=6))
    feed(second.generated(30, seed=8, start=at(2025, 11, 13), days=10))
    feed([first.closed(responded=65), second.closed(responded=30)])
    return {"first": first.campaign_id, "second": second.campaign_id}


@pytest.fixture
def served(context: ServiceContext) -> Iterator[str]:
    """The analytics app on a real HTTP port."""
    port = free_port()
    server = make_server("127.0.0.1", port, create_app(context), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join()


def open_review(page: Page, served: str, blocked: list[str]) -> None:
    def only_the_app(route: Route) -> None:
        if route.request.url.startswith(served + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_app)
    response = page.goto(f"{served}/api/v1/analytics/reports/monthly?{QUERY}&format=html")
    assert response is not None and response.status == 200
    page.wait_for_load_state("networkidle")


def shown_figures(page: Page) -> dict[tuple[str, str], str]:
    cells = page.locator("td[data-key]")
    return {
        (cells.nth(i).get_attribute("data-key") or "", cells.nth(i).get_attribute("data-col") or ""): cells.nth(i).inner_text()
        for i in range(cells.count())
    }


def test_the_review_renders_offline_with_the_jsons_figures_and_fits_a_phone(
    client: FlaskClient, analytics_settings: Settings, city: dict[str, str], served: str, tmp_path: Path
) -> None:
    headers = bearer(analytics_settings, **ADMIN)
    body: dict[str, Any] = client.get(f"/api/v1/analytics/reports/monthly?{QUERY}", headers=headers).json
    campaign_rows = [row for row in body["month_over_month"] if row["section"] in ("campaign", "satisfaction")]
    assert {row["key"].split(".")[0] for row in campaign_rows if row["section"] == "campaign"} == set(city.values())
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            desktop = browser.new_page(viewport={"width": 1280, "height": 900}, extra_http_headers=headers, locale="zh-CN")
            open_review(desktop, served, blocked)
            assert "月度复盘 Monthly review" in desktop.title()
            charts = desktop.locator("svg")
            assert charts.count() >= 4  # volume by category, subcategory, channel, tier; hotspots; NPS by campaign
            for index in range(charts.count()):
                box = charts.nth(index).bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 20, (index, box)
            nps_chart = desktop.locator("figure", has_text="NPS by campaign").locator("svg")
            assert nps_chart.locator("rect").count() == 3  # two campaigns this month, one of them last month too
            shown = shown_figures(desktop)
            for row in campaign_rows:
                name = f"{row['section']}/{row['key']}"
                assert shown[(name, "this")] == figure(row["key"], row["this_month"]), name
                assert shown[(name, "last")] == figure(row["key"], row["previous_month"]), name
                assert shown[(name, "change")] == figure(row["key"], row["change"], change=True), name
            assert shown[(f"campaign/{city['first']}.responses", "this")] == "25"
            assert shown[(f"campaign/{city['first']}.response_rate", "this")] == f"{65 / 120 * 100:.1f}%"
            assert shown[("satisfaction/responses", "this")] == "55"
            assert f"本月 This month: {body['this_month']['volume']['total']}" in desktop.inner_text("body")

            phone = browser.new_page(viewport={"width": 390, "height": 844}, extra_http_headers=headers, is_mobile=True, locale="zh-CN")
            open_review(phone, served, blocked)
            overflow = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert overflow[0] <= overflow[1], f"the page scrolls sideways on a phone: {overflow}"
            phone_chart = phone.locator("figure", has_text="NPS by campaign").locator("svg").bounding_box()
            assert phone_chart is not None and 300 <= phone_chart["width"] <= 390 and phone_chart["height"] > 20
            screenshot = tmp_path / "monthly-review-phone.png"
            phone.screenshot(path=str(screenshot), full_page=True)
            assert screenshot.stat().st_size > 10_000
            print(f"\nmonthly review screenshot (390x844 phone, full page): {screenshot}")

            phone.emulate_media(media="print")
            printed = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert printed[0] <= printed[1]
        finally:
            browser.close()
    assert blocked == [], f"the page asked for resources outside the app: {blocked}"
