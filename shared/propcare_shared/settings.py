"""Settings read from the environment, with types and defaults.

``Settings`` holds what every Propcare process needs (its database, the broker, tokens, retries,
logging, metrics, the rate-limit window); each service reads what only it needs in its own
``config.py`` with the helpers here (``env_str``, ``env_int``, ...). The table of variables is in
docs/SETTINGS.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

DEFAULT_MONGODB_URL = "mongodb://127.0.0.1:27017/?replicaSet=rs0"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"
MEMORY_BROKER_URL = "memory://"


def env_str(environ: Mapping[str, str], name: str, default: str) -> str:
    """Return the variable as a string, or the default when unset or empty."""
    value = environ.get(name, "")
    return value if value != "" else default


def env_int(environ: Mapping[str, str], name: str, default: int) -> int:
    """Return the variable as an int, naming the variable when it is not one."""
    raw = environ.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def env_float(environ: Mapping[str, str], name: str, default: float) -> float:
    """Return the variable as a float, naming the variable when it is not one."""
    raw = environ.get(name, "")
    if raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def env_floats(environ: Mapping[str, str], name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    """Return a comma-separated list of numbers."""
    raw = environ.get(name, "")
    if raw == "":
        return default
    try:
        return tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"{name} must be comma-separated numbers, got {raw!r}") from exc


def env_strs(environ: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Return a comma-separated list of strings, without empty parts."""
    raw = environ.get(name, "")
    parts = tuple(part.strip() for part in raw.split(",") if part.strip())
    return parts or default


@dataclass(frozen=True)
class Settings:
    """Everything a Propcare process is configured with."""

    service: str
    mongodb_url: str = DEFAULT_MONGODB_URL
    mongodb_database: str = ""
    rabbitmq_url: str = MEMORY_BROKER_URL
    event_exchange: str = "propcare.events"
    queue_prefix: str = ""
    jwt_secret: str = field(default="development-only-secret-change-me-in-prod", repr=False)
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_max_ttl: float = 24 * 3600.0
    port: int = 8080
    log_level: str = "INFO"
    prefetch_count: int = 20
    consumer_concurrency: int = 8
    consumer_batch: int = 8
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)
    max_attempts: int = 5
    confirm_timeout: float = 10.0
    outbox_poll_interval: float = 1.0
    shutdown_grace: float = 20.0
    request_deadline: float = 10.0
    transaction_deadline: float = 30.0
    metrics_port: int = 0
    metrics_dependency_timeout: float = 1.0
    resident_limit_window: float = 600.0
    lookup_limit_per_address: int = 120

    def __post_init__(self) -> None:
        if not self.mongodb_database:
            object.__setattr__(self, "mongodb_database", f"propcare_{self.service}")

    @property
    def embedded_broker(self) -> bool:
        """Tell whether events travel through kombu's in-process memory transport."""
        return self.rabbitmq_url.startswith("memory://")

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with some fields changed (tests and the one-process runner use it)."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None) -> Settings:
        """Build the settings of one service from the environment."""
        env = os.environ if environ is None else environ
        prefix = service.upper()
        return cls(
            service=service,
            mongodb_url=env_str(env, f"{prefix}_MONGODB_URL", env_str(env, "MONGODB_URL", DEFAULT_MONGODB_URL)),
            mongodb_database=env_str(env, f"{prefix}_MONGODB_DATABASE", f"propcare_{service}"),
            rabbitmq_url=env_str(env, "RABBITMQ_URL", MEMORY_BROKER_URL),
            event_exchange=env_str(env, "EVENT_EXCHANGE", "propcare.events"),
            queue_prefix=env_str(env, "QUEUE_PREFIX", ""),
            jwt_secret=env_str(env, "JWT_SECRET", "development-only-secret-change-me-in-prod"),
            jwt_issuer=env_str(env, "JWT_ISSUER", ""),
            jwt_audience=env_str(env, "JWT_AUDIENCE", ""),
            jwt_max_ttl=env_float(env, "JWT_MAX_TTL", 24 * 3600.0),
            port=env_int(env, "PORT", 8080),
            log_level=env_str(env, "LOG_LEVEL", "INFO"),
            prefetch_count=env_int(env, "PREFETCH_COUNT", 20),
            consumer_concurrency=env_int(env, "CONSUMER_CONCURRENCY", 8),
            consumer_batch=env_int(env, "CONSUMER_BATCH", 8),
            retry_delays=env_floats(env, "RETRY_DELAYS", (1.0, 5.0, 30.0, 120.0)),
            max_attempts=env_int(env, "MAX_ATTEMPTS", 5),
            confirm_timeout=env_float(env, "CONFIRM_TIMEOUT", 10.0),
            outbox_poll_interval=env_float(env, "OUTBOX_POLL_INTERVAL", 1.0),
            shutdown_grace=env_float(env, "SHUTDOWN_GRACE", 20.0),
            request_deadline=env_float(env, "REQUEST_DEADLINE", 10.0),
            transaction_deadline=env_float(env, "TRANSACTION_DEADLINE", 30.0),
            metrics_port=env_int(env, "METRICS_PORT", 0),
            metrics_dependency_timeout=env_float(env, "METRICS_DEPENDENCY_TIMEOUT", 1.0),
            resident_limit_window=env_float(env, "RESIDENT_LIMIT_WINDOW", 600.0),
            lookup_limit_per_address=env_int(env, "LOOKUP_LIMIT_PER_ADDRESS", 120),
        )
