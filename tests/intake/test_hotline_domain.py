"""The hotline's pure rules: signatures, estate matching, the 签收 clock, states, callbacks, masking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from intake.domain.hotline import (
    IllegalAction,
    InvalidValue,
    SignatureRefused,
    accept_due,
    body_digest,
    match_estate,
    merge_callback,
    require_allowed,
    require_extension,
    sign,
    state_after_callback,
    triage_group,
    verify,
)
from intake.domain.hotline import (
    mask_name as masked_name,
)
from intake.domain.hotline import (
    mask_phone as masked_phone,
)

NOW = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
ESTATES = [
    {"_id": "NS01", "code": "NS01", "name": "南山花园", "group_id": "G1"},
    {"_id": "NS02", "code": "NS02", "name": "南山花园二期", "group_id": "G1"},
    {"_id": "BA01", "code": "BA01", "name": "宝安 阳光里", "group_id": "G2"},
    {"_id": "FT01", "code": "FT01", "name": "阳光里", "group_id": "G2"},
]


def test_a_signature_over_the_timestamp_and_body_verifies_in_the_window() -> None:
    timestamp = str(int(NOW.timestamp()) - 299)
    verify(secret="s", timestamp=timestamp, signature=sign(secret="s", timestamp=timestamp, raw=b"{}"), raw=b"{}", now=NOW)


@pytest.mark.parametrize(
    ("offset", "secret", "body", "reason"),
    [
        (-301, "s", b"{}", "old"),
        (31, "s", b"{}", "future"),
        (0, "other", b"{}", "does not match"),
        (0, "s", b"{ }", "does not match"),
    ],
)
def test_a_stale_future_forged_or_altered_call_is_refused(offset: int, secret: str, body: bytes, reason: str) -> None:
    timestamp = str(int(NOW.timestamp()) + offset)
    with pytest.raises(SignatureRefused, match=reason):
        verify(secret="s", timestamp=timestamp, signature=sign(secret=secret, timestamp=timestamp, raw=b"{}"), raw=body, now=NOW)


def test_a_call_without_headers_or_with_a_non_numeric_timestamp_is_refused() -> None:
    with pytest.raises(SignatureRefused, match="Send"):
        verify(secret="s", timestamp=None, signature="x", raw=b"", now=NOW)
    with pytest.raises(SignatureRefused, match="Unix seconds"):
        verify(secret="s", timestamp="2026-11-22", signature="x", raw=b"", now=NOW)


def test_the_body_digest_ignores_key_order_and_whitespace() -> None:
    assert body_digest({"a": 1, "b": [1, 2]}) == body_digest({"b": [1, 2], "a": 1})
    assert body_digest({"a": 1}) != body_digest({"a": 2})


def test_an_estate_code_matches_before_the_address() -> None:
    assert match_estate(estate_code="ns02", address="南山花园3栋", estates=ESTATES)["_id"] == "NS02"  # type: ignore[index]


def test_the_longest_estate_name_in_the_address_matches_and_spaces_or_width_do_not_matter() -> None:
    assert match_estate(estate_code=None, address="南山区 南山花园二期 3栋", estates=ESTATES)["_id"] == "NS02"  # type: ignore[index]
    assert match_estate(estate_code="XX99", address="南山花园3栋", estates=ESTATES)["_id"] == "NS01"  # type: ignore[index]
    assert match_estate(estate_code=None, address="宝安阳光里5栋", estates=ESTATES)["_id"] == "BA01"  # type: ignore[index]


def test_no_name_or_two_equally_good_names_match_nothing() -> None:
    assert match_estate(estate_code=None, address="福田区某某大厦", estates=ESTATES) is None
    twins = [{"_id": "A", "code": "A1", "name": "花园"}, {"_id": "B", "code": "B1", "name": "花园"}]
    assert match_estate(estate_code=None, address="花园1栋", estates=twins) is None


def test_triage_goes_to_the_configured_group_else_the_only_group() -> None:
    assert triage_group(configured="G9", groups=["G1", "G2"]) == "G9"
    assert triage_group(configured="", groups=["G1", "G1"]) == "G1"
    assert triage_group(configured="", groups=["G1", "G2"]) is None


def test_accept_is_due_the_same_local_time_on_the_next_working_day() -> None:
    friday_morning = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # Friday 09:00 in Shanghai
    assert accept_due(transferred_at=friday_morning, urgent=False, timezone="Asia/Shanghai") == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    national_day_eve = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # holidays 1-7 October 2026
    assert accept_due(transferred_at=national_day_eve, urgent=False, timezone="Asia/Shanghai").date() == datetime(2026, 10, 8).date()


def test_an_urgent_transfer_is_accepted_within_the_hour() -> None:
    assert accept_due(transferred_at=NOW, urgent=True, timezone="Asia/Shanghai") == NOW + timedelta(hours=1)


def test_accept_happens_once_and_nothing_follows_a_return() -> None:
    require_allowed(state="received", action="accept")
    with pytest.raises(IllegalAction) as refused:
        require_allowed(state="accepted", action="accept")
    assert refused.value.allowed == ("return", "extension", "satisfaction")
    with pytest.raises(IllegalAction):
        require_allowed(state="returned", action="extension")


def test_an_extension_is_asked_before_the_deadline_for_a_later_date() -> None:
    require_extension(state="accepted", reply_deadline=NOW + timedelta(days=1), until=NOW + timedelta(days=3), now=NOW)
    with pytest.raises(IllegalAction, match="passed"):
        require_extension(state="accepted", reply_deadline=NOW, until=NOW + timedelta(days=3), now=NOW)
    with pytest.raises(InvalidValue):
        require_extension(state="accepted", reply_deadline=NOW + timedelta(days=1), until=NOW, now=NOW)


def test_an_older_callback_report_never_overwrites_a_newer_one_and_delivered_is_final() -> None:
    pending = {"callback_id": "c1", "event": "accepted", "state": "pending", "attempts": 0, "last_error": None, "at": NOW}
    failing = {**pending, "state": "failing", "attempts": 1, "last_error": "HTTP 500", "at": NOW + timedelta(seconds=1)}
    delivered = {**pending, "state": "delivered", "attempts": 2, "at": NOW + timedelta(seconds=2)}
    callbacks, new = merge_callback({}, delivered)
    assert new
    for late in (pending, failing):
        callbacks, new = merge_callback(callbacks, late)
        assert not new and callbacks["c1"]["state"] == "delivered"


def test_the_first_completed_callback_completes_open_work_only() -> None:
    assert state_after_callback(state="accepted", event="completed", new=True) == "completed"
    assert state_after_callback(state="accepted", event="completed", new=False) == "accepted"
    assert state_after_callback(state="returned", event="completed", new=True) == "returned"
    assert state_after_callback(state="accepted", event="progress", new=True) == "accepted"


def test_names_and_phones_are_masked() -> None:
    assert masked_name("李先生") == "李**"
    assert masked_phone("+8613900139000") == "+86139****9000"
    assert masked_phone(None) is None
