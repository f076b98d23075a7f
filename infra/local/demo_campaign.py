"""The demo city's satisfaction campaign: a questionnaire, a campaign over 南山花园 and its answers.

Loaded through the survey service's HTTP API after the directory (``demo.load``), so ``make run``
shows a filled satisfaction report and monthly review at once:

- one questionnaire of three dimensions, one of whose questions ``measures`` complaint handling;
- one ``regular`` campaign of NS01 opening now and closing in 14 days, a 30% sample stratified by
  building and household type, seed 2026;
- answers for four in five of its offline and phone invitations, imported as one CSV exactly as a
  property office imports its paper and phone answers. Online invitations stay open: residents answer
  those from their links (the demo's households have no phones, so notification records them as
  skipped).

The answers are drawn from ``random.Random(SEED)``: each household has a mood, every score follows it
with a little noise, and the repair dimension is made the weakest, so the priority matrix has a clear
``fix_first``. No name, phone or comment of a real person.

Loading again changes nothing: when NS01 has a campaign already, nothing is posted. Survey learns the
estate's households from intake's ``directory.households.imported``, so the campaign is retried while
survey answers that the estate has no households yet.
"""

from __future__ import annotations

import csv
import io
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from infra.local.demo_http import DemoLoadError, expect

ESTATE_ID = "NS01"
SEED = 2026
RETRY_SECONDS = 180.0
ANSWERED_SHARE = 0.8

QUESTIONNAIRE: dict[str, Any] = {
    "title": {"zh-CN": "2026年度业主满意度调查", "en": "2026 residents' satisfaction survey"},
    "dimensions": [
        {
            "id": "basic_services",
            "title": {"zh-CN": "基础服务", "en": "Basic services"},
            "questions": [
                {"id": "cleaning", "text": {"zh-CN": "公共区域保洁", "en": "Cleaning of common areas"}},
                {"id": "greening", "text": {"zh-CN": "绿化养护", "en": "Gardens and greenery"}},
                {"id": "security", "text": {"zh-CN": "安保巡逻", "en": "Security patrols"}},
            ],
        },
        {
            "id": "repairs",
            "title": {"zh-CN": "维修服务", "en": "Repairs"},
            "questions": [
                {"id": "repair_speed", "text": {"zh-CN": "报修响应速度", "en": "How fast repairs are answered"}},
                {"id": "repair_quality", "text": {"zh-CN": "维修质量", "en": "Quality of repairs"}},
            ],
        },
        {
            "id": "service",
            "title": {"zh-CN": "客户服务", "en": "Customer service"},
            "questions": [
                {"id": "attitude", "text": {"zh-CN": "工作人员态度", "en": "Staff attitude"}},
                {
                    "id": "complaint_handling",
                    "text": {"zh-CN": "投诉处理", "en": "How complaints are handled"},
                    "measures": "complaint_handling",
                },
            ],
        },
    ],
}
# How much each question sits below a household's mood: repairs are the demo's weak point.
QUESTION_OFFSETS = {
    "cleaning": 0.0,
    "greening": 0.2,
    "security": 0.1,
    "repair_speed": -1.2,
    "repair_quality": -0.9,
    "attitude": 0.1,
    "complaint_handling": -0.6,
}


def campaign_body(questionnaire_id: str, *, now: datetime) -> dict[str, Any]:
    """Return the demo campaign: NS01, 30% by building and household type, open for 14 days from now."""
    return {
        "estate_id": ESTATE_ID,
        "questionnaire_id": questionnaire_id,
        "kind": "regular",
        "sample_rate": 0.3,
        "strata": ["building", "household_type"],
        "channel_mix": {"online": 0.4, "offline": 0.4, "phone": 0.2},
        "seed": SEED,
        "opens_at": _iso(now - timedelta(minutes=1)),
        "closes_at": _iso(now + timedelta(days=14)),
    }


def answers_csv(invitations: list[dict[str, Any]], *, seed: int = SEED) -> str:
    """Return the import file of the answers to four in five offline and phone invitations (drawn from ``seed``)."""
    generator = random.Random(seed)
    questions = list(QUESTION_OFFSETS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["invitation_id", "channel", "overall", "recommend", "comment", *questions])
    for invitation in sorted(invitations, key=lambda item: item["id"]):
        if invitation["channel"] not in ("offline", "phone") or generator.random() >= ANSWERED_SHARE:
            continue
        mood = generator.uniform(2.2, 4.8)
        scores = [_clamp(round(mood + QUESTION_OFFSETS[question] + generator.gauss(0, 0.4)), 1, 5) for question in questions]
        overall = _clamp(round(mood * 2 + generator.gauss(0, 0.7)), 1, 10)
        recommend = _clamp(round(mood * 2 + generator.gauss(0, 1.0)), 0, 10)
        writer.writerow([invitation["id"], invitation["channel"], overall, recommend, "", *scores])
    return out.getvalue()


def load(session: requests.Session, base_url: str, *, stopping: threading.Event) -> None:
    """Create the demo campaign and import its answers, unless NS01 has a campaign already."""
    existing = session.get(f"{base_url}/api/v1/campaigns", params={"estate_id": ESTATE_ID}, timeout=30)
    expect(existing, "campaigns of", ESTATE_ID)
    if existing.json()["items"]:
        return
    questionnaire = session.post(f"{base_url}/api/v1/questionnaires", json=QUESTIONNAIRE, timeout=30)
    expect(questionnaire, "questionnaire", "demo")
    campaign = _create_when_survey_knows_the_households(
        session, f"{base_url}/api/v1/campaigns", campaign_body(questionnaire.json()["id"], now=datetime.now(UTC)), stopping=stopping
    )
    invitations = _all_invitations(session, f"{base_url}/api/v1/campaigns/{campaign['id']}/invitations")
    imported = session.post(
        f"{base_url}/api/v1/campaigns/{campaign['id']}/responses:import",
        data=answers_csv(invitations).encode(),
        headers={"Content-Type": "text/csv; charset=utf-8"},
        timeout=60,
    )
    expect(imported, "answers of campaign", campaign["id"])


def _create_when_survey_knows_the_households(
    session: requests.Session, url: str, body: dict[str, Any], *, stopping: threading.Event
) -> dict[str, Any]:
    deadline = time.monotonic() + RETRY_SECONDS
    while True:
        response = session.post(url, json=body, timeout=30)
        if response.ok:
            created: dict[str, Any] = response.json()
            return created
        # 422 on estate_id: survey has not received the estate's households (or the estate) yet.
        waiting = response.status_code in {404, 422} and "estate_id" in _field_errors(response)
        if not waiting or time.monotonic() > deadline:
            expect(response, "campaign of", ESTATE_ID)
        if stopping.wait(0.5):
            raise DemoLoadError("stopped while loading the demo campaign")


def _all_invitations(session: requests.Session, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 500}
    while True:
        page = session.get(url, params=params, timeout=30)
        expect(page, "invitations", url)
        body = page.json()
        items.extend(body["items"])
        if not body.get("next_cursor"):
            return items
        params["cursor"] = body["next_cursor"]


def _field_errors(response: requests.Response) -> dict[str, Any]:
    try:
        errors = response.json().get("errors")
    except ValueError:
        return {}
    return errors if isinstance(errors, dict) else {}


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
