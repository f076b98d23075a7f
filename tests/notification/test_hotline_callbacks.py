"""The 12345 hotline callbacks against a real HTTP receiver started here.

The receiver plays the hotline: it checks every signature and timestamp (401 otherwise), refuses the
first attempt of each callback with a 500, deduplicates by ``callback_id`` and records the order it
accepted them in, and notes any callback that arrived before an earlier one of its ticket was accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from prometheus_client import REGISTRY

from notification.config import NotifyConfig
from notification.domain.hotline import NO_URL_ERROR
from notification.hotline_sender import HotlineSender
from notification.hotline_store import CallbackStore
from notification.messages import ContactNotKnown
from notification.store import NotificationStore
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker
from tests.notification.conftest import FAST
from tests.notification.factories import MONDAY_MORNING, about, outbox_events, received_event, work_order_event

SECRET = "hotline-callback-test-secret"
UNTIL = MONDAY_MORNING + timedelta(days=7)


# the receiver -----------------------------------------------------------------------------------


@dataclass
class Receiver:
    """The hotline's callback endpoint: verifies, refuses each callback's first attempt, records the rest in order."""

    url: str = ""
    accepted: list[dict[str, Any]] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    out_of_order: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    always_failing: set[str] = field(default_factory=set)
    hang_first: float = 0.0
    close_first: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verified(self, raw: bytes, headers: Any) -> bool:
        timestamp = headers.get("X-Hotline-Timestamp", "")
        if not timestamp.isdigit() or not -30 <= time.time() - int(timestamp) <= 300:
            return False
        expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers.get("X-Hotline-Signature", ""))

    def answer(self, raw: bytes, headers: Any) -> tuple[int, str | None]:
        """Return the status to answer and how to misbehave (``hang``, ``close``) on a first attempt."""
        if not self.verified(raw, headers):
            with self.lock:
                self.bad_signatures += 1
            return 401, None
        body = json.loads(raw)
        key = body["callback_id"]
        with self.lock:
            earlier = [c for c in self.accepted if c["hotline_ticket_id"] == body["hotline_ticket_id"]]
            if len(earlier) < body["sequence"] - 1 and key not in {c["callback_id"] for c in earlier}:
                self.out_of_order.append(body)
            self.attempts[key] = self.attempts.get(key, 0) + 1
            if body["hotline_ticket_id"] in self.always_failing:
                return 500, None
            if self.attempts[key] == 1:
                self.refused.append(key)
                return 500, "hang" if self.hang_first else "close" if self.close_first else None
            if key not in {c["callback_id"] for c in self.accepted}:
                self.accepted.append(body)
        return 200, None

    def events(self, ticket: str) -> list[str]:
        with self.lock:
            return [c["event"] for c in self.accepted if c["hotline_ticket_id"] == ticket]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, misbehave = state.answer(raw, self.headers)
            if misbehave == "hang":
                time.sleep(state.hang_first)
            if misbehave == "close":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/callbacks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def hotline_config(receiver: Receiver, **overrides: Any) -> NotifyConfig:
    """Callbacks to the receiver, retried at once (the frozen clock does not move by itself)."""
    return FAST.with_overrides(**{"hotline_callback_url": receiver.url, "hotline_secret": SECRET, "retry_scale": 0.0, **overrides})


@pytest.fixture
def callbacks(context: ServiceContext) -> CallbackStore:
    return CallbackStore(context.database)


def drain(sender: HotlineSender, *, passes: int = 20) -> int:
    """Run the sender's passes until nothing is due; return the attempts made."""
    made = 0
    for _ in range(passes):
        attempts = sender.send_due()
        if attempts == 0:
            break
        made += attempts
    return made


# events ------------------------------------------------------------------------------------------


def transfer(ticket: str, **overrides: Any) -> Event:
    """Return the ``complaint.received`` intake emits for a 12345 transfer."""
    received = received_event(channel="gov_hotline", **overrides)
    return replace(received, data={**received.data, "hotline_ticket_id": ticket, "hotline_deadline": UNTIL, "urgent": False})


def acted(event_type: str, received: Event, *, reason: str | None = None, until: datetime | None = None) -> Event:
    """Return a ``hotline.*`` fact of intake about a transfer."""
    return new_event(
        event_type,
        producer="intake",
        data={
            "hotline_ticket_id": received.data["hotline_ticket_id"],
            "complaint_id": received.data["complaint_id"],
            "at": MONDAY_MORNING,
            "actor_id": "agent-7",
            "reason": reason,
            "until": until,
        },
        **about(received),
    )


def worked(event_type: str, received: Event, **data: Any) -> Event:
    """Return a dispatch fact about a transfer's work order, by engineer eng-1."""
    return work_order_event(event_type, received, actor_id="eng-1", **data)


def loop(received: Event) -> list[Event]:
    """Return the events of a transfer accepted, worked on and resolved."""
    return [
        received,
        acted("hotline.accepted", received),
        worked("complaint.plan_submitted", received, action="plan", status="in_progress", note="明早清运"),
        worked("complaint.progress_updated", received, action="progress", status="in_progress", note="已联系环卫"),
        worked("complaint.resolved", received, action="resolve", status="resolved", resolution="垃圾已清运，门口已冲洗"),
    ]


# recording ---------------------------------------------------------------------------------------


def test_a_transfer_records_its_callbacks_in_order_and_no_resident_message(
    handle: Callable[[Event], bool], store: NotificationStore, callbacks: CallbackStore, context: ServiceContext
) -> None:
    received = transfer("12345-A")
    for event in loop(received):
        handle(event)

    recorded = callbacks.callbacks_of("12345-A")
    assert [(c["sequence"], c["event"], c["status"]) for c in recorded] == [
        (1, "accepted", "pending"),
        (2, "progress", "pending"),
        (3, "progress", "pending"),
        (4, "completed", "pending"),
    ]
    assert store.contact(received.data["complaint_id"])["hotline_ticket_id"] == "12345-A"  # type: ignore[index]
    assert store.messages_of(received.data["complaint_id"]) == [], "the caller is answered through the hotline"
    updates = [e["data"] for e in outbox_events(context, "hotline.callback_updated")]
    assert [(u["callback_id"], u["state"], u["attempts"]) for u in updates] == [(c["_id"], "pending", 0) for c in recorded]
    assert all(u["last_error"] == NO_URL_ERROR for u in updates), "FAST names no HOTLINE_CALLBACK_URL"


def test_complaints_that_did_not_come_from_the_hotline_record_no_callback(
    handle: Callable[[Event], bool], callbacks: CallbackStore, context: ServiceContext
) -> None:
    received = received_event(channel="app")
    handle(received)
    handle(worked("complaint.plan_submitted", received, action="plan", status="in_progress", note="n"))
    handle(worked("complaint.resolved", received, action="resolve", status="resolved", resolution="r"))
    assert context.database.hotline_callbacks.count_documents({}) == 0
    assert outbox_events(context, "hotline.callback_updated") == []


def test_progress_of_a_hotline_complaint_not_yet_received_is_retried_later(handle: Callable[[Event], bool]) -> None:
    received = transfer("12345-EARLY")
    with pytest.raises(ContactNotKnown):
        handle(worked("complaint.progress_updated", received, action="progress", status="in_progress", note="n"))


def test_without_a_callback_url_callbacks_stay_pending_with_the_reason(
    handle: Callable[[Event], bool], context: ServiceContext, callbacks: CallbackStore
) -> None:
    received = transfer("12345-NOURL")
    handle(received)
    handle(acted("hotline.accepted", received))
    sender = HotlineSender.configured(context, config=FAST)
    assert sender.send_due() == 0
    [callback] = callbacks.callbacks_of("12345-NOURL")
    assert (callback["status"], callback["attempts"], callback["last_error"]) == ("pending", 0, NO_URL_ERROR)


# delivery ----------------------------------------------------------------------------------------


def test_the_loop_arrives_signed_in_order_and_once_each_although_every_first_attempt_is_refused(
    receiver: Receiver, handle: Callable[[Event], bool], context: ServiceContext, callbacks: CallbackStore
) -> None:
    received = transfer("12345-LOOP")
    for event in loop(received):
        handle(event)
    sender = HotlineSender.configured(context, config=hotline_config(receiver))

    assert drain(sender) == 8, "four callbacks, each refused once"

    assert receiver.events("12345-LOOP") == ["accepted", "progress", "progress", "completed"]
    assert receiver.bad_signatures == 0 and receiver.out_of_order == []
    accepted, plan, progress, completed = receiver.accepted
    assert [c["sequence"] for c in receiver.accepted] == [1, 2, 3, 4]
    assert (accepted["handler"], accepted["at"]) == ("agent-7", "2026-11-23T02:00:00Z")
    assert (plan["note"], progress["note"]) == ("明早清运", "已联系环卫")
    assert completed["resolution"] == "垃圾已清运，门口已冲洗" and completed["handler"] == "eng-1"
    assert completed["at"] == "2026-11-23T02:00:00Z"
    stored = callbacks.callbacks_of("12345-LOOP")
    assert [(c["status"], c["attempts"], c["last_error"]) for c in stored] == [("delivered", 2, None)] * 4
    assert [c["callback_id"] for c in receiver.accepted] == [c["_id"] for c in stored]


def test_each_state_change_is_told_to_intake_through_the_outbox(
    receiver: Receiver, handle: Callable[[Event], bool], context: ServiceContext, callbacks: CallbackStore
) -> None:
    received = transfer("12345-EVENTS")
    handle(received)
    handle(acted("hotline.extension_requested", received, reason="等待配件", until=UNTIL))
    drain(HotlineSender.configured(context, config=hotline_config(receiver)))

    [callback] = callbacks.callbacks_of("12345-EVENTS")
    updates = [e for e in outbox_events(context, "hotline.callback_updated") if e["data"]["callback_id"] == callback["_id"]]
    assert [(u["data"]["state"], u["data"]["attempts"], u["data"]["last_error"]) for u in updates] == [
        ("pending", 0, NO_URL_ERROR),
        ("failing", 1, "HTTP 500 Internal Server Error"),
        ("delivered", 2, None),
    ]
    assert {u["data"]["event"] for u in updates} == {"extension_requested"}
    assert {(u["group_id"], u["estate_id"], u["correlation_id"]) for u in updates} == {("G1", "NS01", received.data["complaint_id"])}
    [delivered] = receiver.accepted
    assert delivered["until"] == "2026-11-30T02:00:00Z" and delivered["note"].startswith("等待配件")


def test_a_failing_callback_backs_off_to_a_cap_and_is_never_given_up(
    receiver: Receiver, handle: Callable[[Event], bool], context: ServiceContext, callbacks: CallbackStore, clock: FrozenClock
) -> None:
    before = REGISTRY.get_sample_value("notifications_total", {"channel": "hotline", "outcome": "retry"}) or 0.0
    receiver.always_failing.add("12345-DOWN")
    received = transfer("12345-DOWN")
    handle(received)
    handle(acted("hotline.returned", received, reason="不属于本物业"))
    sender = HotlineSender.configured(context, config=hotline_config(receiver, retry_scale=1.0, retry_delays=(60.0, 300.0)))

    waits = []
    for _ in range(5):
        assert sender.send_due() == 1
        [callback] = callbacks.callbacks_of("12345-DOWN")
        waits.append(callback["not_before"] - clock())
        assert sender.send_due() == 0, "not due before its back-off"
        clock.advance(callback["not_before"] - clock())
    assert waits == [timedelta(seconds=s) for s in (60, 300, 300, 300, 300)]
    assert (callback["status"], callback["attempts"]) == ("failing", 5)
    assert REGISTRY.get_sample_value("notifications_total", {"channel": "hotline", "outcome": "retry"}) == before + 5

    receiver.always_failing.clear()
    assert drain(sender) == 1
    assert receiver.events("12345-DOWN") == ["returned"] and receiver.accepted[0]["note"] == "不属于本物业"


def test_a_later_callback_waits_until_the_earlier_one_of_its_ticket_is_delivered(
    receiver: Receiver, handle: Callable[[Event], bool], context: ServiceContext, callbacks: CallbackStore, clock: FrozenClock
) -> None:
    receiver.always_failing.add("12345-HELD")
    received = transfer("12345-HELD")
    for event in loop(received)[:3]:
        handle(event)
    sender = HotlineSender.configured(context, config=hotline_config(receiver, retry_scale=1.0))

    for _ in range(3):
        assert sender.send_due() == 1, "the head is retried; the callback behind it is never tried"
        clock.advance(timedelta(minutes=5))
    first, second = callbacks.callbacks_of("12345-HELD")
    assert (first["status"], second["status"], second["attempts"]) == ("failing", "pending", 0)
    assert set(receiver.attempts) == {first["_id"]}

    receiver.always_failing.clear()
    clock.advance(timedelta(minutes=30))
    drain(HotlineSender.configured(context, config=hotline_config(receiver)))
    assert receiver.events("12345-HELD") == ["accepted", "progress"] and receiver.out_of_order == []


def test_a_ticket_whose_callbacks_keep_failing_does_not_block_another(
    receiver: Receiver, handle: Callable[[Event], bool], context: ServiceContext, callbacks: CallbackStore, clock: FrozenClock
) -> None:
    receiver.always_failing.add("12345-STUCK")
    stuck, healthy = transfer("12345-STUCK"), transfer("12345-OK")
    for received in (stuck, healthy):
        handle(received)
        handle(acted("hotline.accepted", received))
    sender = HotlineSender.configured(context, config=hotline_config(receiver, retry_scale=1.0))

    for _ in range(4):
        sender.send_due()
        clock.advance(timedelta(minutes=1))

    assert receiver.events("12345-OK") == ["accepted"]
    [failing] = callbacks.callbacks_of("12345-STUCK")
    assert failing["status"] == "failing" and failing["attempts"] >= 2 and failing["last_error"] == "HTTP 500 Internal Server Error"


def test_a_timeout_is_a_failed_attempt_that_is_retried(
    receiver: Receiver, handle: Callable[[Event], bool], context: ServiceContext, callbacks: CallbackStore, clock: FrozenClock
) -> None:
    receiver.hang_first = 1.0
    received = transfer("12345-SLOW")
    handle(received)
    handle(acted("hotline.accepted", received))
    sender = HotlineSender.configured(context, config=hotline_config(receiver, send_timeout=0.2, retry_scale=1.0))

    assert sender.send_due() == 1
    [callback] = callbacks.callbacks_of("12345-SLOW")
    assert callback["status"] == "failing" and "Timeout" in callback["last_error"]
    clock.advance(timedelta(minutes=1))
    drain(sender)
    assert receiver.events("12345-SLOW") == ["accepted"]


def test_a_closed_connection_is_a_failed_attempt_that_is_retried(
    receiver: Receiver, handle: Callable[[Event], bool], context: ServiceContext, callbacks: CallbackStore, clock: FrozenClock
) -> None:
    receiver.close_first = True
    received = transfer("12345-CLOSE")
    handle(received)
    handle(acted("hotline.accepted", received))
    sender = HotlineSender.configured(context, config=hotline_config(receiver, retry_scale=1.0))

    assert sender.send_due() == 1
    [callback] = callbacks.callbacks_of("12345-CLOSE")
    assert callback["status"] == "failing" and "ConnectionError" in callback["last_error"]
    clock.advance(timedelta(minutes=1))
    drain(sender)
    assert receiver.events("12345-CLOSE") == ["accepted"]


def test_a_wrong_secret_is_refused_by_the_hotline_and_retried(
    receiver: Receiver, handle: Callable[[Event], bool], context: ServiceContext, callbacks: CallbackStore
) -> None:
    received = transfer("12345-FORGED")
    handle(received)
    handle(acted("hotline.accepted", received))
    assert HotlineSender.configured(context, config=hotline_config(receiver, hotline_secret="wrong", retry_scale=1.0)).send_due() == 1
    [callback] = callbacks.callbacks_of("12345-FORGED")
    assert callback["last_error"] == "HTTP 401 Unauthorized" and receiver.bad_signatures == 1 and receiver.accepted == []


def test_two_senders_at_once_keep_each_ticket_in_order_and_send_each_callback_once(
    receiver: Receiver, handle: Callable[[Event], bool], context: ServiceContext, callbacks: CallbackStore
) -> None:
    tickets = [f"12345-PAIR-{n}" for n in range(3)]
    for ticket in tickets:
        for event in loop(transfer(ticket)):
            handle(event)
    senders = [HotlineSender.configured(context, config=hotline_config(receiver)) for _ in range(2)]
    threads = [threading.Thread(target=drain, args=(sender,), kwargs={"passes": 50}) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    for ticket in tickets:
        assert receiver.events(ticket) == ["accepted", "progress", "progress", "completed"]
    assert receiver.out_of_order == [] and receiver.bad_signatures == 0
    assert all(count == 2 for count in receiver.attempts.values()), "each refused once, then accepted once"


# restarts ----------------------------------------------------------------------------------------


def test_a_restarted_sender_does_not_resend_a_delivered_callback(
    receiver: Receiver, handle: Callable[[Event], bool], context: ServiceContext, clock: FrozenClock
) -> None:
    received = transfer("12345-RESTART")
    handle(received)
    handle(acted("hotline.accepted", received))
    drain(HotlineSender.configured(context, config=hotline_config(receiver)))
    assert receiver.events("12345-RESTART") == ["accepted"]
    posted = sum(receiver.attempts.values())

    clock.advance(timedelta(hours=1))
    restarted = HotlineSender.configured(context, config=hotline_config(receiver))
    assert restarted.send_due() == 0
    assert sum(receiver.attempts.values()) == posted


def test_a_sender_that_died_holding_a_callback_is_relieved_when_its_lease_runs_out(
    receiver: Receiver, handle: Callable[[Event], bool], context: ServiceContext, callbacks: CallbackStore, clock: FrozenClock
) -> None:
    received = transfer("12345-CRASH")
    handle(received)
    handle(acted("hotline.accepted", received))
    config = hotline_config(receiver)
    died = callbacks.claim_next(now=clock(), lease_until=clock() + timedelta(seconds=config.send_lease), owner="died-before-recording")
    assert died is not None

    survivor = HotlineSender.configured(context, config=config)
    assert survivor.send_due() == 0, "held by the dead sender's lease"
    clock.advance(timedelta(seconds=config.send_lease + 1))
    drain(survivor)
    assert receiver.events("12345-CRASH") == ["accepted"]
    [callback] = callbacks.callbacks_of("12345-CRASH")
    assert callback["status"] == "delivered"


def test_the_worker_sends_callbacks_from_events_on_the_bus(
    receiver: Receiver, start_worker: Callable[..., Worker], publisher: EventBus, callbacks: CallbackStore
) -> None:
    received = transfer("12345-BUS")
    start_worker(config=hotline_config(receiver))
    for event in loop(received):
        publisher.publish(event)

    wait_for(lambda: len(receiver.events("12345-BUS")) == 4, timeout=20, message="the four callbacks accepted")
    assert receiver.events("12345-BUS") == ["accepted", "progress", "progress", "completed"]
    assert receiver.out_of_order == [] and receiver.bad_signatures == 0
    wait_for(
        lambda: all(c["status"] == "delivered" for c in callbacks.callbacks_of("12345-BUS")), timeout=10, message="recorded as delivered"
    )
