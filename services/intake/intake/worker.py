"""Intake's consumer process: its event handlers and its outbox relay.

``python -m intake.worker`` runs it until SIGTERM or SIGINT (``propcare_shared.worker``).
"""

from __future__ import annotations

from propcare_shared.http.app import ServiceContext
from propcare_shared.logs import configure_logging
from propcare_shared.settings import Settings
from propcare_shared.worker import Worker

from intake.handlers import subscriptions
from intake.store import INDEXES


def build_worker(context: ServiceContext | None = None) -> Worker:
    """Build intake's worker on a context (by default one opened from the environment)."""
    if context is None:
        context = ServiceContext.open(Settings.from_env("intake"))
        context.ensure_indexes(INDEXES)
    return Worker(context=context, subscriptions=subscriptions(context))


def main() -> None:
    """Run the worker until stopped."""
    settings = Settings.from_env("intake")
    configure_logging("intake", settings.log_level)
    context = ServiceContext.open(settings)
    context.ensure_indexes(INDEXES)
    build_worker(context).run_forever()


if __name__ == "__main__":
    main()
