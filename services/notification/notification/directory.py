"""What notification keeps of intake's directory, inside the consuming handler's unit of work.

- ``directory.estate.upserted`` stores the estate's name and time zone (with its group and region):
  a campaign message names the estate and its quiet hours end at 07:00 in the estate's zone.
- ``directory.households.imported`` writes the household contact book (``domain.households``): each
  household's sealed ``contact`` is opened here, the phone kept in E.164 and the name dropped. A
  contact that cannot be used is stored without a phone and with the reason (its invitations are then
  skipped with that reason), and one warning per event counts them by reason, without household ids
  (they are addresses) or anything from the contact. The import is never retried for it: a key
  rotated out does not come back.

Both are idempotent: a redelivered event is refused by the inbox, and writing the same entries again
would change nothing. Nothing is sent here.
"""

from __future__ import annotations

import logging
from datetime import datetime

from notification.domain import households
from notification.store import NotificationStore
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.sealing import Sealer
from propcare_shared.vocabulary import DEFAULT_TIMEZONE

log = logging.getLogger(__name__)

ESTATE_UPSERTED = "directory.estate.upserted"
HOUSEHOLDS_IMPORTED = "directory.households.imported"
EVENT_TYPES = (ESTATE_UPSERTED, HOUSEHOLDS_IMPORTED)


def record(tx: Transaction, *, store: NotificationStore, event: Event, now: datetime, sealer: Sealer) -> None:
    """Keep what a directory event tells: an estate, or the contacts of imported households."""
    if event.type == ESTATE_UPSERTED:
        _save_estate(tx, store=store, event=event, now=now)
    elif event.type == HOUSEHOLDS_IMPORTED:
        _save_households(tx, store=store, event=event, now=now, sealer=sealer)


def _save_estate(tx: Transaction, *, store: NotificationStore, event: Event, now: datetime) -> None:
    data = event.data
    estate = {
        "_id": data["estate_id"],
        "name": data["name"],
        "code": data["code"],
        "timezone": data.get("timezone") or DEFAULT_TIMEZONE,
        "group_id": data["group_id"],
        "region_id": data["region_id"],
        "updated_at": now,
    }
    store.save_estate(estate, session=tx.session)


def _save_households(tx: Transaction, *, store: NotificationStore, event: Event, now: datetime, sealer: Sealer) -> None:
    imported = event.data["households"]
    kept = store.household_imports([household["household_id"] for household in imported], session=tx.session)
    entries = households.book_entries(imported, sealer=sealer, imported_at=event.occurred_at, kept=kept, tenancy=event.tenancy.fields())
    store.save_households([{**entry, "event_id": event.id, "updated_at": now} for entry in entries], session=tx.session)
    for problem, count in households.problems(entries).items():
        log.warning(
            "household contacts cannot be used: %s",
            problem,
            extra={"event_id": event.id, "estate_id": event.estate_id, "households": count},
        )
