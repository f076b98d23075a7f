"""JWT bearer auth (HS256 with ``JWT_SECRET``) and the scope rules of API.md.

``group_admin`` sees its group, ``regional_ops`` its regions, every other role its estates, and
``service`` (a machine client) its group. Residents carry no JWT: their tracking or survey token
is their credential, checked by the service that issued it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import jwt
from flask import current_app, g, request

from propcare_shared.http.errors import Problem

ROLES = ("agent", "handler", "supervisor", "manager", "regional_ops", "group_admin", "service")
STAFF_ROLES = ROLES
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    """Who is calling, from the verified claims of their token."""

    sub: str
    role: str
    group_id: str | None
    regions: tuple[str, ...] = ()
    estates: tuple[str, ...] = ()

    def can_see(self, *, group_id: str | None, region_id: str | None, estate_id: str | None) -> bool:
        """Tell whether a record of this group, region and estate is within the caller's scope."""
        if group_id is not None and self.group_id is not None and group_id != self.group_id:
            return False
        if self.role in {"group_admin", "service"}:
            return self.group_id is None or group_id in {None, self.group_id}
        if self.role == "regional_ops":
            return region_id is not None and region_id in self.regions
        return estate_id is not None and estate_id in self.estates

    def estate_filter(self) -> dict[str, Any]:
        """Return a MongoDB filter restricting a query to the caller's scope."""
        if self.role in {"group_admin", "service"}:
            return {"group_id": self.group_id} if self.group_id else {}
        if self.role == "regional_ops":
            return {"region_id": {"$in": list(self.regions)}}
        return {"estate_id": {"$in": list(self.estates)}}


def issue_token(
    secret: str,
    *,
    sub: str,
    role: str,
    group_id: str | None = None,
    regions: Iterable[str] = (),
    estates: Iterable[str] = (),
    ttl_seconds: int = 3600,
) -> str:
    """Sign a token with the claims of API.md (used by tests, the demo and service clients)."""
    claims = {
        "sub": sub,
        "role": role,
        "group_id": group_id,
        "regions": list(regions),
        "estates": list(estates),
        "exp": int(time.time()) + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_token(secret: str, token: str) -> Principal:
    """Verify a token and return its principal; raise ``Problem`` 401 when it is not valid."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "role", "exp"]})
    except jwt.PyJWTError as exc:
        raise Problem(401, "Unauthorized", detail=f"The bearer token is not valid: {exc}") from None
    if claims["role"] not in ROLES:
        raise Problem(401, "Unauthorized", detail=f"Unknown role {claims['role']!r}.")
    return Principal(
        sub=str(claims["sub"]),
        role=claims["role"],
        group_id=claims.get("group_id"),
        regions=tuple(claims.get("regions") or ()),
        estates=tuple(claims.get("estates") or ()),
    )


def current_principal() -> Principal:
    """Return the caller of the current request (after ``authenticated``)."""
    return g.principal


def optional_principal() -> Principal | None:
    """Return the caller of a path open to residents: ``None`` without a token, 401 for a bad one."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    if not header.startswith("Bearer "):
        raise Problem(401, "Unauthorized", detail="Send the token as `Authorization: Bearer <JWT>`.")
    principal = decode_token(current_app.config["PROPCARE_SETTINGS"].jwt_secret, header.removeprefix("Bearer ").strip())
    g.principal = principal
    return principal


def authenticated(roles: Iterable[str] | None = None) -> Callable[[F], F]:
    """Require a valid bearer token, and optionally one of ``roles``."""
    allowed = frozenset(roles) if roles is not None else None

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = optional_principal()
            if principal is None:
                raise Problem(401, "Unauthorized", detail="A bearer token is required.")
            if allowed is not None and principal.role not in allowed:
                raise Problem(403, "Forbidden", detail=f"The role {principal.role!r} may not do this.")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def require_scope(*, group_id: str | None, region_id: str | None, estate_id: str | None) -> None:
    """Refuse with 403 when the record lies outside the caller's scope."""
    if not current_principal().can_see(group_id=group_id, region_id=region_id, estate_id=estate_id):
        raise Problem(403, "Forbidden", detail="This estate is outside your scope.")
