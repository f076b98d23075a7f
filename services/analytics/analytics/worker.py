"""Analytics' consumer process: ``python -m analytics.worker`` runs it until SIGTERM or SIGINT.

Its handlers add each event to its estate's month (``$inc`` on one document per estate and month),
so its queues are handled one estate at a time (``lanes="estate"``): complaints of one estate
handled at once would conflict on that document and retry (docs/PERFORMANCE.md, "Workers").
Different estates still overlap, up to ``CONSUMER_CONCURRENCY``.
"""

from __future__ import annotations

import dataclasses

from analytics.service import ANALYTICS
from propcare_shared.events.bus import LANES_BY_ESTATE

ANALYTICS_WORKER = dataclasses.replace(
    ANALYTICS, handlers=tuple(dataclasses.replace(handles, lanes=LANES_BY_ESTATE) for handles in ANALYTICS.handlers)
)
build_worker = ANALYTICS_WORKER.build_worker

if __name__ == "__main__":
    ANALYTICS_WORKER.run_worker()
