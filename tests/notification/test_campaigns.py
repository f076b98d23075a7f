"""Satisfaction campaigns' invitations to households (the handler and the dispatcher driven directly, on a
frozen clock): the household contact book from intake's imports, one SMS per invitation and one
reminder, quiet hours in the estate's zone, skipped without a phone, retried before the household."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from notification.dispatcher import Dispatcher
from notification.domain.channels import HOUSEHOLD_NO_PHONE_REASON
from notification.domain.contact import UNREADABLE
from notification.messages import HouseholdNotKnown
from notification.store import NotificationStore
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.sealing import Sealer, new_key
from tests.notification.factories import (
    ESTATE_NAME,
    HOUSEHOLD,
    MONDAY_MORNING,
    MONDAY_NIGHT,
    NAME,
    PHONE,
    PHONE_E164,
    campaign_invited_event,
    estate_event,
    household,
    households_event,
)

TUESDAY_SEVEN_SHANGHAI = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
TUESDAY_SEVEN_TOKYO = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
OTHER_PHONE_E164 = "+8613900139000"


def campaign_messages(context: ServiceContext, campaign_id: str = "camp-1") -> list[dict[str, Any]]:
    return list(context.database.messages.find({"campaign_id": campaign_id}).sort("_id", 1))


def skipped_sms() -> float:
    return REGISTRY.get_sample_value("notifications_total", {"channel": "sms", "outcome": "skipped"}) or 0.0


def test_an_invitation_queues_one_sms_to_the_households_phone_with_the_link_and_the_estates_name(
    handle: Callable[[Event], bool], context: ServiceContext, make_dispatcher: Callable[..., Dispatcher], store: NotificationStore
) -> None:
    handle(estate_event())
    handle(households_event(household(phone="+86 138-0013-8000")))
    invited = campaign_invited_event()
    handle(invited)

    [message] = campaign_messages(context)
    assert (message["kind"], message["channel"], message["recipient"]) == ("campaign_invitation", "sms", PHONE_E164)
    assert message["status"] == "queued"
    assert (message["campaign_id"], message["household_id"], message["complaint_id"]) == ("camp-1", HOUSEHOLD, None)
    assert message["not_before"] == MONDAY_MORNING and (message["group_id"], message["estate_id"]) == ("G1", "NS01")
    assert invited.data["link"] in message["body"] and ESTATE_NAME in message["title"] and "满意度调查" in message["title"]
    assert "投诉" not in message["title"] + message["body"], "a campaign is the estate's survey, not a complaint's follow-up"
    assert "2026-12-07 10:00" in message["body"], "the link's expiry in the estate's local time"
    assert make_dispatcher().dispatch_due() == 1
    assert store.message(message["_id"])["status"] == "sent"  # type: ignore[index]


def test_at_night_the_invitation_waits_until_seven_in_the_estates_zone(
    handle: Callable[[Event], bool], context: ServiceContext, make_dispatcher: Callable[..., Dispatcher], clock: FrozenClock
) -> None:
    clock.now = MONDAY_NIGHT  # 23:30 in Shanghai, 00:30 in Tokyo
    handle(estate_event())
    handle(estate_event(estate_id="TK01", timezone="Asia/Tokyo", name="Tokyo Court"))
    handle(households_event(household()))
    handle(households_event(household("TK01:1:-:0101"), estate_id="TK01"))
    handle(campaign_invited_event())
    handle(campaign_invited_event("TK01:1:-:0101", invitation_id="cinv-tk", estate_id="TK01"))
    shanghai, tokyo = campaign_messages(context)
    assert (shanghai["not_before"], tokyo["not_before"]) == (TUESDAY_SEVEN_SHANGHAI, TUESDAY_SEVEN_TOKYO)
    assert "Tokyo Court" in tokyo["title"]

    dispatcher = make_dispatcher()
    assert dispatcher.dispatch_due() == 0
    clock.now = TUESDAY_SEVEN_TOKYO
    assert dispatcher.dispatch_due() == 1
    clock.now = TUESDAY_SEVEN_SHANGHAI
    assert dispatcher.dispatch_due() == 1
    assert [m["status"] for m in campaign_messages(context)] == ["sent", "sent"]


def test_the_reminder_is_recorded_once_per_invitation_however_often_it_is_asked_for(
    handle: Callable[[Event], bool], context: ServiceContext
) -> None:
    handle(estate_event())
    handle(households_event())
    handle(campaign_invited_event())
    first, again = campaign_invited_event(reminder=True), campaign_invited_event(reminder=True)
    assert handle(first) and handle(again), "two reminder events, each handled once"
    invitation, reminder = campaign_messages(context)
    assert (invitation["kind"], reminder["kind"]) == ("campaign_invitation", "campaign_reminder")
    assert reminder["recipient"] == PHONE_E164 and first.data["link"] in reminder["body"] and "提醒" in reminder["title"]


def test_redelivery_and_a_second_event_for_one_invitation_record_nothing_twice(
    handle: Callable[[Event], bool], context: ServiceContext
) -> None:
    handle(estate_event())
    imported = households_event()
    invited = campaign_invited_event()
    assert handle(imported) and handle(invited)
    assert not handle(invited) and not handle(imported)
    assert handle(campaign_invited_event()), "the same invitation in another event"
    assert len(campaign_messages(context)) == 1


def test_a_household_without_a_phone_gets_its_invitation_skipped_with_the_reason(
    handle: Callable[[Event], bool], context: ServiceContext
) -> None:
    before = skipped_sms()
    handle(households_event(household(phone=None)))
    handle(campaign_invited_event())
    [message] = campaign_messages(context)
    assert (message["status"], message["channel"], message["recipient"]) == ("skipped", "sms", None)
    assert message["skip_reason"] == HOUSEHOLD_NO_PHONE_REASON and message["not_before"] is None
    assert skipped_sms() == before + 1


def test_a_reimport_changes_the_phone_one_without_a_phone_removes_it_and_an_older_one_changes_nothing(
    handle: Callable[[Event], bool], store: NotificationStore
) -> None:
    handle(households_event(household(), at=MONDAY_MORNING))
    assert store.household(HOUSEHOLD)["phone"] == PHONE_E164  # type: ignore[index]
    handle(households_event(household(phone="13900139000"), at=MONDAY_MORNING + timedelta(hours=1)))
    assert store.household(HOUSEHOLD)["phone"] == OTHER_PHONE_E164  # type: ignore[index]
    handle(households_event(household(), at=MONDAY_MORNING + timedelta(minutes=30)))
    assert store.household(HOUSEHOLD)["phone"] == OTHER_PHONE_E164, "an import older than the kept one"  # type: ignore[index]
    handle(households_event(household(phone=None), at=MONDAY_MORNING + timedelta(hours=2)))
    assert store.household(HOUSEHOLD)["phone"] is None  # type: ignore[index]


def test_the_contact_book_keeps_the_phone_in_e164_and_never_the_name(handle: Callable[[Event], bool], store: NotificationStore) -> None:
    handle(households_event(household(), household("NS01:5:1:0101", phone=None, name=None)))
    kept, vacant = store.household(HOUSEHOLD), store.household("NS01:5:1:0101")
    assert kept is not None and vacant is not None
    assert (kept["phone"], kept["contact_problem"], kept["estate_id"], kept["group_id"]) == (PHONE_E164, None, "NS01", "G1")
    assert NAME not in str(kept) and "contact" not in kept
    assert (vacant["phone"], vacant["contact_problem"]) == (None, None)


def test_an_unreadable_contact_is_kept_without_a_phone_its_invitation_skipped_and_logged_without_ids(
    handle: Callable[[Event], bool], context: ServiceContext, store: NotificationStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="notification")
    imported = households_event(household(sealer=Sealer([new_key()])))
    assert handle(imported), "stored, not retried: the key will not come back"
    entry = store.household(HOUSEHOLD)
    assert entry is not None and (entry["phone"], entry["contact_problem"]) == (None, UNREADABLE)
    handle(campaign_invited_event())
    [message] = campaign_messages(context)
    assert (message["status"], message["skip_reason"]) == ("skipped", UNREADABLE)
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "notification.directory"]
    text = f"{warning.getMessage()} {vars(warning)}"
    assert getattr(warning, "households", None) == 1 and getattr(warning, "event_id", None) == imported.id
    assert HOUSEHOLD not in text and imported.data["households"][0]["contact"] not in text and PHONE not in text


def test_an_invitation_before_its_household_is_refused_for_a_retry_then_recorded(
    handle: Callable[[Event], bool], context: ServiceContext
) -> None:
    invited = campaign_invited_event()
    with pytest.raises(HouseholdNotKnown):
        handle(invited)
    assert campaign_messages(context) == [] and context.database.inbox.count_documents({}) == 0, "nothing committed"
    handle(households_event())
    assert handle(invited), "the retry is handled, not a duplicate"
    [message] = campaign_messages(context)
    assert (message["recipient"], message["status"]) == (PHONE_E164, "queued")


@pytest.mark.parametrize("channel", ["offline", "phone"])
def test_an_invitation_on_paper_or_by_an_agents_call_records_no_message(
    channel: str, handle: Callable[[Event], bool], context: ServiceContext
) -> None:
    handle(households_event())
    assert handle(campaign_invited_event(channel=channel))
    assert campaign_messages(context) == []
