"""What the residents' pages keep in intake's database beside the complaints: form claims and survey links.

Collections:
- ``resident_form_claims``: one per form a resident sent (``_id`` = a digest of the form's one-time
  token, never the token). The claim is inserted before the work (unique ``_id``), so a second post
  of the same form, a double tap or a reload, never files a second complaint: it waits for the first
  and gets its answer. The answer of a filed complaint includes its tracking token, kept only
  encrypted under a key derived from the form token, which the database does not hold: a dump of
  this collection does not open anyone's complaint. Claims expire after ``CLAIM_TTL`` (TTL index);
- ``resident_surveys``: ``_id`` = complaint id; the follow-up survey link survey sent for it
  (``survey.invited``) and whether it was answered (``survey.completed``/``survey.dissatisfied``),
  so the tracking page can offer the link once the complaint is resolved. A newer invitation of the
  same complaint (after a reopen) replaces the older one; an event of an older invitation changes
  nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from intake.store import ESTATES
from propcare_shared.mongo import IndexSpec

FORM_CLAIMS = "resident_form_claims"
SURVEYS = "resident_surveys"
CLAIM_TTL = timedelta(days=1)
STALE_CLAIM = timedelta(seconds=60)

RESIDENT_INDEXES: list[IndexSpec] = [
    IndexSpec(FORM_CLAIMS, [("expires_at", ASCENDING)], {"expireAfterSeconds": 0}),
]


class ResidentStore:
    """Reads and writes the residents' pages' own collections (and reads estates by code)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def estate_by_code(self, code: str) -> dict[str, Any] | None:
        """Return the estate with this code (as written, or in capitals), or ``None``."""
        estates = self.database[ESTATES]
        return estates.find_one({"code": code}) or (estates.find_one({"code": code.upper()}) if code != code.upper() else None)

    # form claims ---------------------------------------------------------------------------

    def claim(self, *, claim_id: str, kind: str, body_hash: str, now: datetime) -> dict[str, Any] | None:
        """Claim a form for this body; return ``None`` when claimed now, else the existing claim.

        A pending claim older than ``STALE_CLAIM`` (its request died) is taken over for the same body.
        """
        document = {
            "_id": claim_id,
            "kind": kind,
            "body_hash": body_hash,
            "state": "pending",
            "created_at": now,
            "expires_at": now + CLAIM_TTL,
        }
        try:
            self.database[FORM_CLAIMS].insert_one(document)
            return None
        except DuplicateKeyError:
            pass
        taken = self.database[FORM_CLAIMS].find_one_and_update(
            {"_id": claim_id, "body_hash": body_hash, "state": "pending", "created_at": {"$lt": now - STALE_CLAIM}},
            {"$set": {"created_at": now}},
        )
        if taken is not None:
            return None
        return self.database[FORM_CLAIMS].find_one({"_id": claim_id}) or {"state": "pending", "body_hash": body_hash}

    def existing_claim(self, claim_id: str) -> dict[str, Any] | None:
        """Return a form's claim, or ``None``."""
        return self.database[FORM_CLAIMS].find_one({"_id": claim_id})

    def finish_claim(self, claim_id: str, *, result: dict[str, Any]) -> None:
        """Keep the answer of a claimed form for its replays."""
        self.database[FORM_CLAIMS].update_one({"_id": claim_id}, {"$set": {"state": "done", "result": result}})

    def release_claim(self, claim_id: str) -> None:
        """Drop a claim whose work failed, so the same form can be sent again."""
        self.database[FORM_CLAIMS].delete_one({"_id": claim_id, "state": "pending"})

    # survey links --------------------------------------------------------------------------

    def survey_invited(self, *, complaint_id: str, invitation_id: str, link: str, expires_at: datetime, session: Any = None) -> None:
        """Keep the follow-up link of a complaint; a new invitation (after a reopen) starts unanswered, a reminder changes nothing."""
        same = {"$eq": ["$invitation_id", invitation_id]}
        self.database[SURVEYS].update_one(
            {"_id": complaint_id},
            [
                {
                    "$set": {
                        "invitation_id": invitation_id,
                        "link": link,
                        "expires_at": expires_at,
                        "answered": {"$cond": [same, {"$ifNull": ["$answered", False]}, False]},
                        "satisfied": {"$cond": [same, {"$ifNull": ["$satisfied", None]}, None]},
                    }
                }
            ],
            upsert=True,
            session=session,
        )

    def survey_answered(self, *, complaint_id: str, invitation_id: str, satisfied: bool, session: Any = None) -> None:
        """Mark the complaint's invitation answered (also before its invitation arrived); an older invitation's answer changes nothing."""
        current = {"$ifNull": ["$invitation_id", invitation_id]}
        same = {"$eq": [current, invitation_id]}
        self.database[SURVEYS].update_one(
            {"_id": complaint_id},
            [
                {
                    "$set": {
                        "invitation_id": current,
                        "answered": {"$cond": [same, True, {"$ifNull": ["$answered", False]}]},
                        "satisfied": {"$cond": [same, satisfied, {"$ifNull": ["$satisfied", None]}]},
                    }
                }
            ],
            upsert=True,
            session=session,
        )

    def survey_of(self, complaint_id: str) -> dict[str, Any] | None:
        """Return what intake knows of a complaint's follow-up survey, or ``None``."""
        return self.database[SURVEYS].find_one({"_id": complaint_id})
