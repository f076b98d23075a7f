"""Dispatch's own settings: how often the SLA escalation scanner looks for steps that fell due, how long routing's cache keeps an entry.

Read once from the environment through ``propcare_shared.settings`` helpers and kept on the service's
context (``ServiceContext.config``); docs/SETTINGS.md lists the variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from propcare_shared.context import ServiceContext
from propcare_shared.settings import env_float


@dataclass(frozen=True)
class DispatchConfig:
    """The escalation scanner's interval; the routing cache's lifetime (``dispatch.cache``; 0 turns it off)."""

    sla_scan_interval: float = 30.0
    routing_cache_seconds: float = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DispatchConfig:
        """Read dispatch's variables from an environment."""
        return cls(
            sla_scan_interval=env_float(environ, "SLA_SCAN_INTERVAL", 30.0),
            routing_cache_seconds=env_float(environ, "ROUTING_CACHE_SECONDS", 5.0),
        )


def config_of(context: ServiceContext) -> DispatchConfig:
    """Return dispatch's settings kept on its context."""
    config = context.config
    assert isinstance(config, DispatchConfig), "dispatch's context is configured by DISPATCH (dispatch.service)"
    return config
