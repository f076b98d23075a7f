"""Survey's own settings: where residents' links point and how often the follow-up pass runs.

Read once from the environment through ``propcare_shared.settings`` helpers and kept on the service's
context (``ServiceContext.config``); docs/SETTINGS.md lists the variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from propcare_shared.context import ServiceContext
from propcare_shared.settings import env_float, env_str

DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class SurveyConfig:
    """The gateway's public address for survey links, and the follow-up pass's interval."""

    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    follow_up_interval: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SurveyConfig:
        """Read survey's variables from an environment."""
        return cls(
            public_base_url=env_str(environ, "PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL),
            follow_up_interval=env_float(environ, "SLA_SCAN_INTERVAL", 30.0),
        )


def config_of(context: ServiceContext) -> SurveyConfig:
    """Return survey's settings kept on its context."""
    config = context.config
    assert isinstance(config, SurveyConfig), "survey's context is configured by SURVEY (survey.service)"
    return config
