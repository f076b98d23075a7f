"""Intake's web app (gunicorn: ``intake.app:create_app()``); tests and the one-process runner pass their own context.

Beyond the kernel's app it drops the indexes of earlier versions that ``INDEXES`` replaced, and it
trusts one proxy hop (the gateway) for the client address the resident rate limits count.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from intake.service import INTAKE
from intake.store import retire_indexes
from propcare_shared.context import EXTENSION, ServiceContext


def create_app(context: ServiceContext | None = None) -> Flask:
    """Build intake's web app on a context (by default one opened from the environment)."""
    app = INTAKE.create_app(context)
    retire_indexes(app.extensions[EXTENSION].database)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    return app
