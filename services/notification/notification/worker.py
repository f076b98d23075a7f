"""Notification's consumer process: the handler that records messages, the dispatch loop that sends
them and the outbox relay (``notification.sent``, ``notification.failed``).

``python -m notification.worker`` runs it until SIGTERM or SIGINT.

Its one ``messages`` queue relies on the broker's order between an estate's directory facts
(``directory.estate.upserted`` before ``directory.households.imported``) and that estate's complaints,
not only within one complaint (``notification.handlers``), so with ``CONSUMER_CONCURRENCY`` lanes it is
handled one estate at a time (``lanes="estate"``); different estates overlap (docs/PERFORMANCE.md, "Workers").
"""

from __future__ import annotations

import dataclasses

from notification.service import NOTIFICATION
from propcare_shared.events.bus import LANES_BY_ESTATE

NOTIFICATION_WORKER = dataclasses.replace(
    NOTIFICATION, handlers=tuple(dataclasses.replace(handles, lanes=LANES_BY_ESTATE) for handles in NOTIFICATION.handlers)
)
build_worker = NOTIFICATION_WORKER.build_worker

if __name__ == "__main__":
    NOTIFICATION_WORKER.run_worker()
