"""Survey's MongoDB database: follow-up invitations and their responses.

The only module of survey that touches MongoDB. Writes that cause events take the session of a unit
of work. State changes are conditional updates on the invitation's ``status`` (``pending`` →
``answered`` / ``expired`` / ``withdrawn``) and on ``reminded_at``, so two answers, two reminder
loops or two expiry loops racing on one invitation change it once: the loser's update matches
nothing and it emits nothing.

Collections:
- ``invitations``: ``_id`` = invitation id; one per resolve of a complaint (unique on complaint id
  and the resolve event's ``seq``), with its channel, tenancy, times and status;
- ``responses``: ``_id`` = invitation id (one response per invitation), the answer, its channel
  and, for an answer staff recorded, ``recorded_by`` (the token's ``sub``); the invitation keeps
  the answer's ``answer_channel`` and ``recorded_by`` too, for the staff list;
- campaigns, their invitations (``kind: "campaign"`` in ``invitations``) and the households copy:
  ``campaign_store.py``; the follow-up pass here only ever takes ``kind: "follow_up"``;
- ``questionnaires``: ``_id`` = questionnaire id; group-wide (``group_id``), with ``version``,
  ``previous_id`` (unique: one successor per version) and ``used_by_campaigns``. An unused one is
  replaced by a conditional update on ``used_by_campaigns`` being empty, so a campaign taking it up
  meanwhile turns the change into a new version instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database

from propcare_shared import directory
from propcare_shared.clock import Clock, utcnow
from propcare_shared.mongo import IndexSpec
from propcare_shared.pagination import paginate
from survey.campaign_store import CAMPAIGN_INDEXES

INVITATIONS = "invitations"
RESPONSES = "responses"
QUESTIONNAIRES = "questionnaires"

INDEXES: list[IndexSpec] = [
    IndexSpec(
        INVITATIONS,
        [("complaint_id", ASCENDING), ("resolve_seq", ASCENDING)],
        {"unique": True, "partialFilterExpression": {"kind": "follow_up"}},
    ),
    IndexSpec(INVITATIONS, [("complaint_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(INVITATIONS, [("estate_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(INVITATIONS, [("group_id", ASCENDING), ("region_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(INVITATIONS, [("status", ASCENDING), ("expires_at", ASCENDING)]),
    # Reminders due, of follow-ups (``due_reminders``) or of campaigns (``CampaignStore.due_reminders``): ``kind`` first,
    # so neither worker reads the other's pending invitations.
    IndexSpec(INVITATIONS, [("kind", ASCENDING), ("status", ASCENDING), ("reminded_at", ASCENDING), ("remind_at", ASCENDING)]),
    # Lists newest first for an estate or a group, with or without a status.
    IndexSpec(INVITATIONS, [("estate_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(INVITATIONS, [("group_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(INVITATIONS, [("group_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(QUESTIONNAIRES, [("group_id", ASCENDING), ("_id", DESCENDING)]),
    # One successor per version: two changes racing on a questionnaire in use make one new version, not two.
    IndexSpec(
        QUESTIONNAIRES, [("previous_id", ASCENDING)], {"unique": True, "partialFilterExpression": {"previous_id": {"$type": "string"}}}
    ),
    *CAMPAIGN_INDEXES,
    *directory.INDEXES,
]
RETIRED_INDEXES: list[tuple[str, str]] = [(INVITATIONS, "status_1_reminded_at_1_remind_at_1")]
"""Indexes of earlier versions that those above replace (the reminders' index, now led by ``kind``)."""


class SurveyStore:
    """Reads and writes survey's database."""

    def __init__(self, database: Database, *, clock: Clock = utcnow) -> None:
        self.database = database
        self.clock = clock

    def invitation(self, invitation_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return an invitation, or ``None``."""
        return self.database[INVITATIONS].find_one({"_id": invitation_id}, session=session)

    def follow_up_since(self, *, complaint_id: str, resolve_seq: int, session: ClientSession) -> dict[str, Any] | None:
        """Return a follow-up invitation made for this resolve of a complaint or a later one."""
        return self.database[INVITATIONS].find_one(
            {"complaint_id": complaint_id, "resolve_seq": {"$gte": resolve_seq}, "kind": "follow_up"}, session=session
        )

    def insert_invitation(self, document: dict[str, Any], *, session: ClientSession) -> None:
        """Store a new invitation."""
        self.database[INVITATIONS].insert_one(document, session=session)

    def withdraw_pending(self, *, complaint_id: str, before_seq: int, now: datetime, session: ClientSession) -> int:
        """Withdraw the pending follow-ups of earlier resolves of a complaint; return how many."""
        result = self.database[INVITATIONS].update_many(
            {"complaint_id": complaint_id, "kind": "follow_up", "status": "pending", "resolve_seq": {"$lt": before_seq}},
            {"$set": {"status": "withdrawn", "closed_at": now}},
            session=session,
        )
        return result.modified_count

    def close_pending(
        self, invitation_id: str, *, status: str, at: datetime, session: ClientSession, **changes: Any
    ) -> dict[str, Any] | None:
        """Move a pending invitation to ``status``; return it, or ``None`` when it was no longer pending."""
        return self.database[INVITATIONS].find_one_and_update(
            {"_id": invitation_id, "status": "pending"},
            {"$set": {"status": status, "closed_at": at, **changes}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )

    def mark_reminded(self, invitation_id: str, *, at: datetime, session: ClientSession) -> dict[str, Any] | None:
        """Mark a pending invitation reminded; ``None`` when it was reminded or closed meanwhile."""
        return self.database[INVITATIONS].find_one_and_update(
            {"_id": invitation_id, "status": "pending", "reminded_at": None},
            {"$set": {"reminded_at": at}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )

    def insert_response(self, document: dict[str, Any], *, session: ClientSession) -> None:
        """Store the one response of an invitation."""
        self.database[RESPONSES].insert_one(document, session=session)

    def response(self, invitation_id: str) -> dict[str, Any] | None:
        """Return the response to an invitation, or ``None``."""
        return self.database[RESPONSES].find_one({"_id": invitation_id})

    def due_reminders(self, *, now: datetime, limit: int) -> list[str]:
        """Return pending follow-up invitations whose reminder time has come (campaigns remind in ``campaigns``)."""
        query = {"kind": "follow_up", "status": "pending", "reminded_at": None, "remind_at": {"$lte": now}, "expires_at": {"$gt": now}}
        return [document["_id"] for document in self.database[INVITATIONS].find(query, {"_id": 1}).limit(limit)]

    def due_expiries(self, *, now: datetime, limit: int) -> list[str]:
        """Return pending follow-up invitations past their expiry (a campaign's expire when it closes)."""
        query = {"kind": "follow_up", "status": "pending", "expires_at": {"$lte": now}}
        return [document["_id"] for document in self.database[INVITATIONS].find(query, {"_id": 1}).limit(limit)]

    def estate_tenancy(self, estate_id: str) -> dict[str, Any] | None:
        """Return the group and region of an estate as its invitations record them, or ``None`` when it has none."""
        return self.database[INVITATIONS].find_one({"estate_id": estate_id}, {"_id": 0, "group_id": 1, "region_id": 1})

    def list_invitations(self, *, query: Mapping[str, Any], limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of invitations, newest first."""
        return paginate(self.database[INVITATIONS], dict(query), limit=limit, cursor=cursor)

    # questionnaires ----------------------------------------------------------------------------

    def questionnaire(self, questionnaire_id: str) -> dict[str, Any] | None:
        """Return a questionnaire, or ``None``."""
        return self.database[QUESTIONNAIRES].find_one({"_id": questionnaire_id})

    def insert_questionnaire(self, document: dict[str, Any]) -> None:
        """Store a new questionnaire (or a new version: a second successor of one version is a ``DuplicateKeyError``)."""
        self.database[QUESTIONNAIRES].insert_one(document)

    def successor_of(self, questionnaire_id: str) -> dict[str, Any] | None:
        """Return the version made from a questionnaire, or ``None`` when it is the latest."""
        return self.database[QUESTIONNAIRES].find_one({"previous_id": questionnaire_id})

    def replace_unused_questionnaire(self, questionnaire_id: str, *, content: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
        """Replace an unused questionnaire's content; ``None`` when a campaign uses it (meanwhile) or it is gone."""
        return self.database[QUESTIONNAIRES].find_one_and_update(
            {"_id": questionnaire_id, "used_by_campaigns": {"$size": 0}},
            {"$set": {**content, "updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )

    def mark_questionnaire_used(self, questionnaire_id: str, *, campaign_id: str, session: ClientSession | None = None) -> bool:
        """Record that a campaign uses a questionnaire, so it is never changed in place again; ``False`` when it is gone."""
        result = self.database[QUESTIONNAIRES].update_one(
            {"_id": questionnaire_id}, {"$addToSet": {"used_by_campaigns": campaign_id}}, session=session
        )
        return result.matched_count == 1

    def list_questionnaires(self, *, query: Mapping[str, Any], limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of questionnaires, newest first."""
        return paginate(self.database[QUESTIONNAIRES], dict(query), limit=limit, cursor=cursor)
