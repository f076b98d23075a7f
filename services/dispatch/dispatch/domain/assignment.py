"""Who handles a work order: the department from the subcategory, then a person (docs/PRODUCT.md §6, §3).

Pure: the caller passes the estate's staff, grids and the open work orders per person. The rules,
first match wins:
1. community and service complaints go to the on-duty grid owner (网格员/管家) of the building;
2. otherwise the on-duty handler of the department with the fewest open work orders (ties: lowest id);
3. nobody of the department on duty: its supervisor (on duty first);
4. no supervisor: the estate manager (on duty first);
5. nobody: unassigned, for a person to assign (the order stays ``classified``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dispatch.domain.classify import department_for

STAFF_ROLES = ("handler", "supervisor", "manager", "agent", "grid_owner", "regional_ops")
GRID_OWNER_CATEGORIES = frozenset({"community", "service"})


@dataclass(frozen=True)
class StaffMember:
    """A person who can be assigned work, without their name (routing never needs it)."""

    staff_id: str
    department: str
    role: str
    on_duty: bool = True
    grids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grid:
    """A set of buildings of one estate owned by one grid owner."""

    grid_id: str
    buildings: tuple[str, ...] = ()
    owner_id: str | None = None


@dataclass(frozen=True)
class Routing:
    """Where a work order goes and by which rule."""

    department: str
    assignee_id: str | None
    grid_id: str | None
    rule: str
    candidates: tuple[str, ...] = field(default=())

    @property
    def needs_assignment(self) -> bool:
        """Tell whether nobody could be assigned."""
        return self.assignee_id is None


def grid_of(building: str | None, grids: Iterable[Grid]) -> Grid | None:
    """Return the grid holding a building, if any."""
    if not building:
        return None
    for grid in grids:
        if building in grid.buildings:
            return grid
    return None


def route(
    *,
    category: str,
    subcategory: str,
    building: str | None,
    staff: Iterable[StaffMember],
    grids: Iterable[Grid],
    open_counts: Mapping[str, int],
    department: str | None = None,
) -> Routing:
    """Choose the department and the assignee; a forced ``department`` skips the grid-owner rule."""
    members = list(staff)
    grid = grid_of(building, grids)
    grid_id = grid.grid_id if grid else None
    target_department = department or department_for(category, subcategory)
    by_id = {member.staff_id: member for member in members}
    if department is None and category in GRID_OWNER_CATEGORIES and grid and grid.owner_id:
        owner = by_id.get(grid.owner_id)
        if owner is not None and owner.on_duty:
            return Routing(target_department, owner.staff_id, grid_id, "grid_owner")
    handlers = [m for m in members if m.department == target_department and m.role == "handler" and m.on_duty]
    if handlers:
        chosen = least_loaded(handlers, open_counts=open_counts)
        return Routing(target_department, chosen.staff_id, grid_id, "least_loaded_handler", tuple(m.staff_id for m in handlers))
    supervisor = _first_on_duty(m for m in members if m.department == target_department and m.role == "supervisor")
    if supervisor is not None:
        return Routing(target_department, supervisor.staff_id, grid_id, "department_supervisor")
    manager = _first_on_duty(m for m in members if m.role == "manager")
    if manager is not None:
        return Routing(target_department, manager.staff_id, grid_id, "estate_manager")
    return Routing(target_department, None, grid_id, "unassigned")


def least_loaded(members: Iterable[StaffMember], *, open_counts: Mapping[str, int]) -> StaffMember:
    """Return the member with the fewest open work orders; ties go to the lowest staff id."""
    return min(members, key=lambda member: (open_counts.get(member.staff_id, 0), member.staff_id))


def _first_on_duty(members: Iterable[StaffMember]) -> StaffMember | None:
    ordered = sorted(members, key=lambda member: (not member.on_duty, member.staff_id))
    return ordered[0] if ordered else None
