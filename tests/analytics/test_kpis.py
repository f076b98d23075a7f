"""The KPI arithmetic, against figures computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics.domain import kpis

T0 = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 30, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def complaint(**values: object) -> dict:
    """A complaint's facts with only what a test needs."""
    base: dict = {
        "status": "assigned",
        "category": "facility",
        "subcategory": "elevator",
        "tier": "general",
        "channel": "app",
        "received_at": T0,
        "responded_at": None,
        "resolved_at": None,
        "reopen_count": 0,
        "deadlines": {},
        "outcomes": {},
        "surveys": {},
    }
    return {**base, **values}


def met(at: datetime) -> dict:
    return {"outcome": "met", "met_at": at, "seq": 4, "source": "work_order"}


def breached(at: datetime) -> dict:
    return {"outcome": "breached", "met_at": at, "seq": 4, "source": "work_order"}


def test_mean_and_percentiles_interpolate_between_closest_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert kpis.mean(values) == 2.5
    assert kpis.percentile(values, 0.5) == 2.5
    assert kpis.percentile(values, 0.9) == pytest.approx(3.7)  # rank 0.9 x 3 = 2.7 → 3 + 0.7 x (4 - 3)
    assert kpis.percentile([10.0, 20.0, 30.0, 40.0, 50.0], 0.9) == pytest.approx(46.0)  # rank 3.6 → 40 + 0.6 x 10
    assert kpis.percentile([7.0], 0.9) == 7.0
    assert kpis.percentile([], 0.5) is None and kpis.mean([]) is None
    assert kpis.time_summary([60.0, 120.0, 600.0]) == {
        "count": 3,
        "mean": 260.0,
        "p50": 120.0,
        "p90": pytest.approx(504.0),
    }  # rank 1.8 → 120 + 0.8 x 480
    with pytest.raises(ValueError):
        kpis.percentile(values, 1.5)


@pytest.mark.parametrize(
    ("met_count", "measured", "light"),
    [
        (20, 20, "green"),
        (19, 20, "green"),
        (95, 100, "green"),
        (949, 1000, "yellow"),
        (18, 20, "yellow"),
        (899, 1000, "red"),
        (17, 20, "red"),
        (0, 3, "red"),
        (0, 0, None),
    ],
)
def test_traffic_light_follows_the_95_and_90_percent_lines(met_count: int, measured: int, light: str | None) -> None:
    assert kpis.traffic_light(met=met_count, measured=measured) == light


def test_resolution_rate_counts_resolved_and_closed_and_leaves_cancelled_out() -> None:
    facts = [complaint(status="resolved"), complaint(status="closed"), complaint(status="assigned"), complaint(status="cancelled")]
    assert kpis.resolution_rate(facts) == pytest.approx(2 / 3)
    assert kpis.resolution_rate([complaint(status="cancelled")]) is None


def test_on_time_per_target_and_tier_with_lights() -> None:
    general_deadlines = {"response": hours(24), "resolve": hours(72)}
    facts = [
        complaint(deadlines=general_deadlines, outcomes={"response": met(hours(1)), "resolve": met(hours(50))}, status="resolved"),
        complaint(deadlines=general_deadlines, outcomes={"response": met(hours(2)), "resolve": breached(hours(80))}, status="resolved"),
        complaint(deadlines=general_deadlines, outcomes={"response": breached(hours(30))}, status="responded"),  # resolve overdue and open
        complaint(deadlines=general_deadlines, status="on_hold"),  # clocks paused: nothing measured
        complaint(deadlines=general_deadlines, outcomes={"response": met(hours(1))}, status="cancelled"),  # left out
        complaint(
            tier="emergency", deadlines={"response": hours(0.25), "onsite": NOW + timedelta(days=1)}, outcomes={"response": met(hours(0.1))}
        ),
    ]
    result = kpis.on_time(facts, now=NOW)
    assert result["response"]["general"] == {"rate": pytest.approx(2 / 3), "met": 2, "breached": 1, "light": "red"}
    assert result["resolve"]["general"] == {"rate": pytest.approx(1 / 3), "met": 1, "breached": 2, "light": "red"}
    assert result["response"]["emergency"] == {"rate": 1.0, "met": 1, "breached": 0, "light": "green"}
    assert result["onsite"]["emergency"] == {"rate": None, "met": 0, "breached": 0, "light": None}
    assert list(result) == ["response", "onsite", "resolve"]


def test_response_and_resolution_times_in_seconds() -> None:
    facts = [
        complaint(responded_at=hours(1), resolved_at=hours(10), status="closed"),
        complaint(responded_at=hours(3), resolved_at=hours(30), status="resolved"),
        complaint(responded_at=hours(2), resolved_at=hours(20), status="assigned"),  # reopened: not resolved now
        complaint(responded_at=hours(9), status="cancelled"),
    ]
    assert kpis.response_times(facts) == [3600.0, 10800.0, 7200.0]
    assert kpis.resolution_times(facts) == [36000.0, 108000.0]
    summary = kpis.compute(facts, now=NOW)["resolution_time"]
    assert summary == {"count": 2, "mean": 72000.0, "p50": 72000.0, "p90": pytest.approx(100800.0)}  # rank 0.9 → 36000 + 0.9 x 72000


def test_reopen_rate_is_reopened_among_resolved() -> None:
    facts = [
        complaint(resolved_at=hours(5), status="closed"),
        complaint(resolved_at=hours(5), status="resolved"),
        complaint(resolved_at=hours(5), reopen_count=2, status="assigned"),
        complaint(status="assigned"),
    ]
    assert kpis.reopen_rate(facts) == pytest.approx(1 / 3)
    assert kpis.reopen_rate([complaint()]) is None


def test_survey_response_rate_and_csat_over_every_score() -> None:
    answered = {"answered_at": hours(30), "scores": {"result": 5.0, "speed": 4.0, "attitude": 5.0}}
    unhappy = {"answered_at": hours(31), "scores": {"result": 2.0, "speed": 3.0, "attitude": 4.0}}
    waiting = {"answered_at": None, "scores": {}}
    facts = [complaint(surveys={"I1": answered}), complaint(surveys={"I2": unhappy, "I3": waiting}), complaint(surveys={"I4": waiting})]
    result = kpis.survey(facts)
    assert result["invited"] == 4 and result["answered"] == 2
    assert result["response_rate"] == 0.5
    assert result["csat_mean"] == pytest.approx(23 / 6)  # (5 + 4 + 5 + 2 + 3 + 4) ÷ 6
    assert result["csat_share_4_5"] == pytest.approx(4 / 6)
    assert kpis.survey([complaint()]) == {"invited": 0, "answered": 0, "response_rate": None, "csat_mean": None, "csat_share_4_5": None}


def test_volume_by_category_subcategory_channel_and_tier() -> None:
    facts = [
        complaint(),
        complaint(channel="wechat"),
        complaint(category="community", subcategory="noise", tier="important", channel="wechat"),
        complaint(category=None, subcategory=None, tier=None, status="received"),
        complaint(status="cancelled"),
    ]
    assert kpis.volume(facts) == {
        "total": 5,
        "cancelled": 1,
        "by_category": {"facility": 3, "community": 1, "unclassified": 1},
        "by_subcategory": {"elevator": 3, "noise": 1, "unclassified": 1},
        "by_channel": {"app": 3, "wechat": 2},
        "by_tier": {"general": 3, "important": 1, "unclassified": 1},
    }


def test_nothing_received_gives_empty_figures() -> None:
    result = kpis.compute([], now=NOW)
    assert result["volume"]["total"] == 0
    assert result["resolution_rate"] is None and result["reopen_rate"] is None
    assert result["on_time"] == {}
    assert result["response_time"] == {"count": 0, "mean": None, "p50": None, "p90": None}
