"""The classifier over HTTP against a real mongod: POST /api/v1/classify's validation and the review queue of work orders.

``GET /api/v1/work-orders?needs_review=true`` lists the orders whose classification a person should
check; the work-order view carries ``needs_review``, ``confidence`` and ``matched`` so the reviewer sees why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from propcare_shared.settings import Settings
from propcare_shared.testing import bearer

UNPLACEABLE = "asdf qwer zxcv"
GAS = "樓道裡一股瓦斯味很濃，不知道是哪一戶漏的"


def supervisor(settings: Settings) -> dict[str, str]:
    return bearer(settings, role="supervisor", sub="eng-sup", estates=("NS01",))


def test_a_gas_smell_in_traditional_characters_is_an_emergency_with_its_evidence(client: FlaskClient, settings: Settings) -> None:
    response = client.post("/api/v1/classify", json={"text": GAS}, headers=supervisor(settings))
    assert response.status_code == 200, response.json
    assert (response.json["subcategory"], response.json["tier"], response.json["department"]) == ("fire_safety", "emergency", "engineering")
    assert response.json["matched"][0].startswith("safety:gas:") and "瓦斯" in response.json["matched"][0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Must be 1 to 5000 characters long."),
        ("   \n\t ", "Must contain something other than whitespace."),
        ("楼" * 10_000, "Must be 1 to 5000 characters long."),
    ],
)
def test_empty_blank_and_over_long_texts_are_422_naming_the_limit(client: FlaskClient, settings: Settings, text: str, message: str) -> None:
    response = client.post("/api/v1/classify", json={"text": text}, headers=supervisor(settings))
    assert response.status_code == 422
    assert response.content_type.startswith("application/problem+json")
    assert message in str(response.json["errors"]), response.json


@pytest.mark.parametrize("text", ["😀😀😀", "Der Aufzug ist kaputt, bitte reparieren", "ありがとうございます", "电梯 lift 😀 ascenseur"])
def test_emoji_mixed_scripts_and_unknown_languages_answer_200_never_a_confident_wrong_department(
    client: FlaskClient, settings: Settings, text: str
) -> None:
    response = client.post("/api/v1/classify", json={"text": text}, headers=supervisor(settings))
    assert response.status_code == 200, response.json
    assert response.json["category"] == "other" or response.json["subcategory"] == "elevator"
    if response.json["category"] == "other":
        assert response.json["needs_review"] is True
        assert response.json["confidence"] <= 0.3


def test_the_review_queue_lists_only_orders_needing_review_with_why(
    client: FlaskClient, settings: Settings, staff: None, make_work_order: Callable[..., dict[str, Any]]
) -> None:
    clear = make_work_order()
    unclear = make_work_order(text=UNPLACEABLE, building="5")
    headers = supervisor(settings)

    def listed(query: str) -> list[dict[str, Any]]:
        response = client.get(f"/api/v1/work-orders{query}", headers=headers)
        assert response.status_code == 200, response.json
        return list(response.json["items"])

    review = listed("?needs_review=true")
    assert [item["complaint_id"] for item in review] == [unclear["_id"]]
    assert review[0]["needs_review"] is True
    assert review[0]["matched"] == ["unplaced"]
    assert review[0]["confidence"] <= 0.3
    assert [item["complaint_id"] for item in listed("?needs_review=false")] == [clear["_id"]]
    assert {item["complaint_id"] for item in listed("")} == {clear["_id"], unclear["_id"]}
    one = client.get(f"/api/v1/work-orders/{clear['_id']}", headers=headers).json
    assert one["needs_review"] is False and one["matched"] and one["confidence"] > 0.5
    assert client.get("/api/v1/work-orders?needs_review=maybe", headers=headers).status_code == 422


def test_reclassifying_takes_an_order_out_of_the_review_queue(
    client: FlaskClient, settings: Settings, staff: None, make_work_order: Callable[..., dict[str, Any]]
) -> None:
    unclear = make_work_order(text=UNPLACEABLE)
    headers = supervisor(settings)
    body = {"action": "reclassify", "category": "facility", "subcategory": "electrical", "tier": "general", "note": "a light"}
    assert client.post(f"/api/v1/work-orders/{unclear['_id']}/actions", json=body, headers=headers).status_code == 200
    assert client.get("/api/v1/work-orders?needs_review=true", headers=headers).json["items"] == []
