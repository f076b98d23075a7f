"""What dispatch's views share: the estate a caller may see."""

from __future__ import annotations

from typing import Any

from dispatch.store import DispatchStore
from propcare_shared.http.auth import require_visible


def visible_estate(store: DispatchStore, estate_id: str) -> dict[str, Any]:
    """Return dispatch's copy of an estate the caller may see: 404 when unknown or another group's, 403 outside their scope."""
    return require_visible(store.directory.estate(estate_id), what="estate", identifier=estate_id)
