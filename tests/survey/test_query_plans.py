"""Survey's hot-path queries are served by indexes: their cost does not grow with the invitations of the past.

The database holds a year of one estate's follow-up invitations (10,000, nearly all answered or
expired), another estate's 2,000, a few pending ones whose reminder or expiry has come, a closed
campaign of 3,000 invitations and an open one of 400 (half not sent yet). Each store function on a
hot path (the follow-up made on ``complaint.resolved``, the worker's due reminders, expiries, openings
and closings, the lists) runs once under ``tests.query_plans.recording``; every command is explained
and must use an index and examine no more than its answer needs plus a small slack.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from propcare_shared.context import KERNEL_INDEXES
from propcare_shared.events.outbox import INDEXES as OUTBOX_INDEXES
from propcare_shared.http.auth import Principal
from propcare_shared.mongo import ensure_indexes, new_id
from propcare_shared.testing import unique_name
from survey.campaign_store import CampaignStore
from survey.store import INDEXES, SurveyStore
from tests.query_plans import Plan, planned, recording_client, served

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
HISTORY = 10_000
DUE = 20
PAGE = 50


@dataclass
class Seeded:
    client: MongoClient
    recorder: Any
    database: Database
    store: SurveyStore
    campaigns: CampaignStore
    follow_ups: list[dict[str, Any]]
    open_campaign: str

    def plans(self, call: Callable[[], Any]) -> tuple[Any, list[Plan]]:
        """Run ``call`` once, recording what it sent; return its answer and the plan of every command."""
        return planned(self.client, self.recorder, self.database.name, call)


def _follow_up(rng: random.Random, *, estate_id: str, region_id: str, created_at: datetime, status: str) -> dict[str, Any]:
    """A follow-up invitation as ``survey.followups`` makes it, in the state its resident left it."""
    return {
        "_id": new_id(),
        "kind": "follow_up",
        "complaint_id": new_id(),
        "ticket_no": f"{estate_id}-{rng.randint(1, 999_999):06d}",
        "resolve_seq": 5,
        "group_id": "G1",
        "region_id": region_id,
        "estate_id": estate_id,
        "channel": rng.choice(["app", "phone", "wechat"]),
        "resolved_by": "eng-1",
        "status": status,
        "created_at": created_at,
        "remind_at": created_at + timedelta(days=1),
        "reminded_at": created_at + timedelta(days=1) if status != "answered" else None,
        "expires_at": created_at + timedelta(days=7),
        "answered_at": created_at + timedelta(hours=5) if status == "answered" else None,
    }


def _campaign_invitation(campaign: dict[str, Any], n: int, *, status: str, invited: bool) -> dict[str, Any]:
    channel = "online" if n % 3 else "phone"
    return {
        "_id": new_id(),
        "kind": "campaign",
        "campaign_id": campaign["_id"],
        "household_id": f"H-{n}",
        "building": str(n % 12 + 1),
        "stratum": f"building={n % 12 + 1}",
        "channel": channel,
        "group_id": "G1",
        "region_id": "R1",
        "estate_id": "NS01",
        "status": status,
        "created_at": campaign["opens_at"],
        "opens_at": campaign["opens_at"],
        "invited_at": campaign["opens_at"] if invited else None,
        "remind_at": campaign["opens_at"] + timedelta(days=3) if channel == "online" else None,
        "reminded_at": None,
        "expires_at": campaign["closes_at"],
        "answered_at": None,
    }


def _campaign(*, opens_at: datetime, status: str) -> dict[str, Any]:
    return {
        "_id": new_id(),
        "group_id": "G1",
        "region_id": "R1",
        "estate_id": "NS01",
        "status": status,
        "opens_at": opens_at,
        "closes_at": opens_at + timedelta(days=14),
        "reminder_after_days": 3,
    }


@pytest.fixture(scope="module")
def seeded(mongodb_url: str) -> Iterator[Seeded]:
    client, recorder = recording_client(mongodb_url)
    database = client[unique_name("test_survey_plans_")]
    ensure_indexes(database, [*OUTBOX_INDEXES, *KERNEL_INDEXES, *INDEXES])
    rng = random.Random(16)
    year = timedelta(days=365)
    follow_ups = [
        _follow_up(
            rng,
            estate_id="NS01",
            region_id="R1",
            created_at=NOW - timedelta(days=8) - year * (n / HISTORY),
            status=rng.choice(["answered", "expired"]),
        )
        for n in range(HISTORY)
    ]
    follow_ups += [
        _follow_up(rng, estate_id="FT02", region_id="R2", created_at=NOW - timedelta(days=8) - year * (n / 2_000), status="answered")
        for n in range(2_000)
    ]
    follow_ups += [  # due a reminder, then due to expire
        _follow_up(rng, estate_id="NS01", region_id="R1", created_at=NOW - timedelta(days=2), status="pending") | {"reminded_at": None}
        for _ in range(DUE)
    ]
    follow_ups += [
        _follow_up(rng, estate_id="NS01", region_id="R1", created_at=NOW - timedelta(days=8), status="pending") for _ in range(DUE)
    ]
    follow_ups += [
        _follow_up(rng, estate_id="NS01", region_id="R1", created_at=NOW - timedelta(hours=3), status="pending") for _ in range(DUE)
    ]
    closed = _campaign(opens_at=NOW - timedelta(days=90), status="closed")
    opened = _campaign(opens_at=NOW - timedelta(days=4), status="open")
    opening = _campaign(opens_at=NOW - timedelta(minutes=1), status="open")
    invitations = [_campaign_invitation(closed, n, status=rng.choice(["answered", "expired"]), invited=True) for n in range(3_000)]
    invitations += [_campaign_invitation(opened, n, status="pending", invited=True) for n in range(400)]
    invitations += [_campaign_invitation(opening, n, status="pending", invited=False) for n in range(200)]
    database["invitations"].insert_many([*follow_ups, *invitations], ordered=False)
    database["campaigns"].insert_many([closed, opened, opening, _campaign(opens_at=NOW - timedelta(days=15), status="open")])
    yield Seeded(client, recorder, database, SurveyStore(database), CampaignStore(database), follow_ups, opened["_id"])
    client.drop_database(database.name)
    client.close()


def test_a_resolved_complaints_follow_up_reads_and_writes_by_complaint(seeded: Seeded) -> None:
    invitation = seeded.follow_ups[777]
    complaint_id = invitation["complaint_id"]
    with seeded.client.start_session() as session:
        for call in (
            lambda: seeded.store.follow_up_since(complaint_id=complaint_id, resolve_seq=6, session=session),
            lambda: seeded.store.withdraw_pending(complaint_id=complaint_id, before_seq=6, now=NOW, session=session),
            lambda: seeded.store.invitation(invitation["_id"]),
            lambda: seeded.store.close_pending(invitation["_id"], status="answered", at=NOW, session=session),
            lambda: seeded.store.mark_reminded(invitation["_id"], at=NOW, session=session),
            lambda: seeded.store.estate_tenancy("NS01"),
        ):
            _, plans = seeded.plans(call)
            served(plans)


@pytest.mark.parametrize(
    "call",
    [
        lambda seeded: seeded.store.due_reminders(now=NOW, limit=100),
        lambda seeded: seeded.store.due_expiries(now=NOW, limit=100),
        lambda seeded: seeded.campaigns.due_openings(now=NOW, limit=100),
        lambda seeded: seeded.campaigns.due_reminders(now=NOW, limit=100),
        lambda seeded: seeded.campaigns.due_closings(now=NOW, limit=100),
    ],
    ids=["follow-up-reminders", "follow-up-expiries", "campaign-openings", "campaign-reminders", "campaign-closings"],
)
def test_the_workers_due_queries_examine_what_is_due(seeded: Seeded, call: Callable[[Seeded], list[str]]) -> None:
    due, plans = seeded.plans(lambda: call(seeded))
    assert due
    served(plans)


def test_a_campaigns_answers_are_counted_from_the_keys(seeded: Seeded) -> None:
    with seeded.client.start_session() as session:
        answered, plans = seeded.plans(lambda: seeded.campaigns.answered(seeded.open_campaign, session=session))
    assert answered == 0
    served(plans)


def _principal(role: str, **scope: Any) -> Principal:
    return Principal(sub="u-1", role=role, group_id="G1", **scope)


LISTS: dict[str, Callable[[], dict[str, Any]]] = {
    "estate": lambda: {**_principal("manager", estates=("NS01",)).query(), "estate_id": "NS01"},
    "estate-status": lambda: {**_principal("manager", estates=("NS01",)).query(), "estate_id": "NS01", "status": "pending"},
    "region": lambda: _principal("regional_ops", regions=("R2",)).query(),
    "group": lambda: _principal("group_admin").query(),
    "group-status": lambda: {**_principal("group_admin").query(), "status": "pending"},
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_invitation_lists_are_served_by_an_index_in_their_sort_order(seeded: Seeded, name: str) -> None:
    query = {"$and": [LISTS[name](), {}]}
    (items, cursor), plans = seeded.plans(lambda: seeded.store.list_invitations(query=query, limit=PAGE, cursor=None))
    assert items and cursor
    served(plans)
    _, plans = seeded.plans(lambda: seeded.store.list_invitations(query=query, limit=PAGE, cursor=cursor))
    served(plans)
