"""Intake's MongoDB database: estates, households (the CRM), complaints, their timeline, attachments.

The only module of intake that touches MongoDB. Writes that cause events take the session of a unit
of work (``session=tx.session``). Residents' names and phones are stored here (intake owns the
CRM), phones in E.164; they leave it only sealed inside ``complaint.received`` (``contact``), which
only notification can open.

Collections:
- ``estates``: ``_id`` = estate id; name, code, region, group, time zone. Estate ids and codes are
  unique across the deployment (every group's estates share one namespace): ``code`` has a unique
  index, so of two concurrent PUTs with one code exactly one wins;
- ``estate_codes``: ``_id`` = a code ever given to an estate, with that estate's id. A code stays
  with its estate after a rename, because tickets already issued carry it: another estate taking
  it could issue the same ticket numbers on the same day;
- ``households``: ``_id`` = ``estate:building:unit:room``; type, age band, resident's name and phone;
- ``residents``: one per person and group, keyed by the phone in E.164 (a unique index on group and
  phone: concurrent first complaints from one new phone upsert one resident, never two); the latest
  name given, the households they were seen at (``household_ids``, from imports and from complaints
  whose address matched one), how many complaints and when the last. A complaint keeps its
  ``resident_id``; a complaint without a usable address takes the household of a resident known at
  exactly one in that estate, so dispatch's 30-day history of a household counts it. Residents never
  leave intake: events carry the household id, never the resident;
- ``complaints``: ``_id`` = complaint id (an ObjectId in hex, so ids sort by time); the status view
  dispatch's events keep, guarded by ``seq`` so an older event never overwrites a newer one;
  ``external_ref`` is unique within a group (another group's systems number their own way);
  ``attachment_slots`` counts the files stored or being stored, reserved by one conditional update;
- ``complaint_timeline``: one document per dispatch event, ``_id`` = event id (a redelivery is a no-op).
  A complaint's first entry ("receive") is kept inside the complaint (``received_entry``), written by
  the complaint's own insert: one round trip fewer on the write path (docs/PERFORMANCE.md, "Intake's
  write path"). ``timeline`` merges it in; complaints stored before have it in this collection instead;
- ``ticket_counters``: one counter per estate and local day, incremented by one atomic update outside
  the complaint's transaction (``intake.ticket_numbers``: no transaction conflicts on it; gaps allowed);
- GridFS bucket ``attachments``: photos and videos, with the complaint id in their metadata.
Estates and households read on the complaint write path come from a per-process cache
(``intake.directory_cache``, 5 s, dropped on this process's own directory writes).
The resident rate limits are the kernel's (``propcare_shared.http.ratelimit``, collection ``rate_limits``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import IO, Any

import gridfs
from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from intake.directory_cache import directory_cache
from intake.ticket_numbers import TicketNumbers
from propcare_shared.clock import Clock, utcnow
from propcare_shared.events.outbox import Transaction
from propcare_shared.mongo import IndexSpec, new_id
from propcare_shared.pagination import paginate
from propcare_shared.tenancy import Tenancy

ESTATES = "estates"
ESTATE_CODES = "estate_codes"
HOUSEHOLDS = "households"
RESIDENTS = "residents"
COMPLAINTS = "complaints"
TIMELINE = "complaint_timeline"
ATTACHMENTS = "attachments"
TIMELINE_LIMIT = 200
RECEIVED_ENTRY = "received_entry"
"""The field of a complaint that holds its first timeline entry (``complaints.receive``)."""

INDEXES: list[IndexSpec] = [
    IndexSpec(ESTATES, [("group_id", ASCENDING), ("region_id", ASCENDING)]),
    IndexSpec(ESTATES, [("code", ASCENDING)], {"unique": True}),
    IndexSpec(HOUSEHOLDS, [("estate_id", ASCENDING), ("building", ASCENDING), ("room", ASCENDING)]),
    IndexSpec(RESIDENTS, [("group_id", ASCENDING), ("phone", ASCENDING)], {"unique": True}),
    IndexSpec(COMPLAINTS, [("ticket_no", ASCENDING)], {"unique": True}),
    IndexSpec(COMPLAINTS, [("tracking_digest", ASCENDING)], {"unique": True}),
    IndexSpec(COMPLAINTS, [("estate_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(COMPLAINTS, [("estate_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(COMPLAINTS, [("region_id", ASCENDING), ("_id", DESCENDING)]),
    # The lists of group-wide staff, newest first, and the same for one status (tests/intake/test_query_plans.py).
    IndexSpec(COMPLAINTS, [("group_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(COMPLAINTS, [("group_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(COMPLAINTS, [("group_id", ASCENDING), ("region_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(
        COMPLAINTS,
        [("group_id", ASCENDING), ("external_ref", ASCENDING)],
        {"unique": True, "partialFilterExpression": {"external_ref": {"$type": "string"}}},
    ),
    IndexSpec(TIMELINE, [("complaint_id", ASCENDING), ("at", DESCENDING), ("seq", DESCENDING)]),
]
# Indexes of earlier versions that now refuse what is allowed (one external_ref across all groups).
RETIRED_INDEXES = [(COMPLAINTS, "external_ref_1")]

ESTATE_FIELDS = ("name", "code", "region_id", "group_id", "timezone")
HOUSEHOLD_FIELDS = ("building", "unit", "room", "household_type", "age_band", "resident_name", "resident_phone")
# What a dispatch event may change in intake's view, beside the status.
FOLLOWED_FIELDS = ("category", "subcategory", "tier", "assignee_id", "department")


class CodeTaken(Exception):
    """An estate code another estate holds (or held: its tickets carry it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class ReferenceTaken(Exception):
    """An ``external_ref`` a complaint of the same group was filed with already."""

    def __init__(self, *, group_id: str, external_ref: str) -> None:
        super().__init__(external_ref)
        self.group_id = group_id
        self.external_ref = external_ref


class IntakeStore:
    """Reads and writes intake's database."""

    def __init__(self, database: Database, *, clock: Clock = utcnow) -> None:
        self.database = database
        self.clock = clock
        self.cache = directory_cache(database)
        self.tickets = TicketNumbers(database)

    # estates and households ------------------------------------------------------------------

    def put_estate(self, *, estate_id: str, values: Mapping[str, Any], session: ClientSession) -> tuple[dict[str, Any], bool]:
        """Create or replace an estate; tell whether it is new; raise ``CodeTaken`` for another estate's code."""
        now = self.clock()
        code = values["code"]
        self.cache.forget_estate(estate_id)
        try:
            before = self.database[ESTATES].find_one_and_update(
                {"_id": estate_id},
                {"$set": {**{key: values[key] for key in ESTATE_FIELDS}, "updated_at": now}, "$setOnInsert": {"created_at": now}},
                upsert=True,
                session=session,
            )
        except DuplicateKeyError as exc:
            if "code" in ((exc.details or {}).get("keyPattern") or {}):
                raise CodeTaken(code) from None
            raise
        for held in {code, *([before["code"]] if before and before.get("code") else [])}:
            try:
                self.database[ESTATE_CODES].update_one(
                    {"_id": held, "estate_id": estate_id}, {"$setOnInsert": {"reserved_at": now}}, upsert=True, session=session
                )
            except DuplicateKeyError:
                raise CodeTaken(held) from None
        return {"_id": estate_id, **{key: values[key] for key in ESTATE_FIELDS}, "updated_at": now}, before is None

    def estate(self, estate_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return an estate, or ``None``."""
        return self.database[ESTATES].find_one({"_id": estate_id}, session=session)

    def cached_estate(self, estate_id: str) -> dict[str, Any] | None:
        """Return an estate as this process read it at most ``DIRECTORY_CACHE_SECONDS`` ago (the complaint write path)."""
        return self.cache.estate(estate_id, lambda: self.estate(estate_id))

    def upsert_households(self, rows: Iterable[Mapping[str, Any]], *, estate: Mapping[str, Any], session: ClientSession) -> tuple[int, int]:
        """Create or replace households; return how many were created and how many updated."""
        now = self.clock()
        self.cache.forget_estate(estate["_id"])
        operations = [
            UpdateOne(
                {"_id": row["household_id"]},
                {
                    "$set": {**{key: row.get(key) for key in HOUSEHOLD_FIELDS}, "updated_at": now},
                    "$setOnInsert": {**Tenancy.of(estate, estate_key="_id").fields(), "created_at": now},
                },
                upsert=True,
            )
            for row in rows
        ]
        if not operations:
            return 0, 0
        result = self.database[HOUSEHOLDS].bulk_write(operations, ordered=False, session=session)
        residents = [
            UpdateOne(
                *_resident_upsert(
                    group_id=estate["group_id"],
                    phone=row["resident_phone"],
                    name=row.get("resident_name"),
                    household_id=row["household_id"],
                    now=now,
                ),
                upsert=True,
            )
            for row in rows
            if row.get("resident_phone")
        ]
        if residents:
            self.database[RESIDENTS].bulk_write(residents, ordered=False, session=session)
        return result.upserted_count, result.matched_count

    def resident_complained(
        self, *, group_id: str, phone: str, name: str | None, household_id: str | None, session: ClientSession
    ) -> dict[str, Any]:
        """Upsert the resident of a phone for one more complaint (linked to its household when known); return the resident."""
        now = self.clock()
        key, update = _resident_upsert(group_id=group_id, phone=phone, name=name, household_id=household_id, now=now)
        update["$inc"] = {"complaints": 1}
        update["$set"]["last_complaint_at"] = now
        resident = self.database[RESIDENTS].find_one_and_update(
            key, update, upsert=True, return_document=ReturnDocument.AFTER, session=session
        )
        return _upserted(resident)

    def resident(self, *, group_id: str, phone: str) -> dict[str, Any] | None:
        """Return the resident of a phone (E.164) in a group, or ``None``."""
        return self.database[RESIDENTS].find_one({"group_id": group_id, "phone": phone})

    def household_by_id(self, household_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return a household by its id, or ``None``."""
        return self.database[HOUSEHOLDS].find_one({"_id": household_id}, session=session)

    def cached_household_by_id(self, household_id: str, *, estate_id: str) -> dict[str, Any] | None:
        """Return a household of an estate by id as this process read it at most ``DIRECTORY_CACHE_SECONDS`` ago."""
        return self.cache.household(estate_id, ("id", household_id), lambda: self.household_by_id(household_id))

    def cached_household(self, *, estate_id: str, building: str | None, unit: str | None, room: str | None) -> dict[str, Any] | None:
        """Return the household at an address as this process read it at most ``DIRECTORY_CACHE_SECONDS`` ago."""
        if not building or not room:
            return None
        return self.cache.household(
            estate_id,
            ("address", building, unit, room),
            lambda: self.household(estate_id=estate_id, building=building, unit=unit, room=room),
        )

    def household(
        self, *, estate_id: str, building: str | None, unit: str | None, room: str | None, session: ClientSession | None = None
    ) -> dict[str, Any] | None:
        """Return the household at an address: by unit when given, else the only one with that room."""
        if not building or not room:
            return None
        query: dict[str, Any] = {"estate_id": estate_id, "building": building, "room": room}
        if unit:
            query["unit"] = unit
        found = list(self.database[HOUSEHOLDS].find(query, session=session).limit(2))
        return found[0] if len(found) == 1 else None

    # complaints ------------------------------------------------------------------------------

    def next_ticket_sequence(self, tx: Transaction, *, estate_id: str, day: date) -> int:
        """Return the next sequence of an estate's local day, committed at once outside the transaction, once per unit of work.

        ``tx`` only tells a retried attempt from a new unit of work (``intake.ticket_numbers``); the
        counter is never written in its session.
        """
        return self.tickets.allocate_once(tx, estate_id=estate_id, day=day)

    def insert_complaint(self, document: dict[str, Any], *, session: ClientSession) -> None:
        """Store a received complaint; raise ``ReferenceTaken`` for an ``external_ref`` its group used already."""
        try:
            self.database[COMPLAINTS].insert_one(document, session=session)
        except DuplicateKeyError as exc:
            if "external_ref" in ((exc.details or {}).get("keyPattern") or {}):
                raise ReferenceTaken(group_id=document["group_id"], external_ref=document["external_ref"]) from None
            raise

    def complaint(self, complaint_id: str) -> dict[str, Any] | None:
        """Return a complaint, or ``None``."""
        return self.database[COMPLAINTS].find_one({"_id": complaint_id})

    def complaint_by_token(self, digest: str) -> dict[str, Any] | None:
        """Return the complaint whose tracking token has this digest."""
        return self.database[COMPLAINTS].find_one({"tracking_digest": digest})

    def complaint_by_external_ref(self, *, group_id: str, external_ref: str) -> dict[str, Any] | None:
        """Return the complaint a group filed with this reference of another system.

        The ``$type`` repeats the unique index's partial filter, so the planner may use that index
        (it cannot infer the type from the value); without it the look-up scanned the group's complaints.
        """
        return self.database[COMPLAINTS].find_one({"group_id": group_id, "external_ref": {"$type": "string", "$eq": external_ref}})

    def list_complaints(self, *, query: dict[str, Any], limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of complaints, newest first."""
        return paginate(self.database[COMPLAINTS], query, limit=limit, cursor=cursor)

    def follow(self, *, complaint_id: str, seq: int, status: str, changes: Mapping[str, Any], session: ClientSession) -> bool:
        """Apply a dispatch event to the status view unless a later one was applied already."""
        result = self.database[COMPLAINTS].update_one(
            {"_id": complaint_id, "seq": {"$lt": seq}},
            {"$set": {"status": status, "seq": seq, "updated_at": self.clock(), **changes}},
            session=session,
        )
        return result.modified_count == 1

    def record_change(self, entry: dict[str, Any], *, session: ClientSession) -> bool:
        """Append a change to a complaint's timeline; tell whether it was new."""
        try:
            self.database[TIMELINE].insert_one(entry, session=session)
        except DuplicateKeyError:
            return False
        return True

    def timeline(
        self, complaint_id: str, *, complaint: Mapping[str, Any] | None = None, limit: int = TIMELINE_LIMIT
    ) -> list[dict[str, Any]]:
        """Return the last changes of a complaint, oldest first, its first entry included.

        The first entry is the complaint's ``received_entry`` (read from ``complaint`` when the caller
        has the stored document, else by ``_id``); complaints stored before it existed have every
        entry in ``complaint_timeline``.
        """
        entries = list(
            self.database[TIMELINE].find({"complaint_id": complaint_id}).sort([("at", DESCENDING), ("seq", DESCENDING)]).limit(limit)
        )
        if complaint is None:
            complaint = self.database[COMPLAINTS].find_one({"_id": complaint_id}, {RECEIVED_ENTRY: 1})
        first = (complaint or {}).get(RECEIVED_ENTRY)
        if first is not None and all(entry["_id"] != first["_id"] for entry in entries):
            entries.append(first)
            entries.sort(key=lambda entry: (entry["at"], entry.get("seq") or 0), reverse=True)
            del entries[limit:]
        return entries[::-1]

    # attachments -----------------------------------------------------------------------------

    def reserve_attachment_slot(self, *, complaint_id: str, limit: int) -> bool:
        """Take one of a complaint's ``limit`` attachment slots in one conditional update; tell whether one was free."""
        # Complaints stored before the counter existed start from the files they already list.
        used = {"$ifNull": ["$attachment_slots", {"$size": {"$ifNull": ["$attachments", []]}}]}
        result = self.database[COMPLAINTS].update_one(
            {"_id": complaint_id, "$expr": {"$lt": [used, limit]}},
            [{"$set": {"attachment_slots": {"$add": [used, 1]}}}],
        )
        return result.modified_count == 1

    def release_attachment_slot(self, *, complaint_id: str) -> None:
        """Give back a slot whose upload failed."""
        self.database[COMPLAINTS].update_one({"_id": complaint_id, "attachment_slots": {"$gt": 0}}, {"$inc": {"attachment_slots": -1}})

    def store_attachment(self, *, complaint_id: str, filename: str, content_type: str, stream: IO[bytes]) -> dict[str, Any]:
        """Store a file in GridFS and list it on its complaint (in a slot reserved before); a failed listing removes the file."""
        bucket = gridfs.GridFSBucket(self.database, bucket_name=ATTACHMENTS)
        now = self.clock()
        file_id = bucket.upload_from_stream(filename, stream, metadata={"complaint_id": complaint_id, "content_type": content_type})
        try:
            stored = self.database[f"{ATTACHMENTS}.files"].find_one({"_id": file_id}, {"length": 1})
            size = int(stored["length"]) if stored else 0
            attachment = {"id": str(file_id), "filename": filename, "content_type": content_type, "size": size, "uploaded_at": now}
            self.database[COMPLAINTS].update_one({"_id": complaint_id}, {"$push": {"attachments": attachment}})
        except BaseException:
            bucket.delete(file_id)
            raise
        return attachment


def _resident_upsert(
    *, group_id: str, phone: str, name: str | None, household_id: str | None, now: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the filter and update that upsert a resident by group and phone: created once, the latest name kept, the household added."""
    update: dict[str, Any] = {
        "$set": {"updated_at": now, **({"name": name} if name else {})},
        "$setOnInsert": {"_id": new_id(), "group_id": group_id, "phone": phone, "first_seen_at": now, **({} if name else {"name": None})},
    }
    if household_id:
        update["$addToSet"] = {"household_ids": household_id}
    return {"group_id": group_id, "phone": phone}, update


def _upserted(document: dict[str, Any] | None) -> dict[str, Any]:
    """Return the document an upserting ``find_one_and_update`` (``ReturnDocument.AFTER``) always returns."""
    if document is None:
        raise RuntimeError("an upsert returned no document")
    return document
