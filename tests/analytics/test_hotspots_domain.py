"""Hotspot windows: three complaints of one building and subcategory within 30 days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from analytics.domain.hotspots import Member, windows_reaching_threshold

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
ZONE = "Asia/Shanghai"


def member(name: str, days: float) -> Member:
    return Member(complaint_id=name, received_at=T0 + timedelta(days=days))


def test_the_third_complaint_within_30_days_makes_a_hotspot() -> None:
    members = [member("a", 0), member("b", 10), member("c", 29)]
    assert windows_reaching_threshold(members[:2], trigger=members[1].received_at, timezone=ZONE) == []
    [window] = windows_reaching_threshold(members, trigger=members[2].received_at, timezone=ZONE)
    assert window.count == 3
    assert window.start_day == date(2026, 11, 1)
    assert [m.complaint_id for m in window.members] == ["a", "b", "c"]


def test_a_fourth_complaint_in_the_window_keeps_the_start_day() -> None:
    members = [member("a", 0), member("b", 10), member("c", 20), member("d", 25)]
    [window] = windows_reaching_threshold(members, trigger=members[3].received_at, timezone=ZONE)
    assert window.start_day == date(2026, 11, 1)


def test_complaints_further_apart_than_30_days_make_none() -> None:
    members = [member("a", 0), member("b", 20), member("c", 31)]
    assert windows_reaching_threshold(members, trigger=members[2].received_at, timezone=ZONE) == []


def test_a_complaint_arriving_late_completes_the_windows_it_belongs_to() -> None:
    members = [member("a", 0), member("b", 10), member("c", 20)]
    [window] = windows_reaching_threshold(members, trigger=members[1].received_at, timezone=ZONE)
    assert window.count == 3 and window.end == members[2].received_at


def test_a_persisting_cluster_is_announced_again_with_a_new_start_day() -> None:
    members = [member("a", 0), member("b", 10), member("c", 20), member("d", 35)]
    [window] = windows_reaching_threshold(members, trigger=members[3].received_at, timezone=ZONE)
    assert window.start_day == date(2026, 11, 11)
    assert [m.complaint_id for m in window.members] == ["b", "c", "d"]


def test_the_start_day_is_the_estates_local_date() -> None:
    late_evening = Member("a", datetime(2026, 11, 21, 17, 0, tzinfo=UTC))  # 01:00 on 22 November in Shanghai
    members = [late_evening, member("b", 21), member("c", 22)]
    [window] = windows_reaching_threshold(members, trigger=members[2].received_at, timezone=ZONE)
    assert window.start_day == date(2026, 11, 22)
