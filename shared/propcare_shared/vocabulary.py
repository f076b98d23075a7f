"""The words every service uses of a complaint, declared once beside the event catalogue.

Pure constants. The catalogue's events carry these values; services read them from here rather than
spelling them again (docs/PRODUCT.md: channels, lifecycle, tiers, time limits, departments).
"""

from __future__ import annotations

DEFAULT_TIMEZONE = "Asia/Shanghai"
"""An estate's time zone when the directory names none."""

CHANNELS: tuple[str, ...] = (
    "app",
    "wechat",
    "web",
    "phone",
    "front_desk",
    "grid_visit",
    "owners_committee",
    "email",
    "gov_hotline",
    "open311",
)
RESIDENT_CHANNELS: tuple[str, ...] = ("app", "wechat", "web")
"""Channels a resident files on without a token: the phone page, the app and WeChat."""
STAFF_CHANNELS: tuple[str, ...] = ("phone", "front_desk", "grid_visit", "owners_committee")
"""Channels staff enter complaints on, naming the first responder."""

STATUSES: tuple[str, ...] = ("received", "classified", "assigned", "responded", "in_progress", "on_hold", "resolved", "closed", "cancelled")
"""A complaint's statuses in lifecycle order; ``reopened`` is an action that leads back to ``assigned``."""
OPEN_STATUSES: tuple[str, ...] = ("classified", "assigned", "responded", "in_progress", "on_hold")
"""Statuses of a work order still being handled (SLA clocks may run)."""

TIERS: tuple[str, ...] = ("emergency", "important", "complex", "general")
"""Priority tiers, most urgent first."""
TARGETS: tuple[str, ...] = ("response", "onsite", "plan", "resolve", "follow_up")
"""The time limits a tier may set, in the order they fall due."""

DEPARTMENTS: tuple[str, ...] = ("engineering", "security", "environment", "finance", "customer_service", "management")
