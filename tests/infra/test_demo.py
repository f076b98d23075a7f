"""The demo city's data: what `make run` loads, checked without the services."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import UTC, datetime

import jwt
import pytest

from infra.local import demo, demo_campaign


@pytest.mark.parametrize("estate", demo.ESTATES, ids=lambda estate: estate.estate_id)
def test_each_estate_has_its_households_spread_over_its_buildings(estate: demo.DemoEstate) -> None:
    rows = demo.households(estate)
    expected = min(120, len(estate.buildings) * len(estate.units) * len(estate.floors))
    assert len(rows) == expected
    assert len({(row["building"], row["unit"], row["room"]) for row in rows}) == expected
    assert {row["building"] for row in rows} == set(estate.buildings)
    assert {row["household_type"] for row in rows} == {"owner", "tenant", "vacant"}


@pytest.mark.parametrize("estate", demo.ESTATES, ids=lambda estate: estate.estate_id)
def test_each_estate_has_staff_for_every_department_and_owned_grids(estate: demo.DemoEstate) -> None:
    people = demo.staff(estate)
    for department in demo.DEPARTMENTS:
        roles = {person["role"] for person in people.values() if person["department"] == department}
        assert {"handler", "supervisor"} <= roles, department
    assert {person["role"] for person in people.values()} >= {"agent", "manager", "grid_owner"}
    grids = demo.grids(estate)
    assert sorted(building for grid in grids.values() for building in grid["buildings"]) == sorted(estate.buildings)
    for grid_id, grid in grids.items():
        assert people[grid["owner_id"]]["grids"] == [grid_id]


def test_admin_token_is_a_group_admin_of_the_demo_group() -> None:
    secret = "demo-test-secret-0123456789abcdef0123"
    claims = jwt.decode(demo.admin_token(secret), secret, algorithms=["HS256"])
    assert (claims["role"], claims["group_id"]) == ("group_admin", demo.GROUP_ID)


def fake_invitations(count: int) -> list[dict[str, str]]:
    channels = ("online", "offline", "phone")
    return [{"id": f"inv-{index:03d}", "channel": channels[index % 3]} for index in range(count)]


def test_the_demo_answers_are_the_same_each_time_and_only_for_offline_and_phone_invitations() -> None:
    invitations = fake_invitations(90)
    text = demo_campaign.answers_csv(invitations)
    assert text == demo_campaign.answers_csv(list(reversed(invitations)))
    rows = list(csv.DictReader(io.StringIO(text)))
    by_id = {invitation["id"]: invitation for invitation in invitations}
    assert {by_id[row["invitation_id"]]["channel"] for row in rows} == {"offline", "phone"}
    assert all(row["channel"] == by_id[row["invitation_id"]]["channel"] for row in rows)
    # About four in five of the 60 offline and phone invitations are answered.
    assert 40 <= len(rows) <= 56
    questions = [question["id"] for dimension in demo_campaign.QUESTIONNAIRE["dimensions"] for question in dimension["questions"]]
    assert list(rows[0]) == ["invitation_id", "channel", "overall", "recommend", "comment", *questions]
    for row in rows:
        assert 1 <= int(row["overall"]) <= 10 and 0 <= int(row["recommend"]) <= 10
        assert all(1 <= int(row[question]) <= 5 for question in questions)


def test_repairs_are_the_demo_campaigns_weakest_dimension() -> None:
    rows = list(csv.DictReader(io.StringIO(demo_campaign.answers_csv(fake_invitations(300)))))
    means = {
        dimension["id"]: statistics.fmean(int(row[question["id"]]) for row in rows for question in dimension["questions"])
        for dimension in demo_campaign.QUESTIONNAIRE["dimensions"]
    }
    assert min(means, key=means.__getitem__) == "repairs"


def test_the_demo_campaign_samples_at_least_the_minimum_rate_and_opens_now() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    body = demo_campaign.campaign_body("q-1", now=now)
    assert body["sample_rate"] >= 0.1
    assert sum(body["channel_mix"].values()) == 1
    assert body["opens_at"] < "2026-11-29T12:00:00Z" < body["closes_at"]
