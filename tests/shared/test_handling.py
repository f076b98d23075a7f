"""Handlers declared once (``Handles``), the one estate copy, and a service built from its definition."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from propcare_shared.context import ServiceContext
from propcare_shared.directory import INDEXES, EstateCopies, keeps_estates
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.events.outbox import AlreadyHandled, Transaction
from propcare_shared.handling import Handles, subscriptions
from propcare_shared.settings import Settings
from propcare_shared.tenancy import Tenancy
from propcare_shared.testing import outbox_events

AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture
def context(make_settings: Callable[..., Settings], open_context: Callable[..., ServiceContext]) -> ServiceContext:
    return open_context(make_settings("kernel"), indexes=INDEXES)


def estate_event(*, name: str, at: datetime) -> Event:
    data = {"estate_id": "NS01", "name": name, "code": "NS01", "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"}
    event = new_event("directory.estate.upserted", producer="intake", data=data, group_id="G1", region_id="R1", estate_id="NS01")
    return replace(event, occurred_at=at)


def test_a_handler_runs_once_per_event_under_its_own_queue_name(context: ServiceContext) -> None:
    seen: list[str] = []

    def note(_context: ServiceContext, tx: Transaction, event: Event) -> str:
        tx.emit("directory.estate.upserted", data=event.data, tenancy=Tenancy("G1", "R1", "NS01"))
        return event.id

    [subscription] = subscriptions(
        context, [Handles("notes", ("directory.estate.upserted",), note, after=lambda _c, _e, r: seen.append(r))]
    )
    assert subscription.purpose == "notes"
    event = estate_event(name="南山花园", at=AT)
    subscription.handler(event)
    with pytest.raises(AlreadyHandled):
        subscription.handler(event)
    assert seen == [event.id], "after runs once the work committed, never for a duplicate"
    inbox = list(context.database.inbox.find({}))
    assert [entry["consumer"] for entry in inbox] == ["kernel.notes"]
    [emitted] = outbox_events(context.database)
    assert (emitted["group_id"], emitted["region_id"], emitted["estate_id"]) == ("G1", "R1", "NS01")


def test_the_estate_copy_keeps_the_latest_version_in_any_order(context: ServiceContext) -> None:
    [subscription] = subscriptions(context, [keeps_estates()])
    subscription.handler(estate_event(name="新名字", at=AT + timedelta(minutes=5)))
    subscription.handler(estate_event(name="旧名字", at=AT))
    copy = EstateCopies(context.database).get("NS01")
    assert copy is not None and copy["name"] == "新名字" and copy["estate_id"] == "NS01"
    assert EstateCopies(context.database).tenancy("NS01") == Tenancy("G1", "R1", "NS01")
    assert EstateCopies(context.database).get("XX99") is None


def test_a_worker_built_from_a_definition_never_loads_flask() -> None:
    code = (
        "import sys\n"
        "from survey.service import SURVEY\n"
        "from propcare_shared.service import ServiceDefinition\n"
        "assert isinstance(SURVEY, ServiceDefinition)\n"
        "assert 'flask' not in sys.modules, sorted(m for m in sys.modules if m.startswith('flask'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
