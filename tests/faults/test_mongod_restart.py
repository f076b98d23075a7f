"""``make run`` starts again on its own data folder whatever MongoDB port it got, and a failed start leaves no mongod behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pymongo import MongoClient

from infra.local.mongod import MongodProcess, free_port


def test_a_kept_data_folder_starts_again_on_another_port(tmp_path: Path) -> None:
    dbpath = tmp_path / "mongo"
    first = MongodProcess(dbpath=dbpath, port=free_port(), keep_data=True).start()
    try:
        with MongoClient(first.url, tz_aware=True) as client:
            client.kept.things.insert_one({"_id": "kept"})
    finally:
        first.stop()
    second = MongodProcess(dbpath=dbpath, port=free_port(), keep_data=True)
    assert second.port != first.port
    second.start(timeout=60)
    try:
        with MongoClient(second.url, tz_aware=True) as client:
            assert client.admin.command("hello")["isWritablePrimary"]
            assert client.kept.things.find_one({"_id": "kept"}) is not None
            with client.start_session() as session, session.start_transaction():
                client.kept.things.insert_one({"_id": "in-a-transaction"}, session=session)
    finally:
        second.stop()


def test_a_failed_start_stops_the_mongod_it_started(tmp_path: Path) -> None:
    mongod = MongodProcess(dbpath=tmp_path / "mongo", port=free_port(), keep_data=True)
    with pytest.raises(RuntimeError):
        mongod.start(timeout=0.01)  # gives up before mongod answers
    assert mongod.process is not None
    assert mongod.process.poll() is not None, "the mongod of a failed start is still running"
    lock = tmp_path / "mongo" / "mongod.lock"
    assert not lock.exists() or not lock.read_text().strip() or not os.path.exists(f"/proc/{lock.read_text().strip()}")
