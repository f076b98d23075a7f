"""Notification's hot-path queries are served by indexes: their cost does not grow with the messages sent.

The database holds a year of one estate's messages (10,000, nearly all sent; each with its attempt,
its complaint's contact and, for some, a call task), another estate's 2,000, a backlog of 300 due
messages and a few whose sender died mid-send, and 12345 callbacks mostly delivered. Each store
function on a hot path (recording a message, the dispatcher's claim, lists with their filters, the
call list, the hotline sender's claim) runs once under ``tests.query_plans.recording``; every command
is explained and must use an index and examine no more than its answer needs plus a small slack.
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

from notification.hotline_store import CallbackStore
from notification.store import INDEXES, NotificationStore
from propcare_shared.context import KERNEL_INDEXES
from propcare_shared.events.outbox import INDEXES as OUTBOX_INDEXES
from propcare_shared.http.auth import Principal
from propcare_shared.mongo import ensure_indexes, new_id
from propcare_shared.testing import unique_name
from tests.query_plans import Plan, planned, recording_client, served

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
HISTORY = 10_000
OTHER_ESTATE = 2_000
BACKLOG = 300
STALE_LEASES = 5
PAGE = 50


@dataclass
class Seeded:
    client: MongoClient
    recorder: Any
    database: Database
    store: NotificationStore
    complaint_ids: list[str]

    def plans(self, call: Callable[[], Any]) -> tuple[Any, list[Plan]]:
        """Run ``call`` once, recording what it sent; return its answer and the plan of every command."""
        return planned(self.client, self.recorder, self.database.name, call)


def _message(rng: random.Random, *, estate_id: str, region_id: str, at: datetime, status: str = "sent") -> dict[str, Any]:
    """A message as ``notification.messages`` records it, in the state its delivery left it."""
    complaint_id = new_id()
    kind = rng.choice(["acknowledged", "assigned", "resolved", "survey_invited"])
    return {
        "_id": new_id(),
        "dedupe_key": f"{complaint_id}:{kind}",
        "event_id": new_id(),
        "event_type": "complaint.received",
        "kind": kind,
        "audience": "resident",
        "complaint_id": complaint_id,
        "ticket_no": f"{estate_id}-{complaint_id[-6:]}",
        "channel": rng.choice(["sms", "email", "wechat"]),
        "recipient": "+8613800138000",
        "language": "zh-CN",
        "title": "您的报事已受理",
        "body": "您好，您的报事已受理，我们会尽快处理。",
        "tier": "general",
        "timezone": "Asia/Shanghai",
        "quiet_hours": False,
        "status": status,
        "skip_reason": None,
        "not_before": at,
        "attempts": 1 if status == "sent" else 0,
        "provider": "fake",
        "last_error": None,
        "lease_until": at + timedelta(seconds=30) if status == "sending" else None,
        "claimed_by": "dead-sender" if status == "sending" else None,
        "sent_at": at if status == "sent" else None,
        "failed_at": None,
        "created_at": at,
        "updated_at": at,
        "group_id": "G1",
        "region_id": region_id,
        "estate_id": estate_id,
    }


def _history(rng: random.Random, *, estate_id: str, region_id: str, count: int) -> list[dict[str, Any]]:
    return [_message(rng, estate_id=estate_id, region_id=region_id, at=NOW - timedelta(days=365) * (n / count)) for n in range(count)]


def _call_task(message: dict[str, Any], *, status: str, due_at: datetime) -> dict[str, Any]:
    return {
        "_id": new_id(),
        "message_id": message["_id"],
        "complaint_id": message["complaint_id"],
        "reason": "emergency",
        "status": status,
        "due_at": due_at,
        "not_before": due_at,
        "attempts": 0,
        "outcomes": [],
        "created_at": due_at,
        "group_id": message["group_id"],
        "region_id": message["region_id"],
        "estate_id": message["estate_id"],
    }


def _callback(ticket: int, sequence: int, *, status: str, at: datetime) -> dict[str, Any]:
    return {
        "_id": new_id(),
        "hotline_ticket_id": f"12345-{ticket:06d}",
        "sequence": sequence,
        "complaint_id": new_id(),
        "status": status,
        "not_before": at,
        "lease_until": None,
        "claimed_by": None,
        "attempts": 1 if status == "delivered" else 0,
        "created_at": at,
    }


@pytest.fixture(scope="module")
def seeded(mongodb_url: str) -> Iterator[Seeded]:
    client, recorder = recording_client(mongodb_url)
    database = client[unique_name("test_notification_plans_")]
    ensure_indexes(database, [*OUTBOX_INDEXES, *KERNEL_INDEXES, *INDEXES])
    rng = random.Random(16)
    messages = _history(rng, estate_id="NS01", region_id="R1", count=HISTORY)
    messages += _history(rng, estate_id="FT02", region_id="R2", count=OTHER_ESTATE)
    messages += [
        _message(rng, estate_id="NS01", region_id="R1", at=NOW - timedelta(minutes=n % 60), status=rng.choice(["queued", "retrying"]))
        for n in range(BACKLOG)
    ]
    messages += [
        _message(rng, estate_id="NS01", region_id="R1", at=NOW - timedelta(minutes=5), status="sending") for _ in range(STALE_LEASES)
    ]
    database["messages"].insert_many(messages, ordered=False)
    database["attempts"].insert_many(
        [{"_id": new_id(), "message_id": m["_id"], "provider": "fake", "status": "sent", "at": m["created_at"]} for m in messages],
        ordered=False,
    )
    database["contacts"].insert_many(
        [{"_id": m["complaint_id"], "phone": m["recipient"], "estate_id": m["estate_id"], "group_id": "G1"} for m in messages],
        ordered=False,
    )
    tasks = [_call_task(m, status="done", due_at=m["created_at"]) for m in messages[:HISTORY:5]]
    tasks += [_call_task(m, status="open", due_at=m["created_at"] + timedelta(hours=2)) for m in messages[-BACKLOG:-200]]
    database["call_tasks"].insert_many(tasks, ordered=False)
    callbacks = [_callback(n, 1, status="delivered", at=NOW - timedelta(days=365) * (n / 2_000)) for n in range(2_000)]
    callbacks += [_callback(n, 2, status="pending", at=NOW - timedelta(minutes=n)) for n in range(0, 2_000, 40)]
    database["hotline_callbacks"].insert_many(callbacks, ordered=False)
    for estate_id, region_id in (("NS01", "R1"), ("FT02", "R2")):
        database["estates"].insert_one({"_id": estate_id, "group_id": "G1", "region_id": region_id, "timezone": "Asia/Shanghai"})
    yield Seeded(client, recorder, database, NotificationStore(database), [m["complaint_id"] for m in messages[:HISTORY]])
    client.drop_database(database.name)
    client.close()


def test_recording_a_message_reads_by_key(seeded: Seeded) -> None:
    complaint_id = seeded.complaint_ids[1234]
    for call in (
        lambda: seeded.store.has_message(f"{complaint_id}:acknowledged"),
        lambda: seeded.store.contact(complaint_id),
        lambda: seeded.store.estate("NS01"),
        lambda: seeded.store.opted_out("k-1"),
        lambda: seeded.store.estate_tenancy("NS01"),
    ):
        _, plans = seeded.plans(call)
        served(plans)


def test_the_dispatchers_claim_examines_one_due_message_not_the_backlog(seeded: Seeded) -> None:
    claimed, plans = seeded.plans(lambda: seeded.store.claim_due(now=NOW, lease_until=NOW + timedelta(seconds=30), owner="me"))
    assert claimed is not None
    served(plans, needs=STALE_LEASES)
    _, plans = seeded.plans(lambda: seeded.store.finish_attempt(claimed["_id"], owner="me", changes={"status": "sent"}))
    served(plans)


def test_the_hotline_senders_claim_examines_the_undelivered_callbacks_only(seeded: Seeded) -> None:
    undelivered = seeded.database["hotline_callbacks"].count_documents({"status": {"$ne": "delivered"}})
    claimed, plans = seeded.plans(lambda: CallbackStore(seeded.database).claim_next(now=NOW, lease_until=NOW, owner="me"))
    assert claimed is not None
    served(plans, needs=undelivered)


def test_a_complaints_messages_and_their_attempts_are_read_by_index(seeded: Seeded) -> None:
    complaint_id = seeded.complaint_ids[42]
    messages, plans = seeded.plans(lambda: seeded.store.messages_of(complaint_id))
    assert messages
    served(plans)
    ids = [message["_id"] for message in messages]
    for call in (
        lambda: seeded.store.attempts_of(ids),
        lambda: seeded.store.call_tasks_of(ids),
        lambda: seeded.store.phones_of([complaint_id]),
    ):
        _, plans = seeded.plans(call)
        served(plans)


def _principal(role: str, **scope: Any) -> Principal:
    return Principal(sub="u-1", role=role, group_id="G1", **scope)


MESSAGE_LISTS: dict[str, Callable[[], dict[str, Any]]] = {
    "estate": lambda: {**_principal("manager", estates=("NS01",)).query(), "estate_id": "NS01"},
    "estate-status": lambda: {**_principal("manager", estates=("NS01",)).query(), "estate_id": "NS01", "status": "queued"},
    "estates": lambda: _principal("manager", estates=("NS01", "FT02")).query(),
    "region": lambda: _principal("regional_ops", regions=("R2",)).query(),
    "group": lambda: _principal("group_admin").query(),
    "group-status": lambda: {**_principal("group_admin").query(), "status": "retrying"},
}


@pytest.mark.parametrize("name", sorted(MESSAGE_LISTS))
def test_message_lists_are_served_by_an_index_in_their_sort_order(seeded: Seeded, name: str) -> None:
    query = {"$and": [MESSAGE_LISTS[name]()]}
    (items, cursor), plans = seeded.plans(lambda: seeded.store.messages(query=query, limit=PAGE, cursor=None))
    assert items and cursor
    served(plans)
    _, plans = seeded.plans(lambda: seeded.store.messages(query=query, limit=PAGE, cursor=cursor))
    served(plans)


CALL_LISTS: dict[str, Callable[[], dict[str, Any]]] = {
    "estate": lambda: {**_principal("manager", estates=("NS01",)).query(), "estate_id": "NS01"},
    "region": lambda: _principal("regional_ops", regions=("R1",)).query(),
    "group": lambda: _principal("group_admin").query(),
}


@pytest.mark.parametrize("scope", sorted(CALL_LISTS))
def test_the_call_list_is_served_by_an_index_in_due_order(seeded: Seeded, scope: str) -> None:
    query = {"$and": [CALL_LISTS[scope](), {"status": "open"}]}
    (items, cursor), plans = seeded.plans(lambda: seeded.store.call_tasks(query=query, limit=PAGE, cursor=None))
    assert items and cursor
    served(plans)
    _, plans = seeded.plans(lambda: seeded.store.call_tasks(query=query, limit=PAGE, cursor=cursor))
    served(plans)
