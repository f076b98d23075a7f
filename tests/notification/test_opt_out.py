"""The rest of the resident's messages (plan, progress, closed, cancelled with the reason; what the
resident adds, told to the assignee) and opting out of non-essential messages from the link every
resident message carries: the public page asks, the form post stores it per address, later messages
honour it, emergencies and essential ones still go, forged links are a 404 like unknown ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from notification.domain import opt_out
from notification.store import NotificationStore
from propcare_shared.events.envelope import Event, new_event
from tests.notification.factories import MONDAY_NIGHT, PHONE_E164, about, received_event, work_order_event

LINK = re.compile(r"http://127\.0\.0\.1:8080(/o/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


def messages(store: NotificationStore, complaint_id: str, kind: str) -> list[dict[str, Any]]:
    return [m for m in store.messages_of(complaint_id) if m["kind"] == kind]


def opened(handle: Callable[[Event], bool], *, tier: str = "general", **kwargs: Any) -> Event:
    received = received_event(**kwargs)
    handle(received)
    handle(work_order_event("complaint.assigned", received, status="assigned", action="assign", tier=tier))
    return received


def test_plan_progress_closed_and_cancelled_reach_the_resident_in_their_language_with_the_reason(
    handle: Callable[[Event], bool], store: NotificationStore, clock: Any
) -> None:
    received = opened(handle, language="en")
    complaint_id = received.data["complaint_id"]
    handle(work_order_event("complaint.plan_submitted", received, seq=3, note="replace the riser on Wednesday"))
    handle(work_order_event("complaint.progress_updated", received, seq=4, note="parts ordered"))
    [plan], [progress] = messages(store, complaint_id, "plan_submitted"), messages(store, complaint_id, "progress")
    assert "replace the riser on Wednesday" in plan["body"] and "parts ordered" in progress["body"]
    assert plan["channel"] == "app_push" and plan["recipient"] == PHONE_E164 and plan["language"] == "en"
    clock.advance(MONDAY_NIGHT - clock())
    handle(work_order_event("complaint.closed", received, seq=5, at=MONDAY_NIGHT))
    [closed] = messages(store, complaint_id, "closed")
    assert closed["not_before"] > MONDAY_NIGHT  # quiet hours: 07:00 local

    other = opened(handle, language="zh-CN")
    handle(work_order_event("complaint.cancelled", other, seq=3, status="cancelled", action="cancel", reason="与工单 NS01-0003 重复"))
    [cancelled] = messages(store, other.data["complaint_id"], "cancelled")
    assert "与工单 NS01-0003 重复" in cancelled["body"] and "撤销" in cancelled["title"]

    urgent = opened(handle, tier="emergency")
    handle(work_order_event("complaint.progress_updated", urgent, seq=3, tier="emergency", note="维保已到场", at=MONDAY_NIGHT))
    [night_progress] = messages(store, urgent.data["complaint_id"], "progress")
    assert night_progress["not_before"] == MONDAY_NIGHT  # an emergency's messages are never held


def test_what_the_resident_adds_is_told_to_the_assignee_dispatch_named(handle: Callable[[Event], bool], store: NotificationStore) -> None:
    received = opened(handle)
    handle(work_order_event("complaint.assigned", received, seq=3, status="assigned", action="reassign", assignee_id="eng-2"))
    update = new_event(
        "complaint.updated_by_resident",
        producer="intake",
        data={"complaint_id": received.data["complaint_id"], "note": "水又漏了 <b>很急</b>"},
        **about(received),
    )
    assert handle(update) and not handle(update)
    [told] = messages(store, received.data["complaint_id"], "resident_update")
    assert (told["recipient"], told["audience"], told["status"]) == ("staff:eng-2", "staff", "queued")
    assert "水又漏了 <b>很急</b>" in told["body"] and PHONE_E164 not in told["body"]


def test_opting_out_stops_non_essential_messages_to_that_phone_and_keeps_the_essential_ones(
    client: FlaskClient, handle: Callable[[Event], bool], store: NotificationStore
) -> None:
    received = opened(handle)
    complaint_id = received.data["complaint_id"]
    [acknowledgement] = messages(store, complaint_id, "acknowledgement")
    path = LINK.search(acknowledgement["body"]).group(1)  # type: ignore[union-attr]
    assert "退订" in acknowledgement["body"]

    page = client.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Stop non-essential messages" in page.get_data(as_text=True)
    assert "13800138000" not in page.get_data(as_text=True) and PHONE_E164 not in page.get_data(as_text=True)
    assert store.database.opt_outs.count_documents({}) == 0  # opening the link changes nothing
    confirmed = client.post(path, data={"choice": "stop"})
    assert confirmed.status_code == 200 and "已为您退订" in confirmed.get_data(as_text=True)
    [stored] = store.database.opt_outs.find()
    assert PHONE_E164 not in str(stored) and "8000" not in stored["_id"]

    handle(work_order_event("complaint.responded", received, seq=3, note="已联系"))
    handle(work_order_event("complaint.resolved", received, seq=4, resolution="更换了灯管"))
    [responded], [resolved] = messages(store, complaint_id, "responded"), messages(store, complaint_id, "resolved")
    assert (responded["status"], responded["skip_reason"]) == ("skipped", opt_out.OPTED_OUT_REASON)
    assert resolved["status"] == "queued"  # essential: what was done

    later = opened(handle)  # another complaint from the same phone: honoured there too
    handle(work_order_event("complaint.progress_updated", later, seq=3, note="进行中"))
    assert messages(store, later.data["complaint_id"], "progress")[0]["status"] == "skipped"
    urgent = opened(handle, tier="emergency")
    handle(work_order_event("complaint.progress_updated", urgent, seq=3, tier="emergency", note="维保已到场"))
    assert messages(store, urgent.data["complaint_id"], "progress")[0]["status"] == "queued"

    assert client.post(path, data={"choice": "resume"}).status_code == 200
    handle(work_order_event("complaint.progress_updated", later, seq=4, note="快好了"))
    assert [m["status"] for m in messages(store, later.data["complaint_id"], "progress")] == ["skipped", "queued"]


def test_forged_altered_and_unknown_links_get_the_same_404_and_store_nothing(
    client: FlaskClient, handle: Callable[[Event], bool], store: NotificationStore
) -> None:
    received = opened(handle)
    path = LINK.search(messages(store, received.data["complaint_id"], "acknowledgement")[0]["body"]).group(1)  # type: ignore[union-attr]
    encoded, signature = path.removeprefix("/o/").split(".")
    forged = opt_out.sign(kind="c", identifier=received.data["complaint_id"], secret="not-our-secret")
    unknown = opt_out.sign(kind="c", identifier="no-such-complaint", secret="development-only-opt-out-secret-change-me")
    altered = f"/o/{encoded}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"
    answers = []
    for bad in (f"/o/{forged}", altered, f"/o/{unknown}", "/o/nonsense", f"/o/{encoded}"):
        for response in (client.get(bad), client.post(bad, data={"choice": "stop"})):
            assert response.status_code == 404 and response.content_type.startswith("text/html")
            answers.append(response.get_data(as_text=True))
    assert len(set(answers)) == 1
    assert store.database.opt_outs.count_documents({}) == 0
