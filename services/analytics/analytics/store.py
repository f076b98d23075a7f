"""Analytics' MongoDB database: read models built only from events, never another service's database.

The only module of analytics that touches MongoDB. Writes are given the session of the consumer's
unit of work (``session=tx.session``), so a read model's change, the inbox marker of the event that
caused it and any ``hotspot.detected`` it emits commit together. No collection holds personal data:
not the reporter's sealed ``contact`` of ``complaint.received``, nor anything read from it.

Region ids are only unique within a group, so nothing here is keyed or looked up by a region alone:
every index with ``region_id`` starts with ``group_id``, and a region is only ever looked up
together with its group (``region_known``). Hotspot clusters carry their group as well as their
estate, so two groups' complaints never count in one cluster even if an estate id were reused.

Collections:
- ``complaint_facts``: one document per complaint, ``_id`` = complaint id (``domain.facts``);
- ``hotspots``: one document per announced hotspot, ``_id`` = (group, estate, building, subcategory, start day);
- ``hotspot_clusters``: one small document per (group, estate, building, subcategory), written by every
  hotspot check so that two checks of one cluster in concurrent transactions conflict and one is
  retried after the other committed (no hotspot is missed between two replicas);
- ``estates``: the directory's estates (names, codes, region, group, time zone) for scopes and reports,
  ``_id`` = estate id (unique in the deployment), kept by the kernel (``propcare_shared.directory``);
- ``campaigns`` and ``campaign_answers``: satisfaction campaigns (``_id`` = campaign id) and their
  answers (``_id`` = invitation id), with the tenancy of their events (``domain.campaigns``);
- ``complaint_months``: the monthly counters of an estate's complaints (``domain.month_counts``),
  ``_id`` = ``<estate>/<YYYY-MM>``, with the estate's tenancy and ``month``; the projection keeps them in
  the unit of work that saves the facts (``count_buckets``), the monthly review reads them
  (``month_buckets``) instead of scanning a month of facts;
- ``complaint_days``: the same counters per estate and calendar day, ``_id`` = ``<estate>/<YYYY-MM-DD>``,
  with ``day``: the KPIs of a period read its whole days from them (``day_buckets``);
- ``campaign_months``: the counters of a campaign's answers per month and tenancy
  (``domain.campaign_months``), ``_id`` = the JSON of (campaign, month, group, region, estate); the
  projection keeps them in the unit of work that saves the answer (``count_campaign_months``), the
  monthly review's campaign results read them (``campaign_month_buckets``) instead of the answers;
- ``hotspot_settings``: a scope's own hotspot figures, ``_id`` = the scope's key (``group:G1``,
  ``region:G1/R1``, ``estate:NS01``), with its ``group_id`` (``domain.hotspot_settings``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database

from analytics.domain import campaign_months, month_counts
from analytics.hotspot_store import COMPLAINT_FACTS, HOTSPOTS, HotspotRecords
from propcare_shared import directory
from propcare_shared.clock import Clock, utcnow
from propcare_shared.directory import ESTATES, EstateCopies
from propcare_shared.mongo import IndexSpec
from propcare_shared.tenancy import Tenancy

CAMPAIGNS = "campaigns"
CAMPAIGN_ANSWERS = "campaign_answers"
COMPLAINT_MONTHS = "complaint_months"
COMPLAINT_DAYS = "complaint_days"
CAMPAIGN_MONTHS = "campaign_months"
BUCKETS = {"month": COMPLAINT_MONTHS, "day": COMPLAINT_DAYS}
"""The counters' collection of each grain (``domain.month_counts``)."""
KPI_FIELDS_LEFT_OUT = (
    "complaint_id",
    "received_seen",
    "ticket_no",
    "household_type",
    "age_band",
    "timezone",
    "hotline",
    "department",
    "classification_seq",
    "classification_at",
    "status_seq",
    "status_at",
    "closed_at",
    "cancelled_at",
    "reopened_seqs",
    "escalation_level",
    "deadlines_seq",
    "deadlines_at",
    "survey",
    "last_event_at",
)
"""Fields of the facts no KPI, review or hotspot reads: left out of a period's scan, so less is sent and decoded."""

INDEXES: list[IndexSpec] = [
    IndexSpec(COMPLAINT_FACTS, [("estate_id", ASCENDING), ("received_at", ASCENDING)]),
    IndexSpec(COMPLAINT_FACTS, [("group_id", ASCENDING), ("region_id", ASCENDING), ("received_at", ASCENDING)]),
    IndexSpec(COMPLAINT_FACTS, [("group_id", ASCENDING), ("received_at", ASCENDING)]),
    IndexSpec(COMPLAINT_FACTS, [("estate_id", ASCENDING), ("building", ASCENDING), ("subcategory", ASCENDING), ("received_at", ASCENDING)]),
    IndexSpec(COMPLAINT_MONTHS, [("estate_id", ASCENDING), ("month", ASCENDING)]),
    IndexSpec(COMPLAINT_MONTHS, [("group_id", ASCENDING), ("region_id", ASCENDING), ("month", ASCENDING)]),
    IndexSpec(COMPLAINT_MONTHS, [("group_id", ASCENDING), ("month", ASCENDING)]),
    IndexSpec(COMPLAINT_DAYS, [("estate_id", ASCENDING), ("day", ASCENDING)]),
    IndexSpec(COMPLAINT_DAYS, [("group_id", ASCENDING), ("region_id", ASCENDING), ("day", ASCENDING)]),
    IndexSpec(COMPLAINT_DAYS, [("group_id", ASCENDING), ("day", ASCENDING)]),
    IndexSpec(CAMPAIGN_MONTHS, [("estate_id", ASCENDING), ("month", ASCENDING)]),
    IndexSpec(CAMPAIGN_MONTHS, [("group_id", ASCENDING), ("region_id", ASCENDING), ("month", ASCENDING)]),
    IndexSpec(CAMPAIGN_MONTHS, [("group_id", ASCENDING), ("month", ASCENDING)]),
    IndexSpec(CAMPAIGN_MONTHS, [("campaign_id", ASCENDING), ("month", ASCENDING)]),
    IndexSpec(HOTSPOTS, [("estate_id", ASCENDING), ("window_end", DESCENDING)]),
    IndexSpec(HOTSPOTS, [("group_id", ASCENDING), ("region_id", ASCENDING), ("window_end", DESCENDING)]),
    IndexSpec(HOTSPOTS, [("group_id", ASCENDING), ("window_end", DESCENDING)]),
    IndexSpec(CAMPAIGN_ANSWERS, [("campaign_id", ASCENDING)]),
    IndexSpec(CAMPAIGN_ANSWERS, [("campaign_id", ASCENDING), ("answered_at", ASCENDING)]),
    IndexSpec(CAMPAIGN_ANSWERS, [("estate_id", ASCENDING), ("answered_at", ASCENDING)]),
    IndexSpec(CAMPAIGN_ANSWERS, [("group_id", ASCENDING), ("region_id", ASCENDING), ("answered_at", ASCENDING)]),
    IndexSpec(CAMPAIGN_ANSWERS, [("group_id", ASCENDING), ("answered_at", ASCENDING)]),
    IndexSpec(CAMPAIGNS, [("group_id", ASCENDING), ("closes_at", ASCENDING)]),
    IndexSpec(CAMPAIGNS, [("group_id", ASCENDING), ("closed_at", ASCENDING)]),
    IndexSpec(CAMPAIGNS, [("group_id", ASCENDING), ("region_id", ASCENDING), ("closes_at", ASCENDING)]),
    IndexSpec(CAMPAIGNS, [("group_id", ASCENDING), ("region_id", ASCENDING), ("closed_at", ASCENDING)]),
    IndexSpec(CAMPAIGNS, [("estate_id", ASCENDING), ("closes_at", ASCENDING)]),
    IndexSpec(CAMPAIGNS, [("estate_id", ASCENDING), ("closed_at", ASCENDING)]),
    *directory.INDEXES,
]

"""(group, estate, building, subcategory): the complaints one hotspot check counts."""


class AnalyticsStore(HotspotRecords):
    """Reads and writes of analytics' own database (hotspots and their settings: ``HotspotRecords``)."""

    def __init__(self, database: Database, *, clock: Clock = utcnow) -> None:
        self.database = database
        self.clock = clock
        self.estates = EstateCopies(database)

    # complaint facts ---------------------------------------------------------------------------

    def facts(self, complaint_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return a complaint's facts, or None when no event told of it yet."""
        return self.database[COMPLAINT_FACTS].find_one({"_id": complaint_id}, session=session)

    def save_facts(self, facts: Mapping[str, Any], *, session: ClientSession | None = None) -> None:
        """Store a complaint's facts (an upsert of the whole document)."""
        self.database[COMPLAINT_FACTS].replace_one({"_id": facts["_id"]}, dict(facts), upsert=True, session=session)

    def facts_received(self, *, query: Mapping[str, Any], start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Return the facts of the complaints matching ``query`` received in ``[start, end)``."""
        received = {"received_at": {"$gte": start, "$lt": end}}
        return list(self.database[COMPLAINT_FACTS].find({"$and": [dict(query), received]}, dict.fromkeys(KPI_FIELDS_LEFT_OUT, 0)))

    # monthly counters --------------------------------------------------------------------------

    def count_buckets(self, grain: str, writes: Iterable[month_counts.Write], *, session: ClientSession | None = None) -> None:
        """Apply one complaint's change (``month_counts.delta``) to a grain's counters, in the caller's unit of work."""
        for write in writes:
            estate_id, period = write.key
            update: dict[str, Any] = {"$set": {**write.tenancy, grain: period, **write.set}}
            if write.inc:
                update["$inc"] = write.inc
            if write.unset:
                update["$unset"] = dict.fromkeys(write.unset, "")
            self.database[BUCKETS[grain]].update_one({"_id": _bucket_id(estate_id, period)}, update, upsert=True, session=session)

    def month_buckets(self, *, query: Mapping[str, Any], month: str) -> list[dict[str, Any]]:
        """Return the monthly counters of the estates matching ``query`` for one month (``YYYY-MM``)."""
        return list(self.database[COMPLAINT_MONTHS].find({"$and": [dict(query), {"month": month}]}))

    def day_buckets(self, *, query: Mapping[str, Any], first: str, last: str) -> list[dict[str, Any]]:
        """Return the daily counters of the estates matching ``query`` for the days ``[first, last)`` (``YYYY-MM-DD``)."""
        return list(self.database[COMPLAINT_DAYS].find({"$and": [dict(query), {"day": {"$gte": first, "$lt": last}}]}))

    def rebuild_months(self, *, batch: int = 1000) -> int:
        """Build every monthly and daily counter again from the facts (a migration, or a repair); return how many buckets were written.

        Not for a running projection: it replaces the buckets while events may be changing them.
        """
        fields = dict.fromkeys(KPI_FIELDS_LEFT_OUT, 0)
        grains = month_counts.rebuild_grains(self.database[COMPLAINT_FACTS].find({}, fields, batch_size=5000), BUCKETS)
        written = 0
        for grain, buckets in grains.items():
            self.database[BUCKETS[grain]].delete_many({})
            documents = [month_counts.stored(key, bucket, grain) | {"_id": _bucket_id(*key)} for key, bucket in buckets.items()]
            for start in range(0, len(documents), batch):
                self.database[BUCKETS[grain]].insert_many(documents[start : start + batch], ordered=False)
            written += len(documents)
        return written

    # campaign counters -------------------------------------------------------------------------

    def count_campaign_months(self, writes: Iterable[campaign_months.Write], *, session: ClientSession | None = None) -> None:
        """Apply one answer's change (``campaign_months.delta``) to its campaign's monthly counters, in the caller's unit of work."""
        for write in writes:
            campaign_id, month, group_id, region_id, estate_id = write.key
            fields = {"campaign_id": campaign_id, "month": month, "group_id": group_id, "region_id": region_id, "estate_id": estate_id}
            self.database[CAMPAIGN_MONTHS].update_one(
                {"_id": campaign_months.bucket_id(write.key)}, {"$set": fields, "$inc": write.inc}, upsert=True, session=session
            )

    def campaign_month_buckets(self, *, query: Mapping[str, Any], month: str) -> list[dict[str, Any]]:
        """Return the campaign counters of one month (``YYYY-MM``) of the answers matching ``query``."""
        return list(self.database[CAMPAIGN_MONTHS].find({"$and": [dict(query), {"month": month}]}))

    def campaign_responses_until(self, *, campaign_ids: Iterable[str], month: str) -> dict[str, int]:
        """Return how many answers each of these campaigns had recorded up to the end of ``month``, from its monthly counters."""
        found = self.database[CAMPAIGN_MONTHS].find(
            {"campaign_id": {"$in": sorted(set(campaign_ids))}, "month": {"$lte": month}}, {"campaign_id": 1, "n.responses": 1}
        )
        counts: dict[str, int] = {}
        for document in found:
            counts[document["campaign_id"]] = counts.get(document["campaign_id"], 0) + int((document.get("n") or {}).get("responses") or 0)
        return counts

    def rebuild_campaign_months(self, campaign_id: str | None = None, *, session: ClientSession | None = None, batch: int = 1000) -> int:
        """Build the campaign counters again from the answers (all, or one campaign's); return how many buckets were written.

        For one campaign it runs in the projection's unit of work when a campaign event changes its dimensions.
        """
        selector = {} if campaign_id is None else {"campaign_id": campaign_id}
        answers = self.database[CAMPAIGN_ANSWERS].find(selector, {"rank": 0}, session=session)
        records = self.database[CAMPAIGNS].find({} if campaign_id is None else {"_id": campaign_id}, session=session)
        buckets = campaign_months.rebuild(answers, {document["_id"]: document for document in records})
        self.database[CAMPAIGN_MONTHS].delete_many(selector, session=session)
        documents = [campaign_months.stored(key, counts) for key, counts in buckets.items()]
        for start in range(0, len(documents), batch):
            self.database[CAMPAIGN_MONTHS].insert_many(documents[start : start + batch], ordered=False, session=session)
        return len(documents)

    # directory ---------------------------------------------------------------------------------

    def estate_tenancy(self, estate_id: str) -> Tenancy | None:
        """Return the group, region and id of an estate, from the directory or else from its complaints."""
        tenancy = self.estates.tenancy(estate_id)
        if tenancy is not None:
            return tenancy
        complaint = self.database[COMPLAINT_FACTS].find_one({"estate_id": estate_id}, {"group_id": 1, "region_id": 1, "estate_id": 1})
        return Tenancy.of(complaint) if complaint else None

    def region_known(self, *, group_id: str, region_id: str) -> bool:
        """Tell whether a group has a region of this id: an estate of the directory or a complaint in it."""
        query = {"group_id": group_id, "region_id": region_id}
        return (
            self.database[ESTATES].find_one(query, {"_id": 1}) is not None
            or self.database[COMPLAINT_FACTS].find_one(query, {"_id": 1}) is not None
        )

    # campaigns ---------------------------------------------------------------------------------

    def campaign(self, campaign_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return a campaign's record."""
        return self.database[CAMPAIGNS].find_one({"_id": campaign_id}, session=session)

    def save_campaign(self, record: Mapping[str, Any], *, session: ClientSession | None = None) -> None:
        """Store a campaign's record."""
        self.database[CAMPAIGNS].replace_one({"_id": record["_id"]}, dict(record), upsert=True, session=session)

    def campaign_answer(self, invitation_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return the answer kept for a campaign invitation."""
        return self.database[CAMPAIGN_ANSWERS].find_one({"_id": invitation_id}, session=session)

    def save_campaign_answer(self, record: Mapping[str, Any], *, session: ClientSession | None = None) -> None:
        """Store a campaign invitation's answer."""
        self.database[CAMPAIGN_ANSWERS].replace_one({"_id": record["_id"]}, dict(record), upsert=True, session=session)

    def campaigns(self, *, query: Mapping[str, Any], campaign_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Return the records of these campaigns that match ``query``, by id."""
        found = self.database[CAMPAIGNS].find({"$and": [dict(query), {"_id": {"$in": sorted(set(campaign_ids))}}]})
        return {document["_id"]: {**document, "campaign_id": document["_id"]} for document in found}

    def campaigns_closing(self, *, query: Mapping[str, Any], start: datetime, end: datetime) -> list[str]:
        """Return the ids of the campaigns matching ``query`` due to close or closed in ``[start, end)``."""
        window = {"$gte": start, "$lt": end}
        found = self.database[CAMPAIGNS].find({"$and": [dict(query), {"$or": [{"closes_at": window}, {"closed_at": window}]}]}, {"_id": 1})
        return [document["_id"] for document in found]

    def answers(
        self,
        *,
        query: Mapping[str, Any],
        campaign_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Return the campaign answers matching ``query``, of one campaign and answered in ``[start, end)`` when given."""
        clauses: list[dict[str, Any]] = [dict(query)]
        if campaign_id is not None:
            clauses.append({"campaign_id": campaign_id})
        if start is not None or end is not None:
            clauses.append({"answered_at": {**({"$gte": start} if start else {}), **({"$lt": end} if end else {})}})
        return list(self.database[CAMPAIGN_ANSWERS].find({"$and": clauses}, {"rank": 0}))

    def answers_counted(self, *, campaign_ids: Iterable[str], before: datetime) -> dict[str, int]:
        """Return how many answers each of these campaigns had recorded, answered before ``before``."""
        rows = self.database[CAMPAIGN_ANSWERS].aggregate(
            [
                {"$match": {"campaign_id": {"$in": sorted(set(campaign_ids))}, "answered_at": {"$lt": before}}},
                {"$group": {"_id": "$campaign_id", "count": {"$sum": 1}}},
            ]
        )
        return {row["_id"]: row["count"] for row in rows}

    def answer_tenancy(self, campaign_id: str) -> Tenancy | None:
        """Return the tenancy of a campaign known only from its answers (its ``campaign.started`` not yet arrived)."""
        answer = self.database[CAMPAIGN_ANSWERS].find_one({"campaign_id": campaign_id}, {"group_id": 1, "region_id": 1, "estate_id": 1})
        return Tenancy.of(answer) if answer else None


def _bucket_id(estate_id: Any, period: str) -> str:
    return f"{month_counts.key(estate_id)}/{period}"
