"""Questionnaires over HTTP: create, read, list and change within the caller's group; the rules of a
questionnaire as field errors; versions kept once a campaign uses one."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask.testing import FlaskClient

from propcare_shared.settings import Settings
from propcare_shared.testing import bearer
from survey.store import SurveyStore

URL = "/api/v1/questionnaires"


def question(question_id: str, measures: str | None = None) -> dict[str, Any]:
    return {"id": question_id, "text": {"zh-CN": f"{question_id}？", "en": f"{question_id}?"}, "measures": measures}


QUESTIONNAIRE: dict[str, Any] = {
    "title": {"zh-CN": "2026年第四季度满意度调查", "en": "Q4 2026 satisfaction survey"},
    "dimensions": [
        {
            "id": "basic_services",
            "title": {"zh-CN": "基础服务", "en": "Basic services"},
            "questions": [question("cleaning"), question("security")],
        },
        {
            "id": "complaints",
            "title": {"zh-CN": "投诉处理", "en": "Complaint handling"},
            "questions": [question("complaint_speed", "complaint_handling")],
        },
    ],
}


def body(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(QUESTIONNAIRE), **changes}


@pytest.fixture
def created(client: FlaskClient, settings: Settings) -> dict[str, Any]:
    """A questionnaire of group G1, as its 201 answered."""
    response = client.post(URL, json=QUESTIONNAIRE, headers=bearer(settings, role="group_admin"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_group_admin_creates_version_one_and_reads_it_back_in_both_languages(
    client: FlaskClient, settings: Settings, created: dict[str, Any]
) -> None:
    assert created["version"] == 1 and created["previous_id"] is None and created["group_id"] == "G1"
    assert created["scales"] == {"question": [1, 5], "overall": [1, 10], "recommend": [0, 10]}
    assert created["in_use"] is False
    read = client.get(f"{URL}/{created['id']}", headers=bearer(settings, role="agent", estates=["FT02"]))
    assert read.status_code == 200
    assert read.get_json()["title"] == QUESTIONNAIRE["title"]
    assert read.get_json()["dimensions"] == QUESTIONNAIRE["dimensions"]


def test_the_group_admin_creates_with_a_location(client: FlaskClient, settings: Settings) -> None:
    response = client.post(URL, json=QUESTIONNAIRE, headers=bearer(settings, role="group_admin"))
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"{URL}/{response.get_json()['id']}")


@pytest.mark.parametrize("role", ["agent", "handler", "supervisor", "manager", "regional_ops", "service"])
def test_other_roles_may_not_create(client: FlaskClient, settings: Settings, role: str) -> None:
    response = client.post(URL, json=QUESTIONNAIRE, headers=bearer(settings, role=role, estates=["NS01"]))
    assert response.status_code == 403


def test_another_groups_questionnaire_is_not_found_for_reading_or_changing(
    client: FlaskClient, settings: Settings, created: dict[str, Any]
) -> None:
    g2 = bearer(settings, role="group_admin", group_id="G2")
    assert client.get(f"{URL}/{created['id']}", headers=g2).status_code == 404
    assert client.put(f"{URL}/{created['id']}", json=body(), headers=g2).status_code == 404
    assert client.get(f"{URL}/nothing-here", headers=g2).status_code == 404
    assert client.get(URL, headers=g2).get_json()["items"] == []


def test_the_list_holds_the_callers_group_only_newest_first(client: FlaskClient, settings: Settings, created: dict[str, Any]) -> None:
    second = client.post(URL, json=QUESTIONNAIRE, headers=bearer(settings)).get_json()
    client.post(URL, json=QUESTIONNAIRE, headers=bearer(settings, group_id="G2"))
    items = client.get(URL, headers=bearer(settings, role="supervisor", estates=["NS01"])).get_json()["items"]
    assert [item["id"] for item in items] == [second["id"], created["id"]]


def _refused(client: FlaskClient, settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    response = client.post(URL, json=payload, headers=bearer(settings))
    assert response.status_code == 422, response.get_json()
    return response.get_json()["errors"]


def test_duplicate_question_ids_are_a_field_error(client: FlaskClient, settings: Settings) -> None:
    payload = body()
    payload["dimensions"][1]["questions"].append(question("cleaning"))
    assert "cleaning" in _refused(client, settings, payload)["questions"][0]


def test_duplicate_dimension_ids_are_a_field_error(client: FlaskClient, settings: Settings) -> None:
    payload = body()
    payload["dimensions"][1]["id"] = "basic_services"
    assert "basic_services" in _refused(client, settings, payload)["dimensions"][0]


def test_two_complaint_handling_questions_are_a_field_error(client: FlaskClient, settings: Settings) -> None:
    payload = body()
    payload["dimensions"][0]["questions"][0]["measures"] = "complaint_handling"
    assert "complaint_handling" in _refused(client, settings, payload)["questions"][0]


def test_no_dimensions_and_an_empty_dimension_are_field_errors(client: FlaskClient, settings: Settings) -> None:
    assert "dimensions" in _refused(client, settings, body(dimensions=[]))
    payload = body()
    payload["dimensions"][0]["questions"] = []
    assert "dimensions.0.questions" in _refused(client, settings, payload)


@pytest.mark.parametrize(
    "payload",
    [
        body(title={"zh-CN": "只有中文"}),
        body(dimensions=[{"id": "x", "title": {"zh-CN": "x", "en": "x"}, "questions": [question("overall")]}]),
        body(dimensions=[{"id": "x", "title": {"zh-CN": "x", "en": "x"}, "questions": [question("Bad Id")]}]),
        body(dimensions=[{"id": "x", "title": {"zh-CN": "x", "en": "x"}, "questions": [question("q", "speed")]}]),
    ],
    ids=["english-title-missing", "reserved-id", "malformed-id", "unknown-measure"],
)
def test_malformed_questionnaires_are_refused_and_nothing_is_stored(
    client: FlaskClient, settings: Settings, store: SurveyStore, payload: dict[str, Any]
) -> None:
    assert client.post(URL, json=payload, headers=bearer(settings)).status_code == 422
    assert store.database.questionnaires.count_documents({}) == 0


def test_an_unused_questionnaire_is_replaced_in_place(client: FlaskClient, settings: Settings, created: dict[str, Any]) -> None:
    changed = body(title={"zh-CN": "新标题", "en": "New title"})
    refused = client.put(f"{URL}/{created['id']}", json=changed, headers=bearer(settings, role="regional_ops", regions=["R1"]))
    assert refused.status_code == 403, "a questionnaire is the group's: regional and estate staff read it, never write it"
    response = client.put(f"{URL}/{created['id']}", json=changed, headers=bearer(settings, role="group_admin"))
    assert response.status_code == 200
    assert response.get_json()["id"] == created["id"] and response.get_json()["version"] == 1
    assert client.get(f"{URL}/{created['id']}", headers=bearer(settings)).get_json()["title"]["en"] == "New title"


def test_a_questionnaire_in_use_gets_a_new_version_and_the_old_one_stays(
    client: FlaskClient, settings: Settings, store: SurveyStore, created: dict[str, Any]
) -> None:
    assert store.mark_questionnaire_used(created["id"], campaign_id="c1")
    changed = body(title={"zh-CN": "新标题", "en": "New title"})
    response = client.put(f"{URL}/{created['id']}", json=changed, headers=bearer(settings))
    assert response.status_code == 201
    new = response.get_json()
    assert new["id"] != created["id"] and new["version"] == 2 and new["previous_id"] == created["id"]
    assert new["in_use"] is False and new["title"]["en"] == "New title"
    old = client.get(f"{URL}/{created['id']}", headers=bearer(settings)).get_json()
    assert old["title"] == QUESTIONNAIRE["title"] and old["version"] == 1 and old["in_use"] is True
    # Only the latest version of a line changes: the old one again is a conflict naming the latest.
    again = client.put(f"{URL}/{created['id']}", json=changed, headers=bearer(settings))
    assert again.status_code == 409 and again.get_json()["latest_id"] == new["id"]


def test_an_invalid_change_is_refused_and_changes_nothing(client: FlaskClient, settings: Settings, created: dict[str, Any]) -> None:
    response = client.put(f"{URL}/{created['id']}", json=body(dimensions=[]), headers=bearer(settings))
    assert response.status_code == 422
    assert client.get(f"{URL}/{created['id']}", headers=bearer(settings)).get_json()["dimensions"] == QUESTIONNAIRE["dimensions"]


def test_a_create_with_an_idempotency_key_is_stored_once(client: FlaskClient, settings: Settings, store: SurveyStore) -> None:
    headers = {**bearer(settings), "Idempotency-Key": "q-1"}
    first = client.post(URL, json=QUESTIONNAIRE, headers=headers)
    second = client.post(URL, json=QUESTIONNAIRE, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert store.database.questionnaires.count_documents({}) == 1
