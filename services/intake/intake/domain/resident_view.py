"""What the resident's tracking page shows, decided from plain values.

Pure: the complaint, its timeline, the follow-up survey intake heard of and the estate's time zone
in; words and local times out. The rules:

- the language is the one asked for in the address (``?lang=``), else the best of the browser's
  ``Accept-Language`` (any ``zh`` is simplified Chinese), else simplified Chinese;
- times are shown in the estate's time zone, never the browser's or the server's;
- the timeline names no person: an entry is the action in plain words, with its note only where the
  note is meant for the resident (a plan, progress, a hold, the resolution, a cancellation's reason,
  and what the resident added); escalations are the staff's business and are left out;
- the time limits shown are the ones still ahead: a target whose action happened (a first contact,
  the arrival, the plan, the resolution) is left out, and the follow-up's only once resolved;
- what the page offers: the form to add information while the complaint is open; once resolved,
  the follow-up survey link (until answered or expired) and no form; closed, cancelled and reopened
  complaints say what to do instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from intake.domain.resident_texts import ACTION_WORDS, DEFAULT_LANGUAGE, LANGUAGES, STATUS_WORDS, TARGET_WORDS

RESIDENT_NOTES = frozenset({"plan", "progress", "hold", "resolve", "cancel", "updated_by_resident"})
HIDDEN_ACTIONS = frozenset({"escalate"})
ADDING_STATUSES = frozenset({"received", "classified", "assigned", "responded", "in_progress", "on_hold"})
FINAL_STATUSES = frozenset({"closed", "cancelled"})
TARGET_ORDER = ("response", "onsite", "plan", "resolve", "follow_up")
# The actions that meet each target (dispatch's workflow): a met target is no longer a limit the resident waits on.
MEETS = {"respond": ("response",), "arrive": ("response", "onsite"), "plan": ("response", "plan"), "resolve": ("response", "resolve")}


def choose_language(asked: str | None, accepted: Iterable[tuple[str, float]]) -> str:
    """Return the page language: the one asked for, else the browser's best, else simplified Chinese."""
    if asked in LANGUAGES:
        return asked
    for tag, _quality in sorted(accepted, key=lambda item: -item[1]):
        primary = tag.lower().split("-")[0]
        if primary == "zh":
            return "zh-CN"
        if primary == "en":
            return "en"
    return DEFAULT_LANGUAGE


def local_time(moment: datetime, *, timezone: str) -> str:
    """Return a moment as the estate's local date and time, e.g. ``2026-11-23 14:30``."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Entry:
    """One line of the resident's timeline."""

    at: str
    action: str
    note: str | None


@dataclass(frozen=True)
class TrackingView:
    """Everything the tracking page shows of one complaint."""

    status: str
    status_words: str
    time_limits: list[tuple[str, str]]
    entries: list[Entry]
    offer: str
    """``add`` (the form), ``survey`` (resolved: the survey link), ``answered``, ``resolved``, ``reopened`` or ``closed``."""
    survey_link: str | None
    survey_satisfied: bool | None


def timeline_entries(timeline: Sequence[Mapping[str, Any]], *, language: str, timezone: str) -> list[Entry]:
    """Return the timeline as the resident reads it: actions in words, notes only where meant for them, nobody named."""
    words = ACTION_WORDS[language]
    entries = []
    for change in timeline:
        action = str(change.get("action") or "other")
        if action in HIDDEN_ACTIONS:
            continue
        note = change.get("note") if action in RESIDENT_NOTES else None
        entries.append(Entry(at=local_time(change["at"], timezone=timezone), action=words.get(action, words["other"]), note=note or None))
    return entries


def time_limits(deadlines: Mapping[str, Any], *, met: Iterable[str] = (), language: str, timezone: str) -> list[tuple[str, str]]:
    """Return the time limits not met yet in the estate's local time, in the order of the lifecycle."""
    words = TARGET_WORDS[language]
    done = set(met)
    ordered = sorted(deadlines, key=lambda target: TARGET_ORDER.index(target) if target in TARGET_ORDER else len(TARGET_ORDER))
    return [
        (words.get(target, target), local_time(deadlines[target], timezone=timezone))
        for target in ordered
        if isinstance(deadlines[target], datetime) and target not in done
    ]


def targets_met(*, status: str, timeline: Sequence[Mapping[str, Any]]) -> set[str]:
    """Return the targets the complaint's actions met; before resolution the follow-up is not due yet, so it counts as none to show."""
    met: set[str] = set()
    for change in timeline:
        if change.get("action") == "reopen":  # handled again: every limit runs anew
            met.clear()
        met.update(MEETS.get(str(change.get("action")), ()))
    if status != "resolved":
        met.add("follow_up")
    return met


def offer_of(*, status: str, reopened: bool, survey: Mapping[str, Any] | None, now: datetime) -> str:
    """Return what the page offers the resident for a complaint in this state."""
    if status in FINAL_STATUSES:
        return "closed"
    if status == "resolved":
        if survey is not None and survey.get("answered"):
            return "answered"
        expires_at = survey.get("expires_at") if survey is not None else None
        if survey is not None and survey.get("link") and (expires_at is None or _aware(expires_at) > now):
            return "survey"
        return "resolved"
    if reopened:
        return "reopened"
    return "add" if status in ADDING_STATUSES else "closed"


def tracking_view(
    complaint: Mapping[str, Any],
    *,
    timeline: Sequence[Mapping[str, Any]],
    survey: Mapping[str, Any] | None,
    timezone: str,
    language: str,
    now: datetime,
) -> TrackingView:
    """Return what the tracking page shows of a complaint."""
    status = str(complaint.get("status") or "received")
    reopened = any(change.get("action") == "reopen" for change in timeline)
    offer = offer_of(status=status, reopened=reopened, survey=survey, now=now)
    return TrackingView(
        status=status,
        status_words=STATUS_WORDS[language].get(status, status),
        time_limits=time_limits(
            complaint.get("deadlines") or {}, met=targets_met(status=status, timeline=timeline), language=language, timezone=timezone
        )
        if status not in FINAL_STATUSES
        else [],
        entries=timeline_entries(timeline, language=language, timezone=timezone),
        offer=offer,
        survey_link=survey.get("link") if survey is not None and offer == "survey" else None,
        survey_satisfied=survey.get("satisfied") if survey is not None and survey.get("answered") else None,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
