"""Satisfaction figures of campaign answers: NPS, means, Pearson r, dimension weights, the priority matrix, cross tables.

Pure: plain answer records in, plain values out. An answer record is
``{"household_type", "age_band", "channel", "overall", "recommend", "answers": {question_id: score}}``
(``overall`` 1-10, ``recommend`` 0-10, each question 1-5); the questionnaire is given as its dimensions
``[{"id", "questions": [question ids]}]`` and the id of the question that ``measures: complaint_handling``.

Definitions:
- NPS = % promoters (recommend 9-10) - % detractors (0-6), from -100 to 100; 7-8 are passives. None for
  no answers with a recommend score. An answer without ``recommend`` is left out of NPS only.
- A dimension's per-response score is the mean of the questions of that dimension the response answered;
  a response that answered none of them is left out of that dimension. Its ``mean`` is the mean of those
  per-response scores (1-5).
- Pearson r is None when undefined: fewer than 2 pairs, or either side has zero variance.
- A dimension's ``weight`` is the Pearson r of its per-response score with ``overall`` over the
  responses that have both.
- ``complaint_handling_r`` is the Pearson r of the complaint-handling question with ``overall``. When
  answers come from several questionnaires (a period across campaigns) no one question id is given:
  each record then carries its own questionnaire's complaint-handling score as ``complaint_handling``.
- Priority matrix: a dimension's weight is *high* when it is at least the cut (by default the median
  weight of the dimensions that have one), its score *low* when it is below the cut (by default the
  median score). ``fix_first`` = high weight & low score, ``keep`` = high & high, ``watch`` = low
  weight & low score, ``low_priority`` = low & high. Rows are ordered by quadrant in that order, then by
  weight descending, then by id; a dimension without a weight or a score is ``unrated`` and comes last.
- Cross tables: per value of household type, age band and channel (missing: ``unknown``), ``n``, the
  overall mean and NPS. A cell of fewer than ``min_n`` (default 5) answers is reported as too small:
  ``{"n": n, "too_small": True, "overall_mean": None, "nps": None}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from analytics.domain.kpis import mean

PROMOTER_MIN = 9
DETRACTOR_MAX = 6
MIN_CELL = 5
CROSS_FIELDS = ("household_type", "age_band", "channel")
QUADRANT_ORDER = ("fix_first", "keep", "watch", "low_priority", "unrated")
UNKNOWN = "unknown"

Answer = Mapping[str, Any]
Dimension = Mapping[str, Any]


def nps(recommend_scores: Sequence[float]) -> dict[str, Any]:
    """Return ``{"nps", "promoters", "passives", "detractors"}`` of recommend scores (0-10); nps None for none."""
    promoters = sum(1 for score in recommend_scores if score >= PROMOTER_MIN)
    detractors = sum(1 for score in recommend_scores if score <= DETRACTOR_MAX)
    passives = len(recommend_scores) - promoters - detractors
    value = 100 * (promoters - detractors) / len(recommend_scores) if recommend_scores else None
    return {"nps": value, "promoters": promoters, "passives": passives, "detractors": detractors}


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Return Pearson's r of paired values; None with fewer than 2 pairs or zero variance on either side."""
    if len(xs) != len(ys):
        raise ValueError("pearson needs pairs: the two sequences differ in length")
    if len(xs) < 2:
        return None
    mean_x, mean_y = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
    dx = [x - mean_x for x in xs]
    dy = [y - mean_y for y in ys]
    sxx, syy = math.fsum(d * d for d in dx), math.fsum(d * d for d in dy)
    if sxx == 0 or syy == 0:
        return None
    r = math.fsum(a * b for a, b in zip(dx, dy, strict=True)) / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, r))


def median(values: Sequence[float]) -> float | None:
    """Return the median, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def dimension_score(answer: Answer, questions: Sequence[str]) -> float | None:
    """Return the mean of a response's scores for the questions of one dimension; None if it answered none."""
    scores = [float(answer["answers"][question]) for question in questions if (answer.get("answers") or {}).get(question) is not None]
    return mean(scores)


def dimensions(answers: Sequence[Answer], questionnaire: Sequence[Dimension]) -> list[dict[str, Any]]:
    """Return each dimension's ``{"id", "n", "mean", "weight"}`` (weight: Pearson r of its score with overall)."""
    rows = []
    for dimension in questionnaire:
        scored = [
            (score, answer.get("overall")) for answer in answers if (score := dimension_score(answer, dimension["questions"])) is not None
        ]
        paired = [(score, float(overall)) for score, overall in scored if overall is not None]
        rows.append(
            {
                "id": dimension["id"],
                "n": len(scored),
                "mean": mean([score for score, _ in scored]),
                "weight": pearson([x for x, _ in paired], [y for _, y in paired]),
            }
        )
    return rows


def complaint_handling_r(answers: Sequence[Answer]) -> float | None:
    """Return the Pearson r of each record's ``complaint_handling`` score with overall (records of several questionnaires)."""
    pairs = [
        (float(answer["complaint_handling"]), float(answer["overall"]))
        for answer in answers
        if answer.get("complaint_handling") is not None and answer.get("overall") is not None
    ]
    return pearson([x for x, _ in pairs], [y for _, y in pairs])


def question_r(answers: Sequence[Answer], question_id: str | None) -> float | None:
    """Return the Pearson r of one question's score with overall; None without the question or enough pairs."""
    if question_id is None:
        return None
    pairs = [
        (float(answer["answers"][question_id]), float(answer["overall"]))
        for answer in answers
        if (answer.get("answers") or {}).get(question_id) is not None and answer.get("overall") is not None
    ]
    return pearson([x for x, _ in pairs], [y for _, y in pairs])


def quadrant(*, weight: float | None, score: float | None, weight_cut: float | None, score_cut: float | None) -> str:
    """Return the priority quadrant of a dimension: high weight is ≥ the cut, low score is < the cut."""
    if weight is None or score is None or weight_cut is None or score_cut is None:
        return "unrated"
    high = weight >= weight_cut
    low = score < score_cut
    if high:
        return "fix_first" if low else "keep"
    return "watch" if low else "low_priority"


def priority_matrix(
    rows: Sequence[Mapping[str, Any]], *, weight_cut: float | None = None, score_cut: float | None = None
) -> list[dict[str, Any]]:
    """Return ``[{"dimension", "weight", "score", "quadrant"}]``, fix_first first, then by weight descending.

    The cuts default to the medians of the rated dimensions' weights and scores.
    """
    rated = [row for row in rows if row.get("weight") is not None and row.get("mean") is not None]
    if weight_cut is None:
        weight_cut = median([row["weight"] for row in rated])
    if score_cut is None:
        score_cut = median([row["mean"] for row in rated])
    matrix = [
        {
            "dimension": row["id"],
            "weight": row.get("weight"),
            "score": row.get("mean"),
            "quadrant": quadrant(weight=row.get("weight"), score=row.get("mean"), weight_cut=weight_cut, score_cut=score_cut),
        }
        for row in rows
    ]
    return sorted(
        matrix,
        key=lambda item: (
            QUADRANT_ORDER.index(item["quadrant"]),
            -(item["weight"] if item["weight"] is not None else -math.inf),
            item["dimension"],
        ),
    )


def summary(answers: Sequence[Answer]) -> dict[str, Any]:
    """Return ``n``, the overall mean and the NPS figures of a set of answers."""
    overall = [float(answer["overall"]) for answer in answers if answer.get("overall") is not None]
    recommend = [float(answer["recommend"]) for answer in answers if answer.get("recommend") is not None]
    return {"n": len(answers), "overall_mean": mean(overall), **nps(recommend)}


def cross_tables(answers: Sequence[Answer], *, min_n: int = MIN_CELL) -> dict[str, dict[str, dict[str, Any]]]:
    """Return ``{field: {value: {"n", "overall_mean", "nps", "too_small"}}}`` for household type, age band and channel."""
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for field in CROSS_FIELDS:
        groups: dict[str, list[Answer]] = {}
        for answer in answers:
            groups.setdefault(str(answer.get(field) or UNKNOWN), []).append(answer)
        table = {}
        for value in sorted(groups):
            cell = groups[value]
            if len(cell) < min_n:
                table[value] = {"n": len(cell), "overall_mean": None, "nps": None, "too_small": True}
            else:
                figures = summary(cell)
                table[value] = {"n": len(cell), "overall_mean": figures["overall_mean"], "nps": figures["nps"], "too_small": False}
        tables[field] = table
    return tables


def analyse(
    answers: Sequence[Answer],
    *,
    questionnaire: Sequence[Dimension],
    complaint_handling_question: str | None,
    min_n: int = MIN_CELL,
    weight_cut: float | None = None,
    score_cut: float | None = None,
) -> dict[str, Any]:
    """Return every satisfaction figure of a set of answers (see the module's definitions)."""
    figures = summary(answers)
    dimension_rows = dimensions(answers, questionnaire)
    return {
        "responses": figures["n"],
        "overall_mean": figures["overall_mean"],
        "nps": figures["nps"],
        "promoters": figures["promoters"],
        "passives": figures["passives"],
        "detractors": figures["detractors"],
        "dimensions": dimension_rows,
        "cross_tables": cross_tables(answers, min_n=min_n),
        "complaint_handling_r": (
            question_r(answers, complaint_handling_question) if complaint_handling_question else complaint_handling_r(answers)
        ),
        "priority_matrix": priority_matrix(dimension_rows, weight_cut=weight_cut, score_cut=score_cut),
    }
