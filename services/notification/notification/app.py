"""Notification's web app (gunicorn: ``notification.app:create_app()``); tests and the one-process runner pass their own context."""

from __future__ import annotations

from notification.service import NOTIFICATION

create_app = NOTIFICATION.create_app
