"""What each event records (the handler and the dispatcher driven directly, on a frozen clock):
quiet hours, call tasks, staff alerts, surveys, skipped channels, rerouting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import REGISTRY

from notification.dispatcher import Dispatcher
from notification.store import NotificationStore
from propcare_shared.clock import FrozenClock
from propcare_shared.events.envelope import Event
from tests.notification.factories import MONDAY_NIGHT, PHONE_E164, received_event, sla_event, survey_event, work_order_event

TUESDAY_SEVEN_LOCAL = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)


def kinds(store: NotificationStore, received: Event) -> list[str]:
    return [message["kind"] for message in store.messages_of(received.data["complaint_id"])]


def test_quiet_hours_hold_a_general_message_until_seven_local_but_not_an_emergency(
    handle: Callable[[Event], bool], make_dispatcher: Callable[..., Dispatcher], store: NotificationStore, clock: FrozenClock
) -> None:
    clock.now = MONDAY_NIGHT
    general, emergency = received_event(), received_event()
    for received, tier in ((general, "general"), (emergency, "emergency")):
        handle(received)
        handle(work_order_event("complaint.assigned", received, action="assign", status="assigned", tier=tier, at=MONDAY_NIGHT))
    [held] = store.messages_of(general.data["complaint_id"])
    [urgent] = store.messages_of(emergency.data["complaint_id"])
    assert held["not_before"] == TUESDAY_SEVEN_LOCAL and urgent["not_before"] == MONDAY_NIGHT

    dispatcher = make_dispatcher()
    assert dispatcher.dispatch_due() == 1
    assert store.message(urgent["_id"])["status"] == "sent"  # type: ignore[index]
    assert store.message(held["_id"])["status"] == "queued"  # type: ignore[index]

    clock.now = TUESDAY_SEVEN_LOCAL
    assert dispatcher.dispatch_due() == 1
    assert store.message(held["_id"])["status"] == "sent"  # type: ignore[index]


def test_important_and_emergency_complaints_and_phone_complaints_get_a_call_task(
    handle: Callable[[Event], bool], store: NotificationStore
) -> None:
    important, by_phone, general = received_event(), received_event(channel="phone"), received_event()
    for received, tier in ((important, "important"), (by_phone, "general"), (general, "general")):
        handle(received)
        handle(work_order_event("complaint.classified", received, action="classify", status="classified", tier=tier))
    ids = {
        name: store.messages_of(received.data["complaint_id"])[0]["_id"]
        for name, received in (("important", important), ("phone", by_phone), ("general", general))
    }
    tasks = store.call_tasks_of(ids.values())
    assert tasks[ids["important"]]["reason"] == "verbal_feedback"
    assert tasks[ids["phone"]]["reason"] == "phone_channel"
    assert ids["general"] not in tasks
    assert store.messages_of(by_phone.data["complaint_id"])[0]["channel"] == "sms"


def test_progress_messages_follow_the_complaint(handle: Callable[[Event], bool], store: NotificationStore) -> None:
    received = received_event(language="en")
    handle(received)
    handle(work_order_event("complaint.assigned", received, action="assign", status="assigned"))
    handle(work_order_event("complaint.on_hold", received, seq=3, note="resident away"))
    handle(work_order_event("complaint.resumed", received, seq=4, status="assigned"))
    handle(work_order_event("complaint.resolved", received, seq=5, resolution="replaced the lamp"))
    handle(work_order_event("complaint.reopened", received, seq=6, status="assigned"))
    messages = store.messages_of(received.data["complaint_id"])
    assert [m["kind"] for m in messages] == ["acknowledgement", "on_hold", "resumed", "resolved", "reopened"]
    assert all(m["language"] == "en" for m in messages)
    assert "What we did: replaced the lamp" in messages[3]["body"]


def test_a_reassignment_after_the_acknowledgement_tells_the_resident(handle: Callable[[Event], bool], store: NotificationStore) -> None:
    received = received_event()
    handle(received)
    handle(work_order_event("complaint.classified", received, action="classify", status="classified"))
    handle(work_order_event("complaint.assigned", received, action="assign", status="assigned", seq=3))
    handle(work_order_event("complaint.assigned", received, action="reassign", status="assigned", seq=5, department="security"))
    assert kinds(store, received) == ["acknowledgement", "assigned"]
    assert "安保部" in store.messages_of(received.data["complaint_id"])[1]["body"]


def test_sla_alerts_go_to_the_assignee_and_the_roles_at_once(
    handle: Callable[[Event], bool], make_dispatcher: Callable[..., Dispatcher], store: NotificationStore, clock: FrozenClock
) -> None:
    clock.now = MONDAY_NIGHT
    received = received_event()
    handle(received)
    handle(sla_event("sla.breached", received, level=1, notify_roles=("supervisor",)))
    messages = store.messages_of(received.data["complaint_id"])
    assert [(m["kind"], m["channel"], m["recipient"], m["audience"]) for m in messages] == [
        ("sla_breached", "staff", "staff:eng-1", "staff"),
        ("sla_breached", "staff", "role:supervisor", "staff"),
    ]
    assert all(m["not_before"] == MONDAY_NIGHT for m in messages)
    assert make_dispatcher().dispatch_due() == 2


def test_escalations_go_to_the_levels_role(handle: Callable[[Event], bool], store: NotificationStore) -> None:
    received = received_event()
    handle(received)
    handle(work_order_event("complaint.escalated", received, status="assigned", escalation_level=2, assignee_id=None))
    [message] = store.messages_of(received.data["complaint_id"])
    assert (message["kind"], message["recipient"]) == ("escalated", "role:manager")


def test_survey_invitations_and_reminders_reach_the_resident(handle: Callable[[Event], bool], store: NotificationStore) -> None:
    received = received_event(channel="wechat")
    handle(received)
    invitation, reminder = survey_event(received), survey_event(received, reminder=True)
    handle(invitation)
    handle(reminder)
    messages = store.messages_of(received.data["complaint_id"])
    assert [(m["kind"], m["channel"], m["recipient"]) for m in messages] == [
        ("survey_invitation", "wechat", PHONE_E164),
        ("survey_reminder", "wechat", PHONE_E164),
    ]
    assert invitation.data["link"] in messages[0]["body"]


def test_undeliverable_messages_are_recorded_as_skipped_with_the_reason(handle: Callable[[Event], bool], store: NotificationStore) -> None:
    before = REGISTRY.get_sample_value("notifications_total", {"channel": "hotline", "outcome": "skipped"}) or 0.0
    hotline, no_phone = received_event(channel="gov_hotline"), received_event(channel="front_desk", phone=None)
    for received in (hotline, no_phone):
        handle(received)
        handle(work_order_event("complaint.classified", received, action="classify", status="classified"))
    [to_hotline] = store.messages_of(hotline.data["complaint_id"])
    [to_nobody] = store.messages_of(no_phone.data["complaint_id"])
    assert (to_hotline["status"], to_hotline["channel"]) == ("skipped", "hotline") and "hotline" in to_hotline["skip_reason"]
    assert (to_nobody["status"], to_nobody["channel"]) == ("skipped", "sms") and "phone" in to_nobody["skip_reason"]
    assert REGISTRY.get_sample_value("notifications_total", {"channel": "hotline", "outcome": "skipped"}) == before + 1


def test_a_duplicate_event_is_refused_by_the_inbox(handle: Callable[[Event], bool], store: NotificationStore) -> None:
    received = received_event()
    classified = work_order_event("complaint.classified", received, action="classify", status="classified")
    assert handle(received) and handle(classified)
    assert not handle(classified)
    assert kinds(store, received) == ["acknowledgement"]
