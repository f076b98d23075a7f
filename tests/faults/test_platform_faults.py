"""Faults injected into real processes: intake and dispatch (gunicorn web and consumer each) on the real RabbitMQ and a private mongod.

- a broker that is brand new for these names, with the producer started before any consumer: nothing lost;
- mongod frozen with SIGSTOP: every waiting client gets a fast 503 with Retry-After, nothing commits later;
- a consumer killed with SIGKILL, then duplicate and undecodable deliveries: 0 lost, 0 doubled, garbage parked.

The machine's RabbitMQ server is shared, so it is never stopped: "fresh broker" means an exchange and queue
names no process has declared before (a unique ``EVENT_EXCHANGE`` and ``QUEUE_PREFIX``), deleted afterwards.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from kombu import Connection, Producer
from pymongo import MongoClient

from infra.local.mongod import MongodProcess, free_port
from propcare_shared.events.parking import parked_messages
from propcare_shared.http.auth import issue_token
from propcare_shared.settings import Settings
from propcare_shared.testing import delete_topology, fetch_until, unique_name, wait_for
from tests.processes import Processes

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fault-secret-for-propcare-fault-tests"
SERVICES = ("intake", "dispatch")
REQUEST_DEADLINE = 2.0
ADMIN = {"Authorization": "Bearer " + issue_token(SECRET, sub="admin-1", role="group_admin", group_id="G1")}
ESTATE = {"name": "福田雅苑", "code": "FT02", "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"}


@pytest.fixture(scope="module")
def mongod() -> Iterator[MongodProcess]:
    with MongodProcess() as process:
        yield process


@pytest.fixture(scope="module")
def platform(mongod: MongodProcess, rabbitmq_url: str) -> Iterator[Processes]:
    """intake's web and worker only: dispatch's processes are started by the first test, after intake published."""
    run_id = unique_name("")
    env = {
        **os.environ,
        "MONGODB_URL": mongod.url,
        "RABBITMQ_URL": rabbitmq_url,
        "EVENT_EXCHANGE": f"faults.{run_id}.events",
        "QUEUE_PREFIX": f"faults.{run_id}.",
        "JWT_SECRET": SECRET,
        "OUTBOX_POLL_INTERVAL": "0.5",
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "4",
        "REQUEST_DEADLINE": str(REQUEST_DEADLINE),
        "RETRY_DELAYS": "0.5,1",
        "MAX_ATTEMPTS": "3",
        "PYTHONPATH": str(ROOT),
    }
    processes = Processes(env=env, logs=Path(tempfile.mkdtemp(prefix="propcare-faults-")))
    processes.urls = {service: f"http://127.0.0.1:{free_port()}" for service in SERVICES}
    processes.start("intake", "web")
    processes.start("intake", "worker")
    try:
        wait_for(lambda: processes.ready("intake"), timeout=90, interval=0.3, message=f"intake ready (logs in {processes.logs})")
        yield processes
    finally:
        processes.stop_all()
        for service in SERVICES:
            settings = Settings.from_env(service, env)
            delete_topology(settings, [])


@pytest.fixture(scope="module")
def client(mongod: MongodProcess) -> Iterator[MongoClient]:
    with MongoClient(mongod.url, tz_aware=True) as opened:
        yield opened


def post_complaint(platform: Processes, floor: int, **kwargs: Any) -> requests.Response:
    body = {
        "estate_id": "FT02",
        "building": "A",
        "room": f"{floor}01",
        "reporter": {"name": "刘先生", "phone": f"139000{floor:05d}", "role": "tenant"},
        "channel": "wechat",
        "description": f"A栋{floor}楼电梯门关不上",
    }
    return requests.post(platform.url("intake", "/api/v1/complaints"), json=body, **{"timeout": 30, **kwargs})


def work_order(platform: Processes, complaint_id: str) -> dict[str, Any]:
    return fetch_until(
        lambda: requests.get(platform.url("dispatch", f"/api/v1/work-orders/{complaint_id}"), headers=ADMIN, timeout=5),
        lambda r: r.status_code == 200,
        timeout=60,
        message=f"work order of {complaint_id}",
    ).json()


def test_events_published_before_any_consumer_existed_reach_it(platform: Processes, client: MongoClient) -> None:
    """A brand-new broker: intake's estate and complaints are published before dispatch was ever deployed."""
    assert requests.put(platform.url("intake", "/api/v1/estates/FT02"), json=ESTATE, headers=ADMIN, timeout=10).status_code in (200, 201)
    early = [post_complaint(platform, floor) for floor in range(1, 4)]
    assert [response.status_code for response in early] == [201, 201, 201]
    intake_db = client["propcare_intake"]
    wait_for(lambda: intake_db.outbox.count_documents({"published_at": None}) == 0, timeout=30, message="intake published everything")

    platform.start("dispatch", "worker")
    platform.start("dispatch", "web")
    wait_for(lambda: platform.ready("dispatch"), timeout=90, interval=0.3, message=f"dispatch ready (logs in {platform.logs})")
    for response in early:
        order = work_order(platform, response.json()["id"])
        assert [entry["action"] for entry in order["timeline"]].count("classify") == 1


def test_a_frozen_database_answers_fast_503s_and_commits_nothing_later(
    platform: Processes, mongod: MongodProcess, client: MongoClient
) -> None:
    intake_db = client["propcare_intake"]
    before = intake_db.complaints.count_documents({})
    answers: list[tuple[int, str | None, float]] = []

    def ask(floor: int) -> None:
        started = time.monotonic()
        response = post_complaint(platform, floor)
        answers.append((response.status_code, response.headers.get("Retry-After"), time.monotonic() - started))

    assert mongod.process is not None
    os.kill(mongod.process.pid, signal.SIGSTOP)
    thaw = threading.Timer(30, os.kill, args=(mongod.process.pid, signal.SIGCONT))
    thaw.start()
    try:
        callers = [threading.Thread(target=ask, args=(floor,)) for floor in range(10, 16)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(40)
    finally:
        thaw.cancel()
        os.kill(mongod.process.pid, signal.SIGCONT)

    assert len(answers) == 6
    assert all(status == 503 and retry_after for status, retry_after, _ in answers), answers
    assert max(took for _, _, took in answers) < 4 * REQUEST_DEADLINE, answers  # four threads, two rounds at most, plus slack
    fetch_until(lambda: post_complaint(platform, 20), lambda r: r.status_code == 201, timeout=30, message="intake answers again")
    time.sleep(2)
    assert intake_db.complaints.count_documents({}) == before + 1, "a complaint answered 503 was stored later"


def test_a_killed_consumer_duplicates_and_garbage_lose_nothing_and_double_nothing(
    platform: Processes, rabbitmq_url: str, client: MongoClient
) -> None:
    platform.kill("dispatch", "worker")
    ids = [post_complaint(platform, floor).json()["id"] for floor in range(30, 35)]
    settings = Settings.from_env("dispatch", platform.env)
    with Connection(rabbitmq_url) as connection:
        producer = Producer(connection.channel())
        for body, content_type in ((b"{not json", "application/json"), (b"plain", "text/plain")):
            producer.publish(
                body,
                exchange=settings.event_exchange,
                routing_key="complaint.received",
                content_type=content_type,
                content_encoding="utf-8",
            )
    platform.start("dispatch", "worker")
    for complaint_id in ids:
        assert [entry["action"] for entry in work_order(platform, complaint_id)["timeline"]].count("classify") == 1

    intake_db = client["propcare_intake"]
    received = [document["event"] for document in intake_db.outbox.find({"event.type": "complaint.received"})]
    intake_db.outbox.update_many({"event.type": "complaint.received"}, {"$set": {"published_at": None}})  # the relay sends them all again
    dispatch_db = client["propcare_dispatch"]
    wait_for(
        lambda: (
            dispatch_db.inbox.count_documents({"type": "complaint.received"}) == len(received)
            and intake_db.outbox.count_documents({"published_at": None}) == 0
        ),
        timeout=30,
        message="the duplicates delivered",
    )
    time.sleep(2)
    for complaint_id in ids:
        assert [entry["action"] for entry in work_order(platform, complaint_id)["timeline"]].count("classify") == 1
    queue = f"{settings.queue_prefix}dispatch.complaint-received"
    parked = wait_for(lambda: len(found := parked_messages(settings, queue, limit=10)) == 2 and found, timeout=30, message="garbage parked")
    assert all(entry["error"].startswith("undecodable") for entry in parked)
