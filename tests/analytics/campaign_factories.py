"""Satisfaction campaigns as the survey service publishes them: ``campaign.started``, ``campaign.closed`` and generated answers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from propcare_shared.events.envelope import Event, new_event
from propcare_shared.mongo import new_id

QUESTIONNAIRE = [
    {"id": "basic_services", "questions": ["cleaning", "security", "customer_service"]},
    {"id": "facility_maintenance", "questions": ["elevator", "water_power", "public_facilities"]},
    {"id": "communication", "questions": ["disclosure", "complaint_handling"]},
    {"id": "value_added", "questions": ["events", "convenience"]},
]
QUESTIONS = [question for dimension in QUESTIONNAIRE for question in dimension["questions"]]
SCALES = {
    # basic services scored high, facility maintenance low: with overall leaning on maintenance it is the one to fix first
    "basic_services": (3, 5),
    "facility_maintenance": (1, 4),
    "communication": (1, 5),
    "value_added": (2, 5),
}


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@dataclass
class CampaignStory:
    """One campaign of an estate, and the events the survey service publishes for it."""

    campaign_id: str = field(default_factory=new_id)
    estate_id: str = "NS01"
    region_id: str = "R1"
    group_id: str = "G1"
    sample_size: int = 400
    opens_at: datetime = field(default_factory=lambda: at(2025, 11, 3))
    closes_at: datetime = field(default_factory=lambda: at(2025, 11, 24))
    dimensions: list[dict[str, Any]] = field(default_factory=lambda: [dict(item) for item in QUESTIONNAIRE])
    complaint_handling_question: str | None = "complaint_handling"

    def envelope(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "region_id": self.region_id, "estate_id": self.estate_id, "correlation_id": self.campaign_id}

    def changed(self, event_type: str, *, occurred_at: datetime, responded: int = 0) -> Event:
        return new_event(
            event_type,
            producer="survey",
            data={
                "campaign_id": self.campaign_id,
                "kind": "regular",
                "questionnaire_id": "Q1",
                "sample_size": self.sample_size,
                "strata": ["building", "household_type"],
                "channels": {"online": 240, "offline": 120, "phone": 40},
                "dimensions": self.dimensions,
                "complaint_handling_question": self.complaint_handling_question,
                "opens_at": self.opens_at,
                "closes_at": self.closes_at,
                "responded": responded,
            },
            occurred_at=occurred_at,
            **self.envelope(),
        )

    def started(self) -> Event:
        return self.changed("campaign.started", occurred_at=self.opens_at)

    def closed(self, responded: int) -> Event:
        return self.changed("campaign.closed", occurred_at=self.closes_at, responded=responded)

    def response(
        self,
        *,
        answers: dict[str, int],
        overall: int,
        recommend: int,
        answered_at: datetime,
        household_type: str | None = "owner",
        age_band: str | None = "36-59",
        channel: str = "online",
        invitation_id: str | None = None,
    ) -> Event:
        return new_event(
            "campaign.response_recorded",
            producer="survey",
            data={
                "campaign_id": self.campaign_id,
                "invitation_id": invitation_id or new_id(),
                "channel": channel,
                "source": "online" if channel == "online" else "import",
                "household_type": household_type,
                "age_band": age_band,
                "answers": answers,
                "overall": overall,
                "recommend": recommend,
                "answered_at": answered_at,
            },
            occurred_at=answered_at,
            **self.envelope(),
        )

    def generated(self, count: int, *, seed: int, start: datetime | None = None, days: int = 20) -> list[Event]:
        """Return ``count`` answers over ``days`` from ``start``: overall leans on maintenance and communication.

        Three answers come from a household type (``other``) and two from no age band: cells too small to report.
        """
        rng = random.Random(seed)
        first = start or self.opens_at
        events = []
        for index in range(count):
            scores = {q: rng.randint(*SCALES[d["id"]]) for d in QUESTIONNAIRE for q in d["questions"]}
            if rng.random() < 0.1:
                del scores["events"]  # some leave a question unanswered
            lean = (scores["elevator"] + scores["water_power"] + scores["public_facilities"] + 2 * scores["complaint_handling"]) / 5
            overall = max(1, min(10, round(2 * lean + rng.gauss(1, 1))))
            events.append(
                self.response(
                    answers=scores,
                    overall=overall,
                    recommend=max(0, min(10, overall + rng.randint(-2, 2))),
                    answered_at=first + timedelta(seconds=rng.randrange(days * 86400)),
                    household_type="other" if index < 3 else rng.choice(["owner", "owner", "tenant"]),
                    age_band=None if 3 <= index < 5 else rng.choice(["18-35", "36-59", "60+"]),
                    channel=rng.choice(["online", "online", "offline", "phone"]),
                )
            )
        return events
