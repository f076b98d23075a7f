"""Notification, declared once: its indexes, routes, handler and the dispatch loop (``propcare_shared.service``).

The dispatch loop runs every ``NOTIFY_DISPATCH_INTERVAL`` seconds (``config.NotifyConfig``, read
from the environment and kept on the context) and sends what the handler recorded, through the
providers the configuration names (the log provider for any channel without one). The hotline loop
runs at the same interval and posts the 12345 hotline's callbacks (``hotline_sender``). Tests and the
one-process runner give the loops their own configuration and providers with ``periodic_loops``.
"""

from __future__ import annotations

from notification import gauges as notification_gauges
from notification.config import NotifyConfig, config_of
from notification.dispatcher import Dispatcher
from notification.handlers import HANDLERS
from notification.hotline_sender import HotlineSender
from notification.providers import Providers
from notification.store import INDEXES, RETIRED_INDEXES
from propcare_shared.context import ServiceContext
from propcare_shared.service import ServiceDefinition
from propcare_shared.worker import PeriodicLoop


def periodic_loops(
    context: ServiceContext, *, config: NotifyConfig | None = None, providers: Providers | None = None
) -> list[PeriodicLoop]:
    """Return the loops the worker runs beside its consumer: the dispatch loop (due messages) and the hotline loop (callbacks)."""
    config = config or config_of(context)
    dispatcher = Dispatcher.configured(context, config=config, providers=providers)
    sender = HotlineSender.configured(context, config=config)
    return [
        PeriodicLoop("notification-dispatch", config.dispatch_interval, dispatcher.dispatch_due),
        PeriodicLoop("notification-hotline", config.dispatch_interval, sender.send_due),
    ]


NOTIFICATION = ServiceDefinition(
    name="notification",
    title="Propcare notification",
    routes="notification.routes",
    indexes=INDEXES,
    retired_indexes=RETIRED_INDEXES,
    handlers=HANDLERS,
    loops=periodic_loops,
    config=NotifyConfig.from_env,
    gauges=notification_gauges.scrape_gauges,
)
