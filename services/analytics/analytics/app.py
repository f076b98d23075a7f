"""Analytics' web app (gunicorn: ``analytics.app:create_app()``); tests and the one-process runner pass their own context."""

from __future__ import annotations

from analytics.service import ANALYTICS

create_app = ANALYTICS.create_app
