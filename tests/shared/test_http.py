"""The HTTP kernel on a small app: problem+json, auth and scope, pagination, idempotency keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from propcare_shared.http.app import ServiceContext, create_service_app
from propcare_shared.http.auth import authenticated, current_principal, issue_token, require_scope
from propcare_shared.http.errors import Problem
from propcare_shared.http.idempotency import idempotent, replayable
from propcare_shared.http.pagination import PageArgs
from propcare_shared.mongo import new_id
from propcare_shared.pagination import paginate
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer

blp = Blueprint("things", __name__, url_prefix="/api/v1/things")


class ThingIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1))
    size = fields.Integer(required=True, validate=validate.Range(min=1))
    estate_id = fields.String(required=True)


@blp.route("", methods=["POST"])
@blp.arguments(ThingIn)
@idempotent
def create_thing(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    if body["name"] == "forbidden":
        raise Problem(409, "Conflict", detail="Not now.", allowed_actions=["wait"])
    return _insert(body)


def _insert(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    database = _context().database
    document = {"_id": new_id(), **body}
    database.things.insert_one(document)
    return {"id": document["_id"], **body}, 201


@blp.route("", methods=["GET"])
@blp.arguments(PageArgs, location="query")
def list_things(args: dict[str, Any]) -> dict[str, Any]:
    items, next_cursor = paginate(_context().database.things, {}, limit=args["limit"], cursor=args["cursor"])
    return {"items": [{"id": item["_id"]} for item in items], "next_cursor": next_cursor}


@blp.route("/mine", methods=["POST"])
@authenticated(roles=["manager", "group_admin"])
@blp.arguments(ThingIn)
def create_own_thing(body: dict[str, Any]) -> Any:
    require_scope(group_id="G1", region_id="R1", estate_id=body["estate_id"])
    return replayable(lambda: _insert(body))


@blp.route("/<estate_id>/secret", methods=["GET"])
@authenticated(roles=["manager", "group_admin", "regional_ops"])
def secret(estate_id: str) -> dict[str, Any]:
    require_scope(group_id="G1", region_id="R1" if estate_id == "NS01" else "R2", estate_id=estate_id)
    return {"estate_id": estate_id, "caller": current_principal().sub}


@blp.route("/boom", methods=["GET"])
def boom() -> dict[str, Any]:
    raise RuntimeError("internal detail that must not leak")


def _context() -> ServiceContext:
    from flask import current_app

    return current_app.extensions["propcare"]


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings("kernel")


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    context = ServiceContext.open(settings)
    context.ensure_indexes([])
    app, _ = create_service_app(context, title="test", blueprints=[blp])
    yield app
    context.client.drop_database(settings.mongodb_database)
    context.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def things(app: Flask) -> int:
    return app.extensions["propcare"].database.things.count_documents({})


def test_malformed_json_is_a_400_problem(client: FlaskClient, app: Flask) -> None:
    response = client.post("/api/v1/things", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 400
    assert things(app) == 0


def test_invalid_fields_are_a_422_with_field_errors(client: FlaskClient, app: Flask) -> None:
    response = client.post("/api/v1/things", json={"name": "", "size": 0})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.json["errors"]) == {"name", "size", "estate_id"}
    assert things(app) == 0


def test_wrong_media_type_is_a_415(client: FlaskClient) -> None:
    response = client.post("/api/v1/things", data="name=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"


def test_problem_carries_extra_members(client: FlaskClient) -> None:
    response = client.post("/api/v1/things", json={"name": "forbidden", "size": 1, "estate_id": "NS01"})
    assert response.status_code == 409
    assert response.json["allowed_actions"] == ["wait"]


def test_unexpected_error_is_a_500_problem_without_internals(client: FlaskClient) -> None:
    response = client.get("/api/v1/things/boom")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "internal detail" not in response.get_data(as_text=True)


def test_unknown_path_is_a_404_problem(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_missing_and_bad_tokens_are_401(client: FlaskClient) -> None:
    assert client.get("/api/v1/things/NS01/secret").status_code == 401
    bad = client.get("/api/v1/things/NS01/secret", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401
    assert bad.mimetype == "application/problem+json"


def test_token_signed_with_another_secret_is_401(client: FlaskClient, settings: Settings) -> None:
    other = settings.with_overrides(jwt_secret="another-secret-that-is-long-enough-0123456789")
    assert client.get("/api/v1/things/NS01/secret", headers=bearer(other, role="group_admin")).status_code == 401


def test_scope_follows_role(client: FlaskClient, settings: Settings) -> None:
    manager = bearer(settings, role="manager", estates=["NS01"])
    assert client.get("/api/v1/things/NS01/secret", headers=manager).status_code == 200
    assert client.get("/api/v1/things/FT02/secret", headers=manager).status_code == 403
    regional = bearer(settings, role="regional_ops", regions=["R1"])
    assert client.get("/api/v1/things/NS01/secret", headers=regional).status_code == 200
    assert client.get("/api/v1/things/FT02/secret", headers=regional).status_code == 403
    admin = bearer(settings, role="group_admin", group_id="G1")
    assert client.get("/api/v1/things/FT02/secret", headers=admin).status_code == 200
    other_group = bearer(settings, role="group_admin", group_id="G9")
    assert client.get("/api/v1/things/FT02/secret", headers=other_group).status_code == 404


def test_role_not_allowed_is_403(client: FlaskClient, settings: Settings) -> None:
    handler = bearer(settings, role="handler", estates=["NS01"])
    assert client.get("/api/v1/things/NS01/secret", headers=handler).status_code == 403


def test_pagination_walks_every_item_once(client: FlaskClient) -> None:
    created = {client.post("/api/v1/things", json={"name": f"t{i}", "size": 1, "estate_id": "NS01"}).json["id"] for i in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/things", query_string=query).json
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and set(seen) == created


def test_bad_cursor_and_limit_are_422(client: FlaskClient) -> None:
    assert client.get("/api/v1/things", query_string={"cursor": "garbage!"}).status_code == 422
    assert client.get("/api/v1/things", query_string={"limit": 501}).status_code == 422


def test_idempotency_key_replays_the_first_response(client: FlaskClient, app: Flask) -> None:
    body = {"name": "once", "size": 2, "estate_id": "NS01"}
    first = client.post("/api/v1/things", json=body, headers={"Idempotency-Key": "k1"})
    again = client.post("/api/v1/things", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert things(app) == 1


def test_idempotency_key_with_another_body_is_409(client: FlaskClient, app: Flask) -> None:
    client.post("/api/v1/things", json={"name": "a", "size": 1, "estate_id": "NS01"}, headers={"Idempotency-Key": "k2"})
    conflict = client.post("/api/v1/things", json={"name": "b", "size": 1, "estate_id": "NS01"}, headers={"Idempotency-Key": "k2"})
    assert conflict.status_code == 409
    assert conflict.mimetype == "application/problem+json"
    assert things(app) == 1


def test_health_readiness_metrics_and_openapi(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["mongodb"] is True
    client.get("/api/v1/things")
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{method="GET",route="/api/v1/things",service="kernel",status="200"}' in metrics
    spec = client.get("/openapi.json").json
    assert "/api/v1/things" in spec["paths"]


def test_readiness_fails_when_the_database_is_gone(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings("kernel", mongodb_url="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300")
    from propcare_shared.mongo import connect

    context = ServiceContext.open(settings, client=connect(settings.mongodb_url, app_name="t", timeout_ms=300))
    app, _ = create_service_app(context, title="test", blueprints=[])
    assert app.test_client().get("/readyz").status_code == 503
    context.close()


def _token(settings: Settings, **claims: Any) -> dict[str, str]:
    import time

    import jwt

    now = int(time.time())
    body = {"sub": "s1", "role": "manager", "group_id": "G1", "estates": ["NS01"], "iat": now, "exp": now + 600, **claims}
    return {
        "Authorization": "Bearer " + jwt.encode({k: v for k, v in body.items() if v is not ...}, settings.jwt_secret, algorithm="HS256")
    }


@pytest.mark.parametrize(
    "claims",
    [
        {"group_id": ...},
        {"group_id": None},
        {"group_id": ""},
        {"group_id": ["G1"]},
        {"estates": "NS01"},
        {"estates": None},
        {"regions": "R1", "role": "regional_ops"},
        {"role": "superuser"},
        {"sub": 7},
        {"exp": ...},
        {"exp": 2_000_000_000},
    ],
    ids=[
        "no-group",
        "null-group",
        "empty-group",
        "list-group",
        "estates-string",
        "estates-null",
        "regions-string",
        "unknown-role",
        "sub-number",
        "no-exp",
        "exp-beyond-max-lifetime",
    ],
)
def test_tokens_with_missing_or_wrong_typed_claims_are_401_with_a_reason(client: FlaskClient, settings: Settings, claims: dict) -> None:
    assert client.get("/api/v1/things/NS01/secret", headers=_token(settings)).status_code == 200
    refused = client.get("/api/v1/things/NS01/secret", headers=_token(settings, **claims))
    assert refused.status_code == 401
    assert refused.json["detail"].startswith("The bearer token is not valid")


def test_a_group_admin_without_a_group_sees_nothing(client: FlaskClient, settings: Settings) -> None:
    no_group = bearer(settings, role="group_admin", group_id=None)
    assert client.get("/api/v1/things/NS01/secret", headers=no_group).status_code == 401


def test_issuer_and_audience_are_required_once_configured(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings("kernel", jwt_issuer="propcare-idp", jwt_audience="propcare-api")
    context = ServiceContext.open(settings)
    app, _ = create_service_app(context, title="test", blueprints=[blp])
    client = app.test_client()

    def headers(**kwargs: Any) -> dict[str, str]:
        token = issue_token(settings.jwt_secret, sub="m", role="manager", group_id="G1", estates=["NS01"], **kwargs)
        return {"Authorization": f"Bearer {token}"}

    assert client.get("/api/v1/things/NS01/secret", headers=headers(issuer="propcare-idp", audience="propcare-api")).status_code == 200
    assert client.get("/api/v1/things/NS01/secret", headers=headers()).status_code == 401
    assert client.get("/api/v1/things/NS01/secret", headers=headers(issuer="propcare-idp", audience="elsewhere")).status_code == 401
    assert client.get("/api/v1/things/NS01/secret", headers=headers(issuer="someone", audience="propcare-api")).status_code == 401
    context.close()


def test_an_idempotency_key_replays_only_to_its_own_caller(client: FlaskClient, app: Flask, settings: Settings) -> None:
    body = {"name": "mine", "size": 1, "estate_id": "NS01"}
    manager = bearer(settings, role="manager", sub="m1", estates=["NS01"])
    first = client.post("/api/v1/things/mine", json=body, headers={**manager, "Idempotency-Key": "shared-key"})
    assert first.status_code == 201
    anonymous = client.post("/api/v1/things/mine", json=body, headers={"Idempotency-Key": "shared-key"})
    assert anonymous.status_code == 401
    outsider = bearer(settings, role="manager", sub="m2", estates=["FT02"])
    refused = client.post("/api/v1/things/mine", json=body, headers={**outsider, "Idempotency-Key": "shared-key"})
    assert refused.status_code == 403 and "Idempotent-Replayed" not in refused.headers
    other_group = bearer(settings, role="group_admin", sub="m1", group_id="G2")
    assert client.post("/api/v1/things/mine", json=body, headers={**other_group, "Idempotency-Key": "shared-key"}).status_code == 404
    colleague = bearer(settings, role="manager", sub="m3", estates=["NS01"])
    second = client.post("/api/v1/things/mine", json=body, headers={**colleague, "Idempotency-Key": "shared-key"})
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers and second.json["id"] != first.json["id"]
    again = client.post("/api/v1/things/mine", json=body, headers={**manager, "Idempotency-Key": "shared-key"})
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    assert things(app) == 2


def test_anonymous_idempotency_keys_are_kept_per_client_address(client: FlaskClient, app: Flask) -> None:
    body = {"name": "resident", "size": 1, "estate_id": "NS01"}
    here = client.post("/api/v1/things", json=body, headers={"Idempotency-Key": "k"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    there = client.post("/api/v1/things", json=body, headers={"Idempotency-Key": "k"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert here.status_code == there.status_code == 201 and here.json["id"] != there.json["id"]
    assert things(app) == 2
