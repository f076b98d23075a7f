"""SLA policies, deadlines, pause/resume and escalation (SPEC §5); the examples are those of docs/DEADLINES.md.

Every expected deadline is derived by hand in a comment from the 2026 data of chinesecalendar 1.11.0:
National Day 10-01..10-07 off, make-up working days Sunday 09-20 and Saturday 10-10 (调休).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from marshmallow import ValidationError

from dispatch.domain.escalation import Step, escalation_due, escalation_thresholds
from dispatch.domain.sla import (
    DEFAULT_POLICY,
    TARGETS,
    TIERS,
    Target,
    compute_deadlines,
    effective_policy,
    follow_up_deadline,
    met_late,
    preview,
    serialize_policy,
    shift_deadlines,
    target_outcome,
)
from dispatch.schemas import PolicyOverrideSchema, flatten_errors
from propcare_shared.calendar import WorkingCalendar


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def deadlines(tier: str, received_at: str, **kwargs: Any) -> dict[str, datetime]:
    kwargs.setdefault("calendar", WorkingCalendar())
    kwargs.setdefault("policy", DEFAULT_POLICY)
    return compute_deadlines(tier=tier, received_at=utc(received_at), **kwargs)


def load_error(body: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        PolicyOverrideSchema().load(body)
    return flatten_errors(caught.value.messages)


# Default policy


def test_default_policy_is_specs_table() -> None:
    assert serialize_policy(DEFAULT_POLICY) == {
        "tiers": {
            "emergency": {
                "response": {"duration": "PT15M", "clock": "calendar"},
                "onsite": {"duration": "PT30M", "clock": "calendar"},
                "plan": {"duration": "PT24H", "clock": "calendar"},
                "follow_up": {"duration": "PT48H", "clock": "calendar"},
            },
            "important": {
                "response": {"duration": "PT2H", "clock": "calendar"},
                "onsite": {"duration": "PT2H", "clock": "calendar"},
                "plan": {"duration": "PT24H", "clock": "calendar"},
                "resolve": {"duration": "P5D", "clock": "working_days"},
                "follow_up": {"duration": "PT48H", "clock": "calendar"},
            },
            "complex": {
                "response": {"duration": "PT24H", "clock": "calendar"},
                "plan": {"duration": "P7D", "clock": "working_days"},
                "resolve": {"duration": "P15D", "clock": "working_days"},
                "follow_up": {"duration": "PT48H", "clock": "calendar"},
            },
            "general": {
                "response": {"duration": "PT24H", "clock": "calendar"},
                "resolve": {"duration": "P3D", "clock": "working_days"},
                "follow_up": {"duration": "PT48H", "clock": "calendar"},
            },
        }
    }


# Working-day deadlines


def test_general_complaint_before_national_day_resolves_on_make_up_saturday() -> None:
    # Received Wed 2026-09-30 15:00 Asia/Shanghai = 07:00Z. The day of receipt does not count;
    # 10-01..10-07 are National Day; Thu 10-08 (1), Fri 10-09 (2), Sat 10-10 调休 (3).
    # Resolve: 2026-10-10 23:59:59 +08:00 = 2026-10-10T15:59:59Z. Response: 07:00Z + 24 h.
    assert deadlines("general", "2026-09-30T07:00:00Z") == {
        "response": utc("2026-10-01T07:00:00Z"),
        "resolve": utc("2026-10-10T15:59:59Z"),
    }


def test_make_up_saturday_counts_as_a_working_day() -> None:
    # Received Fri 2026-10-09 10:00 +08:00 = 02:00Z. Sat 10-10 调休 (1), Sun 10-11 off, Mon 10-12 (2),
    # Tue 10-13 (3) → 2026-10-13 23:59:59 +08:00 = 15:59:59Z (an ordinary Saturday would give Wed 10-14).
    assert deadlines("general", "2026-10-09T02:00:00Z")["resolve"] == utc("2026-10-13T15:59:59Z")


def test_complex_complaint_plan_and_resolve_count_working_days_across_national_day() -> None:
    # Received Mon 2026-09-28 09:00 +08:00 = 01:00Z. Working days after 09-28: 09-29 (1), 09-30 (2),
    # 10-08 (3), 10-09 (4), 10-10 调休 (5), 10-12 (6), 10-13 (7) → plan 2026-10-13T15:59:59Z;
    # 10-14 (8), 10-15 (9), 10-16 (10), 10-19 (11), 10-20 (12), 10-21 (13), 10-22 (14), 10-23 (15)
    # → resolve 2026-10-23T15:59:59Z.
    assert deadlines("complex", "2026-09-28T01:00:00Z") == {
        "response": utc("2026-09-29T01:00:00Z"),
        "plan": utc("2026-10-13T15:59:59Z"),
        "resolve": utc("2026-10-23T15:59:59Z"),
    }


def test_complaint_received_on_sunday_counts_from_monday() -> None:
    # Received Sun 2026-11-22 10:00 +08:00 = 02:00Z. Mon 11-23 (1), Tue 11-24 (2), Wed 11-25 (3)
    # → 2026-11-25 23:59:59 +08:00 = 15:59:59Z.
    assert deadlines("general", "2026-11-22T02:00:00Z") == {
        "response": utc("2026-11-23T02:00:00Z"),
        "resolve": utc("2026-11-25T15:59:59Z"),
    }


def test_urumqi_estate_counts_from_its_own_local_date() -> None:
    # 2026-11-19T17:30Z is Thu 23:30 in Urumqi (+06:00) but Fri 01:30 in Shanghai (+08:00).
    # Urumqi: Fri 11-20 (1), Mon 11-23 (2), Tue 11-24 (3) → 2026-11-24 23:59:59 +06:00 = 17:59:59Z.
    # Shanghai: Mon 11-23 (1), Tue 11-24 (2), Wed 11-25 (3) → 2026-11-25 23:59:59 +08:00 = 15:59:59Z.
    received = "2026-11-19T17:30:00Z"
    assert deadlines("general", received, timezone="Asia/Urumqi")["resolve"] == utc("2026-11-24T17:59:59Z")
    assert deadlines("general", received, timezone="Asia/Shanghai")["resolve"] == utc("2026-11-25T15:59:59Z")


def test_two_minutes_across_local_midnight_move_the_deadline_over_a_weekend() -> None:
    # Tue 2026-11-24 23:59 +08:00 = 15:59Z: Wed 11-25, Thu 11-26, Fri 11-27 → 2026-11-27T15:59:59Z.
    # Wed 2026-11-25 00:01 +08:00 = 16:01Z: Thu 11-26, Fri 11-27, Mon 11-30 → 2026-11-30T15:59:59Z.
    assert deadlines("general", "2026-11-24T15:59:00Z")["resolve"] == utc("2026-11-27T15:59:59Z")
    assert deadlines("general", "2026-11-24T16:01:00Z")["resolve"] == utc("2026-11-30T15:59:59Z")


def test_closure_pushes_deadline_and_extra_working_day_pulls_it_back() -> None:
    # Received Tue 2026-12-22 10:00 +08:00 = 02:00Z, closure Thu 12-24:
    # Wed 12-23 (1), Fri 12-25 (2), Mon 12-28 (3) → 2026-12-28T15:59:59Z.
    # With Sun 12-27 an extra working day: 12-23 (1), 12-25 (2), 12-27 (3) → 2026-12-27T15:59:59Z.
    closure = frozenset({date(2026, 12, 24)})
    closed = WorkingCalendar(closures=closure)
    opened = WorkingCalendar(closures=closure, extra_working_days=frozenset({date(2026, 12, 27)}))
    assert deadlines("general", "2026-12-22T02:00:00Z", calendar=closed)["resolve"] == utc("2026-12-28T15:59:59Z")
    assert deadlines("general", "2026-12-22T02:00:00Z", calendar=opened)["resolve"] == utc("2026-12-27T15:59:59Z")


def test_year_outside_official_data_falls_back_to_monday_to_friday() -> None:
    # chinesecalendar 1.11.0 stops at 2026. Received Thu 2027-02-04 10:00 +08:00 = 02:00Z:
    # Fri 02-05 (1), Mon 02-08 (2), Tue 02-09 (3) → 2027-02-09T15:59:59Z, although Spring Festival
    # 2027 (02-06) will close those days once the official data exist.
    assert deadlines("general", "2027-02-04T02:00:00Z")["resolve"] == utc("2027-02-09T15:59:59Z")


def test_calendar_clock_runs_around_the_clock() -> None:
    # Emergency received Sun 2026-11-22T01:00Z: +15 min, +30 min, +24 h; no resolve target.
    assert deadlines("emergency", "2026-11-22T01:00:00Z") == {
        "response": utc("2026-11-22T01:15:00Z"),
        "onsite": utc("2026-11-22T01:30:00Z"),
        "plan": utc("2026-11-23T01:00:00Z"),
    }


def test_deadlines_are_aware_utc() -> None:
    for due in deadlines("important", "2026-11-23T02:00:00Z", timezone="Asia/Urumqi").values():
        assert due.utcoffset() == timedelta(0)


def test_naive_received_at_is_read_as_utc() -> None:
    naive = datetime(2026, 9, 30, 7, 0)
    computed = compute_deadlines(tier="general", received_at=naive, policy=DEFAULT_POLICY, calendar=WorkingCalendar())
    assert computed["resolve"] == utc("2026-10-10T15:59:59Z")


def test_unknown_tier_or_time_zone_is_refused() -> None:
    with pytest.raises(ValueError):
        deadlines("urgent", "2026-11-23T02:00:00Z")
    with pytest.raises(ValueError):
        deadlines("general", "2026-11-23T02:00:00Z", timezone="Mars/Olympus")


def test_follow_up_deadline_counts_from_resolution() -> None:
    resolved = utc("2026-11-23T02:00:00Z")
    due = follow_up_deadline(
        tier="general", resolved_at=resolved, policy=DEFAULT_POLICY, calendar=WorkingCalendar(), timezone="Asia/Shanghai"
    )
    assert due == utc("2026-11-25T02:00:00Z")


def test_follow_up_deadline_is_none_without_a_follow_up_target() -> None:
    policy = {**DEFAULT_POLICY, "general": {key: value for key, value in DEFAULT_POLICY["general"].items() if key != "follow_up"}}
    resolved = utc("2026-11-23T02:00:00Z")
    assert (
        follow_up_deadline(tier="general", resolved_at=resolved, policy=policy, calendar=WorkingCalendar(), timezone="Asia/Shanghai")
        is None
    )


def test_preview_returns_iso_strings_in_utc() -> None:
    previewed = preview(tier="general", received_at=utc("2026-09-30T07:00:00Z"), policy=DEFAULT_POLICY, calendar=WorkingCalendar())
    assert previewed == {"response": "2026-10-01T07:00:00.000Z", "resolve": "2026-10-10T15:59:59.000Z"}


# Hotline deadline


def test_earlier_hotline_deadline_wins_for_resolve() -> None:
    # Transfer at Sun 2026-11-22T01:00Z (09:00 local): own resolve 2026-11-25T15:59:59Z; hotline 10:00Z earlier.
    computed = deadlines("general", "2026-11-22T01:00:00Z", hotline_deadline=utc("2026-11-25T10:00:00Z"))
    assert computed == {"response": utc("2026-11-23T01:00:00Z"), "resolve": utc("2026-11-25T10:00:00Z")}


def test_later_hotline_deadline_is_ignored() -> None:
    computed = deadlines("general", "2026-11-22T01:00:00Z", hotline_deadline=utc("2026-11-26T10:00:00Z"))
    assert computed["resolve"] == utc("2026-11-25T15:59:59Z")


def test_hotline_deadline_becomes_resolve_of_a_tier_without_one() -> None:
    computed = deadlines("emergency", "2026-11-22T01:00:00Z", hotline_deadline=utc("2026-11-25T10:00:00Z"))
    assert computed["resolve"] == utc("2026-11-25T10:00:00Z")
    assert computed["response"] == utc("2026-11-22T01:15:00Z")


def test_hotline_deadline_leaves_other_targets_alone() -> None:
    computed = deadlines("general", "2026-11-22T01:00:00Z", hotline_deadline=utc("2026-11-22T12:00:00Z"))
    assert computed == {"response": utc("2026-11-23T01:00:00Z"), "resolve": utc("2026-11-22T12:00:00Z")}


# Pause and resume


def test_pause_across_deadline_shifts_open_targets_and_keeps_them_met() -> None:
    # Emergency received 02:00Z: response due 02:15 (met at 02:05), onsite due 02:30, plan next day.
    # On hold 02:20 (before onsite's deadline), resumed 02:40 (after it): 20 minutes on hold.
    due = deadlines("emergency", "2026-11-23T02:00:00Z")
    shifted = shift_deadlines(due, open_targets=["onsite", "plan"], paused_for=utc("2026-11-23T02:40:00Z") - utc("2026-11-23T02:20:00Z"))
    assert shifted == {
        "response": utc("2026-11-23T02:15:00Z"),
        "onsite": utc("2026-11-23T02:50:00Z"),
        "plan": utc("2026-11-24T02:20:00Z"),
    }
    arrived = utc("2026-11-23T02:45:00Z")
    assert target_outcome(due_at=shifted["onsite"], met_at=arrived) == "met"
    assert target_outcome(due_at=due["onsite"], met_at=arrived) == "breached"


def test_shift_moves_a_working_day_deadline_by_the_time_on_hold() -> None:
    due = {"resolve": utc("2026-11-25T15:59:59Z")}
    shifted = shift_deadlines(due, open_targets=["resolve"], paused_for=timedelta(hours=2))
    assert shifted == {"resolve": utc("2026-11-25T17:59:59Z")}


def test_shift_leaves_missing_deadlines_and_unknown_targets_alone() -> None:
    due: dict[str, datetime | None] = {"response": None, "resolve": utc("2026-11-25T15:59:59Z")}
    shifted = shift_deadlines(due, open_targets=["response", "onsite"], paused_for=timedelta(hours=1))
    assert shifted == due
    assert shifted is not due


def test_shift_refuses_negative_pause() -> None:
    with pytest.raises(ValueError):
        shift_deadlines({"resolve": utc("2026-11-25T15:59:59Z")}, open_targets=["resolve"], paused_for=timedelta(seconds=-1))


# Outcomes


def test_target_met_at_the_deadline_is_met() -> None:
    due = utc("2026-11-23T02:15:00Z")
    assert target_outcome(due_at=due, met_at=due) == "met"
    assert met_late(due_at=due, met_at=due) is False


def test_target_met_after_the_deadline_is_breached_and_late() -> None:
    due = utc("2026-11-23T02:15:00Z")
    late = due + timedelta(seconds=1)
    assert target_outcome(due_at=due, met_at=late) == "breached"
    assert met_late(due_at=due, met_at=late) is True


# Overrides and their validation


def test_overrides_apply_group_region_estate_with_inheritance() -> None:
    group = PolicyOverrideSchema().load({"tiers": {"general": {"response": {"duration": "PT12H", "clock": "calendar"}}}})
    region = PolicyOverrideSchema().load({"tiers": {"general": {"resolve": {"duration": "P2D", "clock": "working_days"}}}})
    estate = PolicyOverrideSchema().load({"tiers": {"general": {"response": {"duration": "PT8H", "clock": "calendar"}}}})
    policy = effective_policy(layers=[group, region, estate])
    assert policy["general"] == {
        "response": Target(timedelta(hours=8), "calendar"),
        "resolve": Target(timedelta(days=2), "working_days"),
        "follow_up": Target(timedelta(hours=48), "calendar"),
    }
    assert policy["important"] == DEFAULT_POLICY["important"]
    sibling_estate = effective_policy(layers=[group, region, None])
    assert sibling_estate["general"]["response"] == Target(timedelta(hours=12), "calendar")


def test_overrides_leave_the_defaults_untouched() -> None:
    before = serialize_policy(DEFAULT_POLICY)
    effective_policy(layers=[{"tiers": {"general": {"response": {"duration": "PT1H", "clock": "calendar"}}}}])
    assert serialize_policy(DEFAULT_POLICY) == before


def test_override_can_add_a_target_the_tier_lacks() -> None:
    policy = effective_policy(layers=[{"tiers": {"emergency": {"resolve": {"duration": "P1D", "clock": "working_days"}}}}])
    # Emergency received Mon 2026-11-23 10:00 +08:00 = 02:00Z: next working day Tue 11-24 → 15:59:59Z.
    assert deadlines("emergency", "2026-11-23T02:00:00Z", policy=policy)["resolve"] == utc("2026-11-24T15:59:59Z")


def test_overridden_policy_drives_deadlines() -> None:
    estate = {"tiers": {"general": {"resolve": {"duration": "P1D", "clock": "working_days"}}}}
    policy = effective_policy(layers=[PolicyOverrideSchema().load(estate)])
    # Received Wed 2026-09-30 15:00 +08:00: the first working day after it is Thu 10-08.
    assert deadlines("general", "2026-09-30T07:00:00Z", policy=policy)["resolve"] == utc("2026-10-08T15:59:59Z")


def test_policy_override_round_trips_through_serialize() -> None:
    body = {
        "tiers": {
            "general": {
                "response": {"duration": "PT24H", "clock": "calendar"},
                "resolve": {"duration": "P3D", "clock": "working_days"},
            },
            "emergency": {"response": {"duration": "PT10M", "clock": "calendar"}},
        }
    }
    loaded = PolicyOverrideSchema().load(body)
    assert serialize_policy(loaded["tiers"]) == body


def test_empty_override_is_valid_and_changes_nothing() -> None:
    assert effective_policy(layers=[PolicyOverrideSchema().load({"tiers": {}})]) == DEFAULT_POLICY


def test_validation_refuses_unknown_tier() -> None:
    errors = load_error({"tiers": {"urgent": {"response": {"duration": "PT1H", "clock": "calendar"}}}})
    assert list(errors) == ["tiers.urgent"]
    assert "Unknown tier" in errors["tiers.urgent"][0]


def test_validation_refuses_unknown_target() -> None:
    errors = load_error({"tiers": {"general": {"repair": {"duration": "PT1H", "clock": "calendar"}}}})
    assert list(errors) == ["tiers.general.repair"]
    assert "Unknown target" in errors["tiers.general.repair"][0]


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ("3 days", "Not an ISO 8601 duration"),
        ("PT0S", "longer than zero"),
        ("-PT1H", "longer than zero"),
        ("P1M", "Years and months"),
        ("P400D", "at most P366D"),
        (24, "Not an ISO 8601 duration"),
    ],
)
def test_validation_refuses_bad_duration(duration: Any, message: str) -> None:
    errors = load_error({"tiers": {"general": {"response": {"duration": duration, "clock": "calendar"}}}})
    assert list(errors) == ["tiers.general.response.duration"]
    assert message in errors["tiers.general.response.duration"][0]


@pytest.mark.parametrize("duration", ["PT5H", "PT72H", "P1W", "P2DT3H"])
def test_validation_refuses_working_days_that_are_not_whole_days(duration: str) -> None:
    errors = load_error({"tiers": {"general": {"resolve": {"duration": duration, "clock": "working_days"}}}})
    assert list(errors) == ["tiers.general.resolve.duration"]
    assert "whole number of days" in errors["tiers.general.resolve.duration"][0]


def test_validation_refuses_unknown_clock() -> None:
    errors = load_error({"tiers": {"general": {"resolve": {"duration": "P3D", "clock": "business_hours"}}}})
    assert list(errors) == ["tiers.general.resolve.clock"]


def test_validation_needs_duration_clock_and_tiers() -> None:
    assert list(load_error({})) == ["tiers"]
    assert set(load_error({"tiers": {"general": {"resolve": {}}}})) == {"tiers.general.resolve.duration", "tiers.general.resolve.clock"}


def test_validation_errors_nest_by_path() -> None:
    with pytest.raises(ValidationError) as caught:
        PolicyOverrideSchema().load({"tiers": {"general": {"response": {"duration": "PT0S", "clock": "calendar"}}}})
    assert caught.value.messages == {"tiers": {"general": {"response": {"duration": ["The duration must be longer than zero."]}}}}


def test_target_refuses_invalid_cells_built_in_code() -> None:
    with pytest.raises(ValueError):
        Target(timedelta(hours=5), "working_days")
    with pytest.raises(ValueError):
        Target(timedelta(0), "calendar")
    with pytest.raises(ValueError):
        Target(timedelta(hours=1), "weekly")  # type: ignore[arg-type]


def test_tiers_and_targets_are_specs() -> None:
    assert TIERS == ("emergency", "important", "complex", "general")
    assert TARGETS == ("response", "onsite", "plan", "resolve", "follow_up")


# Escalation


def test_escalation_thresholds_at_80_100_150_200_percent() -> None:
    # Emergency response: started 02:00Z, due 02:15Z (15 minutes).
    thresholds = escalation_thresholds(started_at=utc("2026-11-23T02:00:00Z"), due_at=utc("2026-11-23T02:15:00Z"))
    assert thresholds == {
        "warning": utc("2026-11-23T02:12:00Z"),
        "level_1": utc("2026-11-23T02:15:00Z"),
        "level_2": utc("2026-11-23T02:22:30Z"),
        "level_3": utc("2026-11-23T02:30:00Z"),
    }


def test_escalation_thresholds_of_a_deadline_already_past_are_the_deadline() -> None:
    due = utc("2026-11-22T00:00:00Z")
    thresholds = escalation_thresholds(started_at=utc("2026-11-22T01:00:00Z"), due_at=due)
    assert set(thresholds.values()) == {due}


STARTED = utc("2026-11-23T02:00:00Z")
DUE = utc("2026-11-24T02:00:00Z")  # a general response: 24 h


def general_steps(now: str, *, hotline: bool = False) -> list[Step]:
    return escalation_due(started_at=STARTED, due_at=DUE, now=utc(now), tier="general", hotline=hotline)


def test_nothing_is_due_before_80_percent() -> None:
    assert general_steps("2026-11-23T21:11:59Z") == []


def test_warning_to_assignee_at_80_percent() -> None:
    # 80% of 24 h = 19 h 12 min after 02:00Z.
    assert general_steps("2026-11-23T21:12:00Z") == [Step("warning", 0, ("assignee",))]


def test_breach_escalates_to_department_supervisor_once_100_percent_has_passed() -> None:
    # Met at the deadline is met, so the breach falls due just after it, not at it.
    assert general_steps("2026-11-24T02:00:00Z") == [Step("warning", 0, ("assignee",))]
    assert general_steps("2026-11-24T02:00:00.001Z") == [Step("warning", 0, ("assignee",)), Step("breached", 1, ("supervisor",))]


def test_estate_manager_at_150_percent() -> None:
    assert general_steps("2026-11-24T14:00:01Z")[-1] == Step("level", 2, ("manager",))
    assert len(general_steps("2026-11-24T14:00:00Z")) == 2


def test_regional_operations_at_200_percent() -> None:
    assert general_steps("2026-11-25T02:00:01Z") == [
        Step("warning", 0, ("assignee",)),
        Step("breached", 1, ("supervisor",)),
        Step("level", 2, ("manager",)),
        Step("level", 3, ("regional_ops",)),
    ]
    assert len(general_steps("2026-11-25T02:00:00Z")) == 3


def test_emergency_breach_jumps_to_level_3_at_once() -> None:
    started, due = utc("2026-11-23T02:00:00Z"), utc("2026-11-23T02:15:00Z")
    before = escalation_due(started_at=started, due_at=due, now=due, tier="emergency", hotline=False)
    at_breach = escalation_due(started_at=started, due_at=due, now=due + timedelta(milliseconds=1), tier="emergency", hotline=False)
    assert [step.level for step in before] == [0]
    assert [(step.kind, step.level) for step in at_breach] == [("warning", 0), ("breached", 1), ("level", 2), ("level", 3)]


def test_hotline_breach_jumps_to_level_3_at_once() -> None:
    assert [(step.kind, step.level) for step in general_steps("2026-11-24T02:00:01Z", hotline=True)] == [
        ("warning", 0),
        ("breached", 1),
        ("level", 2),
        ("level", 3),
    ]
    assert [step.level for step in general_steps("2026-11-24T02:00:00Z", hotline=True)] == [0]
