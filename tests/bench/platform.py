"""The five services as real processes for the distributed benchmarks (open loop, wrk, memory).

Each service runs as in production: its web under gunicorn with the project's config
(``propcare_shared.gunicorn_conf``, the same workers and threads a deployment gets unless the caller's
environment says otherwise) and its consumer worker, started by ``tests.processes.Processes``. They
share the benchmark's private mongod (a database per service with a unique name) and the machine's
RabbitMQ under a unique exchange and queue prefix, so nothing else on the broker is touched; both are
deleted afterwards.

The benchmark may read the services' databases (to count work orders and read when they were
assigned); the services never read each other's.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from amqp.exceptions import ChannelError
from kombu import Connection
from pymongo import MongoClient
from pymongo.database import Database

from infra.local.mongod import MongodProcess, free_port
from propcare_shared.events.queues import PLATFORM_QUEUES
from propcare_shared.http.auth import issue_token
from propcare_shared.settings import Settings
from propcare_shared.testing import delete_topology, fetch_until, unique_name, wait_for
from propcare_shared.vocabulary import DEPARTMENTS
from tests.processes import Processes

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "dispatch", "notification", "survey", "analytics")
SECRET = "bench-secret-for-propcare-distributed-benchmarks"
GROUP = "G1"
BUILDINGS, UNITS, FLOORS = 10, 5, 40  # the households of each estate: room <floor>01 of every unit (2,000)


@dataclass
class Platform:
    """The running platform: its processes, the estates provisioned, and the benchmark's view of the stores."""

    processes: Processes
    env: dict[str, str]
    estates: tuple[str, ...]
    mongo: MongoClient[dict[str, Any]]

    def url(self, service: str, path: str) -> str:
        return self.processes.url(service, path)

    def token(self) -> str:
        """A front-desk agent's token of the whole group: staff complaints are not rate-limited per phone."""
        return issue_token(SECRET, sub="agent-1", role="group_admin", group_id=GROUP)

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def settings(self, service: str) -> Settings:
        return Settings.from_env(service, self.env)

    def database(self, service: str) -> Database[dict[str, Any]]:
        """The service's own database, read by the benchmark only (to count and time, never to change)."""
        return self.mongo[self.settings(service).mongodb_database]

    def queue_names(self) -> list[str]:
        """Every consumer queue of the platform under this run's prefix."""
        prefix = self.env["QUEUE_PREFIX"]
        return [f"{prefix}{service}.{purpose}" for service, purposes in PLATFORM_QUEUES.items() for purpose in purposes]

    def queue_depths(self, connection: Connection) -> dict[str, tuple[int, int]]:
        """Ready messages and consumers of every consumer queue (a passive declare: changes nothing)."""
        depths: dict[str, tuple[int, int]] = {}
        channel = connection.default_channel
        for name in self.queue_names():
            try:
                _, ready, consumers = channel.queue_declare(queue=name, passive=True)
            except ChannelError:
                depths[name] = (0, 0)
                channel = connection.channel()  # a failed passive declare closes the channel
                continue
            depths[name] = (int(ready), int(consumers))
        return depths

    def short(self, queue: str) -> str:
        return queue.removeprefix(self.env["QUEUE_PREFIX"])

    def consuming(self) -> bool:
        """Tell whether every consumer queue has a consumer: only then is nothing published into a void."""
        with Connection(self.env["RABBITMQ_URL"]) as connection:
            return all(consumers > 0 for _, consumers in self.queue_depths(connection).values())

    def drained(self) -> bool:
        """Tell whether every outbox is published and every consumer queue is empty."""
        for service in SERVICES:
            if self.database(service).outbox.count_documents({"published_at": None}, limit=1):
                return False
        with Connection(self.env["RABBITMQ_URL"]) as connection:
            return all(ready == 0 for ready, _ in self.queue_depths(connection).values())


def households_csv() -> bytes:
    """The estate's households, so complaints name a known household as most real ones do (the phone is the resident's)."""
    lines = ["building,unit,room,household_type,age_band,resident_name,resident_phone"]
    for building in range(1, BUILDINGS + 1):
        for unit in range(1, UNITS + 1):
            lines.extend(
                f"{building},{unit},{floor}01,owner,36-50,Resident,1380{building:02d}{unit:01d}{floor:04d}"
                for floor in range(1, FLOORS + 1)
            )
    return ("\n".join(lines) + "\n").encode()


def provision(platform: Platform, estate: str) -> None:
    """An estate and its households in intake's directory; in dispatch's, a handler per department and a manager (all assigned)."""
    admin = platform.admin()
    body = {"name": f"基准花园{estate}", "code": estate, "region_id": "R1", "group_id": GROUP, "timezone": "Asia/Shanghai"}
    answer = requests.put(platform.url("intake", f"/api/v1/estates/{estate}"), json=body, headers=admin, timeout=10)
    if answer.status_code not in (200, 201):
        raise RuntimeError(f"PUT estate {estate}: {answer.status_code} {answer.text}")
    imported = requests.post(
        platform.url("intake", f"/api/v1/estates/{estate}/households:import"),
        data=households_csv(),
        headers={**admin, "Content-Type": "text/csv"},
        timeout=60,
    )
    if imported.status_code != 200:
        raise RuntimeError(f"households of {estate}: {imported.status_code} {imported.text}")
    staff = {f"{department}-1": {"department": department, "role": "handler"} for department in DEPARTMENTS}
    staff["mgr-1"] = {"department": "management", "role": "manager"}
    for staff_id, member in staff.items():
        fetch_until(
            lambda staff_id=staff_id, member=member: requests.put(
                platform.url("dispatch", f"/api/v1/estates/{estate}/staff/{staff_id}"),
                json={"name": "值班员", "grids": [], "on_duty": True, **member},
                headers=admin,
                timeout=10,
            ),
            lambda r: r.status_code in (200, 201),
            timeout=60,
            message=f"staff {staff_id} accepted once dispatch knows {estate}",
        )


def estate_codes(count: int) -> tuple[str, ...]:
    return tuple(f"BE{index:02d}" for index in range(1, count + 1))


@contextmanager
def running_platform(mongod: MongodProcess, rabbitmq_url: str, *, estates: int) -> Iterator[Platform]:
    """Start the five services (web + worker each), wait until every queue has a consumer, provision ``estates``."""
    run_id = unique_name("")
    env = {
        **os.environ,
        "MONGODB_URL": mongod.url,
        "RABBITMQ_URL": rabbitmq_url,
        "EVENT_EXCHANGE": f"bench.{run_id}.events",
        "QUEUE_PREFIX": f"bench.{run_id}.",
        "JWT_SECRET": SECRET,
        "PYTHONPATH": str(ROOT),
        **{f"{service.upper()}_MONGODB_DATABASE": f"bench_{run_id}_{service}" for service in SERVICES},
    }
    processes = Processes(env=env, logs=Path(tempfile.mkdtemp(prefix="propcare-bench-")))
    processes.urls = {service: f"http://127.0.0.1:{free_port()}" for service in SERVICES}
    mongo: MongoClient[dict[str, Any]] = MongoClient(mongod.url, tz_aware=True)
    platform = Platform(processes=processes, env=env, estates=estate_codes(estates), mongo=mongo)
    try:
        for service in SERVICES:
            processes.start(service, "worker")
            processes.start(service, "web")
        for service in SERVICES:
            wait_for(
                lambda service=service: processes.ready(service), timeout=120, interval=0.3, message=f"{service} ready ({processes.logs})"
            )
        wait_for(platform.consuming, timeout=120, interval=0.3, message=f"every consumer ({processes.logs})")
        for estate in platform.estates:
            provision(platform, estate)
        yield platform
    finally:
        processes.stop_all()
        for service in SERVICES:
            settings = Settings.from_env(service, env)
            delete_topology(settings, PLATFORM_QUEUES.get(service, {}))
            mongo.drop_database(settings.mongodb_database)
        mongo.close()
