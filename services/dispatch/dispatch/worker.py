"""Dispatch's consumer process: its event handlers, its outbox relay and the SLA escalation scanner.

``python -m dispatch.worker`` runs it until SIGTERM or SIGINT (``propcare_shared.worker``).
"""

from __future__ import annotations

from dispatch.escalation import scanner_loop
from dispatch.handlers import subscriptions
from dispatch.store import INDEXES
from propcare_shared.http.app import ServiceContext
from propcare_shared.worker import PeriodicLoop, Worker, open_service_context, run_service_worker

SERVICE = "dispatch"


def periodic_loops(context: ServiceContext) -> list[PeriodicLoop]:
    """Return the loops the worker runs beside its consumer: the SLA escalation scanner."""
    return [scanner_loop(context)]


def build_worker(context: ServiceContext | None = None) -> Worker:
    """Build dispatch's worker on a context (by default one opened from the environment)."""
    context = context or open_service_context(SERVICE, INDEXES)
    return Worker(context=context, subscriptions=subscriptions(context), loops=periodic_loops(context))


def main() -> None:
    """Run the worker until stopped."""
    run_service_worker(SERVICE, indexes=INDEXES, build=build_worker)


if __name__ == "__main__":
    main()
