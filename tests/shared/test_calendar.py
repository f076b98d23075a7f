"""The working calendar: official Chinese days, operator closures and extra working days, the fallback."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from propcare_shared.calendar import (
    OFFICIAL_CALENDAR_YEARS,
    WorkingCalendar,
    official_calendar_covers,
    official_is_working_day,
)


def test_national_day_2026_is_seven_days_off() -> None:
    assert [official_is_working_day(date(2026, 10, day)) for day in range(1, 8)] == [False] * 7


def test_make_up_saturday_is_a_working_day() -> None:
    # 2026-10-10 is a Saturday made a working day (调休) for National Day.
    assert date(2026, 10, 10).weekday() == 5
    assert official_is_working_day(date(2026, 10, 10)) is True


def test_make_up_sunday_is_a_working_day() -> None:
    # 2026-09-20 is a Sunday made a working day (调休) for National Day.
    assert date(2026, 9, 20).weekday() == 6
    assert official_is_working_day(date(2026, 9, 20)) is True


def test_ordinary_weekend_is_not_a_working_day() -> None:
    assert official_is_working_day(date(2026, 11, 21)) is False
    assert official_is_working_day(date(2026, 11, 22)) is False


def test_add_working_days_never_counts_the_day_itself() -> None:
    # Monday 2026-11-23: the first working day after it is Tuesday.
    assert WorkingCalendar().add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 24)


def test_add_working_days_jumps_national_day_and_counts_make_up_saturday() -> None:
    # After Wed 09-30: 10-01..10-07 off, Thu 10-08 (1), Fri 10-09 (2), Sat 10-10 调休 (3).
    assert WorkingCalendar().add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_add_working_days_from_saturday_lands_on_make_up_sunday() -> None:
    assert WorkingCalendar().add_working_days(date(2026, 9, 19), 1) == date(2026, 9, 20)


@pytest.mark.parametrize("n", [0, -1])
def test_add_working_days_refuses_fewer_than_one(n: int) -> None:
    with pytest.raises(ValueError):
        WorkingCalendar().add_working_days(date(2026, 11, 23), n)


def test_closure_makes_a_weekday_not_working() -> None:
    calendar = WorkingCalendar(closures=frozenset({date(2026, 12, 24)}))
    assert calendar.is_working_day(date(2026, 12, 24)) is False
    # Wed 12-23 + 2: Thu 12-24 closed, Fri 12-25 (1), Mon 12-28 (2).
    assert calendar.add_working_days(date(2026, 12, 23), 2) == date(2026, 12, 28)


def test_extra_working_day_makes_a_sunday_working() -> None:
    calendar = WorkingCalendar(extra_working_days=frozenset({date(2026, 12, 27)}))
    assert calendar.is_working_day(date(2026, 12, 27)) is True
    # Fri 12-25 + 1: Sat off, Sun 12-27 extra working day.
    assert calendar.add_working_days(date(2026, 12, 25), 1) == date(2026, 12, 27)


def test_extra_working_day_beats_closure_and_official_holiday() -> None:
    national_day = date(2026, 10, 1)
    calendar = WorkingCalendar(closures=frozenset({national_day}), extra_working_days=frozenset({national_day}))
    assert calendar.is_working_day(national_day) is True


def test_closure_beats_official_make_up_day() -> None:
    calendar = WorkingCalendar(closures=frozenset({date(2026, 10, 10)}))
    assert calendar.is_working_day(date(2026, 10, 10)) is False


def test_calendar_accepts_iso_strings() -> None:
    calendar = WorkingCalendar(closures=frozenset({"2026-12-24"}))  # type: ignore[arg-type]
    assert calendar.closures == frozenset({date(2026, 12, 24)})


def test_calendar_refuses_datetimes() -> None:
    with pytest.raises(TypeError):
        WorkingCalendar(closures=frozenset({datetime(2026, 12, 24, 8, 0)}))
    with pytest.raises(TypeError):
        WorkingCalendar().is_working_day(datetime(2026, 12, 24, 8, 0))


def test_merged_narrower_scope_decides_a_day_both_name() -> None:
    region = WorkingCalendar(closures=frozenset({date(2026, 12, 24)}), extra_working_days=frozenset({date(2026, 12, 27)}))
    estate = WorkingCalendar(closures=frozenset({date(2026, 12, 27)}), extra_working_days=frozenset({date(2026, 12, 24)}))
    merged = region.merged(estate)
    assert merged.is_working_day(date(2026, 12, 24)) is True
    assert merged.is_working_day(date(2026, 12, 27)) is False


def test_merged_keeps_days_only_the_wider_scope_names() -> None:
    group = WorkingCalendar(closures=frozenset({date(2026, 12, 31)}))
    merged = group.merged(WorkingCalendar(extra_working_days=frozenset({date(2026, 12, 27)})))
    assert merged.is_working_day(date(2026, 12, 31)) is False
    assert merged.is_working_day(date(2026, 12, 27)) is True


def test_official_calendar_covers_the_library_years() -> None:
    # chinesecalendar 1.11.0 (requirements.lock) ships 2004-2026; an upgrade moves the upper end.
    assert OFFICIAL_CALENDAR_YEARS.start == 2004
    assert official_calendar_covers(2026) is True
    assert official_calendar_covers(2003) is False
    assert official_calendar_covers(OFFICIAL_CALENDAR_YEARS.stop) is False


def test_year_without_official_data_falls_back_to_monday_to_friday() -> None:
    year = OFFICIAL_CALENDAR_YEARS.stop  # the first year the library does not know: 2027 with 1.11.0
    first_monday = next(date(year, 3, day) for day in range(1, 8) if date(year, 3, day).weekday() == 0)
    week = [date(year, 3, first_monday.day + offset) for offset in range(7)]
    assert [official_is_working_day(day) for day in week] == [True] * 5 + [False] * 2
    assert official_is_working_day(date(2003, 1, 1)) is True  # a Wednesday; New Year's Day unknown to the fallback


def test_fallback_ignores_new_year_until_an_operator_closes_it() -> None:
    # 2027-01-01 is a Friday and New Year's Day, but 2027 is outside the data of chinesecalendar 1.11.0.
    assert official_calendar_covers(2027) is False
    assert WorkingCalendar().add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)
    closed = WorkingCalendar(closures=frozenset({date(2027, 1, 1)}))
    assert closed.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
