"""The period of a report: defaults, and a period that ends before it starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics.domain.period import DEFAULT_PERIOD, PeriodOutOfOrder, period

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_the_default_period_is_the_30_days_up_to_now() -> None:
    assert period(start=None, end=None, now=NOW) == (NOW - timedelta(days=30), NOW)
    assert DEFAULT_PERIOD == timedelta(days=30)


def test_a_given_end_moves_the_default_start_with_it() -> None:
    end = NOW - timedelta(days=5)
    assert period(start=None, end=end, now=NOW) == (end - DEFAULT_PERIOD, end)


def test_a_start_after_now_without_an_end_is_refused() -> None:
    with pytest.raises(PeriodOutOfOrder):
        period(start=NOW + timedelta(days=1), end=None, now=NOW)
