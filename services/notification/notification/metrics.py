"""Notification's metric: ``notifications_total{channel,outcome}`` (docs/API.md, Metrics).

``outcome`` is ``sent``, ``failed`` (given up after the last attempt), ``retry`` (an attempt failed,
another is scheduled) or ``skipped`` (recorded but not deliverable, e.g. no phone). The 12345
hotline's callbacks count under ``channel="hotline"`` as ``sent`` or ``retry`` (never ``failed``: they
are never given up).
``channel`` is the delivery channel (six values): labels stay bounded, never a recipient.
"""

from __future__ import annotations

from prometheus_client import Counter

NOTIFICATIONS = Counter("notifications_total", "Notification messages by delivery channel and outcome.", ["channel", "outcome"])
OUTCOMES = ("sent", "failed", "retry", "skipped")


def count(channel: str, outcome: str) -> None:
    """Count one message outcome."""
    NOTIFICATIONS.labels(channel, outcome).inc()
