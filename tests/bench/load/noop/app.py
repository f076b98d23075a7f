"""A no-op endpoint on the kernel's app factory, under the same gunicorn config as the services.

``SERVICE=tests.bench.load.noop`` makes ``propcare_shared.gunicorn_conf`` serve ``create_app()`` here,
so the baseline pays everything a service's request pays (middleware, metrics, JSON) except its work.
``POST /api/v1/noop`` reads the JSON body like a real endpoint does.
"""

from __future__ import annotations

from flask import Flask, jsonify, request

from propcare_shared.http.app import ServiceContext, create_service_app
from propcare_shared.settings import Settings


def create_app() -> Flask:
    """Build the baseline app the way a service's ``create_app`` does."""
    app, _api = create_service_app(ServiceContext.open(Settings.from_env("noop")), title="noop")

    @app.post("/api/v1/noop")
    def noop():  # type: ignore[no-untyped-def]
        request.get_json(silent=True)
        return jsonify(ok=True), 201

    return app
