"""Survey's event handlers: a follow-up invitation for every resolved complaint, and its copies of the directory.

The kernel runs each handler in a unit of work with the inbox (``propcare_shared.handling``), so a
redelivered event has no second effect.
- Queue ``complaint-resolved``: one resolve (complaint id and ``seq``) makes one invitation however
  often it arrives.
- Queue ``households``: ``directory.households.imported`` upserts the estate's households (by
  household id; a version older than the one kept is ignored) for the campaigns' samples. The sealed
  ``contact`` is not kept: survey never needs a resident's name or phone (notification sends the links).
- Queue ``estate-upserted``: the kernel's copy of the estates (``keeps_estates``), so a campaign knows
  its estate's group and region.
"""

from __future__ import annotations

import logging
from typing import Any

from propcare_shared.context import ServiceContext
from propcare_shared.directory import keeps_estates
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.handling import Handles
from propcare_shared.tenancy import Tenancy
from survey import followups
from survey.campaign_store import CampaignStore
from survey.store import SurveyStore

log = logging.getLogger(__name__)


def on_complaint_resolved(context: ServiceContext, tx: Transaction, event: Event) -> dict[str, Any] | None:
    """Invite the resident to the follow-up survey of a resolved complaint."""
    store = SurveyStore(context.database, clock=context.clock)
    return followups.invite(tx, store=store, context=context, event=event, now=context.clock())


def _log_invitation(_context: ServiceContext, event: Event, invitation: dict[str, Any] | None) -> None:
    log.info(
        "follow-up invitation made" if invitation else "follow-up invitation exists already",
        extra={"complaint_id": event.data["complaint_id"], "invitation_id": invitation["_id"] if invitation else None},
    )


def on_households_imported(context: ServiceContext, tx: Transaction, event: Event) -> int:
    """Keep the households of an estate the directory imported (never their contact)."""
    tenancy = Tenancy(group_id=event.group_id, region_id=event.region_id, estate_id=event.estate_id).fields()
    return CampaignStore(context.database).keep_households(
        event.data["households"], tenancy=tenancy, as_of=event.occurred_at, session=tx.session
    )


def _log_households(_context: ServiceContext, event: Event, changed: int) -> None:
    log.info("households kept", extra={"estate_id": event.estate_id, "households": len(event.data["households"]), "changed": changed})


HANDLERS = (
    Handles("complaint-resolved", ("complaint.resolved",), on_complaint_resolved, after=_log_invitation),
    Handles("households", ("directory.households.imported",), on_households_imported, after=_log_households),
    keeps_estates(),
)
