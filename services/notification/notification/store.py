"""Notification's MongoDB database; the only module of the service that touches MongoDB.

Collections:
- ``contacts``: one document per complaint (``_id`` = complaint id) with the resident's phone (E.164
  only) and e-mail, ``contact_problem`` when an address could not be used (a contact no key opens,
  a phone that is not a number), the reporter's role, the channel they used, their language and
  the estate's time zone, and the tier once dispatch classified it. The only place in Propcare
  besides intake that holds a resident's contact; no name is kept (messages never address residents
  by name), and nothing here is logged.
- ``households``: the household contact book (``domain.households``): one document per household
  (``_id`` = intake's household id) with its resident's phone in E.164 or none, ``contact_problem``,
  its estate and ``imported_at``, from ``directory.households.imported``. Satisfaction campaigns'
  invitations are sent to it. No name, nothing logged.
- ``estates``: each estate's name, time zone, group and region, from ``directory.estate.upserted``
  (campaign messages name the estate and keep its quiet hours; the scope check knows the estate).
- ``messages``: one document per message to one recipient, with its rendered title and body,
  its delivery channel and address, and its state: ``queued`` (due at ``not_before``), ``sending``
  (claimed by one dispatcher until ``lease_until``), ``retrying`` (due again at ``not_before``),
  ``sent``, ``failed`` or ``skipped`` (with ``skip_reason``). ``dedupe_key`` is unique: a message is
  recorded once however many events ask for it (one acknowledgement per complaint).
- ``attempts``: one document per delivery attempt: message id, provider, status, error, time.
- ``call_tasks``: a call an agent owes the resident beside a written message (书面+口头), with its due
  time, its attempts and the outcomes logged (at most ``domain.call_tasks.MAX_ATTEMPTS``: bounded);
  the call list reads open tasks by due time, overdue first (``call_tasks`` indexes below).
- ``opt_outs``: the addresses whose residents opted out of non-essential messages, one document per
  address, ``_id`` an HMAC of it (``domain.opt_out.address_key``), never the address itself.
- ``hotline_callbacks`` and ``hotline_tickets``: the callbacks owed to the 12345 hotline and each
  ticket's callback counter, read and written by ``hotline_store`` (the one other module that touches
  MongoDB), which claims callbacks with this module's lease (``claim_leased``, ``finish_leased``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database

from propcare_shared.clock import Clock, utcnow
from propcare_shared.mongo import IndexSpec
from propcare_shared.pagination import InvalidCursor, decode_cursor, encode_cursor, paginate

CONTACTS = "contacts"
HOUSEHOLDS = "households"
ESTATES = "estates"
MESSAGES = "messages"
ATTEMPTS = "attempts"
CALL_TASKS = "call_tasks"
OPT_OUTS = "opt_outs"
HOTLINE_CALLBACKS = "hotline_callbacks"
HOTLINE_TICKETS = "hotline_tickets"

QUEUED = "queued"
SENDING = "sending"
RETRYING = "retrying"
SENT = "sent"
FAILED = "failed"
SKIPPED = "skipped"
MESSAGE_STATUSES = (QUEUED, SENDING, RETRYING, SENT, FAILED, SKIPPED)
"""A message's delivery states (not a complaint's: those are ``propcare_shared.vocabulary.STATUSES``)."""
DUE_STATUSES = (QUEUED, RETRYING)

INDEXES: list[IndexSpec] = [
    IndexSpec(MESSAGES, [("dedupe_key", ASCENDING)], {"unique": True}),
    IndexSpec(MESSAGES, [("status", ASCENDING), ("not_before", ASCENDING)]),
    IndexSpec(MESSAGES, [("status", ASCENDING), ("lease_until", ASCENDING)]),
    IndexSpec(MESSAGES, [("complaint_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(MESSAGES, [("estate_id", ASCENDING), ("_id", DESCENDING)]),
    # Lists filtered by status (the failed, the queued), newest first, in an estate or a group.
    IndexSpec(MESSAGES, [("estate_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(MESSAGES, [("group_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(MESSAGES, [("region_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(MESSAGES, [("group_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(MESSAGES, [("group_id", ASCENDING), ("region_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(CONTACTS, [("estate_id", ASCENDING)]),
    IndexSpec(HOUSEHOLDS, [("estate_id", ASCENDING)]),
    IndexSpec(ATTEMPTS, [("message_id", ASCENDING), ("at", ASCENDING)]),
    IndexSpec(CALL_TASKS, [("message_id", ASCENDING)], {"unique": True}),
    IndexSpec(CALL_TASKS, [("complaint_id", ASCENDING)]),
    IndexSpec(CALL_TASKS, [("status", ASCENDING), ("estate_id", ASCENDING), ("due_at", ASCENDING), ("_id", ASCENDING)]),
    # The call list in (due_at, _id) order, for an estate, a region of a group, or a group.
    IndexSpec(
        CALL_TASKS, [("status", ASCENDING), ("group_id", ASCENDING), ("region_id", ASCENDING), ("due_at", ASCENDING), ("_id", ASCENDING)]
    ),
    IndexSpec(CALL_TASKS, [("status", ASCENDING), ("group_id", ASCENDING), ("due_at", ASCENDING), ("_id", ASCENDING)]),
    IndexSpec(HOTLINE_CALLBACKS, [("hotline_ticket_id", ASCENDING), ("sequence", ASCENDING)], {"unique": True}),
    IndexSpec(HOTLINE_CALLBACKS, [("status", ASCENDING), ("hotline_ticket_id", ASCENDING), ("sequence", ASCENDING)]),
    IndexSpec(HOTLINE_CALLBACKS, [("complaint_id", ASCENDING)]),
]
RETIRED_INDEXES: list[tuple[str, str]] = [(CALL_TASKS, "status_1_group_id_1_region_id_1_due_at_1")]
"""Indexes of earlier versions that those above replace (the call list's regional index, now ending in ``_id``)."""


def claim_leased(
    collection: Collection,
    *,
    due: Mapping[str, Any],
    now: datetime,
    lease_until: datetime,
    owner: str,
    match: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Atomically take one document that is ``due`` (or whose sender's lease ran out) for sending, under a lease to ``owner``."""
    return collection.find_one_and_update(
        {**(match or {}), "$or": [dict(due), {"status": SENDING, "lease_until": {"$lt": now}}]},
        {"$set": {"status": SENDING, "lease_until": lease_until, "claimed_by": owner, "updated_at": now}},
        sort=[("not_before", ASCENDING)],
        return_document=ReturnDocument.AFTER,
    )


def finish_leased(
    collection: Collection, document_id: str, *, owner: str, changes: Mapping[str, Any], session: ClientSession | None = None
) -> bool:
    """Store an attempt's outcome on a document still claimed by ``owner``; False if the claim was lost."""
    result = collection.update_one(
        {"_id": document_id, "status": SENDING, "claimed_by": owner},
        {"$set": {**changes, "lease_until": None, "claimed_by": None}, "$inc": {"attempts": 1}},
        session=session,
    )
    return result.modified_count == 1


class NotificationStore:
    """Reads and writes of notification's own database."""

    def __init__(self, database: Database, *, clock: Clock = utcnow) -> None:
        self.database = database
        self.clock = clock

    # contacts ----------------------------------------------------------------------------------

    def save_contact(self, contact: Mapping[str, Any], *, session: ClientSession | None = None) -> None:
        """Store (or replace) the contact of a complaint."""
        self.database[CONTACTS].replace_one({"_id": contact["_id"]}, dict(contact), upsert=True, session=session)

    def contact(self, complaint_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return the contact of a complaint, or None when ``complaint.received`` has not arrived."""
        return self.database[CONTACTS].find_one({"_id": complaint_id}, session=session)

    def note_tier(self, complaint_id: str, *, tier: str | None, at: datetime, session: ClientSession | None = None) -> None:
        """Remember a complaint's latest tier (quiet hours and call tasks depend on it)."""
        if tier is not None:
            self.database[CONTACTS].update_one({"_id": complaint_id}, {"$set": {"tier": tier, "updated_at": at}}, session=session)

    def note_assignee(self, complaint_id: str, *, assignee_id: str, at: datetime, session: ClientSession | None = None) -> None:
        """Remember who holds a complaint, as dispatch last said (the resident's additions are told to them)."""
        self.database[CONTACTS].update_one({"_id": complaint_id}, {"$set": {"assignee_id": assignee_id, "updated_at": at}}, session=session)

    # the directory: estates and the household contact book -------------------------------------

    def save_estate(self, estate: Mapping[str, Any], *, session: ClientSession | None = None) -> None:
        """Store (or replace) an estate's name, time zone, group and region."""
        self.database[ESTATES].replace_one({"_id": estate["_id"]}, dict(estate), upsert=True, session=session)

    def estate(self, estate_id: str | None, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return an estate as ``directory.estate.upserted`` told it, or None."""
        return self.database[ESTATES].find_one({"_id": estate_id}, session=session) if estate_id else None

    def household(self, household_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return a household's entry in the contact book, or None when no import named it yet."""
        return self.database[HOUSEHOLDS].find_one({"_id": household_id}, session=session)

    def household_imports(self, household_ids: Iterable[str], *, session: ClientSession | None = None) -> dict[str, datetime]:
        """Return when each of these households was last imported, for those in the book."""
        found = self.database[HOUSEHOLDS].find({"_id": {"$in": list(household_ids)}}, {"imported_at": 1}, session=session)
        return {entry["_id"]: entry["imported_at"] for entry in found}

    def save_households(self, entries: Iterable[Mapping[str, Any]], *, session: ClientSession | None = None) -> None:
        """Store (or replace) entries of the household contact book."""
        writes = [ReplaceOne({"_id": entry["_id"]}, dict(entry), upsert=True) for entry in entries]
        if writes:
            self.database[HOUSEHOLDS].bulk_write(writes, ordered=False, session=session)

    # recording ---------------------------------------------------------------------------------

    def has_message(self, dedupe_key: str, *, session: ClientSession | None = None) -> bool:
        """Tell whether a message with this dedupe key was recorded."""
        return self.database[MESSAGES].find_one({"dedupe_key": dedupe_key}, {"_id": 1}, session=session) is not None

    def insert_message(self, message: Mapping[str, Any], *, session: ClientSession | None = None) -> None:
        """Record a message."""
        self.database[MESSAGES].insert_one(dict(message), session=session)

    def insert_call_task(self, task: Mapping[str, Any], *, session: ClientSession | None = None) -> None:
        """Record a call task."""
        self.database[CALL_TASKS].insert_one(dict(task), session=session)

    def update_call_task(
        self, task_id: str, *, expected_attempts: int, changes: Mapping[str, Any], session: ClientSession | None = None
    ) -> dict[str, Any] | None:
        """Apply an outcome's changes (``outcomes`` is appended) if no outcome was logged since the read; None otherwise."""
        values = dict(changes)
        logged = values.pop("outcomes")
        return self.database[CALL_TASKS].find_one_and_update(
            {"_id": task_id, "status": "open", "attempts": expected_attempts},
            {"$set": values, "$push": {"outcomes": logged}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )

    def mark_contact_problem(self, complaint_id: str, *, problem: str, at: datetime, session: ClientSession | None = None) -> None:
        """Forget a complaint's phone and say why: its later messages are skipped with ``problem``."""
        self.database[CONTACTS].update_one(
            {"_id": complaint_id}, {"$set": {"phone": None, "contact_problem": problem, "updated_at": at}}, session=session
        )

    def save_opt_out(self, key: str, *, opted_out: bool, at: datetime, session: ClientSession | None = None) -> None:
        """Store whether the resident at an address (its key) opted out of non-essential messages."""
        self.database[OPT_OUTS].update_one(
            {"_id": key},
            {"$set": {"opted_out": opted_out, "updated_at": at}, "$setOnInsert": {"created_at": at}},
            upsert=True,
            session=session,
        )

    def opted_out(self, key: str | None, *, session: ClientSession | None = None) -> bool:
        """Tell whether the resident at an address (its key) opted out of non-essential messages."""
        return key is not None and self.database[OPT_OUTS].count_documents({"_id": key, "opted_out": True}, session=session) > 0

    # sending -----------------------------------------------------------------------------------

    def claim_due(self, *, now: datetime, lease_until: datetime, owner: str) -> dict[str, Any] | None:
        """Atomically take one due message (or one whose sender's lease ran out) for sending."""
        due = {"status": {"$in": list(DUE_STATUSES)}, "not_before": {"$lte": now}}
        return claim_leased(self.database[MESSAGES], due=due, now=now, lease_until=lease_until, owner=owner)

    def finish_attempt(self, message_id: str, *, owner: str, changes: Mapping[str, Any], session: ClientSession | None = None) -> bool:
        """Store an attempt's outcome on a message still claimed by ``owner``; False if the claim was lost."""
        return finish_leased(self.database[MESSAGES], message_id, owner=owner, changes=changes, session=session)

    def insert_attempt(self, attempt: Mapping[str, Any], *, session: ClientSession | None = None) -> None:
        """Log one delivery attempt."""
        self.database[ATTEMPTS].insert_one(dict(attempt), session=session)

    # reading -----------------------------------------------------------------------------------

    def message(self, message_id: str) -> dict[str, Any] | None:
        """Return one message."""
        return self.database[MESSAGES].find_one({"_id": message_id})

    def messages(self, *, query: Mapping[str, Any], limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of messages, newest first."""
        return paginate(self.database[MESSAGES], dict(query), limit=limit, cursor=cursor)

    def messages_of(self, complaint_id: str) -> list[dict[str, Any]]:
        """Return every message of a complaint, oldest first."""
        return list(self.database[MESSAGES].find({"complaint_id": complaint_id}).sort("_id", ASCENDING))

    def attempts_of(self, message_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Return the attempts of some messages, oldest first, by message id."""
        found: dict[str, list[dict[str, Any]]] = {}
        for attempt in self.database[ATTEMPTS].find({"message_id": {"$in": list(message_ids)}}).sort("at", ASCENDING):
            found.setdefault(attempt["message_id"], []).append(attempt)
        return found

    def call_tasks_of(self, message_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Return the call tasks of some messages, by message id."""
        return {task["message_id"]: task for task in self.database[CALL_TASKS].find({"message_id": {"$in": list(message_ids)}})}

    def phones_of(self, complaint_ids: Iterable[str]) -> dict[str, str | None]:
        """Return the phone (E.164) kept for each of these complaints."""
        found = self.database[CONTACTS].find({"_id": {"$in": list(complaint_ids)}}, {"phone": 1})
        return {contact["_id"]: contact.get("phone") for contact in found}

    def call_task(self, task_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return one call task."""
        return self.database[CALL_TASKS].find_one({"_id": task_id}, session=session)

    def call_tasks(self, *, query: Mapping[str, Any], limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of call tasks by due time, earliest (most overdue) first, and the cursor of the next page."""
        if cursor:
            due_at, task_id = _due_cursor(cursor)
            # ``due_at >= `` beside the ``$or`` bounds the index scan at the cursor, so a page reads its own tasks only.
            after = {"$or": [{"due_at": {"$gt": due_at}}, {"due_at": due_at, "_id": {"$gt": task_id}}]}
            query = {"$and": [dict(query), {"due_at": {"$gte": due_at}}, after]}
        found = list(self.database[CALL_TASKS].find(dict(query)).sort([("due_at", ASCENDING), ("_id", ASCENDING)]).limit(limit + 1))
        page = found[:limit]
        next_cursor = encode_cursor(f"{page[-1]['due_at'].isoformat()}|{page[-1]['_id']}") if len(found) > limit else None
        return page, next_cursor

    def estate_tenancy(self, estate_id: str) -> dict[str, Any] | None:
        """Return the group and region of an estate as the directory, its complaints' contacts or its messages record them, or None."""
        projection = {"_id": 0, "group_id": 1, "region_id": 1}
        known = self.database[ESTATES].find_one({"_id": estate_id}, projection)
        for collection in (CONTACTS, MESSAGES):
            if known is not None:
                return known
            known = self.database[collection].find_one({"estate_id": estate_id}, projection)
        return known


def _due_cursor(cursor: str) -> tuple[datetime, str]:
    """Read a call list cursor (the last task's due time and id); ``InvalidCursor`` for one not made here."""
    due, separator, task_id = decode_cursor(cursor).partition("|")
    try:
        if not separator or not task_id:
            raise ValueError(cursor)
        return datetime.fromisoformat(due), task_id
    except ValueError:
        raise InvalidCursor() from None
