"""Survey, declared once: its indexes, routes, handler and the follow-up pass (``propcare_shared.service``).

The pass runs every ``SLA_SCAN_INTERVAL`` seconds (``SurveyConfig.follow_up_interval``): reminders are due 3 days and expiries 7 days after
an invitation, so a pass a minute late changes nothing a resident notices.
"""

from __future__ import annotations

from propcare_shared.context import ServiceContext
from propcare_shared.service import ServiceDefinition
from propcare_shared.worker import PeriodicLoop
from survey.config import SurveyConfig, config_of
from survey.handlers import HANDLERS
from survey.schedule import follow_up_pass
from survey.store import INDEXES


def periodic_loops(context: ServiceContext) -> list[PeriodicLoop]:
    """Return the loops the worker runs beside its consumer: the follow-up reminder and expiry pass."""
    return [PeriodicLoop("survey-follow-ups", config_of(context).follow_up_interval, lambda: follow_up_pass(context))]


SURVEY = ServiceDefinition(
    name="survey",
    title="Propcare survey",
    routes="survey.routes",
    indexes=INDEXES,
    handlers=HANDLERS,
    loops=periodic_loops,
    config=SurveyConfig.from_env,
)
