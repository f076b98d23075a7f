"""The dispatch loop: sends due messages, logs every attempt, retries with back-off, then gives up.

Guarantees:
- A message is sent only by the dispatcher that claimed it: the claim is one atomic update
  (``queued``/``retrying`` → ``sending`` with a lease), so two worker replicas never send it twice.
- A message recorded as ``sent`` is never claimed again. The outcome of an attempt (the message's
  new state, the attempt log entry and ``notification.sent`` or ``notification.failed``) commits in
  one transaction, after the provider answered.
- A dispatcher that dies between the provider's answer and that commit leaves the message ``sending``;
  when its lease runs out another dispatcher claims and sends it again. Delivery is therefore at
  least once; webhook gateways get the message id as ``Idempotency-Key`` to drop such repeats.
- A failed attempt is retried after ``retry_delays`` (x ``retry_scale``); after ``max_attempts``
  attempts the message is ``failed`` and ``notification.failed`` is emitted. A resident's retry is
  held by quiet hours like the first attempt.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from notification import metrics
from notification.config import NotifyConfig
from notification.domain import schedule
from notification.providers import OutgoingMessage, ProviderResult, Providers
from notification.store import FAILED, RETRYING, SENT, NotificationStore
from propcare_shared.context import ServiceContext
from propcare_shared.events.outbox import Transaction
from propcare_shared.logs import correlation
from propcare_shared.tenancy import Tenancy

log = logging.getLogger(__name__)


class Dispatcher:
    """Claims due messages one at a time and delivers them through their channel's provider."""

    def __init__(self, *, context: ServiceContext, store: NotificationStore, providers: Providers, config: NotifyConfig) -> None:
        self.context = context
        self.store = store
        self.providers = providers
        self.config = config
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"

    @classmethod
    def configured(cls, context: ServiceContext, *, config: NotifyConfig, providers: Providers | None = None) -> Dispatcher:
        """Build the dispatcher of a context with the configured providers (or the given ones)."""
        providers = providers or Providers.configured(config=config, smtp_url=config.smtp_url)
        store = NotificationStore(context.database, clock=context.clock)
        return cls(context=context, store=store, providers=providers, config=config)

    def dispatch_due(self) -> int:
        """Send the messages due now, up to one batch; return how many attempts were made."""
        attempts = 0
        while attempts < self.config.batch_size:
            now = self.context.clock()
            message = self.store.claim_due(now=now, lease_until=now + timedelta(seconds=self.config.send_lease), owner=self.owner)
            if message is None:
                break
            with correlation(message.get("complaint_id")):
                self._deliver(message)
            attempts += 1
        return attempts

    def _deliver(self, message: Mapping[str, Any]) -> None:
        provider = self.providers.for_channel(message["channel"])
        try:
            result = provider.send(OutgoingMessage.from_document(message))
        except Exception as exc:  # noqa: BLE001 - a provider bug must not stop the loop; it counts as a failed attempt
            result = ProviderResult.failure(provider.name, f"{type(exc).__name__}: {exc}")
        outcome = self.context.uow.run(lambda tx: self._record(tx, message, result))
        if outcome is None:
            log.warning("notification claim lost before the attempt was recorded", extra={"message_id": message["_id"]})
            return
        metrics.count(message["channel"], outcome)
        if outcome != "sent":
            log.warning(
                "notification attempt failed",
                extra={
                    "message_id": message["_id"],
                    "channel": message["channel"],
                    "provider": result.provider,
                    "attempt": message["attempts"] + 1,
                    "outcome": outcome,
                    "error": result.error,
                },
            )

    def _record(self, tx: Transaction, message: Mapping[str, Any], result: ProviderResult) -> str | None:
        now = self.context.clock()
        number = int(message.get("attempts", 0)) + 1
        changes: dict[str, Any] = {"provider": result.provider, "updated_at": now}
        if result.ok:
            outcome, event_type = "sent", "notification.sent"
            changes.update(status=SENT, sent_at=now, last_error=None)
        elif number >= self.config.max_attempts:
            outcome, event_type = "failed", "notification.failed"
            changes.update(status=FAILED, failed_at=now, last_error=result.error)
        else:
            outcome, event_type = "retry", None
            due = now + schedule.retry_delay(attempts=number, delays=self.config.retry_delays, scale=self.config.retry_scale)
            changes.update(
                status=RETRYING,
                last_error=result.error,
                not_before=schedule.not_before(at=due, timezone=message.get("timezone"), quiet_hours=bool(message.get("quiet_hours"))),
            )
        self.store.insert_attempt(
            {
                "message_id": message["_id"],
                "number": number,
                "provider": result.provider,
                "channel": message["channel"],
                "status": "sent" if result.ok else "failed",
                "error": result.error,
                "at": now,
            },
            session=tx.session,
        )
        if not self.store.finish_attempt(message["_id"], owner=self.owner, changes=changes, session=tx.session):
            return None
        if event_type is not None:
            tx.emit(
                event_type,
                data={
                    "message_id": message["_id"],
                    "kind": message["kind"],
                    "channel": message["channel"],
                    "provider": result.provider,
                    "complaint_id": message.get("complaint_id"),
                    "attempts": number,
                    "error": result.error,
                },
                correlation_id=message.get("complaint_id"),
                tenancy=Tenancy.of(message),
            )
        return outcome
