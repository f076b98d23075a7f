"""JWT bearer auth and the one scope rule every route of every service applies (docs/SECURITY.md).

A token is HS256 with ``JWT_SECRET`` and must carry ``sub``, ``role``, ``group_id`` (a non-empty
string: a token without a group sees nothing, it is refused) and ``exp``; ``regions`` and
``estates`` are lists of strings when present. ``exp`` may lie at most ``JWT_MAX_TTL`` after ``iat``
(or after now, without ``iat``). ``iss`` and ``aud`` are checked whenever ``JWT_ISSUER`` and
``JWT_AUDIENCE`` are set, and then required. Anything else is a 401 with the reason.

The scope rule, in one place:
- ``group_admin`` and ``service`` see their group, ``regional_ops`` their regions of their group,
  every other role their estates of their group. The group is part of every check and every query
  (``Principal.query``), so a region or estate id another group also uses never matches.
- A record of another group, or none at all, is answered the same way: 404 (``not_yours``), so ids
  of other tenants cannot be told apart from ids that do not exist.
- A record of the caller's own group outside their regions or estates is a 403, as docs/API.md says for
  "outside the caller's scope"; so is an action their role may not take (``require_role``).
Residents carry no JWT: their tracking or survey token is their credential, checked by the service
that issued it.

Verified tokens are cached per process (``VerifiedTokens``): a staff client sends the same token on
every request, and checking its HS256 signature and claims again was ~8% of a complaint's CPU. An
entry is keyed by the token string and the settings that verified it (secret, issuer, audience,
maximum lifetime), so two tokens, or one token under two configurations, never share an answer; it
lives until the token's ``exp`` (plus the clock skew PyJWT allows, exactly when PyJWT would refuse
it) and at most ``TOKEN_CACHE_SECONDS``, so an expired token is refused at the same moment as
without the cache. Only accepted tokens are cached, never refusals; the cache is a bounded LRU.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import jwt
from flask import current_app, g, request

from propcare_shared.http.errors import Problem
from propcare_shared.tenancy import Tenancy

ROLES = ("agent", "handler", "supervisor", "manager", "regional_ops", "group_admin", "service")
STAFF_ROLES = ROLES
PEOPLE_ROLES = tuple(role for role in ROLES if role != "service")
GROUP_ROLES = frozenset({"group_admin", "service"})
CLOCK_SKEW_SECONDS = 30
TOKEN_CACHE_SECONDS = 60.0
TOKEN_CACHE_ENTRIES = 1024
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    """Who is calling, from the verified claims of their token."""

    sub: str
    role: str
    group_id: str
    regions: tuple[str, ...] = ()
    estates: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Return an id of the caller that no caller of another group shares."""
        return f"{self.group_id}:{self.sub}"

    def sees(self, tenancy: Tenancy) -> bool:
        """Tell whether a record of this tenancy lies within the caller's scope."""
        if tenancy.group_id != self.group_id:
            return False
        if self.role in GROUP_ROLES:
            return True
        if self.role == "regional_ops":
            return tenancy.region_id is not None and tenancy.region_id in self.regions
        return tenancy.estate_id is not None and tenancy.estate_id in self.estates

    def can_see(self, *, group_id: str | None, region_id: str | None, estate_id: str | None) -> bool:
        """Tell whether a record of this group, region and estate is within the caller's scope."""
        return self.sees(Tenancy(group_id=group_id, region_id=region_id, estate_id=estate_id))

    def query(self) -> dict[str, Any]:
        """Return the MongoDB filter of the caller's scope: always their group, then their regions or estates."""
        clause: dict[str, Any] = {"group_id": self.group_id}
        if self.role == "regional_ops":
            clause["region_id"] = {"$in": list(self.regions)}
        elif self.role not in GROUP_ROLES:
            clause["estate_id"] = {"$in": list(self.estates)}
        return clause


def issue_token(
    secret: str,
    *,
    sub: str,
    role: str,
    group_id: str | None = None,
    regions: Iterable[str] = (),
    estates: Iterable[str] = (),
    ttl_seconds: int = 3600,
    issuer: str = "",
    audience: str = "",
) -> str:
    """Sign a token with the claims of docs/API.md (used by tests, the demo and service clients)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "role": role,
        "group_id": group_id,
        "regions": list(regions),
        "estates": list(estates),
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def _refused(reason: str) -> Problem:
    return Problem(401, "Unauthorized", detail=f"The bearer token is not valid: {reason}", headers={"WWW-Authenticate": "Bearer"})


def _string_list(claims: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = claims.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise _refused(f"the claim {name!r} must be a list of ids.")
    return tuple(value)


class VerifiedTokens:
    """A bounded LRU of verified tokens, each until its ``exp`` (with the allowed skew) and at most ``max_age`` seconds.

    Thread-safe (gthread workers). ``now`` is the wall clock PyJWT checks ``exp`` against, so an entry
    ends exactly when PyJWT would start refusing its token.
    """

    def __init__(
        self, *, max_entries: int = TOKEN_CACHE_ENTRIES, max_age: float = TOKEN_CACHE_SECONDS, now: Callable[[], float] = time.time
    ) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self.now = now
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, Principal]] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Principal | None:
        """Return the principal of a token verified before and not yet expired, or ``None``."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            until, principal = found
            if self.now() >= until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return principal

    def put(self, key: tuple[Any, ...], principal: Principal, *, expires_at: float) -> None:
        """Remember a verified token until ``expires_at`` (PyJWT's ``exp``) plus the skew, and at most ``max_age``."""
        with self._lock:
            now = self.now()
            self._entries[key] = (min(now + self.max_age, expires_at + CLOCK_SKEW_SECONDS), principal)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every token (tests)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


verified_tokens = VerifiedTokens()
"""This process's cache of verified tokens (``decode_token``)."""


def decode_token(token: str, *, secret: str, issuer: str = "", audience: str = "", max_ttl: float = 24 * 3600.0) -> Principal:
    """Verify a token and return its principal; raise ``Problem`` 401 with the reason when it is not valid.

    A token accepted under the same settings within ``TOKEN_CACHE_SECONDS`` and before its expiry is
    answered from ``verified_tokens`` without verifying it again.
    """
    key = (token, secret, issuer, audience, max_ttl)
    cached = verified_tokens.get(key)
    if cached is not None:
        return cached
    principal, expires_at = _verify(token, secret=secret, issuer=issuer, audience=audience, max_ttl=max_ttl)
    verified_tokens.put(key, principal, expires_at=expires_at)
    return principal


def _verify(token: str, *, secret: str, issuer: str, audience: str, max_ttl: float) -> tuple[Principal, float]:
    """Verify a token's signature and claims; return its principal and its ``exp``."""
    required = ["sub", "role", "exp", "group_id", *(["iss"] if issuer else []), *(["aud"] if audience else [])]
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer=issuer or None,
            audience=audience or None,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": required, "verify_aud": bool(audience), "verify_iss": bool(issuer)},
        )
    except jwt.PyJWTError as exc:
        raise _refused(f"{exc}.") from None
    for name in ("sub", "role", "group_id"):
        if not isinstance(claims[name], str) or not claims[name]:
            raise _refused(f"the claim {name!r} must be a non-empty string.")
    if claims["role"] not in ROLES:
        raise _refused(f"unknown role {claims['role']!r}; the roles are {', '.join(ROLES)}.")
    issued_at = claims.get("iat", time.time())
    if not isinstance(issued_at, int | float) or claims["exp"] - issued_at > max_ttl + CLOCK_SKEW_SECONDS:
        raise _refused(f"a token may live at most {int(max_ttl)} seconds.")
    principal = Principal(
        sub=claims["sub"],
        role=claims["role"],
        group_id=claims["group_id"],
        regions=_string_list(claims, "regions"),
        estates=_string_list(claims, "estates"),
    )
    return principal, float(int(claims["exp"]))  # PyJWT compares the integer part of ``exp``


def current_principal() -> Principal:
    """Return the caller of the current request (after ``authenticated``)."""
    return g.principal


def optional_principal() -> Principal | None:
    """Return the caller of a path open to residents: ``None`` without a token, 401 for a bad one."""
    if "principal" in g:
        return g.principal
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    if not header.startswith("Bearer "):
        raise Problem(401, "Unauthorized", detail="Send the token as `Authorization: Bearer <JWT>`.")
    settings = current_app.config["PROPCARE_SETTINGS"]
    principal = decode_token(
        header.removeprefix("Bearer ").strip(),
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        max_ttl=settings.jwt_max_ttl,
    )
    g.principal = principal
    return principal


def require_role(roles: Iterable[str], *, doing: str = "this") -> Principal:
    """Return the caller when their role is one of ``roles``; 403 naming the roles otherwise."""
    principal = current_principal()
    allowed = tuple(roles)
    if principal.role not in allowed:
        raise Problem(
            403,
            "Forbidden",
            detail=f"The role {principal.role!r} may not do {doing}; it takes one of: {', '.join(allowed)}.",
            required_roles=list(allowed),
        )
    return principal


def authenticated(roles: Iterable[str] | None = None) -> Callable[[F], F]:
    """Require a valid bearer token, and optionally one of ``roles``."""
    allowed = tuple(roles) if roles is not None else None

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if optional_principal() is None:
                raise Problem(401, "Unauthorized", detail="A bearer token is required.", headers={"WWW-Authenticate": "Bearer"})
            if allowed is not None:
                require_role(allowed)
            return view(*args, **kwargs)

        wrapper.required_roles = allowed or ROLES  # type: ignore[attr-defined]  # read by infra/tools/route_roles.py
        return wrapper  # type: ignore[return-value]

    return decorate


def not_yours(what: str, identifier: str) -> Problem:
    """Return the one answer for a record of another group or none at all: 404."""
    return Problem(404, "Not Found", detail=f"No {what} {identifier!r} within your scope.")


def require_visible(record: Mapping[str, Any] | None, *, what: str, identifier: str, estate_key: str = "estate_id") -> dict[str, Any]:
    """Return a record the caller may see; 404 when it is missing or of another group, 403 when outside their regions or estates."""
    principal = current_principal()
    if record is None or record.get("group_id") != principal.group_id:
        raise not_yours(what, identifier)
    if not principal.sees(Tenancy.of(record, estate_key=estate_key)):
        raise Problem(403, "Forbidden", detail=f"This {what} is outside your {_reach(principal)}.")
    return dict(record)


def require_in_group(record: Mapping[str, Any] | None, *, what: str, identifier: str) -> dict[str, Any]:
    """Return a record that belongs to the caller's group as a whole (a questionnaire); 404 when missing or another group's."""
    if record is None or record.get("group_id") != current_principal().group_id:
        raise not_yours(what, identifier)
    return dict(record)


def group_query() -> dict[str, Any]:
    """Return the filter of the records that belong to the caller's group as a whole, whatever their role."""
    return {"group_id": current_principal().group_id}


def require_scope(*, group_id: str | None, region_id: str | None, estate_id: str | None, what: str = "estate") -> None:
    """Refuse a record outside the caller's scope: 404 for another group's (or an unknown one), 403 within their group."""
    record = {"group_id": group_id, "region_id": region_id, "estate_id": estate_id}
    require_visible(record if group_id else None, what=what, identifier=estate_id or region_id or group_id or "")


def scoped_query(*, estate_id: str | None = None, estate: Mapping[str, Any] | None = None, records_only: bool = False) -> dict[str, Any]:
    """Return the caller's scope filter, narrowed to one estate when a list asks for one.

    ``estate`` is what the service knows of ``estate_id`` (``group_id``, ``region_id``), or ``None``
    when it knows nothing; an estate outside the caller's scope is refused (404 or 403) rather than
    answered with an empty page. ``records_only``: the service knows estates only from its own
    records (no directory copy), so an estate the caller's token names but the service has no record
    of yet is the caller's own, and the page is empty (the group still filters).
    """
    principal = current_principal()
    clause = principal.query()
    if estate_id:
        if estate is None and records_only and estate_id in principal.estates:
            estate = {"group_id": principal.group_id, "region_id": None}
        known = {**estate, "estate_id": estate_id} if estate is not None else None
        require_visible(known, what="estate", identifier=estate_id)
        clause["estate_id"] = estate_id
    return clause


def _reach(principal: Principal) -> str:
    if principal.role == "regional_ops":
        return "regions"
    return "group" if principal.role in GROUP_ROLES else "estates"
