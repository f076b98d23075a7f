"""The rules of the follow-up survey (回访) after a resolved complaint (docs/PRODUCT.md §9).

Pure. A resident answers whether the problem is solved and scores the result, the speed and the
attitude from 1 to 5. Not solved, or any score of 2 or less, is dissatisfied: dispatch reopens the
complaint. An invitation is reminded once after ``REMIND_AFTER`` and expires after ``EXPIRES_AFTER``;
an expired follow-up closes the complaint as satisfied by default (no answer in 7 days).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

SCORE_KEYS = ("result", "speed", "attitude")
LOWEST_SATISFIED_SCORE = 3
REMIND_AFTER = timedelta(days=3)
EXPIRES_AFTER = timedelta(days=7)
FOLLOW_UP = "follow_up"


def is_satisfied(*, solved: bool, scores: Mapping[str, int]) -> bool:
    """Tell whether an answer counts as satisfied."""
    return solved and all(score >= LOWEST_SATISFIED_SCORE for score in scores.values())


def answer_event_type(*, satisfied: bool) -> str:
    """Return the event an answer causes."""
    return "survey.completed" if satisfied else "survey.dissatisfied"
