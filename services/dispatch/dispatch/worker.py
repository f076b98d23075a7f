"""Dispatch's consumer process: its event handlers, its outbox relay and its periodic loops.

``python -m dispatch.worker`` runs it until SIGTERM or SIGINT (``propcare_shared.worker``).
"""

from __future__ import annotations

from dispatch.escalation import scanner_loop
from dispatch.handlers import subscriptions
from dispatch.store import INDEXES
from propcare_shared.http.app import ServiceContext
from propcare_shared.logs import configure_logging
from propcare_shared.settings import Settings
from propcare_shared.worker import PeriodicLoop, Worker


def periodic_loops(context: ServiceContext) -> list[PeriodicLoop]:
    """Return the loops the worker runs beside its consumer: the SLA escalation scanner."""
    return [scanner_loop(context)]


def build_worker(context: ServiceContext | None = None) -> Worker:
    """Build dispatch's worker on a context (by default one opened from the environment)."""
    if context is None:
        context = ServiceContext.open(Settings.from_env("dispatch"))
        context.ensure_indexes(INDEXES)
    return Worker(context=context, subscriptions=subscriptions(context), loops=periodic_loops(context))


def main() -> None:
    """Run the worker until stopped."""
    settings = Settings.from_env("dispatch")
    configure_logging("dispatch", settings.log_level)
    context = ServiceContext.open(settings)
    context.ensure_indexes(INDEXES)
    build_worker(context).run_forever()


if __name__ == "__main__":
    main()
