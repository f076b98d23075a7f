"""Satisfaction campaigns: created with their sample and invitations, opened, answered once, reminded once, closed once.

Each function runs inside a unit of work: its writes and the events they cause commit together.
- ``create``: draws the sample (``domain/sampling.py``) over survey's copy of the estate's
  households, marks the questionnaire used (a later change makes a new version), stores the campaign
  and one invitation per sampled household, and emits ``campaign.started`` and, when the campaign is
  open already, one ``survey.invited`` per online invitation. One transaction: a failure leaves
  nothing behind, not even the questionnaire's mark.
- ``open_invitation``: at ``opens_at`` (the worker's pass) an invitation made before is sent once
  (``invited_at``); an online one emits ``survey.invited``.
- ``answer``: ``pending`` → ``answered`` (conditional) with the response, and
  ``campaign.response_recorded`` without household id, name, phone or comment; the same for the
  resident's link (``source: online``), staff on the phone (``staff``) and a CSV import (``import``),
  so an invitation is counted once whichever path comes first.
- ``remind``: an online invitation still pending ``reminder_after_days`` after opening gets one
  ``survey.invited`` with ``reminder: true``.
- ``close``: at ``closes_at`` the campaign closes once: pending invitations expire and
  ``campaign.closed`` carries the answers counted in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from propcare_shared.context import ServiceContext
from propcare_shared.events.outbox import Transaction
from propcare_shared.mongo import new_id
from propcare_shared.tenancy import Tenancy
from survey.campaign_store import CampaignStore
from survey.domain import campaigns as rules
from survey.domain.sampling import Sample, draw_sample
from survey.followups import AlreadyAnswered, InvitationClosed, InvitationNotFound, link_of
from survey.store import SurveyStore

SURVEYED_FIELDS = ("household_id", "building", "unit", "room", "household_type", "age_band")


class InvalidCampaign(ValueError):
    """A campaign that cannot be created as asked; ``errors`` maps fields to messages (a 422)."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(errors))
        self.errors = dict(errors)


def _invitations(
    sample: Sample, *, households: Mapping[str, Mapping[str, Any]], campaign: Mapping[str, Any], now: datetime
) -> list[dict[str, Any]]:
    opened = campaign["opens_at"] <= now
    tenancy = Tenancy.of(campaign).fields()
    return [
        {
            "_id": new_id(),
            "kind": rules.CAMPAIGN,
            "campaign_id": campaign["_id"],
            **{key: households[drawn.household_id].get(key) for key in SURVEYED_FIELDS if key != "household_id"},
            "household_id": drawn.household_id,
            "stratum": rules.stratum_key(drawn.stratum),
            "channel": drawn.channel,
            **tenancy,
            "status": "pending",
            "created_at": now,
            "opens_at": campaign["opens_at"],
            "invited_at": now if opened else None,
            "remind_at": rules.remind_at(opens_at=campaign["opens_at"], reminder_after_days=campaign["reminder_after_days"])
            if drawn.channel == rules.ONLINE
            else None,
            "reminded_at": None,
            "expires_at": campaign["closes_at"],
            "answered_at": None,
        }
        for drawn in sample.households
    ]


def create(
    tx: Transaction,
    *,
    store: CampaignStore,
    surveys: SurveyStore,
    context: ServiceContext,
    estate: Mapping[str, Any],
    questionnaire: Mapping[str, Any],
    request: Mapping[str, Any],
    created_by: str,
    now: datetime,
) -> dict[str, Any]:
    """Draw the sample, store the campaign and its invitations, and announce them; return the campaign."""
    errors = rules.period_errors(opens_at=request["opens_at"], closes_at=request["closes_at"], now=now)
    if errors:
        raise InvalidCampaign(errors)
    households = {str(household["id"]): household for household in store.households_of(estate["estate_id"], session=tx.session)}
    sample = draw_sample(
        households=households.values(),
        sample_rate=request["sample_rate"],
        strata=request["strata"],
        channel_mix=request["channel_mix"],
        seed=request["seed"],
    )
    campaign: dict[str, Any] = {
        "_id": new_id(),
        **Tenancy.of(estate).fields(),
        **{
            key: request[key] for key in ("questionnaire_id", "kind", "sample_rate", "seed", "opens_at", "closes_at", "reminder_after_days")
        },
        "strata_fields": list(dict.fromkeys(request["strata"])),
        "channel_mix": dict(request["channel_mix"]),
        "questionnaire_version": questionnaire.get("version"),
        "dimensions": rules.dimensions_of(questionnaire),
        "complaint_handling_question": rules.complaint_handling_question(questionnaire),
        "sample_size": sample.size,
        "channels": dict(sample.channels),
        "strata": [
            {"key": rules.stratum_key(stratum.key), "households": stratum.households, "sampled": stratum.sampled}
            for stratum in sample.strata
        ],
        "status": "open",
        "created_by": created_by,
        "created_at": now,
        "closed_at": None,
    }
    if not surveys.mark_questionnaire_used(campaign["questionnaire_id"], campaign_id=campaign["_id"], session=tx.session):
        raise InvalidCampaign({"questionnaire_id": ["No such questionnaire."]})
    invitations = _invitations(sample, households=households, campaign=campaign, now=now)
    store.insert_campaign(campaign, invitations, session=tx.session)
    tx.emit("campaign.started", data=campaign_event(campaign, responded=0), correlation_id=campaign["_id"], tenancy=Tenancy.of(campaign))
    for invitation in invitations:
        if invitation["invited_at"] is not None and invitation["channel"] == rules.ONLINE:
            _emit_invited(tx, context=context, invitation=invitation, reminder=False)
    return campaign


def campaign_event(campaign: Mapping[str, Any], *, responded: int) -> dict[str, Any]:
    """Return the data of ``campaign.started`` and ``campaign.closed``: no household, no comment."""
    return {
        "campaign_id": campaign["_id"],
        "kind": campaign["kind"],
        "questionnaire_id": campaign["questionnaire_id"],
        "sample_size": campaign["sample_size"],
        "strata": list(campaign["strata_fields"]),
        "channels": dict(campaign["channels"]),
        "dimensions": list(campaign["dimensions"]),
        "complaint_handling_question": campaign["complaint_handling_question"],
        "opens_at": campaign["opens_at"],
        "closes_at": campaign["closes_at"],
        "responded": responded,
    }


def _emit_invited(tx: Transaction, *, context: ServiceContext, invitation: Mapping[str, Any], reminder: bool) -> None:
    tx.emit(
        "survey.invited",
        data={
            "invitation_id": invitation["_id"],
            "kind": rules.CAMPAIGN,
            "link": link_of(context, invitation["_id"]),
            "expires_at": invitation["expires_at"],
            "channel": rules.ONLINE,
            "campaign_id": invitation["campaign_id"],
            "household_id": invitation["household_id"],
            "reminder": reminder,
        },
        correlation_id=invitation["campaign_id"],
        tenancy=Tenancy.of(invitation),
    )


def open_invitation(tx: Transaction, *, store: CampaignStore, context: ServiceContext, invitation_id: str, now: datetime) -> bool:
    """Send an invitation of a campaign that has opened, once; tell whether this call did."""
    invitation = store.mark_invited(invitation_id, at=now, session=tx.session)
    if invitation is None:
        return False
    if invitation["channel"] == rules.ONLINE:
        _emit_invited(tx, context=context, invitation=invitation, reminder=False)
    return True


def remind(tx: Transaction, *, surveys: SurveyStore, context: ServiceContext, invitation_id: str, now: datetime) -> bool:
    """Remind a resident once of a pending online invitation; tell whether this call did."""
    invitation = surveys.mark_reminded(invitation_id, at=now, session=tx.session)
    if invitation is None:
        return False
    _emit_invited(tx, context=context, invitation=invitation, reminder=True)
    return True


def close(tx: Transaction, *, store: CampaignStore, campaign_id: str, now: datetime) -> bool:
    """Close a campaign at its end once, expiring what is unanswered; tell whether this call did."""
    campaign = store.close_campaign(campaign_id, now=now, session=tx.session)
    if campaign is None:
        return False
    responded = store.answered(campaign_id, session=tx.session)
    tx.emit("campaign.closed", data=campaign_event(campaign, responded=responded), correlation_id=campaign_id, tenancy=Tenancy.of(campaign))
    return True


def answer(
    tx: Transaction,
    *,
    surveys: SurveyStore,
    store: CampaignStore,
    invitation_id: str,
    values: Mapping[str, Any],
    channel: str,
    source: str,
    now: datetime,
    recorded_by: str | None = None,
    campaign_id: str | None = None,
) -> dict[str, Any]:
    """Record the one answer of a campaign invitation; return the response.

    ``campaign_id``, when given (an import), must be the invitation's campaign (``WrongCampaign`` otherwise).
    """
    invitation = surveys.invitation(invitation_id, session=tx.session)
    if invitation is None or invitation.get("kind") != rules.CAMPAIGN:
        raise InvitationNotFound(invitation_id)
    if campaign_id is not None and invitation["campaign_id"] != campaign_id:
        raise rules.WrongCampaign(invitation_id)
    refusal = rules.refusal(invitation=invitation, now=now)
    if refusal == "answered":
        raise AlreadyAnswered(invitation_id)
    if refusal == "closed":
        raise InvitationClosed(invitation_id)
    if refusal == "not_open":
        raise rules.NotOpenYet(invitation["opens_at"])
    campaign = store.campaign(invitation["campaign_id"], session=tx.session) or {}
    rules.check_answer(
        questions=rules.question_ids(campaign.get("dimensions", [])),
        answers=values["answers"],
        overall=values["overall"],
        recommend=values["recommend"],
    )
    answered = surveys.close_pending(
        invitation_id,
        status="answered",
        at=now,
        session=tx.session,
        answered_at=now,
        answer_channel=channel,
        answer_source=source,
        recorded_by=recorded_by,
    )
    if answered is None:
        raise AlreadyAnswered(invitation_id)
    response = {
        "_id": invitation_id,
        "kind": rules.CAMPAIGN,
        "campaign_id": invitation["campaign_id"],
        **Tenancy.of(invitation).fields(),
        "household_type": invitation.get("household_type"),
        "age_band": invitation.get("age_band"),
        "stratum": invitation.get("stratum"),
        "answers": dict(values["answers"]),
        "overall": values["overall"],
        "recommend": values["recommend"],
        "comment": values.get("comment") or "",
        "channel": channel,
        "source": source,
        "recorded_by": recorded_by,
        "answered_at": now,
    }
    surveys.insert_response(response, session=tx.session)
    tx.emit(
        "campaign.response_recorded",
        data={
            "campaign_id": invitation["campaign_id"],
            "invitation_id": invitation_id,
            "channel": channel,
            "source": source,
            "household_type": invitation.get("household_type"),
            "age_band": invitation.get("age_band"),
            "answers": dict(values["answers"]),
            "overall": values["overall"],
            "recommend": values["recommend"],
            "answered_at": now,
        },
        correlation_id=invitation["campaign_id"],
        tenancy=Tenancy.of(invitation),
    )
    return response


def summary(campaign: Mapping[str, Any], *, counts: Mapping[str, Any]) -> dict[str, Any]:
    """Return a campaign with its progress: invitations sent, answers, the response rate and each stratum's answers."""
    by_stratum = counts["by_stratum"]
    return {
        **campaign,
        "invited": counts["invited"],
        "responded": counts["responded"],
        "response_rate": rules.response_rate(responded=counts["responded"], sample_size=campaign["sample_size"]),
        "strata": [{**stratum, "responded": by_stratum.get(tuple(sorted(stratum["key"].items())), 0)} for stratum in campaign["strata"]],
    }
