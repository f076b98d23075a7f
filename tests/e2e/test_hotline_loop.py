"""The 12345 closed loop and an Open311 client, end to end, against a real HTTP receiver.

The platform runs in one process (``LocalStack``: real MongoDB, the five services and their workers).
The test plays the hotline platform: it signs its transfers and follow-up results with
``HOTLINE_SECRET``, and runs the callback receiver at ``HOTLINE_CALLBACK_URL``, which checks every
signature and timestamp, refuses the first attempt of each callback with a 500, and records what it
accepted in order. The loop: transfer (受理) → accept (签收) → progress (办理, 进度) → resolve
(办结反馈) → a dissatisfied follow-up (回访) reopens the work order (重办); a return (退单); an
extension (延期); an unmatched transfer through triage; stale, forged and replayed calls refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask.testing import FlaskClient

from infra.local.mongod import free_port
from infra.local.run import LocalStack
from propcare_shared.http.auth import issue_token
from propcare_shared.testing import fetch_until, wait_for
from tests.e2e.one_process import one_process_stack

SECRET = "hotline-loop-jwt-secret-0123456789abcdef"
HOTLINE_SECRET = "hotline-loop-hmac-secret"
GROUP = "G1"


def signed(body: dict[str, Any], *, at: float | None = None, secret: str = HOTLINE_SECRET) -> tuple[bytes, dict[str, str]]:
    """Return a JSON body and the hotline's signature headers for it."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    timestamp = str(int(at if at is not None else time.time()))
    signature = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Hotline-Timestamp": timestamp, "X-Hotline-Signature": signature}


@dataclass
class Receiver:
    """The hotline platform's callback endpoint: verifies, refuses each callback's first attempt, records the rest."""

    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused_once: set[str] = field(default_factory=set)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, raw: bytes, headers: Any) -> int:
        timestamp = headers.get("X-Hotline-Timestamp", "")
        expected = hmac.new(HOTLINE_SECRET.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
        if not fresh or not hmac.compare_digest(expected, headers.get("X-Hotline-Signature", "")):
            with self.lock:
                self.bad_signatures += 1
            return 401
        body = json.loads(raw)
        key = str(body.get("callback_id") or json.dumps(body, sort_keys=True))
        with self.lock:
            if key not in self.refused_once:
                self.refused_once.add(key)
                return 500
            if key not in {str(item.get("callback_id")) for item in self.accepted}:
                self.accepted.append(body)
        return 200

    def events(self, ticket: str) -> list[str]:
        with self.lock:
            return [item["event"] for item in self.accepted if item["hotline_ticket_id"] == ticket]


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = state.handle(raw, self.headers)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/callbacks"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def stack(mongodb_url: str, receiver: tuple[Receiver, str]) -> Iterator[LocalStack]:
    environ = {
        "JWT_SECRET": SECRET,
        "HOTLINE_SECRET": HOTLINE_SECRET,
        "HOTLINE_CALLBACK_URL": receiver[1],
        "SLA_SCAN_INTERVAL": "3600",
        "OUTBOX_POLL_INTERVAL": "0.2",
        "NOTIFY_DISPATCH_INTERVAL": "0.05",
        "NOTIFY_RETRY_SCALE": "0.001",
    }
    with one_process_stack(mongodb_url, environ, prefix="loop") as local:
        yield local


def client(stack: LocalStack, service: str) -> FlaskClient:
    return next(running.app for running in stack.running if running.name == service).test_client()


def bearer(*, sub: str, role: str, estates: tuple[str, ...] = ()) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(SECRET, sub=sub, role=role, group_id=GROUP, estates=estates)}


ADMIN = {"sub": "admin-1", "role": "group_admin"}


def transfer(ticket: str, **changes: Any) -> dict[str, Any]:
    body = {
        "hotline_ticket_id": ticket,
        "transferred_at": "2026-11-29T01:00:00Z",
        "caller": {"name": "李先生", "phone": "13900139000"},
        "estate_code": "NS01",
        "address": "南山区南山花园3栋",
        "content": "小区门口垃圾堆放三天无人清理",
        "hotline_category": "环境卫生",
        "urgency": "normal",
        "reply_deadline": "2026-12-25T10:00:00Z",
    }
    body.update(changes)
    return body


def post_transfer(intake: FlaskClient, body: dict[str, Any], **signing: Any) -> Any:
    raw, headers = signed(body, **signing)
    return intake.post("/api/v1/hotline/transfers", data=raw, headers=headers)


def transfer_view(intake: FlaskClient, ticket: str) -> dict[str, Any]:
    response = intake.get(f"/api/v1/hotline/transfers/{ticket}", headers=bearer(**ADMIN))
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


@pytest.fixture(scope="module")
def estate(stack: LocalStack) -> None:
    """NS01 of G1 in the directory, with a handler who owns the grid of building 3."""
    intake, dispatch = client(stack, "intake"), client(stack, "dispatch")
    admin = bearer(**ADMIN)
    body = {"name": "南山花园", "code": "NS01", "region_id": "R1", "group_id": GROUP, "timezone": "Asia/Shanghai"}
    assert intake.put("/api/v1/estates/NS01", json=body, headers=admin).status_code in (200, 201)
    staff = {"name": "陈师傅", "department": "environment", "role": "handler", "grids": [], "on_duty": True}
    fetch_until(
        lambda: dispatch.put("/api/v1/estates/NS01/staff/env-1", json=staff, headers=admin),
        lambda response: response.status_code in (200, 201),
        message="dispatch knows NS01",
    )
    grid = {"buildings": ["3"], "owner_id": "env-1"}
    assert dispatch.put("/api/v1/estates/NS01/grids/GR3", json=grid, headers=admin).status_code in (200, 201)


def work_order(stack: LocalStack, complaint_id: str, *, assigned: bool = True) -> dict[str, Any]:
    return dict(
        fetch_until(
            lambda: client(stack, "dispatch").get(f"/api/v1/work-orders/{complaint_id}", headers=bearer(**ADMIN)),
            lambda response: response.status_code == 200 and (response.get_json()["assignee_id"] or not assigned),
            message="the transfer's work order",
        ).get_json()
    )


def act(stack: LocalStack, complaint_id: str, action: str, **values: Any) -> None:
    handler = bearer(sub="env-1", role="handler", estates=("NS01",))
    response = client(stack, "dispatch").post(
        f"/api/v1/work-orders/{complaint_id}/actions", json={"action": action, **values}, headers=handler
    )
    assert response.status_code == 200, response.get_json()


def test_the_closed_loop_reaches_the_hotline_in_order_and_a_dissatisfied_follow_up_reopens_the_work(
    stack: LocalStack, estate: None, receiver: tuple[Receiver, str]
) -> None:
    hotline, _ = receiver
    intake = client(stack, "intake")
    created = post_transfer(intake, transfer("12345-20261129-000001"))
    assert created.status_code == 201, created.get_json()
    complaint_id = created.get_json()["complaint_id"]
    again = post_transfer(intake, transfer("12345-20261129-000001"))
    assert again.status_code == 200 and again.get_json()["complaint_id"] == complaint_id

    order = work_order(stack, complaint_id)
    assert order["assignee_id"] == "env-1" and order["deadlines"]["resolve"]["due_at"] <= "2026-12-25T10:00:00Z"
    agent = bearer(sub="agent-1", role="agent", estates=("NS01",))
    assert intake.post("/api/v1/hotline/transfers/12345-20261129-000001/accept", json={}, headers=agent).status_code == 200
    wait_for(lambda: hotline.events("12345-20261129-000001") == ["accepted"], timeout=30, message="签收 delivered")
    act(stack, complaint_id, "accept")
    act(stack, complaint_id, "respond", note="已联系来电人")
    act(stack, complaint_id, "progress", note="已安排清运")
    wait_for(lambda: hotline.events("12345-20261129-000001") == ["accepted", "progress"], timeout=30, message="进度 delivered")
    act(stack, complaint_id, "resolve", note="垃圾已全部清运，并增加清运频次")
    wait_for(lambda: hotline.events("12345-20261129-000001") == ["accepted", "progress", "completed"], timeout=30, message="办结 delivered")
    completed = next(item for item in hotline.accepted if item["event"] == "completed")
    assert completed["handler"] == "env-1" and "清运" in completed["resolution"]

    views = fetch_until(
        lambda: transfer_view(intake, "12345-20261129-000001"),
        lambda view: [callback["state"] for callback in view["callbacks"]] == ["delivered"] * 3,
        message="intake lists the delivered callbacks",
    )
    assert all(callback["attempts"] >= 2 for callback in views["callbacks"]), "each first attempt was refused and retried"
    assert "13900139000" not in json.dumps(views) and "李先生" not in json.dumps(views)

    raw, headers = signed({"result": "dissatisfied", "comment": "垃圾又堆起来了"})
    reported = intake.post("/api/v1/hotline/transfers/12345-20261129-000001/satisfaction", data=raw, headers=headers)
    assert reported.status_code == 201, reported.get_json()
    reopened = fetch_until(
        lambda: client(stack, "dispatch").get(f"/api/v1/work-orders/{complaint_id}", headers=bearer(**ADMIN)).get_json(),
        lambda view: view["status"] == "assigned" and any(entry["action"] == "reopen" for entry in view["timeline"]),
        message="重办: the work order reopened",
    )
    assert any("垃圾又堆起来了" in (entry["note"] or "") for entry in reopened["timeline"] if entry["action"] == "reopen")
    assert hotline.bad_signatures == 0


def test_a_return_cancels_the_work_and_reaches_the_hotline(stack: LocalStack, estate: None, receiver: tuple[Receiver, str]) -> None:
    hotline, _ = receiver
    intake = client(stack, "intake")
    complaint_id = post_transfer(intake, transfer("12345-20261129-000002", content="隔壁商场噪音扰民")).get_json()["complaint_id"]
    work_order(stack, complaint_id, assigned=False)
    manager = bearer(sub="mgr-1", role="manager", estates=("NS01",))
    returned = intake.post(
        "/api/v1/hotline/transfers/12345-20261129-000002/return", json={"reason": "商场不属于本物业管理范围"}, headers=manager
    )
    assert returned.status_code == 200, returned.get_json()
    wait_for(lambda: hotline.events("12345-20261129-000002") == ["returned"], timeout=30, message="退单 delivered")
    fetch_until(
        lambda: client(stack, "dispatch").get(f"/api/v1/work-orders/{complaint_id}", headers=bearer(**ADMIN)).get_json(),
        lambda view: view["status"] == "cancelled",
        message="the work order cancelled",
    )
    assert intake.post("/api/v1/hotline/transfers/12345-20261129-000002/accept", json={}, headers=manager).status_code == 409


def test_an_extension_before_the_deadline_reaches_the_hotline(stack: LocalStack, estate: None, receiver: tuple[Receiver, str]) -> None:
    hotline, _ = receiver
    intake = client(stack, "intake")
    assert post_transfer(intake, transfer("12345-20261129-000003", content="3栋电梯异响")).status_code == 201
    agent = bearer(sub="agent-1", role="agent", estates=("NS01",))
    assert intake.post("/api/v1/hotline/transfers/12345-20261129-000003/accept", json={}, headers=agent).status_code == 200
    asked = {"reason": "需要厂家更换曳引机", "until": "2027-01-10T10:00:00Z"}
    assert intake.post("/api/v1/hotline/transfers/12345-20261129-000003/extension", json=asked, headers=agent).status_code == 200
    wait_for(lambda: hotline.events("12345-20261129-000003") == ["accepted", "extension_requested"], timeout=30, message="延期 delivered")


def test_an_unmatched_transfer_waits_in_triage_until_an_agent_assigns_an_estate(stack: LocalStack, estate: None) -> None:
    intake = client(stack, "intake")
    body = transfer("12345-20261129-000004", estate_code=None, address="某某区不知名小区8栋")
    waiting = post_transfer(intake, body)
    assert waiting.status_code == 201 and waiting.get_json()["complaint_id"] is None
    triage = intake.get("/api/v1/hotline/transfers?state=triage", headers=bearer(**ADMIN)).get_json()["items"]
    assert [item["hotline_ticket_id"] for item in triage] == ["12345-20261129-000004"]
    agent = bearer(sub="agent-1", role="agent", estates=("NS01",))
    assigned = intake.post("/api/v1/hotline/transfers/12345-20261129-000004/estate", json={"estate_id": "NS01"}, headers=agent)
    assert assigned.status_code == 200, assigned.get_json()
    work_order(stack, assigned.get_json()["complaint_id"], assigned=False)
    assert transfer_view(intake, "12345-20261129-000004")["state"] == "received"


def test_stale_forged_and_replayed_calls_are_refused(stack: LocalStack, estate: None) -> None:
    intake = client(stack, "intake")
    body = transfer("12345-20261129-000005")
    assert post_transfer(intake, body, at=time.time() - 301).status_code == 401
    assert post_transfer(intake, body, secret="not-the-hotline").status_code == 401
    raw, headers = signed(body, at=time.time() - 400)
    assert intake.post("/api/v1/hotline/transfers", data=raw, headers=headers).status_code == 401, "an old signed call replayed"
    assert intake.get("/api/v1/hotline/transfers/12345-20261129-000005", headers=bearer(**ADMIN)).status_code == 404


def test_an_open311_client_files_a_request_and_reads_it_back(stack: LocalStack, estate: None) -> None:
    intake = client(stack, "intake")
    key = intake.post("/api/v1/open311/keys", json={"client_name": "深圳城市服务", "estate_ids": ["NS01"]}, headers=bearer(**ADMIN))
    assert key.status_code == 201, key.get_json()
    form = {
        "api_key": key.get_json()["api_key"],
        "jurisdiction_id": "NS01",
        "service_code": "elevator",
        "description": "5号楼电梯按钮失灵",
        "address_string": "南山花园5栋",
        "first_name": "周",
        "phone": "13600136000",
    }
    filed = intake.post("/open311/v2/requests.json", data=form)
    assert filed.status_code == 201, filed.get_json()
    request_id = filed.get_json()[0]["service_request_id"]
    read = fetch_until(
        lambda: intake.get(f"/open311/v2/requests/{request_id}.json").get_json(),
        lambda body: isinstance(body, list) and body[0].get("agency_responsible"),
        message="the request read back with the department dispatch chose",
    )
    assert read[0]["service_code"] == "elevator" and read[0]["status"] == "open"
    assert "13600136000" not in json.dumps(read) and "周" not in json.dumps(read)
    assert intake.post("/open311/v2/requests.json", data={**form, "api_key": "forged"}).status_code == 403
