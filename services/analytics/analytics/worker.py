"""Analytics' consumer process: ``python -m analytics.worker`` runs it until SIGTERM or SIGINT."""

from __future__ import annotations

from analytics.service import ANALYTICS

build_worker = ANALYTICS.build_worker

if __name__ == "__main__":
    ANALYTICS.run_worker()
