"""Survey, declared once: its indexes, routes, handlers and the follow-up and campaign passes (``propcare_shared.service``).

Both passes run every ``SLA_SCAN_INTERVAL`` seconds (``SurveyConfig.follow_up_interval``): reminders are due days after an invitation,
and a campaign's invitations go out and its close happens at most one interval after ``opens_at`` and ``closes_at``; answers are
refused from ``closes_at`` on whether or not the pass has run.
"""

from __future__ import annotations

from propcare_shared.context import ServiceContext
from propcare_shared.service import ServiceDefinition
from propcare_shared.worker import PeriodicLoop
from survey.config import SurveyConfig, config_of
from survey.handlers import HANDLERS
from survey.schedule import campaign_pass, follow_up_pass
from survey.store import INDEXES, RETIRED_INDEXES


def periodic_loops(context: ServiceContext) -> list[PeriodicLoop]:
    """Return the loops the worker runs beside its consumer: the follow-up pass and the campaign pass."""
    interval = config_of(context).follow_up_interval
    return [
        PeriodicLoop("survey-follow-ups", interval, lambda: follow_up_pass(context)),
        PeriodicLoop("survey-campaigns", interval, lambda: campaign_pass(context)),
    ]


SURVEY = ServiceDefinition(
    name="survey",
    title="Propcare survey",
    routes="survey.routes",
    indexes=INDEXES,
    retired_indexes=RETIRED_INDEXES,
    handlers=HANDLERS,
    loops=periodic_loops,
    config=SurveyConfig.from_env,
)
