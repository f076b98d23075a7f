"""A minimal Propcare app for the gunicorn tests: the kernel's factory plus a route that names its worker."""

from __future__ import annotations

import os

from flask import Flask, jsonify

from propcare_shared.http.app import ServiceContext, create_service_app
from propcare_shared.settings import Settings


def create_app() -> Flask:
    """Build the probe app the way a service's create_app does."""
    app, _api = create_service_app(ServiceContext.open(Settings.from_env("probe")), title="probe")

    @app.get("/api/v1/probe")
    def probe():  # type: ignore[no-untyped-def]
        return jsonify(pid=os.getpid())

    return app
