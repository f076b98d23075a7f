"""The reporter's contact: sealed on the bus, opened only here, the phone kept and used in E.164;
a contact no key opens, or a phone that is not a number, leaves messages skipped with the reason."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest

from notification.config import NotifyConfig
from notification.dispatcher import Dispatcher
from notification.domain.contact import INVALID_PHONE, UNREADABLE
from notification.handlers import HANDLERS
from notification.store import INDEXES, NotificationStore
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.handling import subscriptions
from propcare_shared.sealing import DEVELOPMENT_PERSONAL_DATA_KEY, Sealer, new_key
from propcare_shared.settings import Settings
from tests.notification.factories import EMAIL, NAME, PHONE, PHONE_E164, received_event, work_order_event


def classified(received: Event) -> Event:
    return work_order_event("complaint.classified", received, action="classify", status="classified")


def test_the_event_carries_the_contact_sealed_and_the_role_in_clear() -> None:
    received = received_event(email=EMAIL)
    text = json.dumps(received.to_message(), ensure_ascii=False, default=str)  # what the queue (and a parked copy) holds
    assert PHONE not in text and NAME not in text and EMAIL not in text
    assert received.data["reporter_role"] == "owner" and "reporter" not in received.data


def test_the_sealed_contact_is_opened_and_the_phone_kept_in_e164_without_the_name(
    handle: Callable[[Event], bool], store: NotificationStore, make_dispatcher: Callable[..., Dispatcher]
) -> None:
    received = received_event(phone="+86 138-0013-8000", email=EMAIL, channel="phone")
    handle(received)
    contact = store.contact(received.data["complaint_id"])
    assert contact is not None and (contact["phone"], contact["email"], contact["contact_problem"]) == (PHONE_E164, EMAIL, None)
    assert contact["reporter_role"] == "owner" and NAME not in str(contact) and "contact" not in contact
    handle(classified(received))
    [message] = store.messages_of(received.data["complaint_id"])
    assert (message["channel"], message["recipient"], message["status"]) == ("sms", PHONE_E164, "queued")
    assert make_dispatcher().dispatch_due() == 1


def test_a_rotated_key_list_opens_a_contact_sealed_before_the_rotation(
    open_context: Callable[..., ServiceContext], make_settings: Callable[..., Settings], clock: FrozenClock
) -> None:
    new = new_key()
    settings = make_settings("notification")
    rotated = NotifyConfig(personal_data_keys=(new, DEVELOPMENT_PERSONAL_DATA_KEY))
    context = open_context(settings, indexes=INDEXES, clock=clock, config=rotated)
    store = NotificationStore(context.database, clock=clock)
    [subscription] = subscriptions(context, HANDLERS)
    handler = subscription.handler
    before, after = received_event(), received_event(sealer=Sealer([new]), phone="13900139000")
    for received in (before, after):
        handler(received)
        handler(classified(received))
    assert [m["recipient"] for m in store.messages_of(before.data["complaint_id"])] == [PHONE_E164]
    assert [m["recipient"] for m in store.messages_of(after.data["complaint_id"])] == ["+8613900139000"]


def test_a_contact_no_key_opens_is_kept_without_address_and_its_messages_skipped_with_the_reason(
    handle: Callable[[Event], bool], store: NotificationStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="notification")
    rotated_out = Sealer([new_key()])  # a key notification was never given, or no longer has
    received = received_event(sealer=rotated_out, email=EMAIL)
    assert handle(received), "stored, not retried or parked: the key will not come back"
    contact = store.contact(received.data["complaint_id"])
    assert contact is not None and (contact["phone"], contact["email"], contact["contact_problem"]) == (None, None, UNREADABLE)
    handle(classified(received))
    [message] = store.messages_of(received.data["complaint_id"])
    assert (message["status"], message["skip_reason"]) == ("skipped", UNREADABLE)
    assert message["skip_reason"].startswith("undeliverable: contact unreadable")
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "notification.messages"]
    text = f"{warning.getMessage()} {vars(warning)}"
    assert getattr(warning, "complaint_id", None) == received.data["complaint_id"]
    assert PHONE not in text and EMAIL not in text and NAME not in text and received.data["contact"] not in text


def test_a_phone_that_is_not_a_number_is_dropped_with_the_reason_not_a_crash(
    handle: Callable[[Event], bool], store: NotificationStore
) -> None:
    received = received_event(phone="12345", channel="web")
    assert handle(received)
    contact = store.contact(received.data["complaint_id"])
    assert contact is not None and (contact["phone"], contact["contact_problem"]) == (None, INVALID_PHONE)
    handle(classified(received))
    [message] = store.messages_of(received.data["complaint_id"])
    assert (message["status"], message["skip_reason"]) == ("skipped", INVALID_PHONE)


def test_a_contact_kept_before_e164_is_sent_in_e164(
    handle: Callable[[Event], bool], store: NotificationStore, context: ServiceContext
) -> None:
    received = received_event()
    handle(received)
    context.database.contacts.update_one({"_id": received.data["complaint_id"]}, {"$set": {"phone": "86-13800138000"}})
    handle(classified(received))
    [message] = store.messages_of(received.data["complaint_id"])
    assert message["recipient"] == PHONE_E164
