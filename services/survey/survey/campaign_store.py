"""Survey's MongoDB collections of satisfaction campaigns, and its copy of the directory's households.

With ``store.py`` the only modules of survey that touch MongoDB. Writes that cause events take the
session of a unit of work. Every state change is a conditional update, so two workers (or two
answers) racing change a document once and the loser emits nothing:
- a campaign ``open`` → ``closed`` once (``close_campaign``);
- an online invitation sent once (``invited_at`` unset → now) and reminded once (``reminded_at``);
- an invitation ``pending`` → ``answered`` (``SurveyStore.close_pending``) or ``expired``.

Collections:
- ``households``: ``_id`` = the directory's household id, with its estate (and the estate's group and
  region), building, unit, room, household type and age band, kept from
  ``directory.households.imported``; never a name or phone (the sealed ``contact`` is not kept). A
  version is kept unless a later one (by the event's ``occurred_at``) is kept already.
- ``campaigns``: ``_id`` = campaign id, with its estate's tenancy, the questionnaire's dimensions
  (ids only), the sample's strata and channel counts, its period and status.
- ``invitations`` (shared with the follow-ups, ``kind: "campaign"``): one per sampled household, with
  the household's address and type copied at the draw, its stratum, channel, ``opens_at``,
  ``invited_at``, ``remind_at``, ``reminded_at`` and ``expires_at`` = the campaign's ``closes_at``;
- ``responses`` (shared too): ``_id`` = invitation id, the answer and its comment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.database import Database

from propcare_shared.clock import Clock, utcnow
from propcare_shared.mongo import IndexSpec
from propcare_shared.pagination import paginate

HOUSEHOLDS = "households"
CAMPAIGNS = "campaigns"
INVITATIONS = "invitations"
HOUSEHOLD_FIELDS = ("building", "unit", "room", "household_type", "age_band")

CAMPAIGN_INDEXES: list[IndexSpec] = [
    IndexSpec(HOUSEHOLDS, [("estate_id", ASCENDING), ("_id", ASCENDING)]),
    IndexSpec(CAMPAIGNS, [("group_id", ASCENDING), ("estate_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(CAMPAIGNS, [("status", ASCENDING), ("closes_at", ASCENDING)]),
    IndexSpec(INVITATIONS, [("campaign_id", ASCENDING), ("channel", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(INVITATIONS, [("kind", ASCENDING), ("invited_at", ASCENDING), ("opens_at", ASCENDING)]),
]


class CampaignStore:
    """Reads and writes campaigns, their invitations and survey's copy of the households."""

    def __init__(self, database: Database, *, clock: Clock = utcnow) -> None:
        self.database = database
        self.clock = clock

    # households --------------------------------------------------------------------------------

    def keep_households(
        self, households: Sequence[Mapping[str, Any]], *, tenancy: Mapping[str, Any], as_of: datetime, session: ClientSession
    ) -> int:
        """Upsert households of one estate unless a later version of one is kept already; return how many changed."""
        ids = [str(household["household_id"]) for household in households]
        newer = {
            document["_id"]
            for document in self.database[HOUSEHOLDS].find({"_id": {"$in": ids}, "as_of": {"$gt": as_of}}, {"_id": 1}, session=session)
        }
        writes = [
            UpdateOne(
                {"_id": str(household["household_id"])},
                {"$set": {**{key: household.get(key) for key in HOUSEHOLD_FIELDS}, **tenancy, "as_of": as_of}},
                upsert=True,
            )
            for household in households
            if str(household["household_id"]) not in newer
        ]
        if not writes:
            return 0
        result = self.database[HOUSEHOLDS].bulk_write(writes, ordered=False, session=session)
        return result.upserted_count + result.modified_count

    def households_of(self, estate_id: str, *, session: ClientSession | None = None) -> list[dict[str, Any]]:
        """Return an estate's households, with ``id`` as the sampler reads it."""
        found = self.database[HOUSEHOLDS].find({"estate_id": estate_id}, session=session)
        return [{**document, "id": document["_id"]} for document in found]

    # campaigns ---------------------------------------------------------------------------------

    def insert_campaign(self, campaign: dict[str, Any], invitations: list[dict[str, Any]], *, session: ClientSession) -> None:
        """Store a campaign and its invitations."""
        self.database[CAMPAIGNS].insert_one(campaign, session=session)
        if invitations:
            self.database[INVITATIONS].insert_many(invitations, session=session)

    def campaign(self, campaign_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return a campaign, or ``None``."""
        return self.database[CAMPAIGNS].find_one({"_id": campaign_id}, session=session)

    def list_campaigns(self, *, query: Mapping[str, Any], limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of campaigns, newest first."""
        return paginate(self.database[CAMPAIGNS], dict(query), limit=limit, cursor=cursor)

    def counts(self, campaign_id: str) -> dict[str, Any]:
        """Return a campaign's invitations sent, answers, and answers per stratum (keyed by the stratum's pairs)."""
        invitations = self.database[INVITATIONS]
        invited = invitations.count_documents({"campaign_id": campaign_id, "invited_at": {"$ne": None}})
        by_stratum = invitations.aggregate(
            [{"$match": {"campaign_id": campaign_id, "status": "answered"}}, {"$group": {"_id": "$stratum", "responded": {"$sum": 1}}}]
        )
        responded = {tuple(sorted((document["_id"] or {}).items())): document["responded"] for document in by_stratum}
        return {"invited": invited, "responded": sum(responded.values()), "by_stratum": responded}

    def answered(self, campaign_id: str, *, session: ClientSession) -> int:
        """Return how many of a campaign's invitations are answered."""
        return self.database[INVITATIONS].count_documents({"campaign_id": campaign_id, "status": "answered"}, session=session)

    def due_closings(self, *, now: datetime, limit: int) -> list[str]:
        """Return open campaigns whose ``closes_at`` has come."""
        query = {"status": "open", "closes_at": {"$lte": now}}
        return [document["_id"] for document in self.database[CAMPAIGNS].find(query, {"_id": 1}).limit(limit)]

    def close_campaign(self, campaign_id: str, *, now: datetime, session: ClientSession) -> dict[str, Any] | None:
        """Close an open campaign and expire its pending invitations; ``None`` when it was closed already."""
        closed = self.database[CAMPAIGNS].find_one_and_update(
            {"_id": campaign_id, "status": "open"},
            {"$set": {"status": "closed", "closed_at": now}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if closed is not None:
            self.database[INVITATIONS].update_many(
                {"campaign_id": campaign_id, "status": "pending"}, {"$set": {"status": "expired", "closed_at": now}}, session=session
            )
        return closed

    # campaign invitations ----------------------------------------------------------------------

    def list_invitations(self, *, query: Mapping[str, Any], limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of a campaign's invitations, newest id first."""
        return paginate(self.database[INVITATIONS], dict(query), limit=limit, cursor=cursor)

    def due_openings(self, *, now: datetime, limit: int) -> list[str]:
        """Return campaign invitations not sent yet whose campaign has opened (and not closed)."""
        query = {"kind": "campaign", "invited_at": None, "opens_at": {"$lte": now}, "status": "pending", "expires_at": {"$gt": now}}
        return [document["_id"] for document in self.database[INVITATIONS].find(query, {"_id": 1}).limit(limit)]

    def mark_invited(self, invitation_id: str, *, at: datetime, session: ClientSession) -> dict[str, Any] | None:
        """Mark a campaign invitation sent; ``None`` when it was sent (or closed) meanwhile."""
        return self.database[INVITATIONS].find_one_and_update(
            {"_id": invitation_id, "kind": "campaign", "invited_at": None, "status": "pending"},
            {"$set": {"invited_at": at}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )

    def due_reminders(self, *, now: datetime, limit: int) -> list[str]:
        """Return online campaign invitations sent, still pending and not reminded, whose reminder time has come."""
        query = {
            "kind": "campaign",
            "channel": "online",
            "status": "pending",
            "invited_at": {"$ne": None},
            "reminded_at": None,
            "remind_at": {"$lte": now},
            "expires_at": {"$gt": now},
        }
        return [document["_id"] for document in self.database[INVITATIONS].find(query, {"_id": 1}).limit(limit)]
