"""The rules of a satisfaction questionnaire (docs/PRODUCT.md §9.2, docs/SURVEYS.md).

Pure. A questionnaire has dimensions, each with questions scored 1 to 5; every questionnaire also
asks ``overall`` (1 to 10) and ``recommend`` (0 to 10, for NPS), which are implied and never listed.
Question ids and dimension ids are unique within a questionnaire and may not be ``overall`` or
``recommend``; at most one question ``measures`` ``complaint_handling`` (the score correlated with
``overall``).

Versioning: a questionnaire no campaign uses is replaced in place (its id and version stay); once a
campaign uses it, a change makes a new version (new id, ``version + 1``, ``previous_id``) and the old
one stays as it was, so a campaign's answers always match the questions it asked. Only the latest
version of a line may be changed: changing one that already has a successor is a conflict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

QUESTION_SCORES = (1, 5)
OVERALL_SCORES = (1, 10)
RECOMMEND_SCORES = (0, 10)
COMPLAINT_HANDLING = "complaint_handling"
IMPLIED_QUESTIONS = ("overall", "recommend")


class InvalidQuestionnaire(ValueError):
    """A questionnaire that breaks a rule; ``errors`` maps each field at fault to its messages (a 422)."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))
        self.errors = dict(errors)


class QuestionnaireSuperseded(Exception):
    """A change to a questionnaire that already has a newer version (a 409 naming the latest)."""

    def __init__(self, latest_id: str) -> None:
        super().__init__(latest_id)
        self.latest_id = latest_id


def _repeated(values: Iterable[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


def check_dimensions(dimensions: list[Mapping[str, Any]]) -> None:
    """Raise ``InvalidQuestionnaire`` unless the dimensions and their questions follow the rules."""
    errors: dict[str, list[str]] = {}
    if not dimensions:
        errors.setdefault("dimensions", []).append("A questionnaire needs at least one dimension.")
    dimension_ids = [str(dimension["id"]) for dimension in dimensions]
    question_ids = [str(question["id"]) for dimension in dimensions for question in dimension.get("questions", [])]
    if repeated := _repeated(dimension_ids):
        errors.setdefault("dimensions", []).append(f"Duplicate dimension id(s): {', '.join(repeated)}.")
    if repeated := _repeated(question_ids):
        errors.setdefault("questions", []).append(f"Duplicate question id(s): {', '.join(repeated)}.")
    if reserved := sorted(set(question_ids) & set(IMPLIED_QUESTIONS)):
        errors.setdefault("questions", []).append(f"{', '.join(reserved)} is asked on every questionnaire; use another id.")
    for index, dimension in enumerate(dimensions):
        if not dimension.get("questions"):
            errors.setdefault(f"dimensions.{index}.questions", []).append("A dimension needs at least one question.")
    measuring = [str(question["id"]) for dimension in dimensions for question in dimension.get("questions", []) if question.get("measures")]
    if len(measuring) > 1:
        errors.setdefault("questions", []).append(f"At most one question may measure {COMPLAINT_HANDLING}; {', '.join(measuring)} do.")
    if errors:
        raise InvalidQuestionnaire(errors)


def question_ids(dimensions: Iterable[Mapping[str, Any]]) -> list[str]:
    """Return the ids of a questionnaire's scored questions in order (without the implied ones)."""
    return [str(question["id"]) for dimension in dimensions for question in dimension["questions"]]


def is_in_use(questionnaire: Mapping[str, Any]) -> bool:
    """Tell whether a campaign uses a questionnaire (so a change makes a new version)."""
    return bool(questionnaire.get("used_by_campaigns"))


def next_version(
    questionnaire: Mapping[str, Any], *, new_id: str, content: Mapping[str, Any], created_by: str, now: datetime
) -> dict[str, Any]:
    """Return the new version of a questionnaire in use: a new id, ``version + 1``, ``previous_id``, unused."""
    return {
        **content,
        "_id": new_id,
        "group_id": questionnaire["group_id"],
        "version": int(questionnaire["version"]) + 1,
        "previous_id": questionnaire["_id"],
        "used_by_campaigns": [],
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
    }
