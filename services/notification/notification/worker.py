"""Notification's consumer process: the event handler that records messages, the dispatch loop
that sends them, and the outbox relay (``notification.sent`` and ``notification.failed``).

``python -m notification.worker`` runs it until SIGTERM or SIGINT (``propcare_shared.worker``).
"""

from __future__ import annotations

from notification.config import NotifyConfig
from notification.dispatcher import Dispatcher
from notification.handlers import subscriptions
from notification.providers import Providers
from notification.store import INDEXES, NotificationStore
from propcare_shared.http.app import ServiceContext
from propcare_shared.worker import PeriodicLoop, Worker, open_service_context, run_service_worker

SERVICE = "notification"


def build_dispatcher(context: ServiceContext, *, config: NotifyConfig, providers: Providers | None = None) -> Dispatcher:
    """Build the dispatcher of a context with the configured providers (or the given ones)."""
    providers = providers or Providers.configured(config=config, smtp_url=context.settings.smtp_url)
    return Dispatcher(context=context, store=NotificationStore(context.database), providers=providers, config=config)


def build_worker(
    context: ServiceContext | None = None, *, config: NotifyConfig | None = None, providers: Providers | None = None
) -> Worker:
    """Build notification's worker on a context (by default one opened from the environment)."""
    context = context or open_service_context(SERVICE, INDEXES)
    context.ensure_indexes(INDEXES)  # the unique dedupe key makes recording idempotent; never run without it
    config = config or NotifyConfig.from_env()
    dispatcher = build_dispatcher(context, config=config, providers=providers)
    loops = [PeriodicLoop("notification-dispatch", config.dispatch_interval, dispatcher.dispatch_due)]
    return Worker(context=context, subscriptions=subscriptions(context), loops=loops)


def main() -> None:
    """Run the worker until stopped."""
    run_service_worker(SERVICE, indexes=INDEXES, build=build_worker)


if __name__ == "__main__":
    main()
