"""The hotline sender: posts recorded callbacks to ``HOTLINE_CALLBACK_URL``, signed, in order per ticket, until a 2xx.

Guarantees:
- In order per ticket: only a ticket's head (its first callback not yet delivered) is ever claimed
  (``hotline_store``), so callback n+1 is sent only once callback n was acknowledged with a 2xx.
- Never given up: any other answer, a timeout or a closed connection is a failed attempt; the
  callback is ``failing`` (attempts, last error) and due again after ``NOTIFY_RETRY_DELAYS`` (x
  ``NOTIFY_RETRY_SCALE``), the last delay repeating: a capped back-off, retried forever.
- One ticket does not block another: a failing head waits for its back-off while the heads of
  other tickets are sent (the due heads are taken oldest due first).
- Exactly once in effect: the claim is the lease of notification's dispatcher (``store.claim_leased``),
  the outcome (the callback's new state and ``hotline.callback_updated``) commits in one transaction
  after the receiver answered. A sender that dies between the answer and that commit leaves the
  callback ``sending``; it is sent again when the lease runs out, with the same ``callback_id``, by
  which the receiver drops the repeat. A delivered callback is never claimed again.
- With no ``HOTLINE_CALLBACK_URL`` nothing is claimed: callbacks stay ``pending`` (recorded with
  the last error saying so) and go out once a URL is configured.
- Timestamps are signed from the wall clock (``unix_time``), the one the hotline checks against; the
  back-off runs on the service's clock.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import requests

from notification import metrics
from notification.config import NotifyConfig
from notification.domain import hotline, schedule
from notification.domain.channels import HOTLINE
from notification.hotline_callbacks import emit_updated
from notification.hotline_store import CallbackStore
from notification.providers import ProviderResult
from propcare_shared.context import ServiceContext
from propcare_shared.events.outbox import Transaction
from propcare_shared.logs import correlation

log = logging.getLogger(__name__)

PROVIDER = "hotline"


class HotlineSender:
    """Claims the due head of each ticket and posts it to the hotline."""

    def __init__(
        self,
        *,
        context: ServiceContext,
        store: CallbackStore,
        config: NotifyConfig,
        session: requests.Session | None = None,
        unix_time: Callable[[], float] = time.time,
    ) -> None:
        self.context = context
        self.store = store
        self.config = config
        self.session = session or requests.Session()
        self.unix_time = unix_time
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"

    @classmethod
    def configured(cls, context: ServiceContext, *, config: NotifyConfig) -> HotlineSender:
        """Build the hotline sender of a context."""
        return cls(context=context, store=CallbackStore(context.database), config=config)

    def send_due(self) -> int:
        """Post the callbacks due now, up to one batch; return how many attempts were made."""
        if not self.config.hotline_callback_url:
            return 0
        attempts = 0
        while attempts < self.config.batch_size:
            now = self.context.clock()
            callback = self.store.claim_next(now=now, lease_until=now + timedelta(seconds=self.config.send_lease), owner=self.owner)
            if callback is None:
                break
            with correlation(callback.get("complaint_id")):
                self._deliver(callback)
            attempts += 1
        return attempts

    def post(self, callback: Mapping[str, Any]) -> ProviderResult:
        """Post one callback, signed; a 2xx is a delivery, anything else (or no answer) a failure."""
        body = hotline.body_of(callback)
        secret = self.config.hotline_secret
        headers = hotline.signed_headers(secret=secret, body=body, unix_time=self.unix_time(), callback_id=callback["_id"])
        try:
            response = self.session.post(self.config.hotline_callback_url, data=body, headers=headers, timeout=self.config.send_timeout)
        except requests.RequestException as exc:
            return ProviderResult.failure(PROVIDER, f"{type(exc).__name__}: {exc}")
        if not 200 <= response.status_code < 300:
            return ProviderResult.failure(PROVIDER, f"HTTP {response.status_code} {response.reason or ''}".strip())
        return ProviderResult(provider=PROVIDER, ok=True)

    def _deliver(self, callback: Mapping[str, Any]) -> None:
        try:
            result = self.post(callback)
        except Exception as exc:  # noqa: BLE001 - a bug in posting must not stop the loop; it counts as a failed attempt
            result = ProviderResult.failure(PROVIDER, f"{type(exc).__name__}: {exc}")
        recorded = self.context.uow.run(lambda tx: self._record(tx, callback, result))
        if not recorded:
            log.warning("hotline callback claim lost before the attempt was recorded", extra={"callback_id": callback["_id"]})
            return
        metrics.count(HOTLINE, "sent" if result.ok else "retry")
        if not result.ok:
            log.warning(
                "hotline callback attempt failed",
                extra={"callback_id": callback["_id"], "attempt": callback["attempts"] + 1, "error": result.error},
            )

    def _record(self, tx: Transaction, callback: Mapping[str, Any], result: ProviderResult) -> bool:
        now = self.context.clock()
        number = int(callback.get("attempts", 0)) + 1
        changes: dict[str, Any] = {"updated_at": now}
        if result.ok:
            changes.update(status=hotline.DELIVERED, delivered_at=now, last_error=None)
        else:
            delay = schedule.retry_delay(attempts=number, delays=self.config.retry_delays, scale=self.config.retry_scale)
            changes.update(status=hotline.FAILING, last_error=result.error, not_before=now + delay)
        if not self.store.finish_attempt(callback["_id"], owner=self.owner, changes=changes, session=tx.session):
            return False
        emit_updated(tx, callback={**callback, **changes, "attempts": number}, at=now)
        return True
