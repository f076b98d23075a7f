"""The complaint facts fold: order-independent, idempotent, and free of personal data."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

from analytics.domain.facts import apply, complaint_id_of, measured_outcome
from propcare_shared.events.envelope import Event, new_event
from tests.analytics.factories import CONTACT, PERSONAL_TEXTS, REPORTER_ROLE, SCORES, ComplaintStory, utc_now


def fold(events: list[Event]) -> dict:
    facts = None
    for event in events:
        facts = apply(facts, event)
    assert facts is not None
    return facts


def story() -> ComplaintStory:
    return ComplaintStory(received_at=utc_now() - timedelta(days=2))


def test_lifecycle_gives_the_facts_of_the_complaint() -> None:
    complaint = story()
    facts = fold(complaint.lifecycle())
    assert facts["_id"] == complaint.complaint_id
    assert (facts["group_id"], facts["region_id"], facts["estate_id"]) == ("G1", "R1", "NS01")
    assert (facts["building"], facts["channel"], facts["household_type"], facts["age_band"]) == ("3", "app", "owner", "60+")
    assert (facts["category"], facts["subcategory"], facts["tier"], facts["department"]) == (
        "facility",
        "elevator",
        "general",
        "engineering",
    )
    assert facts["status"] == "resolved" and facts["status_seq"] == 5
    assert facts["received_at"] == complaint.received_at
    assert facts["responded_at"] == complaint.at(1800)
    assert facts["resolved_at"] == complaint.at(86400)
    assert facts["closed_at"] is None and facts["reopen_count"] == 0 and facts["hotline"] is False
    assert facts["deadlines"] == complaint.deadlines(resolved_at=complaint.at(86400))
    assert facts["outcomes"]["response"]["outcome"] == "met" and facts["outcomes"]["response"]["met_at"] == complaint.at(1800)
    assert facts["outcomes"]["resolve"]["outcome"] == "met"
    assert facts["survey"] == {
        "invitations": 1,
        "invited_at": complaint.at(86460),
        "answered_at": complaint.at(93600),
        "solved": True,
        "scores": SCORES,
        "satisfied": True,
    }


def test_every_arrival_order_gives_the_same_facts() -> None:
    events = story().lifecycle()
    expected = fold(events)
    for order in itertools.permutations(events):
        assert fold(list(order)) == expected


def test_an_event_applied_twice_changes_nothing() -> None:
    events = story().lifecycle()
    once = fold(events)
    assert fold([event for event in events for _ in range(2)]) == once


def test_no_personal_data_enters_the_facts() -> None:
    complaint = story()
    received = complaint.received()
    assert received.data["contact"] == CONTACT and received.data["reporter_role"] == REPORTER_ROLE
    assert "reporter" not in received.data
    facts = fold(complaint.lifecycle())
    text = json.dumps(facts, default=str, ensure_ascii=False)
    for secret in PERSONAL_TEXTS:
        assert secret not in text
    assert not {"reporter", "contact", "unit", "room", "household_id", "description", "demand", "note"} & set(facts)


def test_an_older_seq_never_overwrites_the_status() -> None:
    complaint = story()
    facts = fold([complaint.resolved(), complaint.responded(), complaint.classified()])
    assert facts["status"] == "resolved"
    assert facts["status_seq"] == 5


def test_dispatch_events_before_the_received_one_fill_what_intake_then_confirms() -> None:
    complaint = story()
    early = fold([complaint.assigned()])
    assert early["received_at"] == complaint.received_at and early["channel"] == "app" and early["building"] is None
    facts = apply(early, complaint.received())
    assert facts["building"] == "3" and facts["status"] == "assigned"


def test_reopen_counts_once_per_reopen_and_keeps_the_first_cycle_outcomes() -> None:
    complaint = story()
    late_second_response = complaint.work_order(
        "complaint.responded", seq=7, seconds=200000, status="responded", targets_met={"response": False}
    )
    facts = fold([*complaint.lifecycle()[:5], complaint.reopened(), complaint.reopened(), late_second_response])
    assert facts["reopen_count"] == 1
    assert facts["outcomes"]["response"]["outcome"] == "met"
    assert facts["responded_at"] == complaint.at(1800)
    assert facts["resolved_at"] == complaint.at(86400)
    assert facts["status"] == "responded"


def test_a_breach_alert_stands_until_dispatch_reports_the_late_meeting() -> None:
    complaint = story()
    alert = new_event(
        "sla.breached",
        producer="dispatch",
        data={
            "complaint_id": complaint.complaint_id,
            "ticket_no": complaint.ticket_no,
            "target": "response",
            "tier": "general",
            "due_at": complaint.at(86400),
            "at": complaint.at(86460),
            "level": 1,
        },
        **complaint.envelope(None),
    )
    late = complaint.work_order("complaint.responded", seq=4, seconds=90000, status="responded", targets_met={"response": False})
    alerted = fold([complaint.received(), complaint.assigned(), alert])
    assert alerted["outcomes"]["response"]["outcome"] == "breached" and alerted["outcomes"]["response"]["met_at"] is None
    assert alerted["escalation_level"] == 1
    for order in ([alert, late], [late, alert]):
        facts = fold([complaint.received(), complaint.assigned(), *order])
        assert facts["outcomes"]["response"]["outcome"] == "breached"
        assert facts["outcomes"]["response"]["met_at"] == complaint.at(90000)


def test_a_survey_closed_without_answer_is_an_invitation_without_answer() -> None:
    complaint = story()
    no_answer = new_event(
        "survey.completed",
        producer="survey",
        data={
            "invitation_id": complaint.invitation_id,
            "kind": "follow_up",
            "complaint_id": complaint.complaint_id,
            "satisfied": True,
            "answered_at": complaint.at(700000),
            "auto_closed": True,
        },
        **complaint.envelope(None),
    )
    facts = fold([complaint.received(), complaint.survey_invited(), no_answer])
    assert facts["survey"]["invitations"] == 1
    assert facts["survey"]["answered_at"] is None
    assert facts["surveys"][complaint.invitation_id]["expired_at"] == complaint.at(700000)


def test_completed_and_dissatisfied_of_one_answer_are_one_answer() -> None:
    complaint = story()
    completed = complaint.survey_completed(scores={"result": 2.0, "speed": 3.0, "attitude": 3.0})
    data = {**completed.data, "satisfied": False}
    completed = new_event("survey.completed", producer="survey", data=data, **complaint.envelope(None))
    dissatisfied = new_event("survey.dissatisfied", producer="survey", data=data, **complaint.envelope(None))
    for order in ([completed, dissatisfied], [dissatisfied, completed]):
        facts = fold([complaint.survey_invited(), *order])
        assert len(facts["surveys"]) == 1
        assert facts["survey"]["satisfied"] is False


def test_events_about_no_complaint_change_no_facts() -> None:
    campaign_answer = new_event(
        "campaign.response_recorded",
        producer="survey",
        data={
            "campaign_id": "C1",
            "invitation_id": "I1",
            "channel": "online",
            "source": "online",
            "overall": 8,
            "recommend": 9,
            "answered_at": utc_now(),
        },
    )
    sent = new_event(
        "notification.sent",
        producer="notification",
        data={"message_id": "M1", "kind": "ack", "channel": "sms", "provider": "log", "complaint_id": "X"},
    )
    assert complaint_id_of(campaign_answer) is None
    assert complaint_id_of(sent) is None


def test_measured_outcome_judges_open_targets_past_their_deadline() -> None:
    complaint = story()
    now = complaint.at(5 * 86400)
    assigned = fold([complaint.received(), complaint.assigned()])
    assert measured_outcome(assigned, "response", now=now) == "breached"
    assert measured_outcome(assigned, "response", now=complaint.at(3600)) is None
    on_hold = fold([complaint.received(), complaint.work_order("complaint.on_hold", seq=3, seconds=60, status="on_hold")])
    assert measured_outcome(on_hold, "resolve", now=now) is None
    resolved = fold(complaint.lifecycle()[:5])
    assert measured_outcome(resolved, "resolve", now=now) == "met"
    assert measured_outcome(resolved, "follow_up", now=now) == "breached"
    assert measured_outcome(resolved, "follow_up", now=complaint.at(86400 + 3600)) is None
    cancelled = fold(
        [complaint.received(), complaint.work_order("complaint.cancelled", seq=3, seconds=60, status="cancelled", reason="duplicate")]
    )
    assert measured_outcome(cancelled, "response", now=now) is None
