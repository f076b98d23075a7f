"""Survey's consumer process: the resolve handler, the reminder and expiry pass, the outbox relay.

``python -m survey.worker`` runs it until SIGTERM or SIGINT (``propcare_shared.worker``). The pass
runs every ``SLA_SCAN_INTERVAL`` seconds: reminders are due 3 days and expiries 7 days after an
invitation, so a pass a minute late changes nothing a resident notices.
"""

from __future__ import annotations

from propcare_shared.http.app import ServiceContext
from propcare_shared.worker import PeriodicLoop, Worker, open_service_context, run_service_worker
from survey.handlers import subscriptions
from survey.schedule import follow_up_pass
from survey.store import INDEXES

SERVICE = "survey"


def periodic_loops(context: ServiceContext) -> list[PeriodicLoop]:
    """Return the loops the worker runs beside its consumer: the follow-up reminder and expiry pass."""
    return [PeriodicLoop("survey-follow-ups", context.settings.sla_scan_interval, lambda: follow_up_pass(context))]


def build_worker(context: ServiceContext | None = None) -> Worker:
    """Build survey's worker on a context (by default one opened from the environment)."""
    context = context or open_service_context(SERVICE, INDEXES)
    return Worker(context=context, subscriptions=subscriptions(context), loops=periodic_loops(context))


def main() -> None:
    """Run the worker until stopped."""
    run_service_worker(SERVICE, indexes=INDEXES, build=build_worker)


if __name__ == "__main__":
    main()
