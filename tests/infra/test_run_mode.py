"""The one-process mode as a user runs it: `python -m infra.local.run` in a subprocess, its own mongod
and the memory broker, the demo city, a complaint's whole life over HTTP through the gateway, a
clean stop on SIGINT (mongod included) and a second start on the same data with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from infra.local.mongod import free_port
from propcare_shared.http.auth import issue_token
from propcare_shared.testing import wait_for
from survey.tokens import sign_invitation

ROOT = Path(__file__).resolve().parents[2]
SECRET = "run-mode-test-secret-0123456789abcdef"
ESTATE = "TS09"
START_TIMEOUT = 180.0


@dataclass
class LocalRun:
    """A running `python -m infra.local.run` and where to reach it."""

    process: subprocess.Popen[bytes]
    base: str
    data_dir: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def health(self) -> dict[str, Any] | None:
        try:
            return requests.get(f"{self.base}/healthz", timeout=5).json()
        except (requests.ConnectionError, requests.Timeout, ValueError):
            return None

    def mongod_pid(self) -> int:
        return int((self.data_dir / "mongo" / "mongod.lock").read_text().strip())


def _start(data_dir: Path, log_dir: Path, runs: list[LocalRun]) -> LocalRun:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in {"RABBITMQ_URL", "MONGODB_URL", "PUBLIC_BASE_URL"}}
    env.update(PORT=str(port), JWT_SECRET=SECRET, SLA_SCAN_INTERVAL="1", OUTBOX_POLL_INTERVAL="0.5", PYTHONUNBUFFERED="1")
    log = log_dir / f"run-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.run", "--data-dir", str(data_dir)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    run = LocalRun(process=process, base=f"http://127.0.0.1:{port}", data_dir=data_dir, log=log)
    runs.append(run)  # stopped by the fixture even when it never gets ready

    def demo_loaded() -> bool:
        assert process.poll() is None, f"the runner exited with {process.returncode}:\n{run.output()}"
        health = run.health()
        assert health is None or not str(health.get("demo", "")).startswith("failed"), run.output()
        return health is not None and health.get("status") == "ready" and health.get("demo") == "loaded"

    wait_for(demo_loaded, timeout=START_TIMEOUT, interval=0.2, message="healthz ready and the demo city loaded")
    return run


def _stop(run: LocalRun, signum: int) -> None:
    mongod = run.mongod_pid()
    run.process.send_signal(signum)
    try:
        code = run.process.wait(60)
    except subprocess.TimeoutExpired:
        run.process.kill()
        raise AssertionError(f"the runner did not stop on {signal.Signals(signum).name}:\n{run.output()}") from None
    assert code == 0, run.output()
    assert not Path(f"/proc/{mongod}").exists(), "mongod stopped with the runner"
    assert "stopped" in run.output()


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[list[LocalRun]]:
    started: list[LocalRun] = []
    yield started
    for run in started:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        lock = run.data_dir / "mongo" / "mongod.lock"
        if lock.exists() and lock.read_text().strip():
            try:
                os.kill(int(lock.read_text().strip()), signal.SIGKILL)
            except ProcessLookupError:
                pass


def _session() -> requests.Session:
    session = requests.Session()
    token = issue_token(SECRET, sub="run-mode-test", role="group_admin", group_id="G1")
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def _ok(response: requests.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200, 201)), (
        f"{response.request.method} {response.url} → {response.status_code}: {response.text[:1000]}"
    )
    return response.json() if response.content else {}


def _put_estate_and_staff(session: requests.Session, base: str) -> None:
    _ok(
        session.put(
            f"{base}/api/v1/estates/{ESTATE}",
            json={"name": "测试苑", "code": ESTATE, "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"},
        )
    )
    staff = {
        f"{ESTATE}-eng": {"name": "工程 handler", "department": "engineering", "role": "handler", "grids": [], "on_duty": True},
        f"{ESTATE}-eng-sup": {"name": "工程 supervisor", "department": "engineering", "role": "supervisor", "grids": [], "on_duty": True},
        f"{ESTATE}-agent": {"name": "客服 agent", "department": "customer_service", "role": "agent", "grids": [], "on_duty": True},
        f"{ESTATE}-manager": {"name": "manager", "department": "management", "role": "manager", "grids": [], "on_duty": True},
    }
    for staff_id, body in staff.items():
        url = f"{base}/api/v1/estates/{ESTATE}/staff/{staff_id}"

        def accepted(url: str = url, body: dict[str, Any] = body) -> bool:
            return session.put(url, json=body, timeout=10).ok

        wait_for(
            accepted,
            timeout=10,
            interval=0.1,
            message=f"dispatch accepting {staff_id}",
        )


def _work_order(session: requests.Session, base: str, complaint_id: str) -> dict[str, Any] | None:
    response = session.get(f"{base}/api/v1/work-orders/{complaint_id}", timeout=10)
    return response.json() if response.status_code == 200 else None


def _status(session: requests.Session, base: str, complaint_id: str) -> str | None:
    order = _work_order(session, base, complaint_id)
    return order["status"] if order else None


def _act(base: str, complaint_id: str, action: str, actor_id: str, note: str) -> None:
    """Act on a work order as the handler it is assigned to."""
    token = issue_token(SECRET, sub=actor_id, role="handler", group_id="G1", regions=["R1"], estates=[ESTATE])
    body = {"action": action, "actor_id": actor_id, "note": note}
    headers = {"Authorization": f"Bearer {token}"}
    _ok(requests.post(f"{base}/api/v1/work-orders/{complaint_id}/actions", json=body, headers=headers, timeout=10))


def test_one_process_mode_runs_a_complaint_end_to_end_and_stops_cleanly(runs: list[LocalRun], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    run = _start(data_dir, tmp_path, runs)
    base, session = run.base, _session()

    health = run.health()
    assert health is not None and set(health["services"]) == {"intake", "dispatch", "notification", "survey", "analytics"}
    for name in health["services"]:
        assert _ok(session.get(f"{base}/{name}/openapi.json", timeout=10))["paths"]

    _put_estate_and_staff(session, base)
    posted_at = time.monotonic()
    created = _ok(
        session.post(
            f"{base}/api/v1/complaints",
            json={
                "estate_id": ESTATE, "building": "3", "unit": "2", "room": "1502",
                "reporter": {"name": "王女士", "phone": "13800138000", "role": "owner"},
                "channel": "app", "description": "3号楼2单元电梯困人，里面有老人", "demand": "尽快救人并检修",
            },
            headers={"Idempotency-Key": "run-mode-complaint-1"},
            timeout=10,
        ),
        201,
    )  # fmt: skip
    complaint_id = created["id"]
    assert created["ticket_no"].startswith(f"{ESTATE}-")

    # Across the memory broker, between the services' threads: dispatch assigns, notification records.
    def assigned() -> dict[str, Any] | None:
        order = _work_order(session, base, complaint_id)
        return order if order and order["status"] == "assigned" and order["assignee_id"] else None

    order = wait_for(assigned, timeout=20, message="work order assigned")
    assert order is not None
    assert (order["tier"], order["department"]) == ("emergency", "engineering")
    wait_for(
        lambda: _ok(session.get(f"{base}/api/v1/notifications", params={"complaint_id": complaint_id}, timeout=10))["items"],
        timeout=20,
        message="a notification recorded",
    )
    # The figure, not a timing assertion (docs/PERFORMANCE.md): the issue asks for under two seconds.
    print(f"\nmake run: assigned and acknowledged {time.monotonic() - posted_at:.2f}s after the 201")

    assignee = order["assignee_id"]
    _act(base, complaint_id, "respond", assignee, "已联系住户，正在赶往现场")
    _act(base, complaint_id, "resolve", assignee, "已解救被困人员并检修电梯")
    wait_for(lambda: _status(session, base, complaint_id) == "resolved", timeout=5, message="resolved")

    invitation = wait_for(
        lambda: _ok(session.get(f"{base}/api/v1/surveys", params={"complaint_id": complaint_id}, timeout=10))["items"],
        timeout=10,
        message="a survey invitation",
    )[0]
    token = sign_invitation(SECRET, invitation["id"])  # the link the resident's message carries
    assert invitation["link"].endswith(f"/s/{token}"), "the group admin's list gives the resident's link"
    page = requests.get(f"{base}/s/{token}", timeout=10)
    assert page.status_code == 200 and "<form" in page.text
    answer: dict[str, Any] = {"solved": True, "scores": {"result": 5, "speed": 4, "attitude": 5}, "comment": "很及时"}
    _ok(requests.post(f"{base}/api/v1/surveys/{token}/responses", json=answer, timeout=10), 201)
    assert requests.post(f"{base}/api/v1/surveys/{token}/responses", json=answer, timeout=10).status_code == 409

    wait_for(lambda: _status(session, base, complaint_id) == "closed", timeout=10, message="closed after a satisfied answer")
    wait_for(
        lambda: _ok(session.get(f"{base}/api/v1/complaints/{complaint_id}", timeout=10))["status"] == "closed",
        timeout=10,
        message="intake's view closed",
    )

    def kpis_count_the_complaint() -> dict[str, Any] | None:
        kpis = _ok(session.get(f"{base}/api/v1/analytics/kpis", params={"scope": f"estate:{ESTATE}"}, timeout=10))
        return kpis if kpis["volume"]["total"] == 1 and kpis["survey"]["answered"] == 1 else None

    kpis = wait_for(kpis_count_the_complaint, timeout=10, message="analytics counting the complaint and the answer")
    assert kpis is not None and kpis["resolution_rate"] == 1.0

    # The demo city's satisfaction campaign: its answers imported, counted by analytics, in the month's review.
    [campaign] = _ok(session.get(f"{base}/api/v1/campaigns", params={"estate_id": "NS01"}, timeout=10))["items"]
    responded = _ok(session.get(f"{base}/api/v1/campaigns/{campaign['id']}", timeout=10))["responded"]
    assert responded > 0, "the demo imported paper and phone answers"

    def campaign_analysed() -> dict[str, Any] | None:
        params = {"scope": "estate:NS01", "campaign_id": campaign["id"]}
        figures = _ok(session.get(f"{base}/api/v1/analytics/satisfaction", params=params, timeout=10))
        return figures if figures["responses"] == responded else None

    figures = wait_for(campaign_analysed, timeout=30, message="analytics reading every answer of the demo campaign")
    assert figures is not None
    assert figures["priority_matrix"] and figures["nps"] is not None
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    review = _ok(session.get(f"{base}/api/v1/analytics/reports/monthly", params={"scope": "estate:NS01", "month": month}, timeout=10))
    assert review["this_month"]["satisfaction"]["responses"] == figures["responses"]

    metrics = requests.get(f"{base}/metrics", timeout=10).text
    for service in ("intake", "dispatch", "notification", "survey", "analytics"):
        assert f'service="{service}"' in metrics

    _stop(run, signal.SIGINT)

    # A second `make run` on the same data: the demo loads again (PUTs), the complaint is still there.
    again = _start(data_dir, tmp_path, runs)
    assert _ok(_session().get(f"{again.base}/api/v1/complaints/{complaint_id}", timeout=10))["id"] == complaint_id
    started = time.monotonic()
    _stop(again, signal.SIGTERM)
    assert time.monotonic() - started < 60
