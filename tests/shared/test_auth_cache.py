"""The per-process cache of verified JWTs (``propcare_shared.http.auth.verified_tokens``).

It must change nothing a caller can observe: an expired token is refused at the moment PyJWT would
refuse it, two tokens (or one token under other settings) never share an answer, and an entry never
outlives ``TOKEN_CACHE_SECONDS``. Real tokens, real PyJWT; ``jwt.decode`` is only counted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from propcare_shared.http import auth
from propcare_shared.http.auth import CLOCK_SKEW_SECONDS, VerifiedTokens, decode_token, issue_token
from propcare_shared.http.errors import Problem

SECRET = "a-test-secret-of-enough-length-0123456789"


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Start from an empty cache and count the tokens PyJWT really verifies."""
    auth.verified_tokens.clear()
    seen: list[str] = []
    real_decode = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(auth.jwt, "decode", counting)
    yield seen
    auth.verified_tokens.clear()


def _token(*, sub: str = "u1", role: str = "agent", exp: int, iat: int | None = None, secret: str = SECRET) -> str:
    claims: dict[str, Any] = {"sub": sub, "role": role, "group_id": "G1", "estates": ["E1"], "exp": exp}
    if iat is not None:
        claims["iat"] = iat
    return jwt.encode(claims, secret, algorithm="HS256")


def test_a_token_is_verified_once_and_answered_from_the_cache(verifications: list[str]) -> None:
    token = issue_token(SECRET, sub="u1", role="agent", group_id="G1", estates=["E1"])
    first = decode_token(token, secret=SECRET)
    second = decode_token(token, secret=SECRET)
    assert first == second
    assert first.sub == "u1" and first.estates == ("E1",)
    assert verifications == [token]


def test_a_cached_token_is_refused_once_it_expires(verifications: list[str]) -> None:
    now = int(time.time())
    exp = now - CLOCK_SKEW_SECONDS + 2  # PyJWT accepts it for one or two more seconds (the skew)
    token = _token(exp=exp, iat=now - 60)
    assert decode_token(token, secret=SECRET).sub == "u1"
    assert decode_token(token, secret=SECRET).sub == "u1"
    assert len(verifications) == 1  # the second answer came from the cache
    while time.time() < exp + CLOCK_SKEW_SECONDS:
        time.sleep(0.05)
    with pytest.raises(Problem) as refused:
        decode_token(token, secret=SECRET)
    assert refused.value.status == 401
    assert "expired" in str(refused.value.detail)
    assert len(verifications) == 2  # verified again, and PyJWT refused it


def test_an_expired_token_is_never_cached(verifications: list[str]) -> None:
    now = int(time.time())
    token = _token(exp=now - CLOCK_SKEW_SECONDS - 1, iat=now - 120)
    for _ in range(2):
        with pytest.raises(Problem):
            decode_token(token, secret=SECRET)
    assert len(verifications) == 2
    assert len(auth.verified_tokens) == 0


def test_two_tokens_never_share_an_answer(verifications: list[str]) -> None:
    agent = issue_token(SECRET, sub="u1", role="agent", group_id="G1", estates=["E1"])
    admin = issue_token(SECRET, sub="u2", role="group_admin", group_id="G2")
    for _ in range(2):
        assert decode_token(agent, secret=SECRET).role == "agent"
        assert decode_token(admin, secret=SECRET).group_id == "G2"
    assert sorted(verifications) == sorted([agent, admin])


def test_a_cached_token_is_refused_under_other_settings(verifications: list[str]) -> None:
    token = issue_token(SECRET, sub="u1", role="agent", group_id="G1")
    decode_token(token, secret=SECRET)
    with pytest.raises(Problem):
        decode_token(token, secret="another-secret-of-enough-length-0123456789")
    with pytest.raises(Problem):
        decode_token(token, secret=SECRET, issuer="propcare")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(Problem):
        decode_token(tampered, secret=SECRET)


def test_an_entry_lives_at_most_the_cache_age_and_the_cache_is_bounded() -> None:
    clock = [1000.0]
    cache = VerifiedTokens(max_entries=2, max_age=60.0, now=lambda: clock[0])
    principal = auth.Principal(sub="u1", role="agent", group_id="G1")
    cache.put(("a",), principal, expires_at=1000.0 + 3600)
    clock[0] += 59.9
    assert cache.get(("a",)) == principal
    clock[0] += 0.2
    assert cache.get(("a",)) is None
    cache.put(("short",), principal, expires_at=clock[0] + 5)
    clock[0] += 5 + CLOCK_SKEW_SECONDS
    assert cache.get(("short",)) is None  # gone exactly when PyJWT refuses it
    for key in ("x", "y", "z"):
        cache.put((key,), principal, expires_at=clock[0] + 3600)
    assert len(cache) == 2 and cache.get(("x",)) is None
