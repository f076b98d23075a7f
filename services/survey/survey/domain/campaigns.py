"""The rules of a satisfaction campaign once its sample is drawn (docs/PRODUCT.md §9.2-9.3, docs/SURVEYS.md).

Pure: plain values in and out, ``now`` passed in. The sample itself is ``domain/sampling.py``.

- **Period.** A campaign opens at ``opens_at`` and closes at ``closes_at``, which must be later than
  both ``opens_at`` and now. Before ``opens_at`` nothing goes out and an answer is refused (409,
  ``NotOpenYet``); from ``closes_at`` on an answer is refused (410) even before the worker closed it.
- **Invitations.** One per sampled household with the channel of the draw. The online ones get the
  resident's link when the campaign opens and one reminder ``reminder_after_days`` later if still pending.
- **Answers.** Every question of the questionnaire 1-5, ``overall`` 1-10, ``recommend`` 0-10, a
  comment up to 1,000 characters; an unknown or missing question id is a field error. Staff record
  ``phone`` or ``offline`` (paper and visits are offline: they are accepted and stored as offline).
- **Counts.** ``response_rate`` is answers over the sample size, to four decimals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from survey.domain.questionnaires import COMPLAINT_HANDLING, OVERALL_SCORES, QUESTION_SCORES, RECOMMEND_SCORES

CAMPAIGN = "campaign"
KINDS = ("regular", "special", "churn")
STATUSES = ("open", "closed")
DEFAULT_REMINDER_AFTER_DAYS = 3
# What staff may send as the channel of an answer they record, and the campaign channel it counts as.
STAFF_CHANNELS: Mapping[str, str] = {"phone": "phone", "offline": "offline", "paper": "offline", "visit": "offline"}
ONLINE = "online"
COMMENT_LIMIT = 1000


class InvalidAnswer(ValueError):
    """A campaign answer that breaks a rule; ``errors`` maps each field at fault to its messages (a 422)."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))
        self.errors = dict(errors)


class NotOpenYet(Exception):
    """An answer to a campaign before it opens (a 409 naming ``opens_at``)."""

    def __init__(self, opens_at: datetime) -> None:
        super().__init__(opens_at.isoformat())
        self.opens_at = opens_at


class WrongCampaign(Exception):
    """An imported row naming an invitation of another campaign."""


def period_errors(*, opens_at: datetime, closes_at: datetime, now: datetime) -> dict[str, list[str]]:
    """Return the field errors of a campaign's period (empty when it is fine)."""
    if closes_at <= opens_at:
        return {"closes_at": ["Must be later than opens_at."]}
    if closes_at <= now:
        return {"closes_at": ["Must be in the future."]}
    return {}


def dimensions_of(questionnaire: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return a questionnaire's dimensions as a campaign keeps and announces them: ids only, no texts."""
    return [
        {"id": str(dimension["id"]), "questions": [str(question["id"]) for question in dimension["questions"]]}
        for dimension in questionnaire["dimensions"]
    ]


def complaint_handling_question(questionnaire: Mapping[str, Any]) -> str | None:
    """Return the id of the question that measures complaint handling, or ``None``."""
    for dimension in questionnaire["dimensions"]:
        for question in dimension["questions"]:
            if question.get("measures") == COMPLAINT_HANDLING:
                return str(question["id"])
    return None


def question_ids(dimensions: Iterable[Mapping[str, Any]]) -> list[str]:
    """Return the question ids of a campaign's dimensions, in order."""
    return [str(question_id) for dimension in dimensions for question_id in dimension["questions"]]


def _score_error(value: object, bounds: tuple[int, int]) -> str | None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int):
        return f"Must be a whole number from {low} to {high}."
    if not low <= value <= high:
        return f"Must be from {low} to {high}."
    return None


def answer_errors(*, questions: Sequence[str], answers: Mapping[str, object], overall: object, recommend: object) -> dict[str, list[str]]:
    """Return the field errors of a campaign answer against its questions (empty when it is valid)."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(answers) - set(questions))
    if unknown:
        errors.setdefault("answers", []).append(f"Unknown question id(s): {', '.join(unknown)}.")
    missing = [question for question in questions if question not in answers]
    if missing:
        errors.setdefault("answers", []).append(f"Every question needs an answer; missing: {', '.join(missing)}.")
    for question in questions:
        if question in answers and (message := _score_error(answers[question], QUESTION_SCORES)):
            errors[f"answers.{question}"] = [message]
    for field, value, bounds in (("overall", overall, OVERALL_SCORES), ("recommend", recommend, RECOMMEND_SCORES)):
        if message := _score_error(value, bounds):
            errors[field] = [message]
    return errors


def check_answer(*, questions: Sequence[str], answers: Mapping[str, object], overall: object, recommend: object) -> None:
    """Raise ``InvalidAnswer`` unless a campaign answer scores every question of the campaign within its scale."""
    errors = answer_errors(questions=questions, answers=answers, overall=overall, recommend=recommend)
    if errors:
        raise InvalidAnswer(errors)


def refusal(*, invitation: Mapping[str, Any], now: datetime) -> str | None:
    """Return why an invitation cannot be answered now (``answered``, ``closed``, ``not_open``), or ``None``."""
    if invitation["status"] == "answered":
        return "answered"
    if invitation["status"] != "pending" or invitation["expires_at"] <= now:
        return "closed"
    if invitation.get("opens_at") is not None and invitation["opens_at"] > now:
        return "not_open"
    return None


def remind_at(*, opens_at: datetime, reminder_after_days: int) -> datetime:
    """Return when a pending online invitation is reminded."""
    return opens_at + timedelta(days=reminder_after_days)


def response_rate(*, responded: int, sample_size: int) -> float:
    """Return answers over the sample size, to four decimals (0 for an empty sample)."""
    return round(responded / sample_size, 4) if sample_size else 0.0


def stratum_key(key: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return a stratum key of the sample (pairs of field and value) as a mapping."""
    return {field: value for field, value in key}
