"""Read-model records of satisfaction campaigns and their answers, kept for the satisfaction report.

Pure, and like the complaint facts order-independent and idempotent: a campaign keeps its first
start and its last close; an invitation keeps its latest answer. Answers carry the household type,
the age band, the scores, the overall score and the recommend score (0-10, for NPS); never a name,
a phone, a household id or a comment.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from propcare_shared.events.envelope import Event
from propcare_shared.tenancy import Tenancy


def campaign_record(current: Mapping[str, Any] | None, event: Event) -> dict[str, Any]:
    """Return a campaign's record after ``campaign.started`` or ``campaign.closed``."""
    data = event.data
    record: dict[str, Any] = (
        copy.deepcopy(dict(current)) if current else {"_id": data["campaign_id"], "started_at": None, "closed_at": None}
    )
    for key, value in _tenancy(event).fields().items():
        record[key] = record.get(key) or value
    for key in ("kind", "questionnaire_id", "sample_size", "opens_at", "closes_at"):
        if data.get(key) is not None:
            record[key] = data[key]
    if event.type == "campaign.started":
        record["started_at"] = min(filter(None, (record["started_at"], event.occurred_at)))
    else:
        record["closed_at"] = max(filter(None, (record["closed_at"], event.occurred_at)))
    return record


def campaign_answer(current: Mapping[str, Any] | None, event: Event) -> dict[str, Any] | None:
    """Return an invitation's answer record after a survey answer event, or None when it changes nothing."""
    data = event.data
    if data.get("auto_closed"):
        return None
    if current is not None and (current["answered_at"], not current["satisfied"]) >= (data["answered_at"], not data["satisfied"]):
        return None
    record = {
        "_id": data["invitation_id"],
        "campaign_id": data.get("campaign_id"),
        "kind": data["kind"],
        "channel": data.get("channel"),
        "household_type": data.get("household_type"),
        "age_band": data.get("age_band"),
        "solved": data.get("solved"),
        "scores": {name: float(score) for name, score in (data.get("scores") or {}).items()},
        "overall": data.get("overall"),
        "recommend": data.get("recommend"),
        "satisfied": bool(data["satisfied"]),
        "answered_at": data["answered_at"],
    }
    record.update(_tenancy(event).fields())
    return record


def _tenancy(event: Event) -> Tenancy:
    return Tenancy(event.group_id, event.region_id, event.estate_id)
