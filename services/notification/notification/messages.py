"""Recording messages from events, inside the consuming handler's unit of work (no sending here).

- ``complaint.received`` stores the resident's contact, channel, language and time zone. The contact
  arrives sealed (``contact``, opened with ``PERSONAL_DATA_KEYS``, ``domain.contact``); the phone is
  kept in E.164. A contact no key opens, or a phone that is not a number, is stored without that address
  and with the reason (logged without personal data): its resident messages are skipped with it.
- ``complaint.classified`` and ``complaint.assigned`` record the acknowledgement with the time limit;
  its ``dedupe_key`` (one per complaint, unique index) makes it one message however many of the two
  events arrive, in any order, on any replica. A later ``complaint.assigned`` that moves the
  complaint (reassign, reclassify) records an ``assigned`` message.
- ``complaint.responded|plan_submitted|progress_updated|on_hold|resumed|resolved|reopened|closed|cancelled``
  record a progress message; ``complaint.updated_by_resident`` a staff message to the assignee
  dispatch last named (``assignee_id`` kept on the contact), or the supervisors. Every resident
  message ends with its opt-out link; a non-essential one to an address that opted out is skipped.
- ``survey.invited`` of a complaint's follow-up records the invitation or the reminder.
- ``survey.invited`` of a satisfaction campaign (``campaign_id`` and ``household_id``, no complaint)
  records ``campaign_invitation`` or ``campaign_reminder``: an SMS to the household's phone from the
  household contact book (``directory``), once per invitation and kind (the reminder once however many
  times it is asked for), held by quiet hours in the estate's zone. A household in the book without a
  phone, or with an unusable contact, gets it recorded as skipped with the reason. An invitation on
  another channel than ``online`` (paper, an agent's call) records nothing.
- ``directory.estate.upserted`` and ``directory.households.imported`` keep the estate and the
  household contact book (``directory``); they record no message.
- A complaint transferred by the 12345 hotline (its ``complaint.received`` carried
  ``hotline_ticket_id``, kept on the contact) gets no resident message: the hotline answers its
  caller from our callbacks (``hotline_callbacks``).
- ``sla.warning``, ``sla.breached`` and ``complaint.escalated`` record staff alerts, one per role or
  staff id addressed.

A resident message of a complaint whose ``complaint.received`` has not arrived yet raises
``ContactNotKnown``: the bus retries the event later (events of two producers may cross). So does a
campaign invitation to a household no import has named yet (``HouseholdNotKnown``: survey and
notification both consume the same households import, and survey may invite before notification
read it); after the bus's attempts it is parked, replayable once the households are imported, rather
than skipped: an unknown household is a delay or a missing import, a known one without a phone is
final. Messages
are stored ``queued`` with ``not_before`` (07:00 local when quiet hours hold them), or ``skipped``
with the reason when they cannot be delivered; the worker's dispatch loop sends them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from notification import directory
from notification.call_tasks import new_call_task
from notification.config import DEFAULT_PUBLIC_BASE_URL, DEVELOPMENT_OPT_OUT_SECRET
from notification.domain import channels, compose, opt_out, schedule
from notification.domain.contact import UNREADABLE, open_contact
from notification.domain.opt_out import OptOutLinks
from notification.store import QUEUED, SKIPPED, NotificationStore
from notification.templates import DEFAULT_LANGUAGE, normalise_language, render, with_opt_out
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.mongo import new_id
from propcare_shared.sealing import Sealer
from propcare_shared.tenancy import Tenancy
from propcare_shared.vocabulary import DEFAULT_TIMEZONE

log = logging.getLogger(__name__)

STAFF_LANGUAGE = DEFAULT_LANGUAGE


class ContactNotKnown(Exception):
    """Raised when a complaint's contact has not arrived yet; the event is retried later."""


class HouseholdNotKnown(ContactNotKnown):
    """Raised when no households import has named an invited household yet; the event is retried later."""


def record(
    tx: Transaction, *, store: NotificationStore, event: Event, now: datetime, sealer: Sealer, opt_out: OptOutLinks | None = None
) -> list[dict[str, Any]]:
    """Record what an event asks to tell; return the messages recorded."""
    links = opt_out or OptOutLinks(secret=DEVELOPMENT_OPT_OUT_SECRET, base_url=DEFAULT_PUBLIC_BASE_URL)
    if event.type == "complaint.received":
        store.save_contact(_contact(event, now, sealer), session=tx.session)
        return []
    if event.type in compose.ACKNOWLEDGING_EVENTS:
        return _on_assignment(tx, store=store, event=event, now=now, links=links)
    if event.type in compose.PROGRESS_KINDS:
        contact = _known_contact(tx, store, event)
        kind = compose.PROGRESS_KINDS[event.type]
        dedupe_key = f"{kind}:{event.id}"
        return _resident_message(tx, store=store, event=event, contact=contact, kind=kind, dedupe_key=dedupe_key, now=now, links=links)
    if event.type == "complaint.updated_by_resident":
        return _resident_update_alert(tx, store=store, event=event, now=now)
    if event.type in compose.ALERT_KINDS:
        return _staff_messages(tx, store=store, event=event, now=now)
    if event.type == "survey.invited":
        campaign_kind = compose.campaign_kind(event.data)
        if campaign_kind is not None:
            return _campaign_message(tx, store=store, event=event, kind=campaign_kind, now=now, links=links)
        return _survey_message(tx, store=store, event=event, now=now, links=links)
    if event.type in directory.EVENT_TYPES:
        directory.record(tx, store=store, event=event, now=now, sealer=sealer)
    return []


def _contact(event: Event, now: datetime, sealer: Sealer) -> dict[str, Any]:
    data = event.data
    details = open_contact(data.get("contact"), sealer=sealer)
    if details.problem is not None:
        # Ids only: the reason is one of domain.contact's fixed texts, never the contact itself.
        log.log(
            logging.WARNING if details.problem == UNREADABLE else logging.INFO,
            "the reporter's contact cannot be used: %s",
            details.problem,
            extra={"complaint_id": data["complaint_id"], "event_id": event.id},
        )
    return {
        "_id": data["complaint_id"],
        "ticket_no": data["ticket_no"],
        "channel": data["channel"],
        "language": normalise_language(data.get("language")),
        "timezone": data.get("timezone") or DEFAULT_TIMEZONE,
        "phone": details.phone,
        "email": details.email,
        "contact_problem": details.problem,
        "reporter_role": data.get("reporter_role"),
        "hotline_ticket_id": data.get("hotline_ticket_id"),
        "tier": None,
        **_tenancy(event, None).fields(),
        "received_at": data["received_at"],
        "updated_at": now,
    }


def _known_contact(tx: Transaction, store: NotificationStore, event: Event) -> dict[str, Any]:
    complaint_id = event.data["complaint_id"]
    contact = store.contact(complaint_id, session=tx.session)
    if contact is None:
        raise ContactNotKnown(f"no complaint.received yet for complaint {complaint_id}")
    tier = event.data.get("tier")
    if tier and tier != contact.get("tier"):
        store.note_tier(complaint_id, tier=tier, at=event.occurred_at, session=tx.session)
        contact = {**contact, "tier": tier}
    assignee_id = event.data.get("assignee_id")
    if event.producer == "dispatch" and assignee_id and assignee_id != contact.get("assignee_id"):
        # Dispatch's word on who holds the complaint, kept to tell them what the resident adds.
        store.note_assignee(complaint_id, assignee_id=assignee_id, at=event.occurred_at, session=tx.session)
        contact = {**contact, "assignee_id": assignee_id}
    return contact


def _on_assignment(tx: Transaction, *, store: NotificationStore, event: Event, now: datetime, links: OptOutLinks) -> list[dict[str, Any]]:
    contact = _known_contact(tx, store, event)
    acknowledgement_key = f"acknowledgement:{contact['_id']}"
    if not store.has_message(acknowledgement_key, session=tx.session):
        return _resident_message(
            tx, store=store, event=event, contact=contact, kind="acknowledgement", dedupe_key=acknowledgement_key, now=now, links=links
        )
    if event.type == "complaint.assigned" and event.data.get("action") in compose.REROUTING_ACTIONS:
        dedupe_key = f"assigned:{event.id}"
        return _resident_message(
            tx, store=store, event=event, contact=contact, kind="assigned", dedupe_key=dedupe_key, now=now, links=links
        )
    return []


def _survey_message(tx: Transaction, *, store: NotificationStore, event: Event, now: datetime, links: OptOutLinks) -> list[dict[str, Any]]:
    data = event.data
    kind = "survey_reminder" if data.get("reminder") else "survey_invitation"
    dedupe_key = f"{kind}:{event.id}" if kind == "survey_reminder" else f"{kind}:{data['invitation_id']}"
    if store.has_message(dedupe_key, session=tx.session):
        return []
    complaint_id = data.get("complaint_id")
    contact = store.contact(complaint_id, session=tx.session) if complaint_id else None
    if contact is None:
        contact = {
            "_id": complaint_id,
            "ticket_no": None,
            "channel": None,
            "language": DEFAULT_LANGUAGE,
            "timezone": DEFAULT_TIMEZONE,
            "phone": None,
            "email": None,
            "tier": None,
        }
    return _resident_message(tx, store=store, event=event, contact=contact, kind=kind, dedupe_key=dedupe_key, now=now, links=links)


def _campaign_message(
    tx: Transaction, *, store: NotificationStore, event: Event, kind: str, now: datetime, links: OptOutLinks
) -> list[dict[str, Any]]:
    data = event.data
    dedupe_key = f"{kind}:{data['invitation_id']}"
    if data.get("channel") not in compose.MESSAGED_CAMPAIGN_CHANNELS or store.has_message(dedupe_key, session=tx.session):
        return []
    household = store.household(data["household_id"], session=tx.session)
    if household is None:
        raise HouseholdNotKnown(f"no households import has named household {data['household_id']} yet")
    tenancy = Tenancy.of(household).fields()
    estate = store.estate(event.estate_id or household.get("estate_id"), session=tx.session) or {}
    timezone = estate.get("timezone")
    route = _unless_opted_out(
        channels.household_route(phone=household.get("phone"), contact_problem=household.get("contact_problem")),
        store=store,
        links=links,
        essential=False,
        session=tx.session,
    )
    message = _message(
        event=event,
        contact=tenancy,
        kind=kind,
        dedupe_key=dedupe_key,
        channel=route.channel,
        recipient=route.recipient,
        language=DEFAULT_LANGUAGE,
        values=compose.campaign_values(data, estate_name=estate.get("name"), timezone=timezone),
        tier=None,
        timezone=timezone,
        quiet_hours=compose.held_by_quiet_hours(kind=kind, tier=None),
        skip_reason=route.skip_reason,
        now=now,
        opt_out_link=links.link(kind=opt_out.HOUSEHOLD, identifier=data["household_id"]),
    )
    message.update(campaign_id=data["campaign_id"], household_id=data["household_id"], invitation_id=data["invitation_id"])
    store.insert_message(message, session=tx.session)
    return [message]


def _tenancy(event: Event, contact: Mapping[str, Any] | None) -> Tenancy:
    """Return the event's group, region and estate, each taken from the complaint's contact where the event has none."""
    return event.tenancy.completed_by(Tenancy.of(contact or {}))


def _resident_message(
    tx: Transaction,
    *,
    store: NotificationStore,
    event: Event,
    contact: Mapping[str, Any],
    kind: str,
    dedupe_key: str,
    now: datetime,
    links: OptOutLinks,
) -> list[dict[str, Any]]:
    if contact.get("hotline_ticket_id"):
        # The caller of a 12345 transfer is answered by the hotline, from our callbacks (hotline_callbacks).
        return []
    tier = event.data.get("tier") or contact.get("tier")
    timezone = contact.get("timezone")
    route = channels.resident_route(
        complaint_channel=contact.get("channel"),
        phone=contact.get("phone"),
        email=contact.get("email"),
        tier=tier,
        contact_problem=contact.get("contact_problem"),
    )
    if contact.get("channel") is None and route.skip_reason:
        route = channels.Route(route.channel, None, skip_reason="no contact is known for this invitation")
    essential = opt_out.is_essential(kind, tier=tier)
    route = _unless_opted_out(route, store=store, links=links, essential=essential, session=tx.session)
    language = normalise_language(contact.get("language"))
    values = compose.resident_values(kind, event.data, ticket_no=contact.get("ticket_no"), timezone=timezone)
    quiet_hours = compose.held_by_quiet_hours(kind=kind, tier=tier)
    message = _message(
        event=event,
        contact=contact,
        kind=kind,
        dedupe_key=dedupe_key,
        channel=route.channel,
        recipient=route.recipient,
        language=language,
        values=values,
        tier=tier,
        timezone=timezone,
        quiet_hours=quiet_hours,
        skip_reason=route.skip_reason,
        now=now,
        opt_out_link=links.link(kind=opt_out.COMPLAINT, identifier=contact["_id"]) if contact.get("_id") else None,
    )
    store.insert_message(message, session=tx.session)
    if route.call_task_reason and message["status"] == QUEUED:
        task = new_call_task(
            message=message, reason=route.call_task_reason, data=event.data, received_at=contact.get("received_at"), now=now
        )
        store.insert_call_task(task, session=tx.session)
    return [message]


def _unless_opted_out(
    route: channels.Route, *, store: NotificationStore, links: OptOutLinks, essential: bool, session: Any
) -> channels.Route:
    """Return the route, or the route skipped when its address opted out of non-essential messages and this one is not essential."""
    if essential or route.recipient is None or not store.opted_out(links.key(route.recipient), session=session):
        return route
    return channels.Route(route.channel, None, skip_reason=opt_out.OPTED_OUT_REASON)


def _resident_update_alert(tx: Transaction, *, store: NotificationStore, event: Event, now: datetime) -> list[dict[str, Any]]:
    """Tell the complaint's assignee (the supervisors while nobody holds it) what the resident added on the tracking page."""
    contact = _known_contact(tx, store, event)
    recipients = channels.staff_recipients(roles=(), assignee_id=contact.get("assignee_id"), level=0)
    values = compose.staff_values(
        "resident_update", {**event.data, "ticket_no": contact.get("ticket_no")}, timezone=contact.get("timezone")
    )
    return _to_staff(tx, store=store, event=event, contact=contact, kind="resident_update", recipients=recipients, values=values, now=now)


def _staff_messages(tx: Transaction, *, store: NotificationStore, event: Event, now: datetime) -> list[dict[str, Any]]:
    data = event.data
    kind = compose.ALERT_KINDS[event.type]
    contact = store.contact(data["complaint_id"], session=tx.session)
    level = int(data.get("escalation_level", 0) if kind == "escalated" else data.get("level", 0))
    recipients = channels.staff_recipients(roles=data.get("notify_roles") or (), assignee_id=data.get("assignee_id"), level=level)
    values = compose.staff_values(kind, data, timezone=(contact or {}).get("timezone"))
    return _to_staff(tx, store=store, event=event, contact=contact, kind=kind, recipients=recipients, values=values, now=now)


def _to_staff(
    tx: Transaction,
    *,
    store: NotificationStore,
    event: Event,
    contact: Mapping[str, Any] | None,
    kind: str,
    recipients: list[str],
    values: Mapping[str, Any],
    now: datetime,
) -> list[dict[str, Any]]:
    recorded = []
    for recipient in recipients:
        message = _message(
            event=event,
            contact=contact,
            kind=kind,
            dedupe_key=f"{kind}:{event.id}:{recipient}",
            channel=channels.STAFF,
            recipient=recipient,
            language=STAFF_LANGUAGE,
            values=values,
            tier=event.data.get("tier") or (contact or {}).get("tier"),
            timezone=(contact or {}).get("timezone"),
            quiet_hours=False,
            skip_reason=None,
            now=now,
        )
        store.insert_message(message, session=tx.session)
        recorded.append(message)
    return recorded


def _message(
    *,
    event: Event,
    contact: Mapping[str, Any] | None,
    kind: str,
    dedupe_key: str,
    channel: str,
    recipient: str | None,
    language: str,
    values: Mapping[str, Any],
    tier: str | None,
    timezone: str | None,
    quiet_hours: bool,
    skip_reason: str | None,
    now: datetime,
    opt_out_link: str | None = None,
) -> dict[str, Any]:
    rendered = render(kind, language=language, values=values)
    skipped = skip_reason is not None
    return {
        "_id": new_id(),
        "dedupe_key": dedupe_key,
        "event_id": event.id,
        "event_type": event.type,
        "kind": kind,
        "audience": compose.audience_of(kind),
        "complaint_id": event.data.get("complaint_id") or (contact or {}).get("_id"),
        "ticket_no": values.get("ticket_no"),
        "channel": channel,
        "recipient": recipient,
        "language": language,
        "title": rendered.title,
        "body": with_opt_out(rendered.body, language=language, link=opt_out_link),
        "tier": tier,
        "timezone": timezone or DEFAULT_TIMEZONE,
        "quiet_hours": quiet_hours,
        "status": SKIPPED if skipped else QUEUED,
        "skip_reason": skip_reason,
        "not_before": None if skipped else schedule.not_before(at=now, timezone=timezone, quiet_hours=quiet_hours),
        "attempts": 0,
        "provider": None,
        "last_error": None,
        "lease_until": None,
        "claimed_by": None,
        "sent_at": None,
        "failed_at": None,
        "created_at": now,
        "updated_at": now,
        **_tenancy(event, contact).fields(),
    }
