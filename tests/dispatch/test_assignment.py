"""Assignment (routing): grid owner for community and service complaints, else the least-loaded on-duty handler,
then the supervisor, then the estate manager, else nobody."""

from __future__ import annotations

from dispatch.domain.assignment import Grid, StaffMember, grid_of, route

GRIDS = [Grid("G-A", ("1", "2", "3"), "owner-a"), Grid("G-B", ("4", "5"), "owner-b")]


def staff(*members: StaffMember) -> list[StaffMember]:
    return list(members)


ENGINEERS = staff(
    StaffMember("eng-1", "engineering", "handler"),
    StaffMember("eng-2", "engineering", "handler"),
    StaffMember("eng-3", "engineering", "handler", on_duty=False),
    StaffMember("eng-sup", "engineering", "supervisor"),
    StaffMember("owner-a", "customer_service", "grid_owner"),
    StaffMember("owner-b", "customer_service", "grid_owner", on_duty=False),
    StaffMember("cs-1", "customer_service", "handler"),
    StaffMember("sec-1", "security", "handler"),
    StaffMember("boss", "management", "manager"),
)


def test_facility_complaint_goes_to_the_least_loaded_on_duty_engineer() -> None:
    routing = route(
        category="facility",
        subcategory="elevator",
        building="3",
        staff=ENGINEERS,
        grids=GRIDS,
        open_counts={"eng-1": 4, "eng-2": 1, "eng-3": 0},
    )
    assert (routing.department, routing.assignee_id, routing.rule) == ("engineering", "eng-2", "least_loaded_handler")
    assert routing.grid_id == "G-A"


def test_ties_go_to_the_lowest_staff_id() -> None:
    routing = route(category="facility", subcategory="water", building="9", staff=ENGINEERS, grids=GRIDS, open_counts={})
    assert routing.assignee_id == "eng-1"
    assert routing.grid_id is None


def test_community_complaint_goes_to_the_grid_owner_of_the_building() -> None:
    routing = route(category="community", subcategory="noise", building="2", staff=ENGINEERS, grids=GRIDS, open_counts={"owner-a": 50})
    assert (routing.assignee_id, routing.grid_id, routing.rule, routing.department) == ("owner-a", "G-A", "grid_owner", "customer_service")


def test_service_complaint_goes_to_the_grid_owner_too() -> None:
    routing = route(category="service", subcategory="cleaning", building="1", staff=ENGINEERS, grids=GRIDS, open_counts={})
    assert routing.assignee_id == "owner-a"


def test_off_duty_grid_owner_falls_back_to_the_department() -> None:
    routing = route(category="community", subcategory="parking", building="4", staff=ENGINEERS, grids=GRIDS, open_counts={})
    assert (routing.department, routing.assignee_id, routing.grid_id) == ("security", "sec-1", "G-B")


def test_fees_never_go_to_a_grid_owner() -> None:
    members = [*ENGINEERS, StaffMember("fin-1", "finance", "handler")]
    routing = route(category="fees", subcategory="property_fee", building="1", staff=members, grids=GRIDS, open_counts={})
    assert (routing.department, routing.assignee_id) == ("finance", "fin-1")


def test_nobody_on_duty_goes_to_the_department_supervisor() -> None:
    members = [m for m in ENGINEERS if m.staff_id not in {"eng-1", "eng-2"}]
    routing = route(category="facility", subcategory="elevator", building="1", staff=members, grids=GRIDS, open_counts={})
    assert (routing.assignee_id, routing.rule) == ("eng-sup", "department_supervisor")


def test_no_supervisor_goes_to_the_estate_manager() -> None:
    members = [StaffMember("eng-3", "engineering", "handler", on_duty=False), StaffMember("boss", "management", "manager", on_duty=False)]
    routing = route(category="facility", subcategory="elevator", building="1", staff=members, grids=[], open_counts={})
    assert (routing.assignee_id, routing.rule) == ("boss", "estate_manager")


def test_nobody_at_all_leaves_it_unassigned() -> None:
    routing = route(
        category="facility",
        subcategory="elevator",
        building="1",
        staff=[StaffMember("cs-1", "customer_service", "handler")],
        grids=[],
        open_counts={},
    )
    assert routing.assignee_id is None
    assert routing.needs_assignment
    assert routing.department == "engineering"


def test_a_forced_department_skips_the_grid_owner() -> None:
    routing = route(
        category="community", subcategory="noise", building="1", staff=ENGINEERS, grids=GRIDS, open_counts={}, department="security"
    )
    assert (routing.department, routing.assignee_id) == ("security", "sec-1")


def test_agents_and_grid_owners_are_not_picked_as_department_handlers() -> None:
    members = [
        StaffMember("agent-1", "engineering", "agent"),
        StaffMember("go-1", "engineering", "grid_owner"),
        StaffMember("eng-sup", "engineering", "supervisor"),
    ]
    routing = route(category="facility", subcategory="electrical", building="1", staff=members, grids=[], open_counts={})
    assert routing.assignee_id == "eng-sup"


def test_grid_of_finds_the_grid_holding_a_building() -> None:
    assert grid_of("5", GRIDS).grid_id == "G-B"
    assert grid_of(None, GRIDS) is None
    assert grid_of("99", GRIDS) is None
