"""Who may do what in dispatch: the one table of roles per work-order action and per route.

Pure: role names and ids in, answers out. docs/DISPATCH_ROLES.md is this table in prose. Every check
here comes after the scope rule of the kernel (``propcare_shared.http.auth``): a caller first has to
see the work order or the estate at all (404 for another group's or a missing one, 403 outside their
regions or estates); then their role has to be one listed here (403 naming the roles); then a handler
has to own the work order.

Invariants:
- Every action of the state machine (``dispatch.domain.workflow.ACTIONS``) has exactly one entry.
- ``handler`` acts only on work orders assigned to them, except ``accept`` of an unassigned one
  (which makes them its assignee); the other roles act on any work order within their scope.
- ``agent`` (front desk, customer service) makes contact on behalf of the first responder: it may
  record the first contact (``respond``) and put an order on hold or resume it when the resident asks,
  never cancel, close, reassign or reclassify.
- ``regional_ops`` and ``group_admin`` watch and steer from above: they may ``escalate`` and manage
  policies and calendars, but not work an order themselves.
- ``service`` takes no action over HTTP: the services that change work orders (survey) do it through
  events, and no service client calls the actions route.
"""

from __future__ import annotations

from collections.abc import Mapping

HANDLING = ("handler", "supervisor", "manager")
"""Working an order on the ground: first contact, arrival, plan, progress, resolution."""
CONTACT = ("handler", "agent", "supervisor", "manager")
"""Talking to the resident: the first contact, and putting an order on hold or back at their request."""
STEERING = ("supervisor", "manager")
"""Changing who does what, or whether it is done at all."""

ACTION_ROLES: Mapping[str, tuple[str, ...]] = {
    "accept": HANDLING,
    "respond": CONTACT,
    "arrive": HANDLING,
    "plan": HANDLING,
    "progress": HANDLING,
    "hold": CONTACT,
    "resume": CONTACT,
    "resolve": HANDLING,
    "reassign": STEERING,
    "reclassify": STEERING,
    "escalate": ("supervisor", "manager", "regional_ops", "group_admin"),
    "reopen": STEERING,
    "close": STEERING,
    "cancel": STEERING,
}

OWN_ORDERS_ONLY = frozenset({"handler"})
"""Roles that act only on the work orders assigned to them."""

READERS = ("agent", "handler", "supervisor", "manager", "regional_ops", "group_admin", "service")
"""Who may read work orders, the directory, the preview, policies and calendars, and use the classifier, within scope."""
DIRECTORY_WRITERS = ("supervisor", "manager", "regional_ops", "group_admin", "service")
"""Who may put staff and grids: estate leads, those above them, and a service client syncing the directory."""
POLICY_WRITERS = ("manager", "regional_ops", "group_admin")
"""Who may put SLA policies and calendars: a manager for their estates, regional operations for their
regions and their estates, a group admin for the whole group."""


def roles_for(action: str) -> tuple[str, ...]:
    """Return the roles that may take an action; none for an unknown one."""
    return ACTION_ROLES.get(action, ())


def ownership_refusal(*, role: str, action: str, actor_id: str, assignee_id: str | None) -> str | None:
    """Return why a caller may not act on a work order with this assignee, or None when they may."""
    if role not in OWN_ORDERS_ONLY or assignee_id == actor_id:
        return None
    if assignee_id is None and action == "accept":
        return None
    if assignee_id is None:
        return f"A {role} acts only on work orders assigned to them; accept this unassigned one first."
    return f"A {role} acts only on work orders assigned to them; this one is assigned to someone else."


def roles_acting_for_others(action: str) -> tuple[str, ...]:
    """Return the roles that may take an action on a work order assigned to someone else."""
    return tuple(role for role in roles_for(action) if role not in OWN_ORDERS_ONLY)
