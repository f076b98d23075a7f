"""Open311's part of intake's database: API keys, and what a GeoReport request adds to its complaint.

- ``open311_keys``: ``_id`` = key id; the key itself is never stored, only its SHA-256 ``digest``
  (unique index), with the group, the estates it may file for, its rate limit, who issued it and
  when it was revoked. A revoked key stays, so the list shows it and it never works again.
- ``open311_requests``: ``_id`` = complaint id; the location, media URL, device and account the
  client sent, the key that filed it and the estate's name, written in the complaint's transaction.
  Device and account ids are kept for the group's staff, never shown in a public read.
- Reads of complaints filed on the channel ``open311`` (intake's ``complaints`` collection) go
  through ``open311_complaints``, with an index of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database

from intake.store import COMPLAINTS, ESTATES
from propcare_shared.clock import Clock, utcnow
from propcare_shared.mongo import IndexSpec
from propcare_shared.pagination import paginate

KEYS = "open311_keys"
REQUESTS = "open311_requests"
CHANNEL = "open311"

INDEXES: list[IndexSpec] = [
    IndexSpec(KEYS, [("digest", ASCENDING)], {"unique": True}),
    IndexSpec(KEYS, [("group_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(COMPLAINTS, [("channel", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(COMPLAINTS, [("channel", ASCENDING), ("estate_id", ASCENDING), ("_id", DESCENDING)]),
]


def key_digest(api_key: str) -> str:
    """Return the SHA-256 digest an API key is stored and looked up by."""
    return hashlib.sha256(api_key.encode()).hexdigest()


class Open311Store:
    """Reads and writes Open311's keys and request details, and reads the complaints filed through it."""

    def __init__(self, database: Database, *, clock: Clock = utcnow) -> None:
        self.database = database
        self.clock = clock

    # keys --------------------------------------------------------------------------------------

    def insert_key(self, key: dict[str, Any]) -> None:
        """Store a new key (its digest, never the key)."""
        self.database[KEYS].insert_one(key)

    def key_by_digest(self, digest: str) -> dict[str, Any] | None:
        """Return the key with this digest, revoked or not, or ``None``."""
        return self.database[KEYS].find_one({"digest": digest})

    def key(self, key_id: str) -> dict[str, Any] | None:
        """Return a key by its id, or ``None``."""
        return self.database[KEYS].find_one({"_id": key_id})

    def list_keys(self, *, group_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of a group's keys, newest first, without their digests."""
        return paginate(self.database[KEYS], {"group_id": group_id}, limit=limit, cursor=cursor, projection={"digest": 0})

    def revoke_key(self, key_id: str) -> None:
        """Revoke a key once; revoking it again keeps the first time."""
        self.database[KEYS].update_one({"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": self.clock()}})

    # estates -----------------------------------------------------------------------------------

    def estate_by_code(self, code: str) -> dict[str, Any] | None:
        """Return the estate with this code (a jurisdiction), or ``None``."""
        return self.database[ESTATES].find_one({"code": code})

    # requests ----------------------------------------------------------------------------------

    def insert_request(self, details: dict[str, Any], *, session: ClientSession) -> None:
        """Store what a GeoReport request adds to its complaint, in the complaint's transaction."""
        self.database[REQUESTS].insert_one(details, session=session)

    def requests_of(self, complaint_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Return the request details of these complaints, by complaint id."""
        return {document["_id"]: document for document in self.database[REQUESTS].find({"_id": {"$in": list(complaint_ids)}})}

    def open311_complaints(self, query: Mapping[str, Any], *, limit: int) -> list[dict[str, Any]]:
        """Return the newest complaints filed on the channel ``open311`` that match ``query``."""
        return list(self.database[COMPLAINTS].find({**query, "channel": CHANNEL}).sort("_id", DESCENDING).limit(limit))
