"""Questionnaires of satisfaction campaigns: create, read and change one, keeping the versions a campaign used.

A questionnaire belongs to a group (its ``group_id``) and is shared by that group's estates. The
rules are in ``domain/questionnaires.py``; this module loads, decides and writes once. A change to a
questionnaire no campaign uses replaces it in place; a change to one in use makes a new version and
leaves the old one untouched (docs/SURVEYS.md, Versioning).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from propcare_shared.mongo import new_id
from survey.domain.questionnaires import QuestionnaireSuperseded, check_dimensions, is_in_use, next_version
from survey.store import SurveyStore


def create(*, store: SurveyStore, group_id: str, content: Mapping[str, Any], created_by: str, now: datetime) -> dict[str, Any]:
    """Check and store a new questionnaire (version 1) of the caller's group; return it."""
    check_dimensions(content["dimensions"])
    document = {
        **content,
        "_id": new_id(),
        "group_id": group_id,
        "version": 1,
        "previous_id": None,
        "used_by_campaigns": [],
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
    }
    store.insert_questionnaire(document)
    return document


def change(
    *, store: SurveyStore, questionnaire: Mapping[str, Any], content: Mapping[str, Any], changed_by: str, now: datetime
) -> tuple[dict[str, Any], bool]:
    """Replace an unused questionnaire in place, or make a new version of one in use; return it and whether it is new.

    Raises ``QuestionnaireSuperseded`` when the questionnaire already has a newer version.
    """
    check_dimensions(content["dimensions"])
    successor = store.successor_of(questionnaire["_id"])
    if successor is not None:
        raise QuestionnaireSuperseded(successor["_id"])
    if not is_in_use(questionnaire):
        replaced = store.replace_unused_questionnaire(questionnaire["_id"], content=content, now=now)
        if replaced is not None:
            return replaced, False
    document = next_version(questionnaire, new_id=new_id(), content=content, created_by=changed_by, now=now)
    try:
        store.insert_questionnaire(document)
    except DuplicateKeyError:
        latest = store.successor_of(questionnaire["_id"])
        raise QuestionnaireSuperseded(latest["_id"] if latest else questionnaire["_id"]) from None
    return document, True
