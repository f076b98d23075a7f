"""Notification's consumer process: the handler that records messages, the dispatch loop that sends
them and the outbox relay (``notification.sent``, ``notification.failed``).

``python -m notification.worker`` runs it until SIGTERM or SIGINT.
"""

from __future__ import annotations

from notification.service import NOTIFICATION

build_worker = NOTIFICATION.build_worker

if __name__ == "__main__":
    NOTIFICATION.run_worker()
