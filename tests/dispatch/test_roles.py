"""Roles per action and the honest actor: the table itself (pure), and the actions route against a real
mongod, where a refused action changes nothing and an ``Idempotency-Key`` replays only once the caller
may act."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from dispatch import work_orders
from dispatch.domain.decision import ActionRefused
from dispatch.domain.roles import ACTION_ROLES, ownership_refusal, roles_acting_for_others, roles_for
from dispatch.domain.workflow import ACTIONS
from dispatch.store import DispatchStore
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.http.auth import ROLES
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events

CANCEL = {"action": "cancel", "note": "same as NS01-0001", "reason": "duplicate"}


def snapshot(context: ServiceContext, complaint_id: str) -> tuple[Any, int, int]:
    """What must not change when an action is refused: the order, its timeline and the outbox."""
    order = context.database.work_orders.find_one({"_id": complaint_id})
    return order, context.database.timeline.count_documents({"complaint_id": complaint_id}), context.database.outbox.count_documents({})


def act(client: FlaskClient, complaint_id: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(f"/api/v1/work-orders/{complaint_id}/actions", json=body, headers=headers)


def token(settings: Settings, role: str, sub: str, **claims: Any) -> dict[str, str]:
    claims.setdefault("estates", ["NS01"])
    return bearer(settings, role=role, sub=sub, **claims)


@pytest.fixture
def order(staff: None, make_work_order: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A general facility complaint in NS01, assigned to one of its two engineers."""
    made = make_work_order()
    assert made["assignee_id"] in {"eng-1", "eng-2"}
    return made


@pytest.fixture
def other_engineer(order: dict[str, Any]) -> str:
    return "eng-2" if order["assignee_id"] == "eng-1" else "eng-1"


# the table (pure) ------------------------------------------------------------------------------------


def test_every_action_of_the_state_machine_has_its_roles_and_only_known_roles() -> None:
    assert set(ACTION_ROLES) == set(ACTIONS)
    assert all(set(roles) <= set(ROLES) and roles for roles in ACTION_ROLES.values())


def test_no_action_is_open_to_a_service_token() -> None:
    assert [action for action, roles in ACTION_ROLES.items() if "service" in roles] == []


def test_agents_make_contact_but_never_cancel_close_or_reassign() -> None:
    assert sorted(action for action, roles in ACTION_ROLES.items() if "agent" in roles) == ["hold", "respond", "resume"]


def test_regional_ops_and_group_admins_only_escalate() -> None:
    for role in ("regional_ops", "group_admin"):
        assert [action for action, roles in ACTION_ROLES.items() if role in roles] == ["escalate"]


def test_handlers_work_orders_but_do_not_steer_them() -> None:
    handled = {action for action, roles in ACTION_ROLES.items() if "handler" in roles}
    assert handled == {"accept", "respond", "arrive", "plan", "progress", "hold", "resume", "resolve"}


def test_supervisors_and_managers_may_take_every_action() -> None:
    for role in ("supervisor", "manager"):
        assert all(role in roles for roles in ACTION_ROLES.values())


def test_an_unknown_action_has_no_roles() -> None:
    assert roles_for("fly") == ()


@pytest.mark.parametrize(
    ("role", "action", "assignee_id", "allowed"),
    [
        ("handler", "respond", "eng-1", True),
        ("handler", "respond", "eng-2", False),
        ("handler", "respond", None, False),
        ("handler", "accept", None, True),
        ("handler", "accept", "eng-2", False),
        ("supervisor", "respond", "eng-2", True),
        ("agent", "hold", "eng-2", True),
        ("manager", "cancel", None, True),
    ],
)
def test_handlers_act_only_on_their_own_orders_or_accept_an_unassigned_one(
    role: str, action: str, assignee_id: str | None, allowed: bool
) -> None:
    refusal = ownership_refusal(role=role, action=action, actor_id="eng-1", assignee_id=assignee_id)
    assert (refusal is None) is allowed


def test_the_roles_acting_on_someone_elses_order_leave_out_handlers() -> None:
    assert roles_acting_for_others("respond") == ("agent", "supervisor", "manager")


# the actor -------------------------------------------------------------------------------------------


def test_the_timeline_and_the_event_show_the_tokens_sub_and_a_body_naming_the_manager_is_422(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any]
) -> None:
    agent = token(settings, "agent", "desk-7")
    before = snapshot(context, order["_id"])
    impersonating = act(client, order["_id"], {"action": "respond", "actor_id": "mgr", "note": "called"}, agent)
    assert impersonating.status_code == 422
    assert list(impersonating.json["errors"]) == ["actor_id"]
    assert snapshot(context, order["_id"]) == before

    responded = act(client, order["_id"], {"action": "respond", "note": "called the resident"}, agent)
    assert responded.status_code == 200, responded.json
    assert responded.json["timeline"][-1]["actor_id"] == "desk-7"
    assert outbox_events(context.database, order["_id"])[-1]["data"]["actor_id"] == "desk-7"


def test_a_body_actor_id_equal_to_the_tokens_sub_is_accepted(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any]
) -> None:
    assignee = token(settings, "handler", order["assignee_id"])
    response = act(client, order["_id"], {"action": "respond", "actor_id": order["assignee_id"]}, assignee)
    assert response.status_code == 200, response.json
    assert response.json["timeline"][-1]["actor_id"] == order["assignee_id"]


# roles over HTTP -------------------------------------------------------------------------------------


def test_an_agent_cannot_cancel_and_is_told_who_can(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any]
) -> None:
    before = snapshot(context, order["_id"])
    response = act(client, order["_id"], CANCEL, token(settings, "agent", "desk-7"))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.json["required_roles"] == ["supervisor", "manager"]
    assert "'agent'" in response.json["detail"]
    assert snapshot(context, order["_id"]) == before


@pytest.mark.parametrize(
    "body", [{"action": "close"}, {"action": "reassign", "assignee_id": "sec-1"}, {"action": "resolve", "note": "done"}]
)
def test_an_agent_cannot_close_reassign_or_resolve(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any], body: dict[str, Any]
) -> None:
    before = snapshot(context, order["_id"])
    assert act(client, order["_id"], body, token(settings, "agent", "desk-7")).status_code == 403
    assert snapshot(context, order["_id"]) == before


def test_a_handler_cannot_act_on_someone_elses_order(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any], other_engineer: str
) -> None:
    before = snapshot(context, order["_id"])
    response = act(client, order["_id"], {"action": "respond", "note": "on my way"}, token(settings, "handler", other_engineer))
    assert response.status_code == 403
    assert response.json["required_roles"] == ["agent", "supervisor", "manager"]
    assert snapshot(context, order["_id"]) == before
    assert act(client, order["_id"], {"action": "respond"}, token(settings, "handler", order["assignee_id"])).status_code == 200


def test_a_handler_cannot_cancel_even_their_own_order(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any]
) -> None:
    response = act(client, order["_id"], CANCEL, token(settings, "handler", order["assignee_id"]))
    assert (response.status_code, response.json["required_roles"]) == (403, ["supervisor", "manager"])


def test_a_handler_accepts_an_unassigned_order_of_their_estate_and_then_owns_it(
    client: FlaskClient, settings: Settings, context: ServiceContext, staff: None, make_work_order: Callable[..., dict[str, Any]]
) -> None:
    unassigned = make_work_order()
    context.database.work_orders.update_one({"_id": unassigned["_id"]}, {"$set": {"assignee_id": None, "status": "classified"}})
    assert act(client, unassigned["_id"], {"action": "respond"}, token(settings, "handler", "eng-1")).status_code == 403
    accepted = act(client, unassigned["_id"], {"action": "accept"}, token(settings, "handler", "eng-1"))
    assert accepted.status_code == 200, accepted.json
    assert (accepted.json["assignee_id"], accepted.json["timeline"][-1]["actor_id"]) == ("eng-1", "eng-1")
    assert act(client, unassigned["_id"], {"action": "accept"}, token(settings, "handler", "eng-2")).status_code == 403


@pytest.mark.parametrize("role", ["regional_ops", "group_admin"])
def test_regional_ops_and_group_admins_escalate_but_do_not_work_orders(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any], role: str
) -> None:
    headers = bearer(settings, role=role, sub=f"{role}-1", regions=["R1"])
    before = snapshot(context, order["_id"])
    refused = act(client, order["_id"], {"action": "respond"}, headers)
    assert (refused.status_code, refused.json["required_roles"]) == (403, ["handler", "agent", "supervisor", "manager"])
    assert snapshot(context, order["_id"]) == before
    escalated = act(client, order["_id"], {"action": "escalate", "note": "resident called the region"}, headers)
    assert escalated.status_code == 200, escalated.json
    assert (escalated.json["escalation_level"], escalated.json["timeline"][-1]["actor_id"]) == (1, f"{role}-1")


@pytest.mark.parametrize("action", ["respond", "escalate", "close"])
def test_a_service_token_takes_no_action(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any], action: str
) -> None:
    before = snapshot(context, order["_id"])
    response = act(client, order["_id"], {"action": action}, bearer(settings, role="service", sub="survey"))
    assert response.status_code == 403
    assert "service" not in response.json["required_roles"]
    assert snapshot(context, order["_id"]) == before


def test_supervisor_and_manager_steer_any_order_of_their_estate(
    client: FlaskClient, settings: Settings, order: dict[str, Any], other_engineer: str
) -> None:
    reassigned = act(client, order["_id"], {"action": "reassign", "assignee_id": other_engineer}, token(settings, "supervisor", "eng-sup"))
    assert reassigned.status_code == 200, reassigned.json
    cancelled = act(client, order["_id"], CANCEL, token(settings, "manager", "mgr"))
    assert (cancelled.status_code, cancelled.json["status"], cancelled.json["timeline"][-1]["actor_id"]) == (200, "cancelled", "mgr")


def test_an_order_reassigned_meanwhile_is_not_changed_by_its_former_assignee(
    context: ServiceContext, store: DispatchStore, clock: FrozenClock, order: dict[str, Any], other_engineer: str
) -> None:
    context.uow.run(
        lambda tx: work_orders.act(
            tx,
            store=store,
            complaint_id=order["_id"],
            action="reassign",
            values={"assignee_id": other_engineer},
            actor_id="eng-sup",
            actor_role="supervisor",
            at=clock(),
        )
    )
    before = snapshot(context, order["_id"])
    with pytest.raises(ActionRefused):
        context.uow.run(
            lambda tx: work_orders.act(
                tx,
                store=store,
                complaint_id=order["_id"],
                action="respond",
                values={},
                actor_id=order["assignee_id"],
                actor_role="handler",
                at=clock(),
            )
        )
    assert snapshot(context, order["_id"]) == before


# idempotency after scope and role --------------------------------------------------------------------


def test_a_key_replays_only_while_its_caller_may_still_act(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": "shift-7"}
    first = act(client, order["_id"], {"action": "escalate"}, {**token(settings, "supervisor", "eng-sup"), **key})
    assert first.status_code == 200
    again = act(client, order["_id"], {"action": "escalate"}, {**token(settings, "supervisor", "eng-sup"), **key})
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (200, "true")

    moved = act(client, order["_id"], {"action": "escalate"}, {**token(settings, "supervisor", "eng-sup", estates=["FT02"]), **key})
    assert moved.status_code == 403
    demoted = act(client, order["_id"], {"action": "escalate"}, {**token(settings, "agent", "eng-sup"), **key})
    assert (demoted.status_code, demoted.json["required_roles"]) == (403, ["supervisor", "manager", "regional_ops", "group_admin"])
    namesake = act(
        client, order["_id"], {"action": "escalate"}, {**bearer(settings, role="group_admin", sub="eng-sup", group_id="G2"), **key}
    )
    assert namesake.status_code == 404
    assert not any("Idempotent-Replayed" in response.headers for response in (moved, demoted, namesake))
    assert [e["type"] for e in outbox_events(context.database, order["_id"])].count("complaint.escalated") == 1


def test_a_key_of_one_caller_is_not_replayed_to_another(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": "same-key"}
    assert act(client, order["_id"], {"action": "escalate"}, {**token(settings, "supervisor", "eng-sup"), **key}).status_code == 200
    other = act(client, order["_id"], {"action": "escalate"}, {**token(settings, "manager", "mgr"), **key})
    assert other.status_code == 200
    assert "Idempotent-Replayed" not in other.headers
    assert other.json["escalation_level"] == 2
