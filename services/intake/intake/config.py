"""Intake's own settings: the resident rate limits, the keys that seal contacts on the bus, the hotline's secret.

Read once from the environment through ``propcare_shared.settings`` helpers and kept on the service's
context (``ServiceContext.config``); docs/SETTINGS.md lists the variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from propcare_shared.context import ServiceContext
from propcare_shared.sealing import DEVELOPMENT_PERSONAL_DATA_KEY
from propcare_shared.settings import env_int, env_str, env_strs

DEVELOPMENT_HOTLINE_SECRET = "development-only-hotline-secret-change-me"  # laptops and tests only, as notification's


@dataclass(frozen=True)
class IntakeConfig:
    """Residents' rate limits, the keys sealing contacts, the 12345 hotline's secret and triage, the households import's batches."""

    resident_limit_per_address: int = 30
    resident_limit_per_phone: int = 5
    personal_data_keys: tuple[str, ...] = field(default=(DEVELOPMENT_PERSONAL_DATA_KEY,), repr=False)
    hotline_secret: str = field(default=DEVELOPMENT_HOTLINE_SECRET, repr=False)
    hotline_triage_group: str = ""
    import_batch_rows: int = 1000
    import_sync_rows: int = 5000

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> IntakeConfig:
        """Read intake's variables from an environment."""
        return cls(
            resident_limit_per_address=env_int(environ, "RESIDENT_LIMIT_PER_ADDRESS", 30),
            resident_limit_per_phone=env_int(environ, "RESIDENT_LIMIT_PER_PHONE", 5),
            personal_data_keys=env_strs(environ, "PERSONAL_DATA_KEYS", (DEVELOPMENT_PERSONAL_DATA_KEY,)),
            hotline_secret=env_str(environ, "HOTLINE_SECRET", DEVELOPMENT_HOTLINE_SECRET),
            hotline_triage_group=env_str(environ, "HOTLINE_TRIAGE_GROUP", ""),
            import_batch_rows=env_int(environ, "IMPORT_BATCH_ROWS", 1000),
            import_sync_rows=env_int(environ, "IMPORT_SYNC_ROWS", 5000),
        )


def config_of(context: ServiceContext) -> IntakeConfig:
    """Return intake's settings kept on its context."""
    config = context.config
    assert isinstance(config, IntakeConfig), "intake's context is configured by INTAKE (intake.service)"
    return config
