"""The satisfaction figures (analytics.domain.satisfaction) against values computed independently here."""

from __future__ import annotations

import random
import statistics
from typing import Any

import pytest

from analytics.domain import satisfaction

QUESTIONNAIRE = [
    {"id": "basic_services", "questions": ["cleaning", "security", "customer_service"]},
    {"id": "facility_maintenance", "questions": ["elevators", "water_power", "public_facilities"]},
    {"id": "communication", "questions": ["disclosure", "complaint_handling"]},
    {"id": "value_added", "questions": ["events", "convenience"]},
]
QUESTIONS = [question for dimension in QUESTIONNAIRE for question in dimension["questions"]]


def generated_answers(count: int = 400, seed: int = 11) -> list[dict[str, Any]]:
    """Answers whose overall score leans on facility maintenance and communication, hardly on value-added services."""
    rng = random.Random(seed)
    answers = []
    for _ in range(count):
        scores = {question: rng.randint(1, 5) for question in QUESTIONS}
        if rng.random() < 0.1:
            del scores["events"]  # some leave a question unanswered
        lean = (scores["elevators"] + scores["water_power"] + scores["complaint_handling"]) / 3
        overall = max(1, min(10, round(2 * lean + rng.gauss(0, 1))))
        answers.append(
            {
                "household_type": rng.choice(["owner", "tenant"]),
                "age_band": rng.choice(["18-35", "36-59", "60+"]),
                "channel": rng.choice(["online", "offline", "phone"]),
                "overall": overall,
                "recommend": max(0, min(10, overall + rng.randint(-1, 1))),
                "answers": scores,
            }
        )
    return answers


def hand_nps(recommend: list[int]) -> float:
    promoters = len([score for score in recommend if score in (9, 10)])
    detractors = len([score for score in recommend if score in range(7)])
    return (promoters / len(recommend) - detractors / len(recommend)) * 100


def test_nps_counts_promoters_passives_and_detractors() -> None:
    result = satisfaction.nps([10, 9, 8, 7, 6, 0, 9, 3])
    assert (result["promoters"], result["passives"], result["detractors"]) == (3, 2, 3)
    assert result["nps"] == 0
    assert satisfaction.nps([10, 10])["nps"] == 100
    assert satisfaction.nps([0, 6])["nps"] == -100
    assert satisfaction.nps([])["nps"] is None


def test_pearson_matches_the_standard_library() -> None:
    rng = random.Random(3)
    xs = [rng.uniform(0, 10) for _ in range(200)]
    ys = [x * 0.7 + rng.gauss(0, 2) for x in xs]
    assert satisfaction.pearson(xs, ys) == pytest.approx(statistics.correlation(xs, ys), abs=1e-12)
    assert satisfaction.pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


@pytest.mark.parametrize(("xs", "ys"), [([], []), ([1.0], [2.0]), ([3, 3, 3], [1, 2, 3]), ([1, 2, 3], [4, 4, 4])])
def test_pearson_is_none_when_undefined(xs: list[float], ys: list[float]) -> None:
    assert satisfaction.pearson(xs, ys) is None


def test_pearson_refuses_unpaired_values() -> None:
    with pytest.raises(ValueError, match="pairs"):
        satisfaction.pearson([1, 2], [1])


def test_the_figures_of_a_few_hundred_answers_match_an_independent_computation() -> None:
    answers = generated_answers()
    result = satisfaction.analyse(answers, questionnaire=QUESTIONNAIRE, complaint_handling_question="complaint_handling")

    overall = [answer["overall"] for answer in answers]
    recommend = [answer["recommend"] for answer in answers]
    assert result["responses"] == 400
    assert result["overall_mean"] == pytest.approx(statistics.fmean(overall))
    assert result["nps"] == pytest.approx(hand_nps(recommend))
    assert result["promoters"] == sum(1 for score in recommend if score >= 9)
    assert result["detractors"] == sum(1 for score in recommend if score <= 6)
    assert result["promoters"] + result["passives"] + result["detractors"] == 400

    for dimension, row in zip(QUESTIONNAIRE, result["dimensions"], strict=True):
        per_response = []
        overall_of = []
        for answer in answers:
            present = [answer["answers"][q] for q in dimension["questions"] if q in answer["answers"]]
            if present:
                per_response.append(statistics.fmean(present))
                overall_of.append(answer["overall"])
        assert row["id"] == dimension["id"]
        assert row["n"] == len(per_response)
        assert row["mean"] == pytest.approx(statistics.fmean(per_response))
        assert row["weight"] == pytest.approx(statistics.correlation(per_response, overall_of))

    handling = [answer["answers"]["complaint_handling"] for answer in answers]
    assert result["complaint_handling_r"] == pytest.approx(statistics.correlation(handling, overall))

    owners = [answer for answer in answers if answer["household_type"] == "owner"]
    cell = result["cross_tables"]["household_type"]["owner"]
    assert cell["n"] == len(owners)
    assert cell["overall_mean"] == pytest.approx(statistics.fmean(answer["overall"] for answer in owners))
    assert cell["nps"] == pytest.approx(hand_nps([answer["recommend"] for answer in owners]))
    assert set(result["cross_tables"]) == {"household_type", "age_band", "channel"}
    assert set(result["cross_tables"]["channel"]) == {"online", "offline", "phone"}


def test_the_priority_matrix_puts_high_weight_low_score_first() -> None:
    rows = [
        {"id": "a", "mean": 4.5, "weight": 0.8},  # high weight, high score: keep
        {"id": "b", "mean": 2.5, "weight": 0.7},  # high, low: fix_first
        {"id": "c", "mean": 2.0, "weight": 0.1},  # low, low: watch
        {"id": "d", "mean": 4.0, "weight": 0.2},  # low, high: low_priority
        {"id": "e", "mean": 2.2, "weight": 0.9},  # high, low: fix_first, heavier than b
        {"id": "f", "mean": None, "weight": None},
    ]
    matrix = satisfaction.priority_matrix(rows, weight_cut=0.5, score_cut=3.0)
    assert [(item["dimension"], item["quadrant"]) for item in matrix] == [
        ("e", "fix_first"),
        ("b", "fix_first"),
        ("a", "keep"),
        ("c", "watch"),
        ("d", "low_priority"),
        ("f", "unrated"),
    ]


def test_the_priority_matrix_cuts_at_the_medians_by_default() -> None:
    rows = [{"id": "a", "mean": 4.0, "weight": 0.9}, {"id": "b", "mean": 2.0, "weight": 0.8}, {"id": "c", "mean": 3.0, "weight": 0.1}]
    # median weight 0.8 (high: ≥ 0.8), median score 3.0 (low: < 3.0)
    quadrants = {item["dimension"]: item["quadrant"] for item in satisfaction.priority_matrix(rows)}
    assert quadrants == {"a": "keep", "b": "fix_first", "c": "low_priority"}


def test_the_generated_answers_put_a_dimension_that_drives_overall_above_one_that_does_not() -> None:
    result = satisfaction.analyse(generated_answers(), questionnaire=QUESTIONNAIRE, complaint_handling_question="complaint_handling")
    weights = {row["id"]: row["weight"] for row in result["dimensions"]}
    assert weights["facility_maintenance"] > weights["basic_services"]
    assert weights["communication"] > weights["value_added"]
    expected = sorted(result["priority_matrix"], key=lambda item: (satisfaction.QUADRANT_ORDER.index(item["quadrant"]), -item["weight"]))
    assert result["priority_matrix"] == expected


def test_a_cross_table_cell_below_the_minimum_is_too_small() -> None:
    answers = generated_answers(count=30)
    answers[0] = {**answers[0], "channel": "kiosk"}
    table = satisfaction.cross_tables(answers)["channel"]
    assert table["kiosk"] == {"n": 1, "overall_mean": None, "nps": None, "too_small": True}
    assert all(cell["too_small"] is False for key, cell in table.items() if key != "kiosk" and cell["n"] >= 5)


def test_no_answers_give_no_numbers_and_no_division_by_zero() -> None:
    result = satisfaction.analyse([], questionnaire=QUESTIONNAIRE, complaint_handling_question="complaint_handling")
    assert result["responses"] == 0
    assert result["overall_mean"] is None and result["nps"] is None and result["complaint_handling_r"] is None
    assert all(row["mean"] is None and row["weight"] is None for row in result["dimensions"])
    assert all(item["quadrant"] == "unrated" for item in result["priority_matrix"])
    assert result["cross_tables"] == {"household_type": {}, "age_band": {}, "channel": {}}


def test_identical_overall_scores_give_no_weight() -> None:
    answers = [{"overall": 7, "recommend": 8, "answers": {"cleaning": score}} for score in (1, 2, 3, 4, 5)]
    result = satisfaction.analyse(answers, questionnaire=QUESTIONNAIRE[:1], complaint_handling_question=None)
    assert result["dimensions"][0]["weight"] is None
    assert result["complaint_handling_r"] is None
    assert result["cross_tables"]["channel"]["unknown"]["n"] == 5
