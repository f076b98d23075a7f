"""How a message reaches its recipient: the delivery channel, the address and a call task
(docs/PRODUCT.md §8, Which channel answers the resident).

Residents are answered on the channel they complained on:
- ``app`` → app push, ``wechat`` → a WeChat message (both gateways know the resident by phone);
- ``phone`` → an SMS and a call task for an agent;
- ``email`` → an e-mail (an SMS when no address is known);
- ``gov_hotline`` → the hotline's callbacks: a transfer's resident gets no message here
  (``messages``), and a ``gov_hotline`` complaint without a hotline ticket (typed in by staff) has no
  callback to answer through, so its messages are recorded as skipped with the reason;
- every other channel (web, front_desk, grid_visit, owners_committee, open311) → an SMS when a phone is known.
Important and emergency complaints also get a call task: written and verbal feedback (书面+口头).
A message that cannot be delivered (no address) is recorded as skipped, never silently dropped, with
the reason the contact gave (no phone known, a phone that is not a number, a contact unreadable).
Phones go out in E.164 only: a phone stored in another form (a contact kept before E.164) is
normalised here, and one that is not a valid number is treated as none.

A satisfaction campaign's invitation goes by SMS to the household's phone (``household_route``): a
household has no complaint channel, and intake's households import knows only a phone.

Staff contacts live in dispatch's directory, not here: a staff message is addressed to a role
(``role:supervisor``) or a staff id (``staff:eng-1``) on the ``staff`` channel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from notification.domain.contact import phone_or_problem

APP_PUSH = "app_push"
WECHAT = "wechat"
SMS = "sms"
EMAIL = "email"
HOTLINE = "hotline"
STAFF = "staff"
DELIVERY_CHANNELS = (APP_PUSH, WECHAT, SMS, EMAIL, HOTLINE, STAFF)

VERBAL_FEEDBACK_TIERS = frozenset({"important", "emergency"})
HOTLINE_SKIP_REASON = "a gov_hotline complaint without a hotline ticket id: no hotline callback can answer it"
NO_PHONE_REASON = "no phone number is known for this complaint"
HOUSEHOLD_NO_PHONE_REASON = "no phone number is known for this household (none in its latest households import)"
ESCALATION_ROLES = {0: "supervisor", 1: "supervisor", 2: "manager", 3: "regional_ops"}


@dataclass(frozen=True)
class Route:
    """Where one resident message goes; ``skip_reason`` set when it cannot be sent."""

    channel: str
    recipient: str | None
    skip_reason: str | None = None
    call_task_reason: str | None = None


def resident_route(
    *, complaint_channel: str | None, phone: str | None, email: str | None, tier: str | None, contact_problem: str | None = None
) -> Route:
    """Return the delivery channel, the address (a phone in E.164) and whether an agent should also call."""
    phone, phone_problem = phone_or_problem(phone)
    missing = contact_problem or phone_problem or NO_PHONE_REASON
    call_task_reason = _call_task_reason(complaint_channel, tier) if phone else None
    if complaint_channel == "gov_hotline":
        return Route(HOTLINE, None, skip_reason=HOTLINE_SKIP_REASON)
    if complaint_channel == "app":
        return _to_phone(APP_PUSH, phone, call_task_reason, missing)
    if complaint_channel == "wechat":
        return _to_phone(WECHAT, phone, call_task_reason, missing)
    if complaint_channel == "email" and email:
        return Route(EMAIL, email, call_task_reason=call_task_reason)
    return _to_phone(SMS, phone, call_task_reason, missing)


def household_route(*, phone: str | None, contact_problem: str | None) -> Route:
    """Return where a campaign invitation goes: an SMS to the household's phone in E.164, else skipped with the reason."""
    phone, phone_problem = phone_or_problem(phone)
    return _to_phone(SMS, phone, None, contact_problem or phone_problem or HOUSEHOLD_NO_PHONE_REASON)


def _to_phone(channel: str, phone: str | None, call_task_reason: str | None, missing: str) -> Route:
    if phone is None:
        return Route(channel, None, skip_reason=missing)
    return Route(channel, phone, call_task_reason=call_task_reason)


def _call_task_reason(complaint_channel: str | None, tier: str | None) -> str | None:
    if complaint_channel == "gov_hotline":
        return None
    if complaint_channel == "phone":
        return "phone_channel"
    if tier in VERBAL_FEEDBACK_TIERS:
        return "verbal_feedback"
    return None


def staff_recipients(*, roles: Iterable[str], assignee_id: str | None, level: int) -> list[str]:
    """Return the staff addresses of an alert: the assignee, then each role (the level's role if none)."""
    recipients = [f"staff:{assignee_id}"] if assignee_id else []
    named_roles = [role for role in roles if role]
    if not named_roles and (level > 0 or not recipients):
        named_roles = [ESCALATION_ROLES.get(level, "regional_ops")]
    for role in named_roles:
        address = f"role:{role}"
        if address not in recipients:
            recipients.append(address)
    return recipients
