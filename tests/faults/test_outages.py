"""Outages of whole processes under load: intake and dispatch (gunicorn web and consumer each) as real processes,
on a private RabbitMQ node (``private_broker``) and a private mongod, both of which these tests stop and start.

- the broker stopped for about ten seconds (plus its shutdown and boot) while complaints keep coming:
  every POST gets its 201 (the outbox holds the events), every 201 ends as exactly one work order;
- mongod stopped (SIGTERM, not frozen) while clients post: fast 503 problem+json with Retry-After,
  never a 500; after mongod restarts on the same data folder and port the platform recovers by itself
  and nothing is stored twice;
- SIGTERM to dispatch's worker holding a full prefetch under load: it exits within its grace and a new
  worker finishes; nothing lost, nothing doubled;
- ``kill -9`` of the gunicorn importing a households file: intake's worker resumes the import from the
  last committed batch once its lease runs out; every row is imported and published once.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pymongo import MongoClient

from infra.local.mongod import MongodProcess, free_port
from intake.imports import LEASE, RESUME_INTERVAL
from propcare_shared.http.auth import issue_token
from propcare_shared.testing import fetch_until, outbox_events, wait_for
from tests.faults.private_broker import PrivateBroker, available
from tests.processes import Processes

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fault-secret-for-propcare-outage-tests"
SERVICES = ("intake", "dispatch")
REQUEST_DEADLINE = 2.0
SHUTDOWN_GRACE = 8.0
IMPORT_BATCH_ROWS = 250
ADMIN = {"Authorization": "Bearer " + issue_token(SECRET, sub="admin-1", role="group_admin", group_id="G1")}
ESTATE = {"name": "罗湖花园", "code": "LH03", "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"}


@pytest.fixture(scope="module")
def broker() -> Iterator[PrivateBroker]:
    """A RabbitMQ node of these tests' own; without the RabbitMQ scripts and Erlang the suite fails and says so."""
    assert available(), "the outage tests run a private RabbitMQ node: install rabbitmq-server (and Erlang), as on the CI machine"
    with PrivateBroker() as node:
        yield node


@pytest.fixture(scope="module")
def mongod() -> Iterator[MongodProcess]:
    """A mongod on a folder and port of its own that outlive a stop, so that it can start again on them."""
    folder = Path(tempfile.mkdtemp(prefix="propcare-outage-mongod-"))
    process = MongodProcess(dbpath=folder / "db", port=free_port(), keep_data=True)
    try:
        yield process.start()
    finally:
        process.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def platform(mongod: MongodProcess, broker: PrivateBroker) -> Iterator[Processes]:
    env = {
        **os.environ,
        "MONGODB_URL": mongod.url,
        "RABBITMQ_URL": broker.url,
        "JWT_SECRET": SECRET,
        "OUTBOX_POLL_INTERVAL": "0.5",
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "4",
        "REQUEST_DEADLINE": str(REQUEST_DEADLINE),
        "SHUTDOWN_GRACE": str(SHUTDOWN_GRACE),
        "RETRY_DELAYS": "0.5,1",
        "MAX_ATTEMPTS": "3",
        "IMPORT_BATCH_ROWS": str(IMPORT_BATCH_ROWS),
        "IMPORT_SYNC_ROWS": "1000",
        "PYTHONPATH": str(ROOT),
    }
    processes = Processes(env=env, logs=Path(tempfile.mkdtemp(prefix="propcare-outages-")))
    processes.urls = {service: f"http://127.0.0.1:{free_port()}" for service in SERVICES}
    for service in SERVICES:
        processes.start(service, "worker")
        processes.start(service, "web")
    try:
        for service in SERVICES:
            wait_for(lambda: processes.ready(service), timeout=90, interval=0.3, message=f"{service} ready (logs in {processes.logs})")  # noqa: B023
        put = requests.put(processes.url("intake", "/api/v1/estates/LH03"), json=ESTATE, headers=ADMIN, timeout=10)
        assert put.status_code in (200, 201), put.text
        first = post_complaint(processes, 9999)
        assert first.status_code == 201, first.text
        client: MongoClient = MongoClient(mongod.url)
        with client:  # both workers started (dispatch loads its classifier first) and consume
            orders = client["propcare_dispatch"].work_orders
            wait_for(
                lambda: orders.count_documents({"_id": first.json()["id"]}) == 1, timeout=120, interval=0.3, message="the first work order"
            )
        yield processes
    finally:
        processes.stop_all()


@pytest.fixture(scope="module")
def client(mongod: MongodProcess) -> Iterator[MongoClient]:
    opened: MongoClient = MongoClient(mongod.url, tz_aware=True, serverSelectionTimeoutMS=30_000)
    with opened:
        yield opened


def post_complaint(platform: Processes, number: int, timeout: float = 30) -> requests.Response:
    body: dict[str, Any] = {
        "estate_id": "LH03",
        "building": "B",
        "room": f"{number % 30 + 1:02d}01",
        "reporter": {"name": "陈女士", "phone": f"1370000{number:04d}", "role": "tenant"},
        "channel": "wechat",
        "description": f"B栋{number % 30 + 1}楼走廊灯不亮",
    }
    return requests.post(platform.url("intake", "/api/v1/complaints"), json=body, headers=ADMIN, timeout=timeout)


class Load:
    """Complaints posted one after another on a thread until stopped, each answer kept with the moment it came."""

    def __init__(self, platform: Processes, first: int, pause: float = 0.05) -> None:
        self.platform, self.next, self.pause = platform, first, pause
        self.answers: list[tuple[float, int, str | None]] = []  # (monotonic time, status, complaint id)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            response = post_complaint(self.platform, self.next)
            self.next += 1
            created = response.json()["id"] if response.status_code == 201 else None
            self.answers.append((time.monotonic(), response.status_code, created))
            self._stop.wait(self.pause)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)

    @property
    def created(self) -> list[str]:
        return [complaint_id for _, status, complaint_id in self.answers if status == 201 and complaint_id]


def assert_one_work_order_each(platform: Processes, client: MongoClient, complaint_ids: list[str], timeout: float = 90) -> None:
    """Every complaint has exactly one work order, classified once: nothing lost, nothing doubled."""
    orders = client["propcare_dispatch"].work_orders
    wait_for(
        lambda: orders.count_documents({"_id": {"$in": complaint_ids}}) == len(complaint_ids),
        timeout=timeout,
        interval=0.5,
        message=f"a work order for each of {len(complaint_ids)} complaints (logs in {platform.logs})",
    )
    handled = client["propcare_dispatch"].inbox.count_documents({"type": "complaint.received"})
    assert handled == client["propcare_intake"].complaints.count_documents({}), "a complaint.received handled twice or never"
    for complaint_id in complaint_ids:
        order = requests.get(platform.url("dispatch", f"/api/v1/work-orders/{complaint_id}"), headers=ADMIN, timeout=10).json()
        assert [entry["action"] for entry in order["timeline"]].count("classify") == 1, order


def test_a_stopped_database_answers_fast_503s_and_the_platform_recovers_by_itself(
    platform: Processes, mongod: MongodProcess, client: MongoClient
) -> None:
    complaints = client["propcare_intake"].complaints
    before = complaints.count_documents({})
    mongod.stop()  # SIGTERM: the port refuses connections, unlike a frozen server
    answers: list[requests.Response] = []
    took: list[float] = []
    try:
        for number in range(1000, 1008):
            started = time.monotonic()
            answers.append(post_complaint(platform, number))
            took.append(time.monotonic() - started)
    finally:
        mongod.start()
    assert [response.status_code for response in answers] == [503] * 8, [(r.status_code, r.text[:200]) for r in answers]
    assert all(response.headers.get("Retry-After") for response in answers)
    assert all(response.headers["Content-Type"].startswith("application/problem+json") for response in answers)
    assert max(took) < REQUEST_DEADLINE + 2, took

    after = fetch_until(lambda: post_complaint(platform, 1100), lambda r: r.status_code == 201, timeout=60, message="intake answers again")
    assert_one_work_order_each(platform, client, [after.json()["id"]], timeout=120)  # the workers reconnected by themselves
    time.sleep(2)
    assert complaints.count_documents({}) == before + 1, "a complaint answered 503 was stored, or one was stored twice"
    for service in SERVICES:
        assert platform.ready(service)


def test_sigterm_to_a_worker_holding_its_prefetch_under_load_loses_nothing(platform: Processes, client: MongoClient) -> None:
    platform.signal("dispatch", "worker", signal.SIGTERM)
    platform.running[("dispatch", "worker")].wait(SHUTDOWN_GRACE + 10)
    backlog = [post_complaint(platform, number).json()["id"] for number in range(2000, 2150)]
    orders = client["propcare_dispatch"].work_orders
    platform.start("dispatch", "worker")
    with Load(platform, first=3000, pause=0.02) as load:
        wait_for(
            lambda: orders.count_documents({"_id": {"$in": backlog}}) > 0, timeout=60, interval=0.02, message="the new worker consumes"
        )
        platform.signal("dispatch", "worker", signal.SIGTERM)
        stopping = time.monotonic()
        done_at_sigterm = orders.count_documents({"_id": {"$in": backlog}})
        code = platform.running[("dispatch", "worker")].wait(SHUTDOWN_GRACE + 10)
        stopped_in = time.monotonic() - stopping
        platform.start("dispatch", "worker")
        time.sleep(2)
    assert done_at_sigterm < len(backlog), "the worker had finished its backlog before SIGTERM: nothing was in flight"
    assert code == 0 and stopped_in < SHUTDOWN_GRACE + 2, (code, stopped_in)
    assert all(status == 201 for _, status, _ in load.answers)
    assert_one_work_order_each(platform, client, backlog + load.created)


def _households_csv(rows: int) -> bytes:
    lines = ["building,unit,room,household_type,resident_phone"]
    lines += [f"{number % 12},{number % 3},{number:05d},owner,1360000{number:04d}" for number in range(1, rows + 1)]
    return "\n".join(lines).encode()


def test_a_households_import_whose_process_was_killed_is_resumed_once(platform: Processes, client: MongoClient) -> None:
    rows = 8000
    intake_db = client["propcare_intake"]
    accepted = requests.post(
        platform.url("intake", "/api/v1/estates/LH03/households:import"),
        data=_households_csv(rows),
        headers={**ADMIN, "Content-Type": "text/csv"},
        timeout=60,
    )
    assert accepted.status_code == 202, accepted.text
    import_id = accepted.json()["import_id"]
    imports = intake_db.household_imports
    wait_for(lambda: imports.find_one({"_id": import_id})["processed"] > 0, timeout=60, interval=0.02, message="a first batch")  # type: ignore[index]
    platform.kill("intake", "web")  # SIGKILL to gunicorn's whole process group, mid-import
    killed_at = imports.find_one({"_id": import_id})
    assert killed_at is not None and 0 < killed_at["processed"] < rows, "the import was not cut mid-way"

    platform.start("intake", "web")
    wait_for(lambda: platform.ready("intake"), timeout=60, interval=0.3, message="intake's web again")
    location = platform.url("intake", accepted.headers["Location"])
    done = fetch_until(
        lambda: requests.get(location, headers=ADMIN, timeout=10).json(),
        lambda job: job["status"] != "running",
        timeout=LEASE.total_seconds() + RESUME_INTERVAL + 60,
        message="the import resumed by intake's worker",
    )
    assert (done["status"], done["processed"], done["created"], done["updated"], done["rejected_count"]) == ("done", rows, rows, 0, 0)
    assert intake_db.households.count_documents({"estate_id": "LH03"}) == rows
    published = [
        len(event["data"]["households"])
        for event in outbox_events(intake_db)
        if event["type"] == "directory.households.imported" and event["estate_id"] == "LH03"
    ]
    assert sum(published) == rows, "a batch was published twice or never"
    assert intake_db.household_import_rows.count_documents({}) == 0


def test_a_broker_outage_under_load_loses_nothing_and_doubles_nothing(
    platform: Processes, broker: PrivateBroker, client: MongoClient
) -> None:
    with Load(platform, first=0) as load:
        time.sleep(3)
        down_from = time.monotonic()
        broker.stop()
        time.sleep(10)
        broker.start()
        up_from = time.monotonic()
        time.sleep(3)
    during = [status for at, status, _ in load.answers if down_from <= at <= up_from]
    assert during and all(status == 201 for status in during), f"{len(during)} POSTs during the outage: {sorted(set(during))}"
    assert all(status == 201 for _, status, _ in load.answers), sorted({status for _, status, _ in load.answers})
    try:
        assert_one_work_order_each(platform, client, load.created, timeout=60)
    except AssertionError as exc:  # the broker's view says where the messages stopped
        queues = broker.ctl("list_queues", "name", "messages_ready", "messages_unacknowledged", "consumers")
        raise AssertionError(f"{exc}\n{[line for line in queues.splitlines() if 'complaint' in line]}") from None
    wait_for(
        lambda: client["propcare_intake"].outbox.count_documents({"published_at": None}) == 0, timeout=30, message="intake's outbox drained"
    )
