"""Intake, declared once: its indexes, routes and status handler (``propcare_shared.service``).

Intake runs no periodic loop: its worker consumes dispatch's ``complaint.*`` for the status view and
relays its outbox (``complaint.received``, ``directory.*``).
"""

from __future__ import annotations

from intake import gauges as intake_gauges
from intake.config import IntakeConfig
from intake.handlers import HANDLERS
from intake.hotline import HOTLINE_HANDLERS
from intake.hotline_store import HOTLINE_INDEXES
from intake.open311.store import INDEXES as OPEN311_INDEXES
from intake.resident_store import RESIDENT_INDEXES
from intake.resident_updates import RESIDENT_HANDLERS
from intake.store import INDEXES, RETIRED_INDEXES
from propcare_shared.service import ServiceDefinition

INTAKE = ServiceDefinition(
    name="intake",
    title="Propcare intake",
    routes="intake.routes",
    indexes=[*INDEXES, *HOTLINE_INDEXES, *OPEN311_INDEXES, *RESIDENT_INDEXES],
    retired_indexes=RETIRED_INDEXES,
    handlers=(*HANDLERS, *HOTLINE_HANDLERS, *RESIDENT_HANDLERS),
    config=IntakeConfig.from_env,
    gauges=intake_gauges.scrape_gauges,
)
