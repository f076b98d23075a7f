"""Survey's web app (gunicorn: ``survey.app:create_app()``); tests and the one-process runner pass their own context."""

from __future__ import annotations

from survey.service import SURVEY

create_app = SURVEY.create_app
