"""Satisfaction figures computed by hand for the tests: statistics.fmean, statistics.correlation, counting NPS, median cuts."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

QUADRANTS = ("fix_first", "keep", "watch", "low_priority", "unrated")


def hand_nps(scores: Sequence[int]) -> float:
    return 100 * (sum(1 for s in scores if s >= 9) - sum(1 for s in scores if s <= 6)) / len(scores)


def expected(answers: Sequence[dict[str, Any]], dimensions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every figure of answers (event data), computed here without the code under test."""
    overall = [a["overall"] for a in answers]
    result: dict[str, Any] = {
        "responses": len(answers),
        "overall_mean": statistics.fmean(overall),
        "nps": hand_nps([a["recommend"] for a in answers]),
    }
    result["promoters"] = sum(1 for a in answers if a["recommend"] >= 9)
    result["detractors"] = sum(1 for a in answers if a["recommend"] <= 6)
    rows = {}
    for dimension in dimensions:
        pairs = []
        for answer in answers:
            given = [answer["answers"][q] for q in dimension["questions"] if q in answer["answers"]]
            if given:
                pairs.append((sum(given) / len(given), answer["overall"]))
        rows[dimension["id"]] = {
            "mean": statistics.fmean(x for x, _ in pairs),
            "weight": statistics.correlation([x for x, _ in pairs], [y for _, y in pairs]),
        }
    result["dimensions"] = rows
    weight_cut = statistics.median(row["weight"] for row in rows.values())
    score_cut = statistics.median(row["mean"] for row in rows.values())

    def quadrant(row: dict[str, float]) -> str:
        high, low = row["weight"] >= weight_cut, row["mean"] < score_cut
        return {(True, True): "fix_first", (True, False): "keep", (False, True): "watch", (False, False): "low_priority"}[(high, low)]

    order = sorted(rows, key=lambda d: (QUADRANTS.index(quadrant(rows[d])), -rows[d]["weight"]))
    result["priority"] = [(d, quadrant(rows[d])) for d in order]
    handled = [(a["answers"]["complaint_handling"], a["overall"]) for a in answers if "complaint_handling" in a["answers"]]
    result["complaint_handling_r"] = statistics.correlation([x for x, _ in handled], [y for _, y in handled])
    return result
