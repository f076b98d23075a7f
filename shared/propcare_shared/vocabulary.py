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

SUBCATEGORIES: dict[str, tuple[str, str, str]] = {
    "elevator": ("facility", "电梯", "Lift"),
    "water": ("facility", "给排水", "Water supply and drainage"),
    "electrical": ("facility", "供电照明", "Power and lighting"),
    "fire_safety": ("facility", "消防/燃气", "Fire safety and gas"),
    "access_control": ("facility", "门禁道闸", "Access control and gates"),
    "public_facility": ("facility", "公共设施", "Public facilities"),
    "cleaning": ("service", "保洁/垃圾清运", "Cleaning and refuse"),
    "security": ("service", "安保值守", "Security guards"),
    "customer_service": ("service", "客服态度/回复", "Customer service"),
    "landscaping": ("service", "绿化", "Landscaping"),
    "property_fee": ("fees", "物业费", "Property fee"),
    "shared_utilities": ("fees", "公摊水电", "Shared utilities"),
    "parking_fee": ("fees", "停车费", "Parking fee"),
    "deposit": ("fees", "押金/退费", "Deposits and refunds"),
    "parking": ("community", "车辆乱停/占位", "Parking"),
    "noise": ("community", "噪音", "Noise"),
    "pets": ("community", "宠物", "Pets"),
    "renovation": ("community", "违规装修", "Renovation"),
    "neighbour": ("community", "邻里纠纷/高空抛物", "Neighbours"),
    "encroachment": ("community", "占用公共空间/堆物", "Encroachment on common areas"),
    "suggestion": ("other", "建议", "Suggestion"),
    "inquiry": ("other", "咨询", "Inquiry"),
    "praise": ("other", "表扬", "Praise"),
}
"""Every subcategory (docs/PRODUCT.md §6): its category and its name in zh-CN and en (Open311's service codes)."""
