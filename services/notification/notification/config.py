"""Notification's own settings: provider URLs and credentials, the retry schedule, the dispatch loop.

The shared ``Settings`` carries what every process knows; this module reads the variables only
notification uses (``SMTP_URL``, ``PERSONAL_DATA_KEYS``, ``HOTLINE_SECRET``, ``HOTLINE_CALLBACK_URL``
and the ``NOTIFY_*`` ones), through
``propcare_shared.settings`` helpers, from an environ mapping (the process environment when none is
given). The service keeps it on its context (``ServiceContext.config``). With no provider URL set, every channel
goes to the log provider: the development default ``make run`` uses. The variables are listed in
services/notification/README.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from notification.domain.opt_out import OptOutLinks
from propcare_shared.context import ServiceContext
from propcare_shared.sealing import DEVELOPMENT_PERSONAL_DATA_KEY
from propcare_shared.settings import env_float, env_floats, env_int, env_str, env_strs

DEFAULT_RETRY_DELAYS = (60.0, 300.0, 1800.0)
DEFAULT_EMAIL_FROM = "Propcare <noreply@propcare.local>"
DEVELOPMENT_HOTLINE_SECRET = "development-only-hotline-secret-change-me"
DEVELOPMENT_OPT_OUT_SECRET = "development-only-opt-out-secret-change-me"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class NotifyConfig:
    """Where each channel's gateway is and how sending is retried."""

    smtp_url: str = field(default="", repr=False)
    personal_data_keys: tuple[str, ...] = field(default=(DEVELOPMENT_PERSONAL_DATA_KEY,), repr=False)
    push_url: str = ""
    sms_url: str = ""
    wechat_url: str = ""
    staff_url: str = ""
    provider_token: str = field(default="", repr=False)
    email_from: str = DEFAULT_EMAIL_FROM
    send_timeout: float = 10.0
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    retry_scale: float = 1.0
    max_attempts: int = 4
    dispatch_interval: float = 1.0
    send_lease: float = 120.0
    batch_size: int = 100
    hotline_secret: str = field(default=DEVELOPMENT_HOTLINE_SECRET, repr=False)
    hotline_callback_url: str = ""
    opt_out_secret: str = field(default=DEVELOPMENT_OPT_OUT_SECRET, repr=False)
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL

    def __post_init__(self) -> None:
        if not self.retry_delays:
            raise ValueError("NOTIFY_RETRY_DELAYS needs at least one delay")
        if self.max_attempts < 1:
            raise ValueError("NOTIFY_MAX_ATTEMPTS must be at least 1")

    def with_overrides(self, **changes: Any) -> NotifyConfig:
        """Return a copy with some fields changed (tests use it)."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NotifyConfig:
        """Read notification's variables from ``environ`` (the process environment by default)."""
        env = os.environ if environ is None else environ
        return cls(
            smtp_url=env_str(env, "SMTP_URL", ""),
            personal_data_keys=env_strs(env, "PERSONAL_DATA_KEYS", (DEVELOPMENT_PERSONAL_DATA_KEY,)),
            push_url=env_str(env, "NOTIFY_PUSH_URL", ""),
            sms_url=env_str(env, "NOTIFY_SMS_URL", ""),
            wechat_url=env_str(env, "NOTIFY_WECHAT_URL", ""),
            staff_url=env_str(env, "NOTIFY_STAFF_URL", ""),
            provider_token=env_str(env, "NOTIFY_PROVIDER_TOKEN", ""),
            email_from=env_str(env, "NOTIFY_EMAIL_FROM", DEFAULT_EMAIL_FROM),
            send_timeout=env_float(env, "NOTIFY_SEND_TIMEOUT", 10.0),
            retry_delays=env_floats(env, "NOTIFY_RETRY_DELAYS", DEFAULT_RETRY_DELAYS),
            retry_scale=env_float(env, "NOTIFY_RETRY_SCALE", 1.0),
            max_attempts=env_int(env, "NOTIFY_MAX_ATTEMPTS", 4),
            dispatch_interval=env_float(env, "NOTIFY_DISPATCH_INTERVAL", 1.0),
            send_lease=env_float(env, "NOTIFY_SEND_LEASE", 120.0),
            batch_size=env_int(env, "NOTIFY_BATCH_SIZE", 100),
            hotline_secret=env_str(env, "HOTLINE_SECRET", DEVELOPMENT_HOTLINE_SECRET),
            hotline_callback_url=env_str(env, "HOTLINE_CALLBACK_URL", ""),
            opt_out_secret=env_str(env, "NOTIFY_OPT_OUT_SECRET", DEVELOPMENT_OPT_OUT_SECRET),
            public_base_url=env_str(env, "PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL),
        )

    @property
    def opt_out(self) -> OptOutLinks:
        """Return the signer of opt-out links (every resident message carries one; the opt-out page checks it)."""
        return OptOutLinks(secret=self.opt_out_secret, base_url=self.public_base_url)


def config_of(context: ServiceContext) -> NotifyConfig:
    """Return notification's settings kept on its context."""
    config = context.config
    assert isinstance(config, NotifyConfig), "notification's context is configured by NOTIFICATION (notification.service)"
    return config
