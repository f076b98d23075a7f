"""The demo city: two estates of one region of one group, their households, staff and grids, and a
satisfaction campaign with answers (``demo_campaign``).

Loaded through the services' own HTTP APIs via the gateway, with PUTs and an idempotent import, so
loading it again (a second ``make run``) changes nothing. Dispatch learns of an estate from
``directory.estate.upserted``; until that event arrived its staff and grid PUTs are refused, so
they are retried for a while. No real person's data: the demo has no resident names or phones.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

from infra.local import demo_campaign
from infra.local.demo_http import DemoLoadError, expect
from propcare_shared.http.auth import issue_token

GROUP_ID = "G1"
REGION_ID = "R1"
TIMEZONE = "Asia/Shanghai"
DEPARTMENTS = ("engineering", "security", "environment", "finance", "customer_service")
HOUSEHOLD_TYPES = ("owner", "owner", "tenant", "owner", "vacant")
AGE_BANDS = ("18-35", "36-50", "51-65", "65+")
TOKEN_TTL_SECONDS = 12 * 3600  # within JWT_MAX_TTL (24 h by default): tokens are short-lived everywhere
STAFF_RETRY_SECONDS = 180.0  # dispatch learns an estate from intake's event; a loaded laptop may take a while


@dataclass(frozen=True)
class DemoEstate:
    """An estate of the demo city and the layout of its buildings."""

    estate_id: str
    name: str
    buildings: tuple[str, ...]
    units: tuple[str, ...] = ("1", "2")
    floors: tuple[int, ...] = tuple(range(1, 23))


ESTATES = (
    DemoEstate("NS01", "南山花园", buildings=("1", "2", "3")),
    DemoEstate("FT02", "福田雅苑", buildings=("A", "B")),
)


def admin_token(secret: str) -> str:
    """Return a group_admin token for the demo group, valid for 12 hours (restart `make run` for a new one)."""
    return issue_token(secret, sub="demo-admin", role="group_admin", group_id=GROUP_ID, ttl_seconds=TOKEN_TTL_SECONDS)


def households(estate: DemoEstate, *, limit: int = 120) -> list[dict[str, str]]:
    """Return the estate's demo households: building, unit, room, household type and age band."""
    rows = []
    layout = ((building, unit, floor) for floor in estate.floors for unit in estate.units for building in estate.buildings)
    for index, (building, unit, floor) in enumerate(layout):
        if index >= limit:
            break
        rows.append(
            {
                "building": building,
                "unit": unit,
                "room": f"{floor}{int(unit):02d}",
                "household_type": HOUSEHOLD_TYPES[index % len(HOUSEHOLD_TYPES)],
                "age_band": AGE_BANDS[index % len(AGE_BANDS)],
            }
        )
    return rows


def grids(estate: DemoEstate) -> dict[str, dict[str, Any]]:
    """Return the estate's grids: the first building in one, the others in a second."""
    code = estate.estate_id
    return {
        f"{code}-G1": {"buildings": list(estate.buildings[:1]), "owner_id": f"{code}-grid-1"},
        f"{code}-G2": {"buildings": list(estate.buildings[1:]), "owner_id": f"{code}-grid-2"},
    }


def staff(estate: DemoEstate) -> dict[str, dict[str, Any]]:
    """Return the estate's staff: a handler and a supervisor per department, an agent, a manager and grid owners."""
    code = estate.estate_id
    people: dict[str, dict[str, Any]] = {}
    for department in DEPARTMENTS:
        short = department.replace("_", "-")
        people[f"{code}-{short}-handler"] = {
            "name": f"{code} {department} handler",
            "department": department,
            "role": "handler",
            "grids": [],
            "on_duty": True,
        }
        people[f"{code}-{short}-supervisor"] = {
            "name": f"{code} {department} supervisor",
            "department": department,
            "role": "supervisor",
            "grids": [],
            "on_duty": True,
        }
    people[f"{code}-agent"] = {
        "name": f"{code} front desk agent",
        "department": "customer_service",
        "role": "agent",
        "grids": [],
        "on_duty": True,
    }
    people[f"{code}-manager"] = {
        "name": f"{code} estate manager",
        "department": "management",
        "role": "manager",
        "grids": [],
        "on_duty": True,
    }
    for grid_id, grid in grids(estate).items():
        people[grid["owner_id"]] = {
            "name": f"{grid_id} grid owner",
            "department": "customer_service",
            "role": "grid_owner",
            "grids": [grid_id],
            "on_duty": True,
        }
    return people


def load(base_url: str, *, token: str, stopping: threading.Event | None = None) -> None:
    """Load the demo city through the gateway; safe to run again."""
    stopping = stopping or threading.Event()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    for estate in ESTATES:
        body = {"name": estate.name, "code": estate.estate_id, "region_id": REGION_ID, "group_id": GROUP_ID, "timezone": TIMEZONE}
        expect(session.put(f"{base_url}/api/v1/estates/{estate.estate_id}", json=body, timeout=30), "estate", estate.estate_id)
        expect(
            session.post(
                f"{base_url}/api/v1/estates/{estate.estate_id}/households:import",
                data=_csv(households(estate)).encode(),
                headers={"Content-Type": "text/csv; charset=utf-8"},
                timeout=60,
            ),
            "households",
            estate.estate_id,
        )
    for estate in ESTATES:
        for path, body in _dispatch_directory(estate):
            _put_when_dispatch_knows_the_estate(session, f"{base_url}{path}", body, stopping=stopping)
    demo_campaign.load(session, base_url, stopping=stopping)


def _dispatch_directory(estate: DemoEstate) -> Iterator[tuple[str, dict[str, Any]]]:
    code = estate.estate_id
    for staff_id, body in staff(estate).items():
        yield f"/api/v1/estates/{code}/staff/{staff_id}", body
    for grid_id, body in grids(estate).items():
        yield f"/api/v1/estates/{code}/grids/{grid_id}", body


def _put_when_dispatch_knows_the_estate(session: requests.Session, url: str, body: dict[str, Any], *, stopping: threading.Event) -> None:
    deadline = time.monotonic() + STAFF_RETRY_SECONDS
    while True:
        response = session.put(url, json=body, timeout=30)
        if response.ok:
            return
        # 503 (then 404 after a minute)/409/422: the estate (or a grid's owner) has not reached dispatch yet.
        if response.status_code not in {404, 409, 422, 503} or time.monotonic() > deadline:
            expect(response, "staff or grid", url)
        if stopping.wait(0.25):
            raise DemoLoadError("stopped while loading the demo city")


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["building", "unit", "room", "household_type", "age_band"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def banner(base_url: str, *, token: str, services: list[str], demo_state: str) -> str:
    """Return what ``make run`` prints once everything is up."""
    complaint = {
        "estate_id": "NS01", "building": "1", "unit": "1", "room": "501",
        "reporter": {"name": "王女士", "phone": "13800138000", "role": "owner"},
        "channel": "app", "description": "1号楼1单元电梯困人，里面有老人", "demand": "尽快救人并检修",
    }  # fmt: skip
    lines = [
        "",
        "Propcare is running (one process).",
        f"  gateway       {base_url}      health: {base_url}/healthz   metrics: {base_url}/metrics",
    ]
    for name in services:
        lines.append(f"  {name:<13} {base_url}/{name}/openapi.json   {base_url}/{name}/docs")
    lines += [
        f"  demo city     {demo_state}: estates {', '.join(e.estate_id for e in ESTATES)} in region {REGION_ID} of group {GROUP_ID}",
        "",
        "A group_admin token for the demo (12 hours):",
        f"  export TOKEN={token}",
        "",
        "Post a complaint:",
        f"  curl -s -X POST {base_url}/api/v1/complaints -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\",
        f"       -d '{json.dumps(complaint, ensure_ascii=False)}'",
        f'  then: curl -s {base_url}/api/v1/work-orders/<id> -H "Authorization: Bearer $TOKEN"',
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)
