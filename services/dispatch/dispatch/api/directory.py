"""The estate directory dispatch routes with: staff and grids, per estate, within the caller's scope.

Intake owns the estates; dispatch keeps a copy from ``directory.estate.upserted``, which arrives a
few tens of milliseconds to a few seconds after intake's ``PUT /estates/{id}`` answered (longer
while a consumer is down). A client that provisions an estate and then its staff at once would meet
an estate dispatch has not heard of *yet*; dispatch cannot tell that from an id that will never
exist, so the directory routes answer it by time (docs/DIRECTORY.md, consistency):

- an estate first asked about less than ``ARRIVAL_GRACE`` ago is ``503`` with ``Retry-After``
  (``RETRY_AFTER_SECONDS``): temporary, retry — nothing is written;
- after that it is ``404``, as another group's estate is: it does not exist for the caller;
- the copy arriving ends it: the next request finds the estate. A miss is forgotten after an hour.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_smorest import Blueprint

from dispatch.api.common import visible_estate
from dispatch.domain.roles import DIRECTORY_WRITERS, READERS
from dispatch.schemas import GridIn, GridOut, GridPage, StaffIn, StaffListArgs, StaffOut, StaffPage
from dispatch.store import DispatchStore
from propcare_shared.context import current_store
from propcare_shared.http.auth import authenticated
from propcare_shared.http.errors import Problem
from propcare_shared.http.pagination import PageArgs

ARRIVAL_GRACE = timedelta(seconds=60)
RETRY_AFTER_SECONDS = 2
NOT_YET = "The estate has not reached dispatch yet: retry after ``Retry-After`` seconds."

directory = Blueprint(
    "directory", __name__, url_prefix="/api/v1/estates", description="The estate directory dispatch routes with: staff and grids."
)


def provisioned_estate(store: DispatchStore, estate_id: str) -> dict[str, Any]:
    """Return an estate the caller may see; 503 with ``Retry-After`` while its copy may still be on its way, then 404."""
    if store.directory.estate(estate_id) is None:
        first_missed_at = store.directory.first_miss(estate_id)
        if store.directory.clock() - first_missed_at < ARRIVAL_GRACE:
            raise Problem(
                503,
                "Service Unavailable",
                detail=(
                    f"Dispatch has not yet received the estate {estate_id!r} from the directory (intake); it usually arrives within "
                    f"seconds of PUT /api/v1/estates/{estate_id}. Retry after {RETRY_AFTER_SECONDS} s; nothing was written."
                ),
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
    return visible_estate(store, estate_id)


def _staff_view(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document.get(key) for key in ("staff_id", "estate_id", "name", "department", "role", "grids", "on_duty", "updated_at")}


def _grid_view(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document.get(key) for key in ("grid_id", "estate_id", "buildings", "owner_id", "updated_at")}


@directory.route("/<estate_id>/staff/<staff_id>", methods=["PUT"])
@directory.alt_response(503, description=NOT_YET)
@authenticated(roles=DIRECTORY_WRITERS)
@directory.arguments(StaffIn)
@directory.response(200, StaffOut)
@directory.alt_response(201, schema=StaffOut, description="Created")
def put_staff(values: dict[str, Any], estate_id: str, staff_id: str) -> tuple[dict[str, Any], int]:
    """Create or replace a staff member of an estate.

    The estate must be known to dispatch (intake's ``directory.estate.upserted``) and within the
    caller's scope: otherwise 503 while it may still arrive, 404 (unknown or another group's) or 403. Names stay in dispatch's
    database; events and logs carry the staff id only.
    """
    store = current_store(DispatchStore)
    estate = provisioned_estate(store, estate_id)
    document, created = store.directory.put_staff(
        estate=estate, staff_id=staff_id, values={**values, "grids": sorted(set(values["grids"]))}
    )
    return _staff_view(document), 201 if created else 200


@directory.route("/<estate_id>/staff", methods=["GET"])
@directory.alt_response(503, description=NOT_YET)
@authenticated(roles=READERS)
@directory.arguments(StaffListArgs, location="query")
@directory.response(200, StaffPage)
def list_staff(args: dict[str, Any], estate_id: str) -> dict[str, Any]:
    """List an estate's staff."""
    store = current_store(DispatchStore)
    provisioned_estate(store, estate_id)
    items, next_cursor = store.directory.list_staff(
        estate_id=estate_id, limit=args["limit"], cursor=args["cursor"], department=args["department"], role=args["role"]
    )
    return {"items": [_staff_view(item) for item in items], "next_cursor": next_cursor}


@directory.route("/<estate_id>/grids/<grid_id>", methods=["PUT"])
@directory.alt_response(503, description=NOT_YET)
@authenticated(roles=DIRECTORY_WRITERS)
@directory.arguments(GridIn)
@directory.response(200, GridOut)
@directory.alt_response(201, schema=GridOut, description="Created")
def put_grid(values: dict[str, Any], estate_id: str, grid_id: str) -> tuple[dict[str, Any], int]:
    """Create or replace a grid: its buildings and its owner.

    503 then 404 for an estate dispatch does not know (404 for another group's), 403 outside the caller's scope;
    422 on ``owner_id`` for someone who is not staff of the estate, on ``buildings`` for a building
    another grid holds.
    """
    store = current_store(DispatchStore)
    estate = provisioned_estate(store, estate_id)
    buildings = sorted(set(values["buildings"]))
    errors: dict[str, list[str]] = {}
    owner_id = values["owner_id"]
    if owner_id and store.directory.staff_member(estate_id, owner_id) is None:
        errors["owner_id"] = [f"{owner_id!r} is not a staff member of this estate."]
    taken = store.directory.grids_holding(estate_id, buildings, except_grid=grid_id)
    if taken:
        clashes = sorted(
            {f"{building} (grid {grid['grid_id']})" for grid in taken for building in grid["buildings"] if building in buildings}
        )
        errors["buildings"] = [f"Already in another grid: {', '.join(clashes)}."]
    if errors:
        raise Problem(422, "Invalid request", detail="Some fields are missing or invalid.", errors=errors)
    document, created = store.directory.put_grid(estate=estate, grid_id=grid_id, buildings=buildings, owner_id=owner_id)
    return _grid_view(document), 201 if created else 200


@directory.route("/<estate_id>/grids", methods=["GET"])
@directory.alt_response(503, description=NOT_YET)
@authenticated(roles=READERS)
@directory.arguments(PageArgs, location="query")
@directory.response(200, GridPage)
def list_grids(args: dict[str, Any], estate_id: str) -> dict[str, Any]:
    """List an estate's grids."""
    store = current_store(DispatchStore)
    provisioned_estate(store, estate_id)
    items, next_cursor = store.directory.list_grids(estate_id=estate_id, limit=args["limit"], cursor=args["cursor"])
    return {"items": [_grid_view(item) for item in items], "next_cursor": next_cursor}
