"""The pure rules of campaign invitations: which survey.invited is a campaign's, the household contact
book's entries, and where a household's message goes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from notification.domain import compose, households
from notification.domain.channels import HOUSEHOLD_NO_PHONE_REASON, SMS, household_route
from notification.domain.contact import INVALID_PHONE, UNREADABLE
from propcare_shared.sealing import Sealer, new_key
from tests.notification.factories import HOUSEHOLD, INTAKE_SEALER, MONDAY_MORNING, PHONE_E164, household

TENANCY = {"group_id": "G1", "region_id": "R1", "estate_id": "NS01"}


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"campaign_id": "c", "household_id": "h"}, "campaign_invitation"),
        ({"campaign_id": "c", "household_id": "h", "reminder": True}, "campaign_reminder"),
        ({"campaign_id": "c", "household_id": "h", "complaint_id": "x"}, None),
        ({"complaint_id": "x"}, None),
        ({"campaign_id": "c"}, None),
    ],
)
def test_a_campaign_invitation_names_a_campaign_and_a_household_and_no_complaint(data: dict[str, Any], kind: str | None) -> None:
    assert compose.campaign_kind(data) == kind


def test_campaign_messages_are_held_by_quiet_hours() -> None:
    assert all(compose.held_by_quiet_hours(kind=kind, tier=None) for kind in compose.CAMPAIGN_KINDS)


def entries(*rows: dict[str, Any], kept: dict[str, Any] | None = None, sealer: Sealer = INTAKE_SEALER) -> list[dict[str, Any]]:
    return households.book_entries(rows, sealer=sealer, imported_at=MONDAY_MORNING, kept=kept or {}, tenancy=TENANCY)


def test_an_entry_keeps_the_phone_in_e164_the_estate_and_no_name() -> None:
    [entry] = entries(household(phone="+86 138-0013-8000"))
    assert entry == {
        "_id": HOUSEHOLD,
        "phone": PHONE_E164,
        "contact_problem": None,
        "household_type": "owner",
        **TENANCY,
        "imported_at": MONDAY_MORNING,
    }


def test_the_last_row_of_a_household_wins_and_an_older_import_writes_nothing() -> None:
    [entry] = entries(household(), household(phone="13900139000"))
    assert entry["phone"] == "+8613900139000"
    assert entries(household(), kept={HOUSEHOLD: MONDAY_MORNING + timedelta(seconds=1)}) == []
    assert len(entries(household(), kept={HOUSEHOLD: MONDAY_MORNING})) == 1, "the same import again writes the same entry"


def test_unusable_contacts_are_kept_with_their_reasons_and_counted() -> None:
    found = entries(
        household("NS01:1:1:0101", sealer=Sealer([new_key()])),
        household("NS01:1:1:0102", phone="12345"),
        household("NS01:1:1:0103", phone=None),
    )
    assert [(e["phone"], e["contact_problem"]) for e in found] == [(None, UNREADABLE), (None, INVALID_PHONE), (None, None)]
    assert households.problems(found) == {UNREADABLE: 1, INVALID_PHONE: 1}


def test_a_household_is_messaged_by_sms_or_skipped_with_the_reason() -> None:
    route = household_route(phone="86-13800138000", contact_problem=None)
    assert (route.channel, route.recipient, route.skip_reason, route.call_task_reason) == (SMS, PHONE_E164, None, None)
    assert household_route(phone=None, contact_problem=None).skip_reason == HOUSEHOLD_NO_PHONE_REASON
    assert household_route(phone=None, contact_problem=UNREADABLE).skip_reason == UNREADABLE
    assert household_route(phone="12345", contact_problem=None).skip_reason == INVALID_PHONE
