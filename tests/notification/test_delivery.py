"""Delivery through real servers: e-mail to an aiosmtpd SMTP server, webhooks to a local HTTP
server; failures retried with back-off, then failed with ``notification.failed``; every attempt logged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from prometheus_client import REGISTRY

from infra.local.mongod import free_port
from notification.dispatcher import Dispatcher
from notification.providers import OutgoingMessage, Providers, SmtpProvider, WebhookProvider
from notification.store import NotificationStore
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus
from propcare_shared.events.envelope import Event
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker
from tests.notification.conftest import FAST, TOKEN, Gateway, webhook_config
from tests.notification.factories import (
    EMAIL,
    PHONE,
    PHONE_E164,
    RESOLVE_DUE_LOCAL,
    outbox_events,
    received_event,
    survey_event,
    work_order_event,
)

# SMTP -------------------------------------------------------------------------------------------


class MailBox:
    """An aiosmtpd handler that keeps what it receives and the logins it accepted."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(self, server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        """Accept the test's one user."""
        if isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"notifier", b"s3cret"):
            self.logins.append((auth_data.login, auth_data.password))
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@pytest.fixture
def mailbox() -> Iterator[tuple[MailBox, int]]:
    box = MailBox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=box.authenticate, auth_require_tls=False)
    controller.start()
    yield box, port
    controller.stop()


def test_email_is_delivered_to_a_real_smtp_server(
    mailbox: tuple[MailBox, int], handle: Callable[[Event], bool], context: ServiceContext, store: NotificationStore
) -> None:
    box, port = mailbox
    received = received_event(channel="email", email=EMAIL)
    handle(received)
    handle(work_order_event("complaint.classified", received, action="classify", status="classified"))
    config = FAST.with_overrides(email_from="Propcare <noreply@propcare.test>")
    dispatcher = Dispatcher.configured(
        context, config=config, providers=Providers.configured(config=config, smtp_url=f"smtp://notifier:s3cret@127.0.0.1:{port}")
    )

    assert dispatcher.dispatch_due() == 1

    [envelope] = box.envelopes
    assert envelope.rcpt_tos == [EMAIL] and envelope.mail_from == "noreply@propcare.test"
    assert box.logins == [(b"notifier", b"s3cret")]
    email = message_from_bytes(envelope.original_content or b"", policy=policy.default)
    assert received.data["ticket_no"] in str(email["Subject"])
    body = email.get_body().get_content()  # type: ignore[union-attr]
    assert RESOLVE_DUE_LOCAL in body and "为您解决" in body
    [message] = store.messages_of(received.data["complaint_id"])
    assert (message["status"], message["provider"], message["channel"]) == ("sent", "smtp", "email")
    assert email["X-Propcare-Message-Id"] == message["_id"]
    assert [a["status"] for a in store.attempts_of([message["_id"]])[message["_id"]]] == ["sent"]
    assert [e["data"]["message_id"] for e in outbox_events(context, "notification.sent")] == [message["_id"]]


def test_an_unreachable_smtp_server_is_a_failed_attempt() -> None:
    provider = SmtpProvider(f"smtp://127.0.0.1:{free_port()}", sender="noreply@propcare.test", timeout=2)
    result = provider.send(
        OutgoingMessage(message_id="m1", channel="email", kind="resolved", recipient=EMAIL, title="t", body="b", language="en")
    )
    assert not result.ok and result.provider == "smtp" and result.error and EMAIL not in result.error


def test_smtp_url_must_name_smtp_or_smtps() -> None:
    with pytest.raises(ValueError, match="SMTP_URL"):
        SmtpProvider("http://example.com", sender="x@example.com", timeout=1)


# webhooks ---------------------------------------------------------------------------------------


def test_a_webhook_delivers_with_the_bearer_credential(
    gateway: Gateway, start_worker: Callable[..., Worker], publisher: EventBus, context: ServiceContext, store: NotificationStore
) -> None:
    start_worker(config=webhook_config(gateway))
    received = received_event(channel="app")
    publisher.publish(received)
    publisher.publish(work_order_event("complaint.assigned", received, action="assign", status="assigned"))

    message = wait_for(
        lambda: next((m for m in store.messages_of(received.data["complaint_id"]) if m["status"] == "sent"), None),
        timeout=15,
        message="sent by webhook",
    )
    [request] = gateway.received("/push")
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["Idempotency-Key"] == message["_id"]
    assert request["json"]["to"] == PHONE_E164 and request["json"]["template"] == "acknowledgement"
    assert RESOLVE_DUE_LOCAL in request["json"]["body"]
    assert message["provider"] == "webhook"
    wait_for(lambda: outbox_events(context, "notification.sent"), timeout=10, message="notification.sent in the outbox")


def test_the_resident_receives_the_real_survey_link_that_staff_see_masked(
    gateway: Gateway, handle: Callable[[Event], bool], context: ServiceContext, store: NotificationStore, clock: FrozenClock
) -> None:
    received = received_event(channel="wechat", phone="+86 138-0013-8000")
    handle(received)
    invited = survey_event(received, invitation_id="inv-7")
    handle(invited)
    clock.advance(timedelta(days=1))  # past the quiet hours that always hold survey messages
    assert Dispatcher.configured(context, config=webhook_config(gateway)).dispatch_due() == 1
    [request] = gateway.received("/wechat")
    assert request["json"]["to"] == PHONE_E164 and request["json"]["template"] == "survey_invitation"
    assert invited.data["link"] in request["json"]["body"]
    [message] = store.messages_of(received.data["complaint_id"])
    assert message["status"] == "sent"


def test_a_failing_webhook_is_retried_with_backoff_then_failed(
    gateway: Gateway, handle: Callable[[Event], bool], context: ServiceContext, store: NotificationStore, clock: FrozenClock
) -> None:
    gateway.statuses["/sms"] = 503
    config = webhook_config(gateway, retry_scale=1.0, max_attempts=3)
    dispatcher = Dispatcher.configured(context, config=config)
    before = REGISTRY.get_sample_value("notifications_total", {"channel": "sms", "outcome": "failed"}) or 0.0
    received = received_event(channel="web")
    handle(received)
    handle(work_order_event("complaint.classified", received, action="classify", status="classified"))
    [queued] = store.messages_of(received.data["complaint_id"])

    assert dispatcher.dispatch_due() == 1
    first = store.message(queued["_id"])
    assert (
        first is not None
        and first["status"] == "retrying"
        and first["attempts"] == 1
        and first["last_error"] == "HTTP 503 Service Unavailable"
    )
    assert first["not_before"] == clock() + timedelta(minutes=1)
    assert dispatcher.dispatch_due() == 0, "not due before the back-off"

    clock.advance(timedelta(minutes=1))
    assert dispatcher.dispatch_due() == 1
    second = store.message(queued["_id"])
    assert second is not None and second["status"] == "retrying" and second["not_before"] == clock() + timedelta(minutes=5)

    clock.advance(timedelta(minutes=5))
    assert dispatcher.dispatch_due() == 1
    failed = store.message(queued["_id"])
    assert failed is not None and failed["status"] == "failed" and failed["attempts"] == 3
    assert dispatcher.dispatch_due() == 0

    assert len(gateway.received("/sms")) == 3
    attempts = store.attempts_of([queued["_id"]])[queued["_id"]]
    assert [(a["number"], a["provider"], a["status"], a["error"]) for a in attempts] == [
        (n, "webhook", "failed", "HTTP 503 Service Unavailable") for n in (1, 2, 3)
    ]
    [event] = outbox_events(context, "notification.failed")
    assert event["data"] == {
        **event["data"],
        "message_id": queued["_id"],
        "channel": "sms",
        "attempts": 3,
        "kind": "acknowledgement",
        "complaint_id": received.data["complaint_id"],
    }
    assert not outbox_events(context, "notification.sent")
    assert REGISTRY.get_sample_value("notifications_total", {"channel": "sms", "outcome": "failed"}) == before + 1


def test_a_webhook_that_times_out_is_a_failure(gateway: Gateway) -> None:
    gateway.delay = 1.0
    provider = WebhookProvider(f"{gateway.url}/sms", token=TOKEN, timeout=0.2)
    result = provider.send(
        OutgoingMessage(message_id="m1", channel="sms", kind="resolved", recipient=PHONE, title="t", body="b", language="zh-CN")
    )
    assert not result.ok and result.error and "Timeout" in result.error and PHONE not in result.error


def test_the_retry_runs_in_the_worker_loop_until_the_gateway_recovers(
    gateway: Gateway, start_worker: Callable[..., Worker], handle: Callable[[Event], bool], store: NotificationStore, clock: FrozenClock
) -> None:
    gateway.statuses["/wechat"] = 500
    received = received_event(channel="wechat")
    handle(received)
    handle(work_order_event("complaint.classified", received, action="classify", status="classified"))
    [message] = store.messages_of(received.data["complaint_id"])
    start_worker(config=webhook_config(gateway))

    wait_for(lambda: (store.message(message["_id"]) or {}).get("status") == "retrying", timeout=10, message="first attempt failed")
    gateway.statuses["/wechat"] = 200
    clock.advance(timedelta(seconds=1))
    wait_for(lambda: (store.message(message["_id"]) or {}).get("status") == "sent", timeout=10, message="sent after the retry")
    assert [a["status"] for a in store.attempts_of([message["_id"]])[message["_id"]]] == ["failed", "sent"]


# claiming ---------------------------------------------------------------------------------------


def test_a_claimed_message_is_sent_by_one_dispatcher_and_a_sent_one_never_again(
    make_dispatcher: Callable[..., Dispatcher], handle: Callable[[Event], bool], store: NotificationStore, clock: FrozenClock
) -> None:
    received = received_event()
    handle(received)
    handle(work_order_event("complaint.classified", received, action="classify", status="classified"))
    [message] = store.messages_of(received.data["complaint_id"])
    first, second = make_dispatcher(), make_dispatcher()

    claimed = store.claim_due(now=clock(), lease_until=clock() + timedelta(minutes=2), owner=first.owner)
    assert claimed is not None and claimed["_id"] == message["_id"]
    assert second.dispatch_due() == 0, "claimed by the first"

    clock.advance(timedelta(minutes=3))
    assert second.dispatch_due() == 1, "the first's lease ran out: the second takes over"
    assert store.message(message["_id"])["status"] == "sent"  # type: ignore[index]
    clock.advance(timedelta(hours=1))
    assert first.dispatch_due() == 0 and second.dispatch_due() == 0
