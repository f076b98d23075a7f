"""Every kind of message renders in zh-CN and en, with its values and without undefined ones."""

from __future__ import annotations

import re
from typing import Any

import pytest

from notification import templates
from notification.domain.compose import CAMPAIGN_KINDS, KINDS, audience_of, campaign_values, resident_values, staff_values
from propcare_shared.vocabulary import DEPARTMENTS, TARGETS, TIERS
from tests.notification.factories import MONDAY_MORNING, RESOLVE_DUE, RESOLVE_DUE_LOCAL, RESPONSE_DUE

DATA: dict[str, Any] = {
    "complaint_id": "c1",
    "ticket_no": "NS01-20261123-0007",
    "tier": "important",
    "department": "engineering",
    "assignee_id": "eng-1",
    "deadlines": {"response": RESPONSE_DUE, "resolve": RESOLVE_DUE},
    "note": "resident away until Friday",
    "resolution": "replaced the lamp",
    "link": "http://127.0.0.1:8080/s/tok",
    "expires_at": MONDAY_MORNING,
    "target": "response",
    "due_at": RESPONSE_DUE,
    "level": 2,
    "escalation_level": 2,
}
CJK = re.compile(r"[\u4e00-\u9fff]")
ESTATE = "Nanshan Garden"  # in Latin letters, so an English message can be checked for Chinese text


def values_for(kind: str) -> dict[str, Any]:
    if kind in CAMPAIGN_KINDS:
        return campaign_values(DATA, estate_name=ESTATE, timezone="Asia/Shanghai")
    if audience_of(kind) == "staff":
        return staff_values(kind, DATA, timezone="Asia/Shanghai")
    return resident_values(kind, DATA, ticket_no=None, timezone="Asia/Shanghai")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_both_languages(kind: str) -> None:
    chinese = templates.render(kind, language="zh-CN", values=values_for(kind))
    english = templates.render(kind, language="en", values=values_for(kind))
    for rendered in (chinese, english):
        assert rendered.title and rendered.body and "\n" not in rendered.title
        assert (ESTATE if kind in CAMPAIGN_KINDS else "NS01-20261123-0007") in rendered.title + rendered.body
        assert "None" not in rendered.body and "{{" not in rendered.body
    assert CJK.search(chinese.body)
    assert not CJK.search(english.title + english.body)


def test_the_acknowledgement_tells_the_time_limit_in_local_time() -> None:
    chinese = templates.render("acknowledgement", language="zh-CN", values=values_for("acknowledgement"))
    english = templates.render("acknowledgement", language="en", values=values_for("acknowledgement"))
    assert f"{RESOLVE_DUE_LOCAL}（当地时间）前为您解决" in chinese.body and "工程部" in chinese.body
    assert f"resolve it by {RESOLVE_DUE_LOCAL} (local time)" in english.body


def test_the_resolution_and_the_survey_link_are_in_the_message() -> None:
    resolved = templates.render("resolved", language="zh-CN", values=values_for("resolved"))
    assert "处理结果：replaced the lamp" in resolved.body
    assert "http://127.0.0.1:8080/s/tok" in templates.render("survey_reminder", language="en", values=values_for("survey_reminder")).body


@pytest.mark.parametrize("kind", sorted(CAMPAIGN_KINDS))
def test_a_campaign_message_is_the_estates_satisfaction_survey_not_a_complaints_follow_up(kind: str) -> None:
    chinese = templates.render(kind, language="zh-CN", values=values_for(kind))
    english = templates.render(kind, language="en", values=values_for(kind))
    assert "满意度调查" in chinese.title and "satisfaction survey" in english.title.lower()
    assert "投诉" not in chinese.title + chinese.body and "工单" not in chinese.body
    assert "complaint" not in (english.title + english.body).lower() and "patience" not in english.body
    assert "http://127.0.0.1:8080/s/tok" in chinese.body and "2026-11-23 10:00" in english.body
    unnamed = templates.render(kind, language="zh-CN", values=campaign_values(DATA, estate_name=None, timezone="Asia/Shanghai"))
    assert "【物业服务】" in unnamed.title and "None" not in unnamed.title + unnamed.body


@pytest.mark.parametrize(
    ("tag", "language"),
    [("en", "en"), ("en-US", "en"), ("en_GB", "en"), ("zh-CN", "zh-CN"), ("zh", "zh-CN"), (None, "zh-CN"), ("fr", "zh-CN")],
)
def test_languages_are_normalised(tag: str | None, language: str) -> None:
    assert templates.normalise_language(tag) == language


def test_the_catalogue_lists_every_kind_in_both_languages() -> None:
    listed = {(item["kind"], item["language"]) for item in templates.catalogue()}
    assert listed == {(kind, language) for kind in KINDS for language in ("zh-CN", "en")}


@pytest.mark.parametrize("language", templates.LANGUAGES)
def test_every_department_tier_and_target_of_the_shared_vocabulary_is_named_in_each_language(language: str) -> None:
    labels = templates.LABELS[language]
    assert (set(labels["department"]), set(labels["tier"]), set(labels["target"])) == (set(DEPARTMENTS), set(TIERS), set(TARGETS))
