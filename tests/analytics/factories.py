"""Events of realistic complaint stories and of the directory, as intake, dispatch and survey publish them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from propcare_shared.events.envelope import Event, new_event
from propcare_shared.mongo import new_id
from propcare_shared.sealing import Sealer, new_key

REPORTER = {"name": "王秀英女士", "phone": "+8613800138000", "email": "wang.xiuying@example.com"}
REPORTER_ROLE = "owner"
CONTACT = Sealer([new_key()]).seal(REPORTER)
"""The reporter's contact as intake puts it on the bus: sealed with a key analytics is never given."""
DESCRIPTION = "3号楼2单元电梯异响 门关不严 家里老人不敢坐"
DEMAND = "请尽快检修 回电13800138000"
NOTE = "已电话联系王秀英女士 约好上门"
SCORES = {"result": 5.0, "speed": 4.0, "attitude": 5.0}
RESOLUTION = "更换门机皮带"
SURVEY_LINK_TOKEN = "secret-token-abc"
PERSONAL_TEXTS = (
    REPORTER["name"],
    "13800138000",  # the phone, with or without +86
    REPORTER["email"],
    CONTACT,
    CONTACT[-40:],  # any part of the sealed text past Fernet's common prefix
    DESCRIPTION,
    DEMAND,
    NOTE,
    RESOLUTION,
    SURVEY_LINK_TOKEN,
    "HH-NS01",
)
"""Texts of a complaint's events that no analytics collection may hold, whole or sealed."""


def ms(moment: datetime) -> datetime:
    """Return a time truncated to milliseconds, as it travels on the bus and rests in MongoDB."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def utc_now() -> datetime:
    """Return the current time in UTC, to milliseconds."""
    return ms(datetime.now(UTC))


def estate_upserted(estate_id: str, *, region_id: str, group_id: str = "G1") -> Event:
    """Return the directory's ``directory.estate.upserted`` for an estate, as intake publishes it."""
    return new_event(
        "directory.estate.upserted",
        producer="intake",
        data={"estate_id": estate_id, "name": f"{estate_id} 花园", "code": estate_id, "region_id": region_id, "group_id": group_id},
        estate_id=estate_id,
        region_id=region_id,
        group_id=group_id,
    )


@dataclass
class ComplaintStory:
    """One complaint and the events of its life, in the order they happen."""

    received_at: datetime
    complaint_id: str = field(default_factory=new_id)
    estate_id: str = "NS01"
    region_id: str = "R1"
    group_id: str = "G1"
    building: str = "3"
    channel: str = "app"
    category: str = "facility"
    subcategory: str = "elevator"
    tier: str = "general"
    department: str = "engineering"
    invitation_id: str = field(default_factory=new_id)

    @property
    def ticket_no(self) -> str:
        return f"{self.estate_id}-{self.received_at:%Y%m%d}-{self.complaint_id[-4:]}"

    def at(self, seconds: float) -> datetime:
        return ms(self.received_at + timedelta(seconds=seconds))

    def envelope(self, seq: int | None) -> dict[str, Any]:
        return {
            "correlation_id": self.complaint_id,
            "group_id": self.group_id,
            "region_id": self.region_id,
            "estate_id": self.estate_id,
            "seq": seq,
        }

    def deadlines(self, *, resolved_at: datetime | None = None) -> dict[str, datetime]:
        due = {"response": self.at(24 * 3600), "resolve": self.at(3 * 86400)}
        if resolved_at is not None:
            due["follow_up"] = ms(resolved_at + timedelta(hours=48))
        return due

    def received(self, *, seq: int = 1) -> Event:
        return new_event(
            "complaint.received",
            producer="intake",
            data={
                "complaint_id": self.complaint_id,
                "ticket_no": self.ticket_no,
                "channel": self.channel,
                "building": self.building,
                "unit": "2",
                "room": "1502",
                "household_id": "HH-NS01-3-2-1502",
                "household_type": "owner",
                "age_band": "60+",
                "description": DESCRIPTION,
                "demand": DEMAND,
                "received_at": self.received_at,
                "reporter_role": REPORTER_ROLE,
                "contact": CONTACT,
            },
            occurred_at=self.received_at,
            **self.envelope(seq),
        )

    def work_order(
        self,
        event_type: str,
        *,
        seq: int,
        seconds: float,
        status: str,
        targets_met: dict[str, bool] | None = None,
        resolved_at: datetime | None = None,
        **extra: Any,
    ) -> Event:
        at = self.at(seconds)
        return new_event(
            event_type,
            producer="dispatch",
            data={
                "complaint_id": self.complaint_id,
                "ticket_no": self.ticket_no,
                "status": status,
                "action": event_type.split(".", 1)[1],
                "at": at,
                "actor_id": "S-ENG-01",
                "channel": self.channel,
                "category": self.category,
                "subcategory": self.subcategory,
                "tier": self.tier,
                "department": self.department,
                "assignee_id": "S-ENG-01",
                "confidence": 0.92,
                "matched": ["电梯"],
                "deadlines": self.deadlines(resolved_at=resolved_at),
                "targets_met": targets_met or {},
                "received_at": self.received_at,
                **extra,
            },
            occurred_at=at,
            **self.envelope(seq),
        )

    def classified(self, *, seq: int = 2) -> Event:
        return self.work_order("complaint.classified", seq=seq, seconds=60, status="classified")

    def assigned(self, *, seq: int = 3) -> Event:
        return self.work_order("complaint.assigned", seq=seq, seconds=60, status="assigned")

    def responded(self, *, seq: int = 4) -> Event:
        return self.work_order("complaint.responded", seq=seq, seconds=1800, status="responded", targets_met={"response": True}, note=NOTE)

    def resolved(self, *, seq: int = 5) -> Event:
        return self.work_order(
            "complaint.resolved",
            seq=seq,
            seconds=86400,
            status="resolved",
            targets_met={"resolve": True},
            resolved_at=self.at(86400),
            note=NOTE,
            resolution=RESOLUTION,
        )

    def reopened(self, *, seq: int = 6) -> Event:
        return self.work_order(
            "complaint.reopened",
            seq=seq,
            seconds=90000,
            status="assigned",
            resolved_at=self.at(86400),
            repeat=True,
            note="survey: not satisfied",
        )

    def survey_invited(self) -> Event:
        at = self.at(86400 + 60)
        return new_event(
            "survey.invited",
            producer="survey",
            data={
                "invitation_id": self.invitation_id,
                "kind": "follow_up",
                "link": f"https://propcare.example/s/{SURVEY_LINK_TOKEN}",
                "expires_at": ms(at + timedelta(days=7)),
                "channel": "app",
                "complaint_id": self.complaint_id,
            },
            occurred_at=at,
            **self.envelope(None),
        )

    def survey_completed(self, *, scores: dict[str, float] | None = None) -> Event:
        at = self.at(86400 + 7200)
        return new_event(
            "survey.completed",
            producer="survey",
            data={
                "invitation_id": self.invitation_id,
                "kind": "follow_up",
                "channel": "app",
                "complaint_id": self.complaint_id,
                "solved": True,
                "scores": scores or SCORES,
                "satisfied": True,
                "answered_at": at,
            },
            occurred_at=at,
            **self.envelope(None),
        )

    def lifecycle(self) -> list[Event]:
        """Return received → classified → assigned → responded → resolved → survey invited → survey completed."""
        return [
            self.received(),
            self.classified(),
            self.assigned(),
            self.responded(),
            self.resolved(),
            self.survey_invited(),
            self.survey_completed(),
        ]
