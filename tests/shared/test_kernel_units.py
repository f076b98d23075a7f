"""Pure parts of the kernel: settings, envelope, log redaction."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
from marshmallow import ValidationError

from propcare_shared.events.envelope import Event, new_event
from propcare_shared.logs import JsonFormatter, correlation, redact
from propcare_shared.settings import Settings


def test_settings_read_types_and_defaults() -> None:
    settings = Settings.from_env("dispatch", {"OUTBOX_POLL_INTERVAL": "2.5", "PORT": "9000", "RETRY_DELAYS": "1,2"})
    assert settings.outbox_poll_interval == 2.5
    assert settings.port == 9000
    assert settings.retry_delays == (1.0, 2.0)
    assert settings.mongodb_database == "propcare_dispatch"
    assert settings.embedded_broker
    assert Settings.from_env("dispatch", {"RABBITMQ_URL": "amqp://x//"}).embedded_broker is False


def test_settings_name_the_bad_variable() -> None:
    with pytest.raises(ValueError, match="PORT"):
        Settings.from_env("intake", {"PORT": "eighty"})


def test_settings_never_print_secrets() -> None:
    assert "s3cret" not in repr(Settings.from_env("intake", {"JWT_SECRET": "s3cret"}))


def test_envelope_round_trips_with_utc_z_times() -> None:
    event = new_event(
        "complaint.updated_by_resident",
        producer="intake",
        data={"complaint_id": "c1", "note": "还是漏水"},
        correlation_id="c1",
        estate_id="NS01",
        seq=4,
        occurred_at=datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC),
    )
    message = event.to_message()
    assert message["occurred_at"] == "2026-11-22T01:02:03.000Z"
    assert Event.from_message(json.loads(json.dumps(message))) == event


def test_envelope_rejects_bad_data_and_unknown_types() -> None:
    with pytest.raises(ValidationError):
        Event.from_message(
            {
                **new_event("complaint.updated_by_resident", producer="x", data={"complaint_id": "c", "note": "n"}).to_message(),
                "data": {"note": 1},
            }
        )
    with pytest.raises(KeyError):
        new_event("complaint.exploded", producer="x", data={})
    with pytest.raises(ValueError, match="does not declare"):
        new_event("complaint.updated_by_resident", producer="x", data={"complaint_id": "c", "note": "n", "phone": "13800138000"})


def test_redaction_masks_phones_and_emails() -> None:
    assert redact("call 13800138000 or mail wang@example.com") == "call 138****8000 or mail [email]"


def test_json_logs_carry_the_correlation_id_and_no_phone() -> None:
    formatter = JsonFormatter("intake")
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "reporter 13900139000 called", None, None)
    record.complaint_id = "c1"
    with correlation("c1"):
        line = json.loads(formatter.format(record))
    assert line["correlation_id"] == "c1"
    assert line["complaint_id"] == "c1"
    assert "13900139000" not in json.dumps(line)


def test_a_scope_query_never_leaves_the_callers_group() -> None:
    from propcare_shared.scope import Scope

    assert Scope("group", "G1").query(group_id="G1") == {"group_id": "G1"}
    assert Scope("group", "G2").query(group_id="G1") == {"group_id": {"$in": []}}
    assert Scope("region", "R1").query(group_id="G2") == {"group_id": "G2", "region_id": "R1"}
    assert Scope("region", "R1").key(group_id="G2") == "region:G2/R1"


def test_a_kept_mongod_data_folder_starts_again_on_another_port(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pymongo import MongoClient

    from infra.local.mongod import MongodProcess, free_port

    first = MongodProcess(dbpath=tmp_path / "mongo", port=free_port(), keep_data=True).start()
    with MongoClient(first.url) as client:
        client.kept.things.insert_one({"_id": 1})
    first.stop()
    second = MongodProcess(dbpath=tmp_path / "mongo", port=free_port(), keep_data=True).start()
    try:
        with MongoClient(second.url) as client:
            assert client.kept.things.find_one({"_id": 1}) == {"_id": 1}
            client.kept.things.insert_one({"_id": 2})
    finally:
        second.stop()


def test_the_vocabulary_names_every_subcategory_of_the_taxonomy() -> None:
    from dispatch.domain.taxonomy import CATEGORIES
    from propcare_shared.vocabulary import SUBCATEGORIES

    assert {code: category for code, (category, _, _) in SUBCATEGORIES.items()} == {
        sub: category for category, subs in CATEGORIES.items() for sub in subs
    }
