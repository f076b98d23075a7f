"""The demo city's data: what `make run` loads, checked without the services."""

from __future__ import annotations

import jwt
import pytest

from infra.local import demo


@pytest.mark.parametrize("estate", demo.ESTATES, ids=lambda estate: estate.estate_id)
def test_each_estate_has_twenty_households_spread_over_its_buildings(estate: demo.DemoEstate) -> None:
    rows = demo.households(estate)
    assert len(rows) == 20
    assert len({(row["building"], row["unit"], row["room"]) for row in rows}) == 20
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
