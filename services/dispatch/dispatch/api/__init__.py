"""Dispatch's HTTP API (the API contract), one module per concept.

``directory`` (staff and grids of an estate), ``work_orders`` (lists, reads and actions),
``classify`` (the classifier), ``sla`` (the preview), ``policies`` (SLA policies and calendars of
groups, regions and estates); ``common`` is what their views share. The refusals of an action
are answered by one table, ``PROBLEMS``, which the kernel registers on the app.

Views parse with a schema, check the caller's scope with the kernel's one rule, then their role
(``dispatch.domain.roles``), call the store or ``work_orders`` and dump with a schema. Guarantees:
- Lists are filtered by ``current_principal().query()`` (always the caller's group), narrowed by
  ``scoped_query`` for an ``estate_id`` filter; single records and estates go through
  ``require_visible``: 404 for another group's or a missing one (an estate dispatch has not heard of
  reads like another group's), 403 for one of the caller's group outside their regions or estates.
- ``region:R1`` in a URL is the caller's group's R1, stored under ``region:G1/R1``.
- The actor of an action is the token's ``sub``; a body ``actor_id`` naming anyone else is a 422.
- An action is checked for scope, role and ownership before its ``Idempotency-Key`` is looked at,
  and refused inside the unit of work, before any write, when the order changed meanwhile.
A policy or calendar put for a scope applies to the work orders made or timed afterwards (new
complaints, reclassifications, reopens, follow-ups) and to the preview; deadlines already set stay.
"""

from __future__ import annotations

from dispatch.api.classify import classifier
from dispatch.api.directory import directory
from dispatch.api.policies import calendars, policies
from dispatch.api.sla import sla
from dispatch.api.work_orders import PROBLEMS, orders

BLUEPRINTS = (directory, orders, classifier, sla, policies, calendars)

__all__ = ["BLUEPRINTS", "PROBLEMS"]
