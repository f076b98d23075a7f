"""Read-model records of satisfaction campaigns and their answers, folded from the survey service's events.

Pure, and like the complaint facts idempotent and order-independent:
- A campaign's record is folded from ``campaign.started`` and ``campaign.closed`` (the same shape,
  ``CampaignChanged``). Its description (kind, questionnaire, sample, dimensions, dates) is that of
  the event ranked highest by ``(closed over started, occurred_at, event id)``, stored beside it as
  ``described_by``; ``started_at`` keeps the earliest start, ``closed_at`` the latest close and
  ``responded`` the largest count announced. The same events in any order, or one twice, give the
  same record.
- An answer (``campaign.response_recorded``) is kept per invitation, whether or not its campaign is
  known yet: the campaign's dimensions are read when figures are computed, so an answer that arrives
  before ``campaign.started`` counts once the campaign is known. An invitation has one answer; should
  two differing events name it, the one ranked highest by ``(answered_at, event id)`` stands.
- Scores outside their scale (a question 1-5, ``overall`` 1-10, ``recommend`` 0-10) are not kept: the
  question is left out, ``overall`` or ``recommend`` is null, so no figure averages an impossible value.

No personal data: an answer keeps the household type, the age band, the channel, the source, the
scores, ``overall``, ``recommend`` and ``answered_at``, with the tenancy of its envelope; never a
household id, a name, a phone or a comment (the event carries none, and nothing else is copied).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from propcare_shared.events.envelope import Event
from propcare_shared.tenancy import Tenancy

CAMPAIGN_EVENTS = frozenset({"campaign.started", "campaign.closed"})
RESPONSE_EVENT = "campaign.response_recorded"
QUESTION_SCALE = (1, 5)
OVERALL_SCALE = (1, 10)
RECOMMEND_SCALE = (0, 10)
DESCRIPTION_FIELDS = (
    "kind",
    "questionnaire_id",
    "sample_size",
    "strata",
    "channels",
    "dimensions",
    "complaint_handling_question",
    "opens_at",
    "closes_at",
)
_RANK = {"campaign.started": 0, "campaign.closed": 1}


def new_campaign(campaign_id: str) -> dict[str, Any]:
    """Return the record of a campaign no event has described yet."""
    return {
        "_id": campaign_id,
        "campaign_id": campaign_id,
        "group_id": None,
        "region_id": None,
        "estate_id": None,
        **{name: None for name in DESCRIPTION_FIELDS},
        "described_by": None,
        "started_at": None,
        "closed_at": None,
        "responded": 0,
    }


def campaign_record(current: Mapping[str, Any] | None, event: Event) -> dict[str, Any]:
    """Return a campaign's record after ``campaign.started`` or ``campaign.closed``."""
    data = event.data
    record = copy.deepcopy(dict(current)) if current else new_campaign(data["campaign_id"])
    for key, value in _tenancy(event).fields().items():
        record[key] = record.get(key) or value
    rank = [_RANK[event.type], event.occurred_at.isoformat(), event.id]
    if record["described_by"] is None or rank > record["described_by"]:
        record["described_by"] = rank
        for name in DESCRIPTION_FIELDS:
            record[name] = copy.deepcopy(data.get(name))
        record["dimensions"] = [{"id": item["id"], "questions": list(item["questions"])} for item in data.get("dimensions") or []]
    if event.type == "campaign.started":
        record["started_at"] = min(filter(None, (record["started_at"], event.occurred_at)))
    else:
        record["closed_at"] = max(filter(None, (record["closed_at"], event.occurred_at)))
        record["responded"] = max(int(record["responded"] or 0), int(data.get("responded") or 0))
    return record


def campaign_answer(current: Mapping[str, Any] | None, event: Event) -> dict[str, Any] | None:
    """Return an invitation's answer record after ``campaign.response_recorded``, or None when it changes nothing."""
    data = event.data
    rank = [data["answered_at"].isoformat(), event.id]
    if current is not None and current.get("rank") is not None and current["rank"] >= rank:
        return None
    record = {
        "_id": data["invitation_id"],
        "campaign_id": data["campaign_id"],
        "channel": data.get("channel"),
        "source": data.get("source"),
        "household_type": data.get("household_type"),
        "age_band": data.get("age_band"),
        "answers": {question: int(score) for question, score in (data.get("answers") or {}).items() if _within(score, QUESTION_SCALE)},
        "overall": data["overall"] if _within(data.get("overall"), OVERALL_SCALE) else None,
        "recommend": data["recommend"] if _within(data.get("recommend"), RECOMMEND_SCALE) else None,
        "answered_at": data["answered_at"],
        "rank": rank,
    }
    record.update(_tenancy(event).fields())
    return record


def _within(value: Any, scale: tuple[int, int]) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and scale[0] <= value <= scale[1]


def _tenancy(event: Event) -> Tenancy:
    return Tenancy(event.group_id, event.region_id, event.estate_id)
