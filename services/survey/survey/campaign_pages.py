"""The campaign questionnaire as the resident's page: what the template shows, and the form read back as an answer.

The page (``templates/campaign.html.j2``) shows every question of the campaign's questionnaire by
dimension, in Simplified Chinese with the English beside it (as the follow-up page does, so no
language has to be guessed), each scored 1-5, then ``overall`` 1-10 and ``recommend`` 0-10 and a
comment. It is plain HTML: radio buttons and a form that posts to ``/s/<token>``, no JavaScript, no
external assets. A form sent back with errors is shown again with the resident's choices kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SCALES = (
    ("overall", 1, 10, "总体而言，您对物业服务的满意度（1-10分）", "Overall, how satisfied are you with the property services? (1-10)"),
    (
        "recommend",
        0,
        10,
        "您向亲友推荐本小区物业服务的可能性有多大？（0-10分）",
        "How likely are you to recommend our property services to a friend or relative? (0-10)",
    ),
)
NOT_OPEN = (
    "调查尚未开始",
    "Survey not open yet",
    "这份满意度调查尚未开始，请在开始后再填写。",
    "This satisfaction survey has not opened yet. Please come back once it has.",
)


def _number(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def form_values(form: Mapping[str, str], *, questions: Sequence[str]) -> dict[str, Any]:
    """Turn the page's form into the JSON shape of a campaign answer; a question left blank is left out (the check then names it)."""
    values: dict[str, Any] = {
        "answers": {question: _number(form[question]) for question in questions if form.get(question, "") != ""},
        "comment": form.get("comment", ""),
    }
    for key, *_ in SCALES:
        if form.get(key, "") != "":
            values[key] = _number(form[key])
    return values


def _bilingual(text: Mapping[str, str]) -> dict[str, str]:
    """Return a stored text in both languages (stored as the schema loads it: ``zh_CN`` and ``en``)."""
    return {"zh-CN": text.get("zh_CN") or text.get("zh-CN") or "", "en": text.get("en") or ""}


def page_values(
    questionnaire: Mapping[str, Any], *, action: str, chosen: Mapping[str, str] | None = None, errors: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return what the campaign page template shows."""
    return {
        "action": action,
        "title": _bilingual(questionnaire["title"]),
        "dimensions": [
            {
                "title": _bilingual(dimension["title"]),
                "questions": [{"id": question["id"], "text": _bilingual(question["text"])} for question in dimension["questions"]],
            }
            for dimension in questionnaire["dimensions"]
        ],
        "scales": SCALES,
        "chosen": dict(chosen or {}),
        "errors": dict(errors or {}),
    }
