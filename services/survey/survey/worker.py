"""Survey's consumer process: the resolve handler, the reminder and expiry pass, the outbox relay.

``python -m survey.worker`` runs it until SIGTERM or SIGINT (``propcare_shared.worker``). The pass
runs every ``SLA_SCAN_INTERVAL`` seconds.
"""

from __future__ import annotations

from propcare_shared.http.app import ServiceContext
from propcare_shared.worker import PeriodicLoop, Worker, open_service_context, run_service_worker
from survey.handlers import subscriptions
from survey.schedule import follow_up_pass
from survey.store import INDEXES

SERVICE = "survey"


def build_worker(context: ServiceContext | None = None) -> Worker:
    """Build survey's worker on a context (by default one opened from the environment)."""
    context = context or open_service_context(SERVICE, INDEXES)
    loops = [PeriodicLoop("survey-follow-ups", context.settings.sla_scan_interval, lambda: follow_up_pass(context))]
    return Worker(context=context, subscriptions=subscriptions(context), loops=loops)


def main() -> None:
    """Run the worker until stopped."""
    run_service_worker(SERVICE, indexes=INDEXES, build=build_worker)


if __name__ == "__main__":
    main()
