"""The tracking page's decisions as plain values: the language, the limits still ahead, the timeline's words, what is offered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intake.domain.resident_view import choose_language, offer_of, targets_met, time_limits, timeline_entries

NOW = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)


def test_the_language_is_the_one_asked_for_then_the_browsers_then_chinese() -> None:
    assert choose_language("en", [("zh-CN", 1.0)]) == "en"
    assert choose_language("fr", [("fr-FR", 1.0), ("en-US", 0.8), ("zh-HK", 0.5)]) == "en"
    assert choose_language(None, [("zh-TW", 0.9), ("en", 0.4)]) == "zh-CN"
    assert choose_language(None, [("de", 1.0)]) == "zh-CN"
    assert choose_language("<script>", []) == "zh-CN"


def test_limits_already_met_are_not_shown_and_a_reopen_starts_them_again() -> None:
    deadlines = {
        "response": NOW,
        "onsite": NOW + timedelta(minutes=30),
        "resolve": NOW + timedelta(days=3),
        "follow_up": NOW + timedelta(days=5),
    }
    shown = time_limits(
        deadlines, met=targets_met(status="in_progress", timeline=[{"action": "arrive"}]), language="en", timezone="Asia/Shanghai"
    )
    assert shown == [("Resolved", "2026-11-25 23:30")]
    resolved = targets_met(status="resolved", timeline=[{"action": "arrive"}, {"action": "resolve"}])
    assert time_limits(deadlines, met=resolved, language="en", timezone="Asia/Shanghai") == [("Follow-up", "2026-11-27 23:30")]
    reopened = targets_met(status="assigned", timeline=[{"action": "arrive"}, {"action": "resolve"}, {"action": "reopen"}])
    assert [target for target, _ in time_limits(deadlines, met=reopened, language="en", timezone="UTC")] == [
        "First contact",
        "On site",
        "Resolved",
    ]


def test_the_timeline_names_nobody_and_keeps_only_notes_meant_for_the_resident() -> None:
    timeline = [
        {"at": NOW, "action": "assign", "actor_id": "eng-1", "note": "派给张工"},
        {"at": NOW, "action": "escalate", "actor_id": None, "note": "level 1"},
        {"at": NOW, "action": "resolve", "actor_id": "eng-1", "note": "更换了控制板"},
        {"at": NOW, "action": "something_new", "note": "internal"},
    ]
    entries = timeline_entries(timeline, language="zh-CN", timezone="Asia/Shanghai")
    assert [(entry.action, entry.note) for entry in entries] == [("安排处理人员", None), ("处理完毕", "更换了控制板"), ("更新", None)]
    assert entries[0].at == "2026-11-22 23:30"


def test_what_the_page_offers_follows_the_status() -> None:
    link = {"link": "http://x/s/t", "expires_at": NOW + timedelta(days=7)}
    assert offer_of(status="assigned", reopened=False, survey=None, now=NOW) == "add"
    assert offer_of(status="on_hold", reopened=False, survey=None, now=NOW) == "add"
    assert offer_of(status="assigned", reopened=True, survey=None, now=NOW) == "reopened"
    assert offer_of(status="resolved", reopened=False, survey=None, now=NOW) == "resolved"
    assert offer_of(status="resolved", reopened=False, survey=link, now=NOW) == "survey"
    assert offer_of(status="resolved", reopened=False, survey=link, now=NOW + timedelta(days=8)) == "resolved"
    assert offer_of(status="resolved", reopened=True, survey={**link, "answered": True}, now=NOW) == "answered"
    assert offer_of(status="closed", reopened=False, survey=link, now=NOW) == "closed"
    assert offer_of(status="cancelled", reopened=False, survey=None, now=NOW) == "closed"
