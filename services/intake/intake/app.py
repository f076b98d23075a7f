"""Intake's web app (gunicorn: ``intake.app:create_app()``); tests and the one-process runner pass their own context."""

from __future__ import annotations

from intake.service import INTAKE

create_app = INTAKE.create_app
