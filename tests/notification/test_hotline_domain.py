"""The hotline callbacks as plain values: which event asks for which callback, the body, the signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from notification.domain import hotline
from notification.handlers import EVENT_TYPES

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
UNTIL = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def acted(**data: object) -> dict[str, object]:
    return {"hotline_ticket_id": "T1", "complaint_id": "c1", "at": AT, "actor_id": "agent-1", "reason": None, "until": None, **data}


def test_every_event_that_asks_for_a_callback_reaches_notifications_queue() -> None:
    assert set(hotline.CALLBACK_EVENTS) <= set(EVENT_TYPES)


def test_accepted_is_a_callback_with_the_agent_as_handler() -> None:
    assert hotline.callback_fields("hotline.accepted", acted()) == {
        "event": "accepted",
        "at": AT,
        "note": None,
        "handler": "agent-1",
        "resolution": None,
        "until": None,
    }


def test_a_return_carries_its_reason_as_the_note() -> None:
    fields = hotline.callback_fields("hotline.returned", acted(reason="不属于本物业管辖"))
    assert (fields["event"], fields["note"]) == ("returned", "不属于本物业管辖")


def test_an_extension_carries_the_new_date_beside_the_reason() -> None:
    fields = hotline.callback_fields("hotline.extension_requested", acted(reason="等待配件", until=UNTIL))
    assert fields["event"] == "extension_requested" and fields["until"] == UNTIL
    assert fields["note"] == "等待配件 (until 2026-11-30T10:00:00Z)"


def test_plan_and_progress_are_progress_callbacks_with_the_staff_note() -> None:
    for event_type in ("complaint.plan_submitted", "complaint.progress_updated"):
        fields = hotline.callback_fields(event_type, {"at": AT, "note": "已联系保洁公司", "actor_id": "eng-1"})
        assert (fields["event"], fields["note"], fields["resolution"]) == ("progress", "已联系保洁公司", None)


def test_a_resolution_is_the_completion_with_what_was_done_by_whom_and_when() -> None:
    fields = hotline.callback_fields("complaint.resolved", {"at": AT, "note": None, "resolution": "垃圾已清运", "actor_id": "eng-1"})
    assert (fields["event"], fields["resolution"], fields["handler"], fields["at"]) == ("completed", "垃圾已清运", "eng-1", AT)


def test_the_body_is_the_contract_with_the_callback_id_sequence_and_utc_times() -> None:
    callback = {
        "_id": "cb1",
        "hotline_ticket_id": "T1",
        "sequence": 2,
        "event": "extension_requested",
        "at": AT,
        "note": "n",
        "handler": "agent-1",
        "resolution": None,
        "until": UNTIL,
    }
    assert json.loads(hotline.body_of(callback)) == {
        "callback_id": "cb1",
        "hotline_ticket_id": "T1",
        "sequence": 2,
        "event": "extension_requested",
        "at": "2026-11-23T02:00:00Z",
        "note": "n",
        "handler": "agent-1",
        "resolution": None,
        "until": "2026-11-30T10:00:00Z",
    }


def test_the_signature_is_the_hmac_of_timestamp_dot_body() -> None:
    body = b'{"event":"accepted"}'
    headers = hotline.signed_headers(secret="s3cret", body=body, unix_time=1_700_000_000.7, callback_id="cb1")
    assert headers["X-Hotline-Timestamp"] == "1700000000"
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Hotline-Signature"], expected)
    assert headers["Idempotency-Key"] == "cb1"


def test_a_claimed_callback_is_reported_as_pending() -> None:
    assert hotline.REPORTED_STATES == {"pending": "pending", "sending": "pending", "failing": "failing", "delivered": "delivered"}
