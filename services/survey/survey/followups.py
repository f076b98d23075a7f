"""Follow-up invitations: made on a resolve, answered once, reminded once, expired once.

Each function runs inside a unit of work: its conditional write and the event it causes commit
together, so an answer, a reminder or an expiry is emitted exactly once even with two processes
racing (the loser's conditional update matches nothing and it emits nothing).
- ``invite``: one invitation per resolve of a complaint (by the resolve event's ``seq``); a resolve
  after a reopen withdraws the earlier invitation still pending, and a resolve older than one
  already invited for is ignored. Emits ``survey.invited``.
- ``answer``: ``pending`` → ``answered`` and the response; emits ``survey.completed`` or
  ``survey.dissatisfied``. The free-text comment stays in survey's database. An answer staff
  recorded (phone, paper, visit) carries ``recorded_by``, the ``sub`` of their token; the
  resident's own answer (channel ``online``, through the link) carries none.
- ``remind``: once, ``REMIND_AFTER`` the invitation; emits ``survey.invited`` with ``reminder``.
- ``expire``: ``EXPIRES_AFTER`` without an answer; emits ``survey.completed`` with ``auto_closed``
  (satisfied by default, docs/PRODUCT.md §9), on which dispatch closes the complaint.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.mongo import new_id
from survey.config import config_of
from survey.domain.followup import EXPIRES_AFTER, FOLLOW_UP, REMIND_AFTER, answer_event_type, is_satisfied
from survey.store import SurveyStore
from survey.tokens import sign_invitation, survey_link


class InvitationNotFound(Exception):
    """No invitation has this id."""


class AlreadyAnswered(Exception):
    """The invitation was answered before."""


class InvitationClosed(Exception):
    """The invitation expired or was withdrawn."""


def tenancy(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return the envelope fields of an invitation's events."""
    return {"group_id": document.get("group_id"), "region_id": document.get("region_id"), "estate_id": document.get("estate_id")}


def link_of(context: ServiceContext, invitation_id: str) -> str:
    """Return the resident's link to an invitation."""
    return survey_link(
        public_base_url=config_of(context).public_base_url, token=sign_invitation(context.settings.jwt_secret, invitation_id)
    )


def invite(tx: Transaction, *, store: SurveyStore, context: ServiceContext, event: Event, now: datetime) -> dict[str, Any] | None:
    """Make the follow-up invitation of a resolve; ``None`` when this resolve, or a later one, has one already.

    A resolve that arrives after a later one (a late redelivery) invites nobody: the later
    resolve's invitation is the one the resident should answer.
    """
    complaint_id = event.data["complaint_id"]
    resolve_seq = event.seq or 0
    if store.follow_up_since(complaint_id=complaint_id, resolve_seq=resolve_seq, session=tx.session) is not None:
        return None
    store.withdraw_pending(complaint_id=complaint_id, before_seq=resolve_seq, now=now, session=tx.session)
    invitation: dict[str, Any] = {
        "_id": new_id(),
        "kind": FOLLOW_UP,
        "complaint_id": complaint_id,
        "ticket_no": event.data.get("ticket_no"),
        "resolve_seq": resolve_seq,
        "group_id": event.group_id,
        "region_id": event.region_id,
        "estate_id": event.estate_id,
        "channel": event.data.get("channel"),
        # Who resolved the complaint: they may not record its follow-up answer themselves.
        "resolved_by": event.data.get("assignee_id"),
        "status": "pending",
        "created_at": now,
        "remind_at": now + REMIND_AFTER,
        "reminded_at": None,
        "expires_at": now + EXPIRES_AFTER,
        "answered_at": None,
    }
    store.insert_invitation(invitation, session=tx.session)
    _emit_invited(tx, context=context, invitation=invitation, reminder=False)
    return invitation


def _emit_invited(tx: Transaction, *, context: ServiceContext, invitation: Mapping[str, Any], reminder: bool) -> None:
    tx.emit(
        "survey.invited",
        data={
            "invitation_id": invitation["_id"],
            "kind": invitation["kind"],
            "link": link_of(context, invitation["_id"]),
            "expires_at": invitation["expires_at"],
            "channel": invitation.get("channel"),
            "complaint_id": invitation.get("complaint_id"),
            "reminder": reminder,
        },
        correlation_id=invitation.get("complaint_id") or invitation["_id"],
        **tenancy(invitation),
    )


def answer(
    tx: Transaction,
    *,
    store: SurveyStore,
    invitation_id: str,
    values: Mapping[str, Any],
    channel: str,
    now: datetime,
    recorded_by: str | None = None,
) -> dict[str, Any]:
    """Record the one answer of an invitation and emit what it means; return the response."""
    invitation = store.invitation(invitation_id, session=tx.session)
    if invitation is None:
        raise InvitationNotFound(invitation_id)
    if invitation["status"] == "answered":
        raise AlreadyAnswered(invitation_id)
    if invitation["status"] != "pending" or invitation["expires_at"] <= now:
        raise InvitationClosed(invitation_id)
    closed = store.close_pending(
        invitation_id, status="answered", at=now, session=tx.session, answered_at=now, answer_channel=channel, recorded_by=recorded_by
    )
    if closed is None:
        raise AlreadyAnswered(invitation_id)
    satisfied = is_satisfied(solved=values["solved"], scores=values["scores"])
    response = {
        "_id": invitation_id,
        "kind": invitation["kind"],
        "complaint_id": invitation.get("complaint_id"),
        **tenancy(invitation),
        "solved": values["solved"],
        "scores": dict(values["scores"]),
        "comment": values.get("comment") or "",
        "channel": channel,
        "recorded_by": recorded_by,
        "satisfied": satisfied,
        "answered_at": now,
    }
    store.insert_response(response, session=tx.session)
    tx.emit(
        answer_event_type(satisfied=satisfied),
        data={
            "invitation_id": invitation_id,
            "kind": invitation["kind"],
            "channel": channel,
            "complaint_id": invitation.get("complaint_id"),
            "solved": values["solved"],
            "scores": dict(values["scores"]),
            "satisfied": satisfied,
            "answered_at": now,
        },
        correlation_id=invitation.get("complaint_id") or invitation_id,
        **tenancy(invitation),
    )
    return response


def remind(tx: Transaction, *, store: SurveyStore, context: ServiceContext, invitation_id: str, now: datetime) -> bool:
    """Remind a resident once of a pending invitation; tell whether this call did."""
    invitation = store.mark_reminded(invitation_id, at=now, session=tx.session)
    if invitation is None:
        return False
    _emit_invited(tx, context=context, invitation=invitation, reminder=True)
    return True


def expire(tx: Transaction, *, store: SurveyStore, invitation_id: str, now: datetime) -> bool:
    """Close an unanswered invitation at its expiry; tell whether this call did."""
    invitation = store.close_pending(invitation_id, status="expired", at=now, session=tx.session)
    if invitation is None:
        return False
    tx.emit(
        "survey.completed",
        data={
            "invitation_id": invitation_id,
            "kind": invitation["kind"],
            "channel": invitation.get("channel"),
            "complaint_id": invitation.get("complaint_id"),
            "satisfied": True,
            "answered_at": now,
            "auto_closed": True,
        },
        correlation_id=invitation.get("complaint_id") or invitation_id,
        **tenancy(invitation),
    )
    return True
