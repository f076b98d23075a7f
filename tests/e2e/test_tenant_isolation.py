"""Tenant isolation, route by route, generated from the URL maps of all five Flask apps.

The platform runs in one process (``infra.local.run.LocalStack``: real MongoDB, the five services,
their workers on the in-process broker). A victim, estate NS01 of group G1 in region R1, gets a
complaint that goes all the way round: a work order, an assignee, actions, a survey invitation,
messages, analytics facts. Then the workers are stopped, so only HTTP can change anything, and every
rule of every app is called with every method, by every attacker:

- a token of another estate of the same group and region (manager, handler, agent of FT01);
- a token of another region of the same group (regional ops of R2);
- tokens of another group that uses the same region id and names the victim's estate id in its
  claims (G2's group admin, regional ops of its own R1, manager and handler "of NS01", service);
- tokens without ``group_id`` (group admin, service) and no token at all.

Path parameters are filled with the victim's ids, list routes are called with the victim's ids as
filters, and writes carry a body that would succeed for the victim's own staff, under the
``Idempotency-Key`` the victim's staff used. For each call: never a 5xx; no token or no group is a
401; another group asking for the victim's record by id gets the one "not yours" answer, 404; any
2xx carries none of the victim's ids, ticket number, tracking token, reporter or staff. After all
calls, every document of the victim in all five databases is as it was.

A new route is covered the moment it is registered: a write route without a sample body here, or a
path parameter without a victim value, fails the test until one is added. Routes that are public on
purpose are named in ``infra.tools.route_roles`` with the reason (docs/SECURITY.md lists them); they
are still called (with forged tokens) and must leak and change nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from infra.local.run import SERVICES, LocalStack
from infra.tools import route_roles
from propcare_shared.http.auth import issue_token
from propcare_shared.testing import fetch_until, wait_for
from tests.e2e.one_process import one_process_stack

SECRET = "tenant-isolation-secret-0123456789abcdef"
VICTIM_GROUP, VICTIM_REGION, VICTIM_ESTATE = "G1", "R1", "NS01"
ATTACKER_GROUP = "G2"
VICTIM_KEY = "victim-idempotency-key"
REPORTER = {"name": "王女士", "phone": "13800138000", "role": "owner"}
HANDLER = "g1-handler-7"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BOUNDARY = "propcare-isolation-boundary"
HOTLINE_SECRET = "tenant-isolation-hotline-secret"
QUESTIONNAIRE = {
    "title": {"zh-CN": "满意度调查", "en": "Satisfaction survey"},
    "dimensions": [
        {
            "id": "basic_services",
            "title": {"zh-CN": "基础服务", "en": "Basic services"},
            "questions": [{"id": "cleaning", "text": {"zh-CN": "保洁？", "en": "Cleaning?"}, "measures": None}],
        }
    ],
}
CALLER = {"name": "赵先生", "phone": "13700137000"}
HOUSEHOLD_RESIDENT = {"name": "钱先生", "phone": "13900139000"}
CAMPAIGN_COMMENT = "钱先生说三号楼的垃圾没人清"
TRANSFER = {
    "hotline_ticket_id": "12345-20261129-000777",
    "transferred_at": "2026-11-29T01:00:00Z",
    "caller": CALLER,
    "estate_code": VICTIM_ESTATE,
    "address": "南山区南山花园3栋",
    "content": "小区门口垃圾堆放三天无人清理",
    "hotline_category": "环境卫生",
    "urgency": "normal",
    "reply_deadline": "2026-12-05T10:00:00Z",
}

# Public on purpose, each with its reason: the one allow-list docs/SECURITY.md is generated from.
PUBLIC: dict[tuple[str, str], str] = {**route_roles.KERNEL_PUBLIC, **route_roles.PUBLIC}
# Tenant-neutral reference data: the same answer for every tenant.
SHARED_REFERENCE = {("POST", "/api/v1/classify"), ("GET", "/api/v1/templates"), ("GET", "/api/v1/templates/<kind>")}
# What may change without any request: idempotency claims and rate-limit counters of the attackers.
VOLATILE_COLLECTIONS = {"idempotent_requests", "idempotency_keys", "rate_limits"}


def bearer(*, sub: str, role: str, group_id: str | None, regions: tuple[str, ...] = (), estates: tuple[str, ...] = ()) -> dict[str, str]:
    token = issue_token(SECRET, sub=sub, role=role, group_id=group_id, regions=regions, estates=estates)
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Attacker:
    name: str
    headers: dict[str, str]
    other_group: bool = False
    unauthenticated: bool = False


ATTACKERS = (
    Attacker("G1 manager of another estate", bearer(sub="ft-manager", role="manager", group_id="G1", estates=("FT01",))),
    Attacker("G1 handler of another estate", bearer(sub="ft-handler", role="handler", group_id="G1", estates=("FT01",))),
    Attacker("G1 agent of another estate", bearer(sub="ft-agent", role="agent", group_id="G1", estates=("FT01",))),
    Attacker("G1 regional ops of another region", bearer(sub="r2-ops", role="regional_ops", group_id="G1", regions=("R2",))),
    Attacker("G2 group admin", bearer(sub="g2-admin", role="group_admin", group_id=ATTACKER_GROUP), other_group=True),
    Attacker(
        "G2 regional ops of its own R1",
        bearer(sub="g2-ops", role="regional_ops", group_id=ATTACKER_GROUP, regions=(VICTIM_REGION,)),
        other_group=True,
    ),
    Attacker(
        "G2 manager naming NS01",
        bearer(sub="g2-manager", role="manager", group_id=ATTACKER_GROUP, estates=(VICTIM_ESTATE, "NS02")),
        other_group=True,
    ),
    Attacker(
        "G2 handler with the victim's staff id",
        bearer(sub=HANDLER, role="handler", group_id=ATTACKER_GROUP, estates=(VICTIM_ESTATE,)),
        other_group=True,
    ),
    Attacker("G2 service client", bearer(sub="g2-svc", role="service", group_id=ATTACKER_GROUP), other_group=True),
    Attacker("group admin without a group", bearer(sub="admin", role="group_admin", group_id=None), unauthenticated=True),
    Attacker("service without a group", bearer(sub="svc", role="service", group_id=None), unauthenticated=True),
    Attacker("no token", {}, unauthenticated=True),
)


@dataclass
class Victim:
    """The victim's ids, and the strings none of the attackers may ever read."""

    complaint_id: str = ""
    ticket_no: str = ""
    tracking_token: str = ""
    staff_complaint_id: str = ""
    invitation_id: str = ""
    message_id: str = ""
    hotline_ticket_id: str = ""
    open311_key_id: str = ""
    open311_request_id: str = ""
    questionnaire_id: str = ""
    campaign_id: str = ""
    campaign_invitation_id: str = ""
    import_id: str = ""
    call_task_id: str = ""
    markers: set[str] = field(default_factory=set)

    def path_values(self) -> dict[str, list[str]]:
        return {
            "estate_id": [VICTIM_ESTATE],
            "complaint_id": [self.complaint_id],
            "tracking_token": ["forged-" + "x" * 40],
            "token": ["forged.survey.token"],
            "message_id": [self.message_id],
            "invitation_id": [self.invitation_id],
            "staff_id": [HANDLER],
            "grid_id": ["G1-GRID"],
            "scope": [f"estate:{VICTIM_ESTATE}", f"region:{VICTIM_REGION}", f"group:{VICTIM_GROUP}"],
            "kind": ["complaint.assigned"],
            "filename": ["index.html"],
            "hotline_ticket_id": [self.hotline_ticket_id],
            "service_code": ["elevator"],
            "service_request_id": [self.open311_request_id],
            "key_id": [self.open311_key_id],
            "questionnaire_id": [self.questionnaire_id],
            "campaign_id": [self.campaign_id],
            "import_id": [self.import_id],
            "estate_code": [VICTIM_ESTATE],
            "task_id": [self.call_task_id],
            "name": ["swagger-ui.css"],
        }

    def query_variants(self) -> list[dict[str, str]]:
        scopes = self.path_values()["scope"]
        return [
            {},
            {"estate_id": VICTIM_ESTATE},
            {"complaint_id": self.complaint_id},
            {"estate_id": VICTIM_ESTATE, "tier": "general"},
            {"campaign_id": self.campaign_id},
            *({"scope": scope} for scope in scopes),
            *({"scope": scope, "month": "2026-11"} for scope in scopes),
        ]


def complaint_body(channel: str = "phone") -> dict[str, Any]:
    return {
        "estate_id": VICTIM_ESTATE,
        "building": "3",
        "unit": "2",
        "room": "1502",
        "reporter": REPORTER,
        "channel": channel,
        "description": "3号楼2单元门口的路灯坏了一周了",
        "demand": "请尽快修好",
        "first_responder_id": HANDLER if channel == "phone" else None,
    }


def campaign_body(questionnaire_id: str) -> dict[str, Any]:
    return {
        "estate_id": VICTIM_ESTATE,
        "questionnaire_id": questionnaire_id,
        "kind": "special",
        "sample_rate": 1.0,
        "strata": ["household_type"],
        "channel_mix": {"online": 0.0, "offline": 0.0, "phone": 1.0},
        "seed": 7,
        "opens_at": "2026-11-01T00:00:00Z",
        "closes_at": "2027-12-31T00:00:00Z",
    }


def multipart_photo() -> tuple[bytes, str]:
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="door.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
        + PNG
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={BOUNDARY}"


def write_body(method: str, rule: str, attacker_group: str) -> tuple[bytes, str]:
    """Return a body (and its media type) that would succeed for the victim's own staff."""
    samples: dict[tuple[str, str], Any] = {
        ("PUT", "/api/v1/estates/<estate_id>"): {
            "name": "南山花园",
            "code": VICTIM_ESTATE,
            "region_id": VICTIM_REGION,
            "group_id": attacker_group,
            "timezone": "Asia/Shanghai",
        },
        ("POST", "/api/v1/complaints"): complaint_body(),
        ("PUT", "/api/v1/estates/<estate_id>/staff/<staff_id>"): {
            "name": "冒名",
            "department": "engineering",
            "role": "handler",
            "grids": [],
            "on_duty": True,
        },
        ("PUT", "/api/v1/estates/<estate_id>/grids/<grid_id>"): {"buildings": ["9"], "owner_id": None},
        ("POST", "/api/v1/work-orders/<complaint_id>/actions"): {"action": "cancel", "reason": "duplicate", "note": "duplicate"},
        ("POST", "/api/v1/classify"): {"text": "电梯坏了"},
        ("PUT", "/api/v1/sla-policies/<scope>"): {"tiers": {"general": {"response": {"duration": "PT1H", "clock": "calendar"}}}},
        ("PUT", "/api/v1/calendars/<scope>"): {"closures": ["2026-12-24"], "extra_working_days": []},
        ("POST", "/api/v1/surveys/invitations/<invitation_id>/responses"): {
            "solved": True,
            "scores": {"result": 5, "speed": 5, "attitude": 5},
            "comment": "",
            "channel": "phone",
        },
        ("POST", "/api/v1/surveys/<token>/responses"): {"solved": True, "scores": {"result": 5, "speed": 5, "attitude": 5}},
        ("POST", "/api/v1/hotline/transfers"): TRANSFER,
        ("POST", "/api/v1/hotline/transfers/<hotline_ticket_id>/accept"): {},
        ("POST", "/api/v1/hotline/transfers/<hotline_ticket_id>/return"): {"reason": "不属于物业职责"},
        ("POST", "/api/v1/hotline/transfers/<hotline_ticket_id>/extension"): {"reason": "需要更换设备", "until": "2026-12-20T10:00:00Z"},
        ("POST", "/api/v1/hotline/transfers/<hotline_ticket_id>/estate"): {"estate_id": VICTIM_ESTATE},
        ("POST", "/api/v1/hotline/transfers/<hotline_ticket_id>/satisfaction"): {"result": "dissatisfied", "comment": "没解决"},
        ("POST", "/api/v1/open311/keys"): {"client_name": "冒名应用", "estate_ids": [VICTIM_ESTATE]},
        ("POST", "/api/v1/questionnaires"): QUESTIONNAIRE,
        ("PUT", "/api/v1/questionnaires/<questionnaire_id>"): QUESTIONNAIRE,
        ("POST", "/api/v1/campaigns"): campaign_body("forged-questionnaire"),
        ("PUT", "/api/v1/analytics/hotspot-settings/<scope>"): {"threshold": 2, "days": 30},
        ("POST", "/api/v1/call-tasks/<task_id>/done"): {"outcome": "wrong_number", "note": "冒名"},
    }
    if (method, rule) == ("POST", "/api/v1/estates/<estate_id>/households:import"):
        return b"building,unit,room,household_type\n3,2,1502,vacant\n", "text/csv"
    if (method, rule) == ("POST", "/api/v1/complaints/<complaint_id>/attachments"):
        return multipart_photo()
    if (method, rule) == ("POST", "/open311/v2/requests.json"):
        form = f"api_key=forged-key&jurisdiction_id={VICTIM_ESTATE}&service_code=elevator&description=lift+stuck&address_string=a"
        return form.encode(), "application/x-www-form-urlencoded"
    if (method, rule) == ("POST", "/api/v1/campaigns/<campaign_id>/responses:import"):
        return f"invitation_id,channel,overall,recommend,comment,cleaning\n{attacker_group}-invitation,phone,1,0,,1\n".encode(), "text/csv"
    if (method, rule) in {("POST", "/r/<estate_code>"), ("POST", "/r/t/<tracking_token>"), ("POST", "/o/<token>")}:
        # The residents' forms: without the form's one-time token (or with a forged tracking or opt-out token) nothing is stored.
        return "building=3&unit=1&room=101&description=冒名投诉&note=冒名&phone=13800138000".encode(), "application/x-www-form-urlencoded"
    if (method, rule) == ("POST", "/s/<token>"):
        return b"solved=true&result=5&speed=5&attitude=5", "application/x-www-form-urlencoded"
    assert (method, rule) in samples, f"{method} {rule} is a write route without a sample body in {__name__}.write_body: add one"
    return json.dumps(samples[(method, rule)], ensure_ascii=False).encode(), "application/json"


def expand(rule: str, values: dict[str, list[str]]) -> list[str]:
    """Return the paths of a rule with each of its parameters filled with each victim value."""
    paths = [rule]
    for part in rule.split("<")[1:]:
        name = part.split(">")[0].split(":")[-1]
        assert name in values, f"{rule}: no victim value for the path parameter {name!r}; add one to Victim.path_values"
        paths = [path.replace(f"<{part.split('>')[0]}>", value, 1) for path in paths for value in values[name]]
    return paths


@pytest.fixture(scope="module")
def stack(mongodb_url: str) -> Iterator[LocalStack]:
    environ = {
        "JWT_SECRET": SECRET,
        "HOTLINE_SECRET": HOTLINE_SECRET,
        "SLA_SCAN_INTERVAL": "3600",
        "OUTBOX_POLL_INTERVAL": "0.2",
        "RESIDENT_LIMIT_PER_ADDRESS": "100000",
        "RESIDENT_LIMIT_PER_PHONE": "100000",
        "LOOKUP_LIMIT_PER_ADDRESS": "100000",
    }
    with one_process_stack(mongodb_url, environ, prefix="iso") as local:
        yield local


def apps(stack: LocalStack) -> dict[str, Flask]:
    return {service.name: service.app for service in stack.running}


def ok(response: Any, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200,)), (
        f"{response.request.method} {response.request.path}: {response.get_data(as_text=True)}"
    )
    return response.get_json()


@pytest.fixture(scope="module")
def victim(stack: LocalStack) -> Victim:
    """G1's NS01 with a complaint taken all the way to a survey invitation; G2 with its own R1 and an estate of the same name."""
    clients = {name: app.test_client() for name, app in apps(stack).items()}
    intake, dispatch, notification, survey, analytics = (clients[name] for name in SERVICES)
    g1 = bearer(sub="g1-admin", role="group_admin", group_id=VICTIM_GROUP)
    g2 = bearer(sub="g2-admin", role="group_admin", group_id=ATTACKER_GROUP)
    estates = [
        ("NS01", "南山花园", "G1", "R1", g1),
        ("FT01", "福田小区", "G1", "R1", g1),
        ("RR01", "罗湖苑", "G1", "R2", g1),
        ("NS02", "南山花园", "G2", "R1", g2),
    ]
    for estate_id, name, group, region, headers in estates:
        body = {"name": name, "code": estate_id, "region_id": region, "group_id": group, "timezone": "Asia/Shanghai"}
        ok(intake.put(f"/api/v1/estates/{estate_id}", json=body, headers=headers), 200, 201)
    staff = {"name": "张工", "department": "engineering", "role": "handler", "grids": [], "on_duty": True}
    fetch_until(
        lambda: dispatch.put(f"/api/v1/estates/NS01/staff/{HANDLER}", json=staff, headers=g1),
        lambda response: response.status_code in (200, 201),
        message="dispatch knows NS01",
    )
    ok(dispatch.put("/api/v1/estates/NS01/grids/G1-GRID", json={"buildings": ["3"], "owner_id": HANDLER}, headers=g1), 200, 201)
    rules = {"tiers": {"general": {"resolve": {"duration": "P5D", "clock": "working_days"}}}}
    ok(dispatch.put("/api/v1/sla-policies/region:R1", json=rules, headers=g1), 200, 201)
    ok(dispatch.put("/api/v1/calendars/estate:NS01", json={"closures": ["2026-12-31"], "extra_working_days": []}, headers=g1), 200, 201)

    found = Victim()
    resident = ok(intake.post("/api/v1/complaints", json=complaint_body("app")), 201)
    found.complaint_id, found.ticket_no, found.tracking_token = resident["id"], resident["ticket_no"], resident["tracking_token"]
    handler = bearer(sub=HANDLER, role="handler", group_id=VICTIM_GROUP, estates=(VICTIM_ESTATE,))
    staff_entered = ok(intake.post("/api/v1/complaints", json=complaint_body(), headers={**handler, "Idempotency-Key": VICTIM_KEY}), 201)
    found.staff_complaint_id = staff_entered["id"]
    photo, media_type = multipart_photo()
    ok(
        intake.post(
            f"/api/v1/complaints/{found.complaint_id}/attachments",
            data=photo,
            content_type=media_type,
            headers={**handler, "Idempotency-Key": VICTIM_KEY},
        ),
        201,
    )
    fetch_until(
        lambda: dispatch.get(f"/api/v1/work-orders/{found.complaint_id}", headers=g1),
        lambda response: response.status_code == 200 and response.get_json()["assignee_id"] == HANDLER,
        message="the work order assigned to the victim's handler",
    )
    for action in ({"action": "accept"}, {"action": "respond"}, {"action": "resolve", "note": "换了灯泡"}):
        ok(dispatch.post(f"/api/v1/work-orders/{found.complaint_id}/actions", json=action, headers=handler))
    invitations = fetch_until(
        lambda: survey.get(f"/api/v1/surveys?complaint_id={found.complaint_id}", headers=g1).get_json(),
        lambda page: bool(page and page.get("items")),
        message="the follow-up invitation",
    )
    found.invitation_id = invitations["items"][0]["id"]
    messages = fetch_until(
        lambda: notification.get(f"/api/v1/notifications?complaint_id={found.complaint_id}", headers=g1).get_json(),
        lambda page: bool(page and page.get("items")),
        message="messages about the complaint",
    )
    found.message_id = messages["items"][0]["id"]
    tasks = fetch_until(
        lambda: notification.get(f"/api/v1/call-tasks?estate_id={VICTIM_ESTATE}", headers=g1).get_json(),
        lambda page: bool(page and page.get("items")),
        message="a call task for the phone complaint",
    )
    found.call_task_id = tasks["items"][0]["id"]
    fetch_until(
        lambda: analytics.get(f"/api/v1/analytics/kpis?scope=estate:{VICTIM_ESTATE}", headers=g1).get_json(),
        lambda kpis: bool(kpis) and kpis.get("volume", {}).get("total", 0) >= 2,
        message="analytics counted the victim's complaints",
    )
    found.hotline_ticket_id = TRANSFER["hotline_ticket_id"]
    raw = json.dumps(TRANSFER, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(HOTLINE_SECRET.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    hotline = {"X-Hotline-Timestamp": stamp, "X-Hotline-Signature": signature}
    transfer = ok(intake.post("/api/v1/hotline/transfers", data=raw, content_type="application/json", headers=hotline), 201)
    key = ok(intake.post("/api/v1/open311/keys", json={"client_name": "城市服务", "estate_ids": [VICTIM_ESTATE]}, headers=g1), 201)
    found.open311_key_id = key["key_id"]
    form = {
        "api_key": key["api_key"],
        "jurisdiction_id": VICTIM_ESTATE,
        "service_code": "elevator",
        "description": "5号楼电梯门关不上",
        "address_string": "南山花园5栋",
        "first_name": "王",
        "last_name": "女士",
        "phone": REPORTER["phone"],
    }
    [filed] = ok(intake.post("/open311/v2/requests.json", data=form), 201)
    found.open311_request_id = filed["service_request_id"]
    found.questionnaire_id = ok(survey.post("/api/v1/questionnaires", json=QUESTIONNAIRE, headers=g1), 201)["id"]
    households = "building,unit,room,household_type,age_band,resident_name,resident_phone\n" + "".join(
        f"3,1,{floor}01,owner,36-50,{HOUSEHOLD_RESIDENT['name']},{HOUSEHOLD_RESIDENT['phone']}\n" for floor in range(1, 7)
    )
    imported = ok(
        intake.post(f"/api/v1/estates/{VICTIM_ESTATE}/households:import", data=households.encode(), content_type="text/csv", headers=g1)
    )
    found.import_id = imported["import_id"]
    campaign = fetch_until(
        lambda: survey.post("/api/v1/campaigns", json=campaign_body(found.questionnaire_id), headers=g1),
        lambda response: response.status_code == 201,
        message="survey knows the victim's households and makes a campaign",
    ).get_json()
    found.campaign_id = campaign["id"]
    found.campaign_invitation_id = ok(survey.get(f"/api/v1/campaigns/{found.campaign_id}/invitations", headers=g1))["items"][0]["id"]
    answer = {"answers": {"cleaning": 2}, "overall": 5, "recommend": 3, "comment": CAMPAIGN_COMMENT, "channel": "phone"}
    ok(survey.post(f"/api/v1/surveys/invitations/{found.campaign_invitation_id}/responses", json=answer, headers=g1), 201)
    fetch_until(
        lambda: analytics.get(f"/api/v1/analytics/satisfaction?scope=estate:{VICTIM_ESTATE}&campaign_id={found.campaign_id}", headers=g1),
        lambda response: response.status_code == 200 and response.get_json()["responses"] == 1,
        message="analytics counted the victim's campaign answer",
    )
    ok(analytics.put(f"/api/v1/analytics/hotspot-settings/estate:{VICTIM_ESTATE}", json={"threshold": 4, "days": 10}, headers=g1), 200, 201)
    for service in stack.running:
        wait_for(lambda service=service: service.context.database.outbox.count_documents({"published_at": None}) == 0, timeout=30)
    time.sleep(0.5)
    for service in stack.running:
        service.worker.stop(10)
    found.markers = {
        found.complaint_id,
        found.staff_complaint_id,
        found.ticket_no,
        staff_entered["ticket_no"],
        found.tracking_token,
        staff_entered["tracking_token"],
        found.invitation_id,
        found.message_id,
        REPORTER["name"],
        REPORTER["phone"],
        "张工",
        transfer["complaint_id"],
        transfer["ticket_no"],
        found.hotline_ticket_id,
        CALLER["name"],
        CALLER["phone"],
        key["api_key"],
        found.campaign_invitation_id,
        HOUSEHOLD_RESIDENT["name"],
        HOUSEHOLD_RESIDENT["phone"],
        CAMPAIGN_COMMENT,
    }
    return found


def victim_documents(stack: LocalStack) -> dict[str, list[str]]:
    """Every document of all five databases that is not the attacker group's own, as canonical JSON."""
    snapshot: dict[str, list[str]] = {}
    for service in stack.running:
        database = service.context.database
        for name in database.list_collection_names():
            if name in VOLATILE_COLLECTIONS or name.startswith("system."):
                continue
            documents = [json.dumps(document, sort_keys=True, default=str, ensure_ascii=False) for document in database[name].find()]
            snapshot[f"{service.name}.{name}"] = sorted(text for text in documents if ATTACKER_GROUP not in text)
    return snapshot


def routes(stack: LocalStack) -> list[tuple[str, str, str]]:
    found = []
    for service, app in apps(stack).items():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((service, method, rule.rule))
    return found


def test_every_route_is_called_by_the_generated_matrix(stack: LocalStack) -> None:
    listed = routes(stack)
    assert ("dispatch", "POST", "/api/v1/work-orders/<complaint_id>/actions") in listed
    assert len({(method, rule) for _, method, rule in listed}) >= 30
    assert set(PUBLIC) <= {(method, rule) for _, method, rule in listed}, "an allow-listed route that no app serves"


def test_no_route_lets_another_estate_region_or_group_read_or_change_the_victims_data(stack: LocalStack, victim: Victim) -> None:
    before = victim_documents(stack)
    clients: dict[str, FlaskClient] = {name: app.test_client() for name, app in apps(stack).items()}
    failures: list[str] = []
    calls = 0
    for service, method, rule in routes(stack):
        public = (method, rule) in PUBLIC
        for path in expand(rule, victim.path_values()):
            for attacker in ATTACKERS:
                headers = {**attacker.headers}
                if method in {"POST", "PUT"}:
                    group = ATTACKER_GROUP if attacker.other_group else VICTIM_GROUP
                    data, media_type = write_body(method, rule, group)
                    headers["Idempotency-Key"] = VICTIM_KEY
                    variants: list[dict[str, Any]] = [{"data": data, "content_type": media_type}]
                else:
                    variants = [{"query_string": query} for query in victim.query_variants()]
                for variant in variants:
                    calls += 1
                    response = clients[service].open(path, method=method, headers=headers, **variant)
                    status, text = response.status_code, response.get_data(as_text=True)
                    where = f"{attacker.name}: {method} {path} {variant.get('query_string', '')} → {status}"
                    if status >= 500:
                        failures.append(f"{where} (a 5xx)")
                    if attacker.unauthenticated and not public and status != 401:
                        failures.append(f"{where} (expected 401)")
                    names_victim = any(
                        part in path
                        for part in (
                            VICTIM_ESTATE,
                            victim.complaint_id,
                            victim.invitation_id,
                            victim.message_id,
                            victim.campaign_id,
                            victim.call_task_id,
                        )
                    )
                    names_victim = names_victim or f"group:{VICTIM_GROUP}" in path
                    refused_by_role = status == 403 and "required_roles" in (response.get_json(silent=True) or {})
                    if attacker.other_group and not public and names_victim and (method, rule) not in SHARED_REFERENCE:
                        if status != 404 and not refused_by_role:
                            failures.append(f"{where} (another group's record must be a 404, or the role's 403 any id gets)")
                    if 200 <= status < 300 and (method, rule) not in {("GET", "/metrics")}:
                        leaked = sorted(marker for marker in victim.markers if marker and marker in text)
                        if leaked:
                            failures.append(f"{where} leaked {leaked}")
    assert calls > 1000
    assert not failures, f"{len(failures)} of {calls} calls broke isolation:\n" + "\n".join(failures[:60])
    assert victim_documents(stack) == before, "an attacker's call changed the victim's documents"


def test_metrics_carry_no_personal_data_and_no_complaint(stack: LocalStack, victim: Victim) -> None:
    text = next(iter(apps(stack).values())).test_client().get("/metrics").get_data(as_text=True)
    assert not {marker for marker in victim.markers if marker in text}
