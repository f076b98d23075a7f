"""Intake's consumer process: the status view's handler and the outbox relay (``complaint.received``,
``directory.*``).

``python -m intake.worker`` runs it until SIGTERM or SIGINT (``propcare_shared.worker``).
"""

from __future__ import annotations

from intake.handlers import subscriptions
from intake.store import INDEXES
from propcare_shared.http.app import ServiceContext
from propcare_shared.worker import Worker, open_service_context, run_service_worker

SERVICE = "intake"


def build_worker(context: ServiceContext | None = None) -> Worker:
    """Build intake's worker on a context (by default one opened from the environment)."""
    context = context or open_service_context(SERVICE, INDEXES)
    return Worker(context=context, subscriptions=subscriptions(context))


def main() -> None:
    """Run the worker until stopped."""
    run_service_worker(SERVICE, indexes=INDEXES, build=build_worker)


if __name__ == "__main__":
    main()
