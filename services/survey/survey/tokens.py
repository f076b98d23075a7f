"""Survey links: a token signed with the service's secret that names one invitation.

The token is the invitation id signed with itsdangerous (HMAC-SHA1 over a salted key derived from
``JWT_SECRET``), so a guessed or altered token is refused before any database read. Expiry and single
use are the invitation's state in the store, which is the truth: a token of an expired invitation
gives 410, of an answered one 409.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "propcare.survey.invitation"


def sign_invitation(secret: str, invitation_id: str) -> str:
    """Return the token of an invitation."""
    return URLSafeSerializer(secret, salt=SALT).dumps(invitation_id)


def invitation_of(secret: str, token: str) -> str | None:
    """Return the invitation id a token names, or ``None`` when its signature is wrong."""
    try:
        value = URLSafeSerializer(secret, salt=SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def survey_link(*, public_base_url: str, token: str) -> str:
    """Return the resident's link to the survey page."""
    return f"{public_base_url.rstrip('/')}/s/{token}"
