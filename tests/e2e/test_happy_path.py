"""End to end: the five services as separate real processes (gunicorn web + consumer each)
against real RabbitMQ and MongoDB, driven over HTTP along the happy path of a complaint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from amqp.exceptions import ChannelError
from kombu import Connection

from infra.local.mongod import free_port
from propcare_shared.http.auth import issue_token
from propcare_shared.service import definition_of
from propcare_shared.testing import fetch_until, unique_name, wait_for
from survey.tokens import sign_invitation

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "dispatch", "notification", "survey", "analytics")
SECRET = "e2e-secret-for-propcare-end-to-end-tests"
# The consumer queues of each service's worker (its ``handlers.subscriptions``).
# Every queue each service declares: the platform is ready once each has a consumer.
CONSUMER_QUEUES = {service: tuple(handles.purpose for handles in definition_of(service).handlers) for service in SERVICES}


@dataclass
class Platform:
    """The five services' processes: each service's web (gunicorn) and worker, by (service, role)."""

    urls: dict[str, str]
    logs: Path
    commands: dict[tuple[str, str], tuple[list[str], dict[str, str]]] = field(default_factory=dict)
    processes: dict[tuple[str, str], subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str, path: str) -> str:
        return f"{self.urls[service]}{path}"

    def start(self, service: str, role: str) -> None:
        """Start (or start again) one process; its log is appended to."""
        command, env = self.commands[(service, role)]
        with (self.logs / f"{service}-{role}.log").open("ab") as log:  # the child keeps its own descriptor
            self.processes[(service, role)] = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self, service: str, role: str) -> None:
        """Kill one process with SIGKILL: no drain, no goodbye, as a crash."""
        process = self.processes[(service, role)]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@pytest.fixture(scope="module")
def platform(mongodb_url: str, rabbitmq_url: str) -> Iterator[Platform]:
    logs = Path(tempfile.mkdtemp(prefix="propcare-e2e-"))
    run_id = unique_name("")
    base_env = {
        **os.environ,
        "MONGODB_URL": mongodb_url,
        "RABBITMQ_URL": rabbitmq_url,
        "EVENT_EXCHANGE": f"e2e.{run_id}.events",
        "QUEUE_PREFIX": f"e2e.{run_id}.",
        "JWT_SECRET": SECRET,
        "SLA_SCAN_INTERVAL": "1",
        "OUTBOX_POLL_INTERVAL": "0.5",
        "WEB_CONCURRENCY": "2",
        "PYTHONPATH": str(ROOT),
        **{f"{service.upper()}_MONGODB_DATABASE": f"e2e_{run_id}_{service}" for service in SERVICES},
    }
    platform = Platform(urls={}, logs=logs)
    for service in SERVICES:
        port = free_port()
        platform.urls[service] = f"http://127.0.0.1:{port}"
        web = [_bin("gunicorn"), "-c", "python:propcare_shared.gunicorn_conf", "--bind", f"127.0.0.1:{port}"]
        worker = [sys.executable, "-m", f"{service}.worker"]
        for role, command in (("web", web), ("worker", worker)):
            # Each process keeps its own metrics folder: gunicorn wipes its folder when it starts.
            metrics_dir = logs / f"{service}-{role}-metrics"
            metrics_dir.mkdir()
            environment = {**base_env, "SERVICE": service, "PORT": str(port), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
            platform.commands[(service, role)] = (command, environment)
            platform.start(service, role)
    try:
        for service in SERVICES:
            wait_for(
                lambda service=service: _ready(platform, service), timeout=60, interval=0.2, message=f"{service} ready (logs in {logs})"
            )
        # Web processes answer before the workers consume: an event published before any queue is bound
        # to its type would be dropped by the exchange, so the platform is ready once every queue has a consumer.
        wait_for(
            lambda: _consuming(rabbitmq_url, prefix=base_env["QUEUE_PREFIX"]),
            timeout=60,
            interval=0.2,
            message=f"every consumer (logs in {logs})",
        )
        yield platform
    finally:
        for process in platform.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in platform.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _consuming(rabbitmq_url: str, *, prefix: str) -> bool:
    """Tell whether every consumer queue of the five workers exists and has a consumer."""
    with Connection(rabbitmq_url) as connection:
        for service, purposes in CONSUMER_QUEUES.items():
            for purpose in purposes:
                try:
                    _, _, consumers = connection.channel().queue_declare(queue=f"{prefix}{service}.{purpose}", passive=True)
                except ChannelError:
                    return False
                if consumers == 0:
                    return False
    return True


def _ready(platform: Platform, service: str) -> bool:
    for process in platform.processes.values():
        if process.poll() is not None:
            raise AssertionError(f"a process exited early; logs in {platform.logs}: {process.args}")
    try:
        return requests.get(platform.url(service, "/readyz"), timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _admin() -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(SECRET, sub="admin-1", role="group_admin", group_id="G1")}


def _handler(staff_id: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(SECRET, sub=staff_id, role="handler", group_id="G1", regions=["R1"], estates=["NS01"])}


def _ok(response: requests.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200,)), (
        f"{response.request.method} {response.url} → {response.status_code}: {response.text}"
    )
    return response.json() if response.content else None


@pytest.fixture(scope="module")
def ns01(platform: Platform) -> None:
    """The estate NS01 in intake's directory, and its staff and grid in dispatch's (idempotent)."""
    admin = _admin()
    _ok(
        requests.put(
            platform.url("intake", "/api/v1/estates/NS01"),
            json={"name": "南山花园", "code": "NS01", "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"},
            headers=admin,
            timeout=5,
        ),
        200,
        201,
    )
    staff = {
        "eng-1": {"name": "张工", "department": "engineering", "role": "handler", "grids": [], "on_duty": True},
        "eng-sup": {"name": "李主管", "department": "engineering", "role": "supervisor", "grids": [], "on_duty": True},
        "grid-1": {"name": "陈管家", "department": "customer_service", "role": "grid_owner", "grids": ["GR1"], "on_duty": True},
        "mgr-1": {"name": "赵经理", "department": "management", "role": "manager", "grids": [], "on_duty": True},
    }
    for staff_id, body in staff.items():
        fetch_until(
            lambda staff_id=staff_id, body=body: requests.put(
                platform.url("dispatch", f"/api/v1/estates/NS01/staff/{staff_id}"), json=body, headers=admin, timeout=5
            ),
            lambda r: r.status_code in (200, 201),
            message="staff accepted once dispatch knows the estate",
        )
    _ok(
        requests.put(
            platform.url("dispatch", "/api/v1/estates/NS01/grids/GR1"),
            json={"buildings": ["3"], "owner_id": "grid-1"},
            headers=admin,
            timeout=5,
        ),
        200,
        201,
    )


def test_complaint_flows_through_all_five_services(platform: Platform, ns01: None) -> None:
    admin = _admin()
    posted_at = time.monotonic()
    complaint = _ok(
        requests.post(
            platform.url("intake", "/api/v1/complaints"),
            json={
                "estate_id": "NS01",
                "building": "3",
                "unit": "2",
                "room": "1502",
                "reporter": {"name": "王女士", "phone": "13800138000", "role": "owner"},
                "channel": "app",
                "description": "3号楼2单元电梯停在两层之间不动了，按钮没反应",
                "demand": "尽快修好",
            },
            timeout=5,
        ),
        201,
    )
    complaint_id = complaint["id"]
    assert complaint["status"] == "received" and complaint["ticket_no"].startswith("NS01-")

    work_order = fetch_until(
        lambda: requests.get(platform.url("dispatch", f"/api/v1/work-orders/{complaint_id}"), headers=admin, timeout=5),
        lambda r: r.status_code == 200 and r.json()["status"] == "assigned",
        message="work order assigned",
    ).json()
    assert (work_order["category"], work_order["subcategory"], work_order["department"]) == ("facility", "elevator", "engineering")
    assert work_order["assignee_id"] == "eng-1"
    assert "response" in work_order["deadlines"]
    acknowledged = fetch_until(
        lambda: requests.get(
            platform.url("notification", "/api/v1/notifications"), params={"complaint_id": complaint_id}, headers=admin, timeout=5
        ),
        lambda r: r.status_code == 200 and r.json()["items"],
        message="acknowledgement recorded",
    )
    assigned_and_acknowledged_in = time.monotonic() - posted_at
    print(f"\nassigned and acknowledged {assigned_and_acknowledged_in:.2f}s after the 201")
    assert acknowledged.json()["items"][0]["kind"] in {"acknowledgement", "assigned"}

    fetch_until(
        lambda: requests.get(platform.url("intake", f"/api/v1/complaints/{complaint_id}"), headers=admin, timeout=5),
        lambda r: r.status_code == 200 and r.json()["status"] == "assigned",
        message="intake shows dispatch's status",
    )

    illegal = requests.post(
        platform.url("dispatch", f"/api/v1/work-orders/{complaint_id}/actions"),
        json={"action": "progress", "actor_id": "eng-1"},
        headers=_handler("eng-1"),
        timeout=5,
    )
    assert illegal.status_code == 409 and "respond" in illegal.json()["allowed_actions"]
    _ok(
        requests.post(
            platform.url("dispatch", f"/api/v1/work-orders/{complaint_id}/actions"),
            json={"action": "respond", "actor_id": "eng-1", "note": "已联系业主"},
            headers=_handler("eng-1"),
            timeout=5,
        ),
        200,
        201,
    )
    _ok(
        requests.post(
            platform.url("dispatch", f"/api/v1/work-orders/{complaint_id}/actions"),
            json={"action": "resolve", "actor_id": "eng-1", "note": "更换了控制板，电梯恢复运行"},
            headers=_handler("eng-1"),
            timeout=5,
        ),
        200,
        201,
    )

    invitations = fetch_until(
        lambda: requests.get(platform.url("survey", "/api/v1/surveys"), params={"complaint_id": complaint_id}, headers=admin, timeout=5),
        lambda r: r.status_code == 200 and r.json()["items"],
        message="survey invitation created",
    ).json()["items"]
    token = sign_invitation(SECRET, invitations[0]["id"])  # the link the resident's message carries
    assert invitations[0]["link"].endswith(f"/s/{token}"), "the admin, who may record the answer, sees the resident's link"
    page = requests.get(platform.url("survey", f"/s/{token}"), timeout=5)
    assert page.status_code == 200 and "<form" in page.text
    _ok(
        requests.post(
            platform.url("survey", f"/api/v1/surveys/{token}/responses"),
            json={"solved": True, "scores": {"result": 5, "speed": 4, "attitude": 5}, "comment": ""},
            timeout=5,
        ),
        201,
    )
    assert (
        requests.post(
            platform.url("survey", f"/api/v1/surveys/{token}/responses"),
            json={"solved": True, "scores": {"result": 5, "speed": 4, "attitude": 5}, "comment": ""},
            timeout=5,
        ).status_code
        == 409
    )

    fetch_until(
        lambda: requests.get(platform.url("dispatch", f"/api/v1/work-orders/{complaint_id}"), headers=admin, timeout=5),
        lambda r: r.json()["status"] == "closed",
        message="closed after a satisfied survey",
    )
    kpis = fetch_until(
        lambda: requests.get(
            platform.url("analytics", "/api/v1/analytics/kpis"), params={"scope": "estate:NS01"}, headers=admin, timeout=5
        ),
        lambda r: r.status_code == 200 and r.json()["volume"]["total"] == 1 and r.json()["survey"]["answered"] == 1,
        message="analytics counted the complaint and the survey",
    ).json()
    assert kpis["resolution_rate"] == 1.0
    assert kpis["survey"]["csat_mean"] == pytest.approx(14 / 3)

    metrics = requests.get(platform.url("intake", "/metrics"), timeout=5).text
    assert 'http_requests_total{method="POST",route="/api/v1/complaints",service="intake",status="201"} 1.0' in metrics


def test_bad_input_is_refused_without_a_write(platform: Platform) -> None:
    url = platform.url("intake", "/api/v1/complaints")
    assert requests.post(url, data="{oops", headers={"Content-Type": "application/json"}, timeout=5).status_code == 400
    invalid = requests.post(url, json={"estate_id": "NS01", "channel": "app"}, timeout=5)
    assert invalid.status_code == 422 and invalid.headers["Content-Type"].startswith("application/problem+json")
    assert "description" in invalid.json()["errors"]
    unknown = requests.post(
        url,
        json={
            "estate_id": "NOPE",
            "channel": "app",
            "description": "电梯坏了",
            "reporter": {"name": "x", "phone": "13800138000", "role": "owner"},
        },
        timeout=5,
    )
    assert unknown.status_code == 422 and "estate_id" in unknown.json()["errors"]
    other_estate = {"Authorization": "Bearer " + issue_token(SECRET, sub="a", role="manager", group_id="G1", estates=["FT02"])}
    listing = requests.get(platform.url("intake", "/api/v1/complaints"), params={"estate_id": "NS01"}, headers=other_estate, timeout=5)
    assert listing.status_code in (200, 403)
    if listing.status_code == 200:
        assert listing.json()["items"] == []


def test_complaints_posted_while_workers_crash_reach_every_service_once(platform: Platform) -> None:
    """Dispatch's and notification's consumers die with SIGKILL; complaints keep their 201 and, once
    the consumers are back, each becomes one work order, one acknowledgement and one count."""
    admin = _admin()
    _ok(
        requests.put(
            platform.url("intake", "/api/v1/estates/FT02"),
            json={"name": "福田雅苑", "code": "FT02", "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"},
            headers=admin,
            timeout=5,
        ),
        200,
        201,
    )
    fetch_until(
        lambda: requests.put(
            platform.url("dispatch", "/api/v1/estates/FT02/staff/ft-eng"),
            json={"name": "周工", "department": "engineering", "role": "handler", "grids": [], "on_duty": True},
            headers=admin,
            timeout=5,
        ),
        lambda r: r.status_code in (200, 201),
        message="staff accepted once dispatch knows FT02",
    )
    platform.kill("dispatch", "worker")
    platform.kill("notification", "worker")
    complaint_ids = [
        _ok(
            requests.post(
                platform.url("intake", "/api/v1/complaints"),
                json={
                    "estate_id": "FT02",
                    "building": "A",
                    "room": f"{floor}01",
                    "reporter": {"name": "刘先生", "phone": f"1390000000{floor}", "role": "tenant"},
                    "channel": "wechat",
                    "description": f"A栋{floor}楼电梯门关不上",
                },
                timeout=5,
            ),
            201,
        )["id"]
        for floor in range(1, 4)
    ]
    time.sleep(1.0)  # the relay has published them into the queues of the dead consumers by now
    platform.start("dispatch", "worker")
    platform.start("notification", "worker")
    for complaint_id in complaint_ids:
        order = fetch_until(
            lambda complaint_id=complaint_id: requests.get(
                platform.url("dispatch", f"/api/v1/work-orders/{complaint_id}"), headers=admin, timeout=5
            ),
            lambda r: r.status_code == 200 and r.json()["status"] == "assigned",
            timeout=60,
            message="work order assigned after the restart",
        ).json()
        assert [entry["action"] for entry in order["timeline"]].count("classify") == 1
        notes = fetch_until(
            lambda complaint_id=complaint_id: requests.get(
                platform.url("notification", "/api/v1/notifications"), params={"complaint_id": complaint_id}, headers=admin, timeout=5
            ),
            lambda r: r.status_code == 200 and r.json()["items"],
            timeout=60,
            message="acknowledgement after the restart",
        ).json()["items"]
        assert [note["kind"] for note in notes].count("acknowledgement") == 1
        fetch_until(
            lambda complaint_id=complaint_id: requests.get(
                platform.url("intake", f"/api/v1/complaints/{complaint_id}"), headers=admin, timeout=5
            ),
            lambda r: r.json()["status"] == "assigned",
            message="intake follows dispatch after the restart",
        )
    fetch_until(
        lambda: requests.get(
            platform.url("analytics", "/api/v1/analytics/kpis"), params={"scope": "estate:FT02"}, headers=admin, timeout=5
        ),
        lambda r: r.status_code == 200 and r.json()["volume"]["total"] == 3,
        message="analytics counted each complaint once",
    )
