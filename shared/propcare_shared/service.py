"""A service declared once: its name, indexes, routes, handlers and loops; the kernel builds the rest.

Each service writes one ``ServiceDefinition`` (``<service>/service.py``); its ``app.py`` and
``worker.py`` are then one line each, and gunicorn (``<service>.app:create_app()``) and the consumer
process (``python -m <service>.worker``) start it the same way for every service:

- the web app opens the context from the environment after gunicorn's fork, ensures the indexes
  (the kernel's and the service's), and registers the blueprints and the problem table of the
  routes module (``BLUEPRINTS``, and ``PROBLEMS`` when it has one);
- the worker opens its own context, consumes the declared handlers' queues, relays the outbox and
  runs the loops, until SIGTERM or SIGINT. It never imports the routes module, so it never loads Flask.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from propcare_shared.context import ServiceContext
from propcare_shared.handling import Handles, subscriptions
from propcare_shared.logs import configure_logging
from propcare_shared.metrics import GaugeSource
from propcare_shared.mongo import IndexSpec
from propcare_shared.settings import Settings
from propcare_shared.worker import PeriodicLoop, Worker

if TYPE_CHECKING:
    from flask import Flask


def no_loops(_context: ServiceContext) -> list[PeriodicLoop]:
    """Return no periodic loops (for services that only consume)."""
    return []


@dataclass(frozen=True)
class ServiceDefinition:
    """What makes one service: everything its web app and its worker are built from."""

    name: str
    title: str
    routes: str
    """The module holding ``BLUEPRINTS`` (and optionally ``PROBLEMS``), imported by the web app only."""
    indexes: Sequence[IndexSpec] = ()
    retired_indexes: Sequence[tuple[str, str]] = ()
    """``(collection, index name)`` of earlier versions that ``indexes`` replaced: dropped at start."""
    handlers: Sequence[Handles] = ()
    loops: Callable[[ServiceContext], list[PeriodicLoop]] = no_loops
    config: Callable[[Mapping[str, str]], Any] | None = None
    """Reads the service's own settings (its ``config.py``) from an environment; kept on the context."""
    gauges: Callable[[ServiceContext], list[GaugeSource]] = lambda _context: []
    """The service's scrape-time gauges read from its database, exported by its worker (``propcare_shared.worker``)."""

    def configure(self, context: ServiceContext, environ: Mapping[str, str] | None = None) -> ServiceContext:
        """Give a context the service's own settings, read from ``environ`` (the process's), unless it has them."""
        if context.config is None and self.config is not None:
            context.config = self.config(os.environ if environ is None else environ)
        return context

    def open_context(self) -> ServiceContext:
        """Open the service's context from the environment and ensure its indexes."""
        context = ServiceContext.open(Settings.from_env(self.name))
        context.ensure_indexes(self.indexes, retired=self.retired_indexes)
        return self.configure(context)

    def create_app(self, context: ServiceContext | None = None) -> Flask:
        """Build the web app on a context (by default one opened from the environment)."""
        from propcare_shared.http.app import create_service_app

        if context is None:
            context = ServiceContext.open(Settings.from_env(self.name))
        context.ensure_indexes(self.indexes, retired=self.retired_indexes)
        self.configure(context)
        routes = importlib.import_module(self.routes)
        app, _ = create_service_app(context, title=self.title, blueprints=routes.BLUEPRINTS, problems=getattr(routes, "PROBLEMS", None))
        return app

    def build_worker(self, context: ServiceContext | None = None) -> Worker:
        """Build the consumer process on a context (by default one opened from the environment)."""
        if context is None:
            context = self.open_context()
        else:
            context.ensure_indexes(self.indexes, retired=self.retired_indexes)  # idempotent writes rely on unique indexes
            self.configure(context)
        handled = subscriptions(context, self.handlers)
        return Worker(context=context, subscriptions=handled, loops=self.loops(context), gauges=self.gauges(context))

    def run_worker(self) -> None:
        """Run the consumer process until SIGTERM or SIGINT: the ``main`` of ``<service>.worker``."""
        configure_logging(self.name, Settings.from_env(self.name).log_level)
        self.build_worker().run_forever()


def definition_of(service: str) -> ServiceDefinition:
    """Return the definition a service declares in ``<service>.service`` (tools and tests read queues from it)."""
    module = importlib.import_module(f"{service}.service")
    [definition] = [value for value in vars(module).values() if isinstance(value, ServiceDefinition)]
    return definition
