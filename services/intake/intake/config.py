"""Intake's own settings: the resident rate limits and the keys that seal contacts on the bus.

Read once from the environment through ``propcare_shared.settings`` helpers and kept on the service's
context (``ServiceContext.config``); docs/SETTINGS.md lists the variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from propcare_shared.context import ServiceContext
from propcare_shared.sealing import DEVELOPMENT_PERSONAL_DATA_KEY
from propcare_shared.settings import env_int, env_strs


@dataclass(frozen=True)
class IntakeConfig:
    """How often residents may file, and how their contacts are sealed."""

    resident_limit_per_address: int = 30
    resident_limit_per_phone: int = 5
    personal_data_keys: tuple[str, ...] = field(default=(DEVELOPMENT_PERSONAL_DATA_KEY,), repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> IntakeConfig:
        """Read intake's variables from an environment."""
        return cls(
            resident_limit_per_address=env_int(environ, "RESIDENT_LIMIT_PER_ADDRESS", 30),
            resident_limit_per_phone=env_int(environ, "RESIDENT_LIMIT_PER_PHONE", 5),
            personal_data_keys=env_strs(environ, "PERSONAL_DATA_KEYS", (DEVELOPMENT_PERSONAL_DATA_KEY,)),
        )


def config_of(context: ServiceContext) -> IntakeConfig:
    """Return intake's settings kept on its context."""
    config = context.config
    assert isinstance(config, IntakeConfig), "intake's context is configured by INTAKE (intake.service)"
    return config
