"""Campaign invitations through the running worker, the real broker and a real SMS gateway: the households
import as intake really seals and relays it, the invitation as survey publishes it, the SMS as the
gateway receives it; crossed events, redeliveries and the logs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from intake.app import create_app as create_intake_app
from intake.config import IntakeConfig
from intake.service import INTAKE
from notification.handlers import MESSAGES
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus
from propcare_shared.sealing import Sealer, new_key
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, wait_for
from propcare_shared.worker import Worker
from tests.notification.conftest import Gateway, webhook_config
from tests.notification.factories import (
    ESTATE_NAME,
    HOUSEHOLD,
    NAME,
    PHONE,
    PHONE_E164,
    campaign_invited_event,
    estate_event,
    household,
    households_event,
    outbox_events,
)

INTAKE_PURPOSES = ("complaint-status", "hotline-callbacks")
ESTATE = {"name": ESTATE_NAME, "code": "NS01", "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"}


def sms_to(gateway: Gateway, count: int) -> list[dict[str, Any]]:
    return wait_for(
        lambda: (lambda sent: sent if len(sent) >= count else None)(gateway.received("/sms")), timeout=15, message=f"{count} SMS"
    )


def handled(context: ServiceContext) -> int:
    return context.database.inbox.count_documents({"consumer": MESSAGES.consumer("notification")})


@pytest.fixture
def intake(bus_as: Callable[[str], EventBus]) -> EventBus:
    """A publisher with intake's settings on the test's exchange."""
    return bus_as("intake")


@pytest.fixture
def survey(bus_as: Callable[[str], EventBus]) -> EventBus:
    """A publisher with survey's settings on the test's exchange."""
    return bus_as("survey")


def test_the_invitation_goes_out_by_sms_to_the_households_phone_once_however_often_events_arrive(
    gateway: Gateway, start_worker: Callable[..., Worker], intake: EventBus, survey: EventBus, context: ServiceContext
) -> None:
    start_worker(config=webhook_config(gateway))
    imported, invited = households_event(), campaign_invited_event()
    reminder = campaign_invited_event(reminder=True)
    intake.publish(estate_event())
    for event in (imported, imported):
        intake.publish(event)
    for event in (invited, invited, reminder, campaign_invited_event(reminder=True)):
        survey.publish(event)

    first, second = sms_to(gateway, 2)
    assert (first["json"]["to"], first["json"]["template"]) == (PHONE_E164, "campaign_invitation")
    assert (second["json"]["to"], second["json"]["template"]) == (PHONE_E164, "campaign_reminder")
    assert invited.data["link"] in first["json"]["body"] and ESTATE_NAME in first["json"]["title"]
    wait_for(lambda: handled(context) == 5, timeout=15, message="five distinct events handled, the redeliveries refused")
    time.sleep(0.5)  # a few more dispatch rounds: nothing else goes out
    assert len(gateway.received("/sms")) == 2
    sent = wait_for(lambda: (lambda found: found if len(found) == 2 else None)(outbox_events(context, "notification.sent")), timeout=10)
    assert {event["data"]["kind"] for event in sent} == {"campaign_invitation", "campaign_reminder"}


def test_an_invitation_published_before_its_households_is_retried_until_they_arrive(
    gateway: Gateway, start_worker: Callable[..., Worker], intake: EventBus, survey: EventBus
) -> None:
    start_worker(config=webhook_config(gateway))
    survey.publish(campaign_invited_event())
    time.sleep(0.1)
    intake.publish(households_event())

    [sms] = sms_to(gateway, 1)
    assert (sms["json"]["to"], sms["json"]["template"]) == (PHONE_E164, "campaign_invitation")


def test_a_household_without_a_phone_is_skipped_and_nothing_is_sent(
    gateway: Gateway, start_worker: Callable[..., Worker], intake: EventBus, survey: EventBus, context: ServiceContext
) -> None:
    start_worker(config=webhook_config(gateway))
    intake.publish(households_event(household(phone=None)))
    survey.publish(campaign_invited_event())
    message = wait_for(lambda: context.database.messages.find_one({"campaign_id": "camp-1"}), timeout=15, message="the invitation")
    assert message["status"] == "skipped" and "no phone" in message["skip_reason"]
    time.sleep(0.3)
    assert gateway.received("/sms") == []


def test_the_log_lines_of_a_campaign_sms_carry_no_phone_or_name(
    start_worker: Callable[..., Worker], intake: EventBus, survey: EventBus, context: ServiceContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="notification")
    caplog.set_level(logging.DEBUG, logger="propcare_shared")
    start_worker()  # the log provider: it logs each message it "sends"
    intake.publish(households_event(household(), household("NS01:3:2:1503", sealer=Sealer([new_key()]))))
    survey.publish(campaign_invited_event())
    wait_for(lambda: context.database.messages.find_one({"campaign_id": "camp-1", "status": "sent"}), timeout=15, message="the SMS sent")
    records = [record for record in caplog.records if record.name.startswith(("notification", "propcare_shared"))]
    assert {"notification.providers", "notification.directory"} <= {record.name for record in records}
    for record in records:
        text = f"{record.getMessage()} {vars(record)}"
        assert PHONE not in text and NAME not in text and HOUSEHOLD not in text, text


# intake's real import ---------------------------------------------------------------------------


@pytest.fixture
def intake_context(
    open_context: Callable[..., ServiceContext], make_settings: Callable[..., Settings], clock: FrozenClock
) -> ServiceContext:
    """Intake on its own database, on the test's exchange, sealing with the keys notification is given."""
    settings = make_settings("intake", purposes=INTAKE_PURPOSES)
    return open_context(settings, indexes=INTAKE.indexes, clock=clock, config=IntakeConfig())


@pytest.fixture
def intake_worker(intake_context: ServiceContext) -> Iterator[Worker]:
    """Intake's worker: its consumers and the relay that publishes its outbox."""
    worker = INTAKE.build_worker(intake_context)
    worker.start()
    wait_for(lambda: worker.ready, timeout=15, message="intake consumer ready")
    yield worker
    worker.stop(5)


def test_households_imported_into_intake_get_their_invitation_by_sms(
    gateway: Gateway,
    start_worker: Callable[..., Worker],
    intake_context: ServiceContext,
    intake_worker: Worker,
    survey: EventBus,
    context: ServiceContext,
) -> None:
    start_worker(config=webhook_config(gateway))
    client: FlaskClient = create_intake_app(intake_context).test_client()
    admin = bearer(intake_context.settings, role="group_admin", sub="admin-1")
    assert client.put("/api/v1/estates/NS01", json=ESTATE, headers=admin).status_code == 201
    csv = f"building,unit,room,household_type,resident_name,resident_phone\n3,2,1502,owner,{NAME},{PHONE}\n3,2,1503,tenant,,\n"
    imported = client.post("/api/v1/estates/NS01/households:import", data=csv.encode(), headers={**admin, "Content-Type": "text/csv"})
    assert imported.status_code == 200 and imported.get_json()["created"] == 2
    wait_for(lambda: context.database.households.count_documents({}) == 2, timeout=15, message="the contact book from intake's import")

    invited = campaign_invited_event(HOUSEHOLD)
    survey.publish(invited)
    survey.publish(campaign_invited_event("NS01:3:2:1503", invitation_id="cinv-2"))
    [sms] = sms_to(gateway, 1)
    assert sms["json"]["to"] == PHONE_E164 and invited.data["link"] in sms["json"]["body"]
    assert ESTATE_NAME in sms["json"]["title"], "the estate's name from intake's directory.estate.upserted"
    tenant = wait_for(
        lambda: context.database.messages.find_one({"invitation_id": "cinv-2"}), timeout=15, message="the tenant's invitation"
    )
    assert tenant["status"] == "skipped"
