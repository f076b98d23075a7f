"""Dispatch's web app (gunicorn: ``dispatch.app:create_app()``): the kernel's app of ``dispatch.service.DISPATCH``.

``create_app()`` opens the context from the environment (after gunicorn's fork); tests and the
one-process runner pass their own context. The open and overdue gauges are not served here: the
worker exports them (``dispatch.metrics.OpenComplaints``), once, whatever the number of web replicas.
"""

from __future__ import annotations

from flask import Flask

from dispatch.service import DISPATCH
from propcare_shared.context import ServiceContext


def create_app(context: ServiceContext | None = None) -> Flask:
    """Build dispatch's Flask app (its indexes ensured)."""
    return DISPATCH.create_app(context)
