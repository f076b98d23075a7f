"""Notification's consumer against the real broker and mongod: events other services publish on the
same exchange become messages, recorded once, and the dispatch loop sends them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from notification.handlers import MESSAGES
from notification.store import NotificationStore
from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker
from tests.notification.factories import EMAIL, NAME, PHONE, RESOLVE_DUE_LOCAL, outbox_events, received_event, sla_event, work_order_event


def handled(context: ServiceContext) -> int:
    return context.database.inbox.count_documents({"consumer": MESSAGES.consumer("notification")})


def sent_messages(store: NotificationStore, complaint_id: str, count: int) -> list[dict[str, Any]]:
    def all_sent() -> list[dict[str, Any]] | None:
        messages = store.messages_of(complaint_id)
        return messages if len(messages) >= count and all(m["status"] == "sent" for m in messages) else None

    return wait_for(all_sent, timeout=15, message=f"{count} sent messages of {complaint_id}")


def test_classified_and_assigned_give_one_acknowledgement_with_the_local_time_limit(
    start_worker: Callable[..., Worker], publisher: EventBus, context: ServiceContext, store: NotificationStore
) -> None:
    start_worker()
    received = received_event()
    publisher.publish(received)
    publisher.publish(work_order_event("complaint.classified", received, action="classify", status="classified", seq=2))
    publisher.publish(work_order_event("complaint.assigned", received, action="assign", status="assigned", seq=3))

    wait_for(lambda: handled(context) == 3, timeout=15, message="three events handled")
    [message] = sent_messages(store, received.data["complaint_id"], 1)
    assert message["kind"] == "acknowledgement" and message["channel"] == "app_push" and message["provider"] == "log"
    assert f"{RESOLVE_DUE_LOCAL}（当地时间）前为您解决" in message["body"]
    assert received.data["ticket_no"] in message["title"]
    sent = wait_for(
        lambda: [e for e in outbox_events(context, "notification.sent") if e["data"]["message_id"] == message["_id"]],
        timeout=10,
        message="notification.sent",
    )
    assert sent[0]["correlation_id"] == received.data["complaint_id"] and sent[0]["estate_id"] == "NS01"


def test_a_redelivered_event_records_no_second_message(
    start_worker: Callable[..., Worker], publisher: EventBus, context: ServiceContext, store: NotificationStore
) -> None:
    start_worker()
    received = received_event()
    classified = work_order_event("complaint.classified", received, action="classify", status="classified")
    responded = work_order_event("complaint.responded", received, seq=3, note="已联系业主")
    for event in (received, classified, classified, received, responded):
        publisher.publish(event)

    wait_for(
        lambda: any(m["kind"] == "responded" for m in store.messages_of(received.data["complaint_id"])),
        timeout=15,
        message="the responded message",
    )
    assert sorted(m["kind"] for m in store.messages_of(received.data["complaint_id"])) == ["acknowledgement", "responded"]
    assert handled(context) == 3


def test_an_event_before_the_contact_is_retried_until_the_contact_arrives(
    start_worker: Callable[..., Worker], publisher: EventBus, store: NotificationStore
) -> None:
    start_worker()
    received = received_event()
    publisher.publish(work_order_event("complaint.classified", received, action="classify", status="classified"))
    time.sleep(0.1)
    publisher.publish(received)

    [message] = sent_messages(store, received.data["complaint_id"], 1)
    assert message["kind"] == "acknowledgement"


def test_log_lines_carry_no_phone_name_or_email(
    start_worker: Callable[..., Worker], publisher: EventBus, store: NotificationStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="notification")
    caplog.set_level(logging.DEBUG, logger="propcare_shared")
    start_worker()
    by_app, by_email = received_event(), received_event(channel="email", email=EMAIL)
    for received in (by_app, by_email):
        publisher.publish(received)
        publisher.publish(work_order_event("complaint.assigned", received, action="assign", status="assigned", tier="important"))
        publisher.publish(work_order_event("complaint.resolved", received, seq=3, resolution="更换了灯管"))
        publisher.publish(sla_event("sla.breached", received))
    for received in (by_app, by_email):
        sent_messages(store, received.data["complaint_id"], 4)

    records = [record for record in caplog.records if record.name.startswith(("notification", "propcare_shared"))]
    assert any(record.name == "notification.providers" for record in records)
    for record in records:
        text = f"{record.getMessage()} {vars(record)}"
        assert PHONE not in text and NAME not in text and EMAIL not in text, text
