"""Notification's pure rules: channel mapping, quiet hours, back-off, time limits and masking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notification.domain import channels, compose, schedule
from notification.domain.contact import INVALID_PHONE, UNREADABLE, ContactDetails, open_contact
from notification.domain.masking import mask_links, mask_recipient
from propcare_shared.sealing import Sealer, new_key
from propcare_shared.vocabulary import CHANNELS, TIERS
from tests.notification.factories import MONDAY_MORNING, MONDAY_NIGHT, RESOLVE_DUE, RESPONSE_DUE

PHONE = "13800138000"
PHONE_E164 = "+8613800138000"


@pytest.mark.parametrize(
    ("complaint_channel", "expected_channel"),
    [
        ("app", channels.APP_PUSH),
        ("wechat", channels.WECHAT),
        ("phone", channels.SMS),
        ("web", channels.SMS),
        ("front_desk", channels.SMS),
        ("open311", channels.SMS),
    ],
)
def test_residents_are_answered_on_the_channel_they_used(complaint_channel: str, expected_channel: str) -> None:
    route = channels.resident_route(complaint_channel=complaint_channel, phone=PHONE, email=None, tier="general")
    assert (route.channel, route.recipient, route.skip_reason) == (expected_channel, PHONE_E164, None)


@pytest.mark.parametrize("complaint_channel", [channel for channel in CHANNELS if channel != "gov_hotline"])
def test_a_resident_with_a_phone_is_reached_whatever_channel_they_used_but_the_hotline(complaint_channel: str) -> None:
    route = channels.resident_route(complaint_channel=complaint_channel, phone=PHONE, email=None, tier="general")
    assert (route.recipient, route.skip_reason) == (PHONE_E164, None)


def test_the_tiers_that_get_a_call_are_tiers_of_the_shared_vocabulary() -> None:
    assert channels.VERBAL_FEEDBACK_TIERS <= set(TIERS)


@pytest.mark.parametrize("written", [PHONE, PHONE_E164, "86-13800138000", "+86 138-0013-8000"])
def test_a_phone_goes_out_in_e164_however_it_was_kept(written: str) -> None:
    assert channels.resident_route(complaint_channel="web", phone=written, email=None, tier="general").recipient == PHONE_E164


def test_a_phone_that_is_not_a_number_is_skipped_with_the_reason_not_sent() -> None:
    route = channels.resident_route(complaint_channel="phone", phone="12345", email=None, tier="general")
    assert (route.recipient, route.skip_reason, route.call_task_reason) == (None, INVALID_PHONE, None)


def test_an_unreadable_contact_is_the_skip_reason() -> None:
    route = channels.resident_route(complaint_channel="app", phone=None, email=None, tier="general", contact_problem=UNREADABLE)
    assert route.skip_reason == UNREADABLE and route.skip_reason.startswith("undeliverable: contact unreadable")


def test_the_sealed_contact_opens_to_an_e164_phone_and_no_name() -> None:
    sealer = Sealer([new_key()])
    sealed = sealer.seal({"name": "王女士", "phone": "+86 138-0013-8000", "email": " wang@example.com "})
    assert open_contact(sealed, sealer=sealer) == ContactDetails(phone=PHONE_E164, email="wang@example.com", problem=None)
    assert open_contact(None, sealer=sealer) == ContactDetails()


def test_a_rotated_key_list_opens_contacts_sealed_with_the_old_key() -> None:
    old, new = new_key(), new_key()
    sealed_before_rotation = Sealer([old]).seal({"name": "王女士", "phone": PHONE, "email": None})
    assert open_contact(sealed_before_rotation, sealer=Sealer([new, old])).phone == PHONE_E164


def test_a_contact_no_key_opens_or_with_an_invalid_phone_keeps_the_reason() -> None:
    sealed_elsewhere = Sealer([new_key()]).seal({"phone": PHONE})
    assert open_contact(sealed_elsewhere, sealer=Sealer([new_key()])) == ContactDetails(problem=UNREADABLE)
    sealer = Sealer([new_key()])
    invalid = open_contact(sealer.seal({"phone": "12345", "email": "a@example.com"}), sealer=sealer)
    assert invalid == ContactDetails(phone=None, email="a@example.com", problem=INVALID_PHONE)


def test_email_goes_by_email_and_falls_back_to_sms_without_an_address() -> None:
    assert channels.resident_route(complaint_channel="email", phone=PHONE, email="a@example.com", tier="general").channel == channels.EMAIL
    assert channels.resident_route(complaint_channel="email", phone=PHONE, email=None, tier="general").channel == channels.SMS


def test_hotline_complaints_are_skipped_with_the_reason() -> None:
    route = channels.resident_route(complaint_channel="gov_hotline", phone=PHONE, email=None, tier="emergency")
    assert route.channel == channels.HOTLINE and route.skip_reason and route.call_task_reason is None


def test_no_phone_means_skipped_for_phone_based_channels() -> None:
    route = channels.resident_route(complaint_channel="front_desk", phone=None, email=None, tier="general")
    assert route.skip_reason and route.recipient is None and route.call_task_reason is None


@pytest.mark.parametrize(
    ("complaint_channel", "tier", "reason"),
    [
        ("phone", "general", "phone_channel"),
        ("app", "important", "verbal_feedback"),
        ("wechat", "emergency", "verbal_feedback"),
        ("app", "general", None),
        ("app", "complex", None),
    ],
)
def test_call_tasks_for_phone_complaints_and_important_or_emergency_tiers(complaint_channel: str, tier: str, reason: str | None) -> None:
    assert channels.resident_route(complaint_channel=complaint_channel, phone=PHONE, email=None, tier=tier).call_task_reason == reason


def test_staff_recipients_are_the_assignee_and_the_roles_or_the_levels_role() -> None:
    assert channels.staff_recipients(roles=["supervisor"], assignee_id="eng-1", level=1) == ["staff:eng-1", "role:supervisor"]
    assert channels.staff_recipients(roles=[], assignee_id="eng-1", level=0) == ["staff:eng-1"]
    assert channels.staff_recipients(roles=[], assignee_id=None, level=2) == ["role:manager"]
    assert channels.staff_recipients(roles=[], assignee_id=None, level=0) == ["role:supervisor"]


def test_quiet_hours_hold_until_seven_local() -> None:
    seven_next_morning = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # Tuesday 07:00 in Shanghai
    assert schedule.quiet_hours_end(at=MONDAY_NIGHT, timezone="Asia/Shanghai") == seven_next_morning
    early = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)  # Tuesday 04:30 local
    assert schedule.quiet_hours_end(at=early, timezone="Asia/Shanghai") == seven_next_morning
    assert schedule.quiet_hours_end(at=MONDAY_MORNING, timezone="Asia/Shanghai") is None
    assert schedule.not_before(at=MONDAY_NIGHT, timezone="Asia/Shanghai", quiet_hours=False) == MONDAY_NIGHT


def test_quiet_hours_edges_are_twenty_two_and_seven() -> None:
    at_22 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    just_before_22 = at_22 - timedelta(seconds=1)
    at_7 = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert schedule.quiet_hours_end(at=just_before_22, timezone="Asia/Shanghai") is None
    assert schedule.quiet_hours_end(at=at_22, timezone="Asia/Shanghai") == at_7
    assert schedule.quiet_hours_end(at=at_7, timezone="Asia/Shanghai") is None


def test_quiet_hours_follow_the_estates_time_zone_and_default_to_shanghai() -> None:
    assert schedule.quiet_hours_end(at=MONDAY_NIGHT, timezone="Europe/London") is None  # 15:30 in London
    assert schedule.quiet_hours_end(at=MONDAY_NIGHT, timezone="Not/AZone") is not None


def test_emergencies_and_staff_are_not_held_but_surveys_always_are() -> None:
    assert compose.held_by_quiet_hours(kind="acknowledgement", tier="general")
    assert not compose.held_by_quiet_hours(kind="acknowledgement", tier="emergency")
    assert compose.held_by_quiet_hours(kind="survey_invitation", tier="emergency")
    assert not compose.held_by_quiet_hours(kind="sla_breached", tier="general")


def test_backoff_follows_the_delays_scaled_and_repeats_the_last() -> None:
    delays = (60.0, 300.0, 1800.0)
    assert [schedule.retry_delay(attempts=n, delays=delays, scale=1.0) for n in (1, 2, 3, 4)] == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(minutes=30),
    ]
    assert schedule.retry_delay(attempts=1, delays=delays, scale=0.01) == timedelta(seconds=0.6)


def test_time_limit_is_the_resolve_deadline_else_the_response_one() -> None:
    assert compose.time_limit({"response": RESPONSE_DUE, "resolve": RESOLVE_DUE}) == ("resolve", RESOLVE_DUE)
    assert compose.time_limit({"response": RESPONSE_DUE, "onsite": RESOLVE_DUE}) == ("response", RESPONSE_DUE)
    assert compose.time_limit({}) is None
    assert compose.local_time(RESOLVE_DUE, "Asia/Shanghai") == "2026-11-26 23:59"


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("13800138000", "138****8000"),
        ("+8613800138000", "+86 138****8000"),
        ("+85291234567", "+852 ****4567"),
        ("wang.li@example.com", "w******@example.com"),
        ("88881234", "****1234"),
        ("role:supervisor", "role:supervisor"),
        ("staff:eng-1", "staff:eng-1"),
        (None, None),
    ],
)
def test_recipients_are_masked(address: str | None, masked: str | None) -> None:
    assert mask_recipient(address) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("请填写：https://propcare.example.cn/s/ImludiI.Ab-_9x\n谢谢", "请填写：https://propcare.example.cn/s/…\n谢谢"),
        ("Track it: https://propcare.example.cn/r/t/AbC_d-9. Thanks", "Track it: https://propcare.example.cn/r/t/… Thanks"),
        ("GET /api/v1/track/tok3n?lang=en", "GET /api/v1/track/…?lang=en"),
        ("工单号 NS01-20261123-0001", "工单号 NS01-20261123-0001"),
        (None, None),
    ],
)
def test_resident_links_lose_their_token_in_what_staff_see(text: str | None, masked: str | None) -> None:
    assert mask_links(text) == masked
