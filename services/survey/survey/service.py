"""Survey, declared once: its indexes, routes, handler and the follow-up pass (``propcare_shared.service``).

The pass runs every ``SLA_SCAN_INTERVAL`` seconds: reminders are due 3 days and expiries 7 days after
an invitation, so a pass a minute late changes nothing a resident notices.
"""

from __future__ import annotations

from propcare_shared.context import ServiceContext
from propcare_shared.service import ServiceDefinition
from propcare_shared.worker import PeriodicLoop
from survey.handlers import HANDLERS
from survey.schedule import follow_up_pass
from survey.store import INDEXES


def periodic_loops(context: ServiceContext) -> list[PeriodicLoop]:
    """Return the loops the worker runs beside its consumer: the follow-up reminder and expiry pass."""
    return [PeriodicLoop("survey-follow-ups", context.settings.sla_scan_interval, lambda: follow_up_pass(context))]


SURVEY = ServiceDefinition(
    name="survey", title="Propcare survey", routes="survey.routes", indexes=INDEXES, handlers=HANDLERS, loops=periodic_loops
)
