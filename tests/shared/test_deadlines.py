"""A database that hangs: every request answers 503 with Retry-After at its deadline, nothing commits after it, threads come back.

The mongod here is a private one, frozen with SIGSTOP as in a network partition or a stuck disk (never the
session's shared mongod). A timer thaws it whatever happens, so a regression shows as a failed assertion
on the time taken, not as a hung suite.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pymongo
import pytest
from flask import Flask
from flask_smorest import Blueprint
from pymongo.errors import PyMongoError

from infra.local.mongod import MongodProcess
from propcare_shared.context import ServiceContext, current_context
from propcare_shared.http.app import create_service_app
from propcare_shared.settings import Settings
from propcare_shared.testing import fetch_until

REQUEST_DEADLINE = 1.5
TRANSACTION_DEADLINE = 3.0
SLACK = 2.0  # scheduling on a loaded two-core machine


@pytest.fixture(scope="module")
def mongod() -> Iterator[MongodProcess]:
    with MongodProcess() as process:
        yield process


@pytest.fixture
def context(mongod: MongodProcess) -> Iterator[ServiceContext]:
    settings = Settings(
        service="deadline", mongodb_url=mongod.url, request_deadline=REQUEST_DEADLINE, transaction_deadline=TRANSACTION_DEADLINE
    )
    context = ServiceContext.open(settings)
    context.ensure_indexes([])
    yield context
    context.client.drop_database(settings.mongodb_database)
    context.close()


@pytest.fixture
def app(context: ServiceContext) -> Flask:
    blueprint = Blueprint("notes", __name__)

    @blueprint.route("/notes/<note_id>", methods=["PUT"])
    def put_note(note_id: str) -> tuple[dict[str, Any], int]:
        def work(tx: Any) -> None:
            tx.database.notes.insert_one({"_id": note_id}, session=tx.session)

        current_context().uow.run(work)
        return {"id": note_id}, 201

    app, _ = create_service_app(context, title="deadline", blueprints=[blueprint])
    return app


@contextmanager
def frozen(mongod: MongodProcess, *, at_most: float) -> Iterator[None]:
    """Freeze the private mongod (SIGSTOP) for the block, and thaw it after ``at_most`` seconds in any case."""
    assert mongod.process is not None
    pid = mongod.process.pid
    os.kill(pid, signal.SIGSTOP)
    thaw = threading.Timer(at_most, os.kill, args=(pid, signal.SIGCONT))
    thaw.start()
    try:
        yield
    finally:
        thaw.cancel()
        os.kill(pid, signal.SIGCONT)


def test_requests_get_a_fast_503_while_mongod_is_frozen_and_nothing_commits_after(
    app: Flask, context: ServiceContext, mongod: MongodProcess
) -> None:
    client = app.test_client()
    assert client.put("/notes/before").status_code == 201

    answers: dict[str, tuple[int, dict[str, str], Any, float]] = {}

    def ask(note_id: str) -> None:
        started = time.monotonic()
        response = app.test_client().put(f"/notes/{note_id}")
        answers[note_id] = (response.status_code, dict(response.headers), response.get_json(silent=True), time.monotonic() - started)

    with frozen(mongod, at_most=15):
        threads = [threading.Thread(target=ask, args=(f"during-{index}",)) for index in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(answers) == 6, "every web thread came back while mongod was still frozen"

    for status, headers, body, took in answers.values():
        assert status == 503
        assert headers["Content-Type"] == "application/problem+json"
        assert headers["Retry-After"] == "5"
        assert body["status"] == 503
        assert took < REQUEST_DEADLINE + SLACK

    # The same client recovers once mongod answers: at most a moment of retryable 503s while the abandoned
    # transactions are ended (an interrupted statement is a 503 with Retry-After, never a 500).
    recovered = fetch_until(
        lambda: client.put("/notes/after"), lambda response: response.status_code != 503, timeout=15, message="a 201 after the thaw"
    )
    assert recovered.status_code == 201
    time.sleep(2)  # anything the thawed mongod still had queued has run by now
    stored = {document["_id"] for document in context.database.notes.find()}
    assert stored == {"before", "after"}, "a request answered 503 must not commit later"
    with pymongo.timeout(10):  # the abandoned transactions were ended, not left holding their locks for 60 s
        context.database.notes.create_index("later")


def test_readiness_says_not_ready_at_once_while_mongod_is_frozen(app: Flask, mongod: MongodProcess) -> None:
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    with frozen(mongod, at_most=15):
        started = time.monotonic()
        response = client.get("/readyz")
        took = time.monotonic() - started
    assert response.status_code == 503
    assert response.get_json()["checks"]["mongodb"] is False
    assert took < REQUEST_DEADLINE + SLACK


def test_a_unit_of_work_gives_up_at_its_deadline_not_after_two_minutes(context: ServiceContext, mongod: MongodProcess) -> None:
    """A worker's handler on a frozen database fails at TRANSACTION_DEADLINE; the message is retried later, not held forever."""
    context.uow.run(lambda tx: tx.database.notes.insert_one({"_id": "warm"}, session=tx.session))
    with frozen(mongod, at_most=20):
        started = time.monotonic()
        with pytest.raises(PyMongoError) as raised:
            context.uow.run(lambda tx: tx.database.notes.insert_one({"_id": "frozen"}, session=tx.session))
        took = time.monotonic() - started
    assert raised.value.timeout
    assert took < TRANSACTION_DEADLINE + SLACK
    time.sleep(2)
    assert context.database.notes.find_one({"_id": "frozen"}) is None
