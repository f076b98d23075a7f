"""5-fold cross-validation of the classifier on the development data (docs/CLASSIFIER.md, third round).

The folds are stratified by subcategory and fixed (``evaluation.stratified_folds``: sha256 of a seed and
the text, no random state), so options can be compared between runs and rounds. The tests check the
folds; ``.venv/bin/python -m tests.dispatch.test_classify_cv`` prints the table of options (a minute
or two: every option retrains both models five times and classifies all 1,813 texts). The rules were
written reading all of these texts, so the figures flatter the rules; they rank options, they are not
a blind estimate.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from dispatch.domain.classify import decision
from dispatch.domain.classify.labels import Classification
from dispatch.domain.classify.model import Model, danger_examples, tier_examples, train, training_examples, training_rows
from dispatch.domain.evaluation import stratified_folds
from tests.dispatch.test_classify_training import DATA, DEVELOPMENT_FILES

FOLDS = 5


def test_folds_are_stratified_fixed_and_cover_every_text() -> None:
    rows = training_rows()
    pairs = [(row["text"], row["subcategory"]) for row in rows]
    folds = stratified_folds(pairs)
    assert folds == stratified_folds(pairs)
    assert set(folds) == set(range(FOLDS))
    for label in {label for _, label in pairs}:
        sizes = Counter(fold for fold, (_, other) in zip(folds, pairs, strict=True) if other == label)
        assert max(sizes.values()) - min(sizes.get(fold, 0) for fold in range(FOLDS)) <= 1, label
    assert stratified_folds(pairs, seed="another") != folds


@contextmanager
def option(**constants: float) -> Iterator[None]:
    """Set decision's thresholds for one option, and put them back."""
    saved = {name: getattr(decision, name) for name in constants}
    for name, value in constants.items():
        setattr(decision, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(decision, name, value)


def trained(rows: list[dict[str, Any]]) -> dict[str, Model]:
    """Return the subcategory, tier and danger models trained on these rows, as ``classify`` takes them."""
    return {"model": train(training_examples(rows)), "tier_model": train(tier_examples(rows)), "danger_model": train(danger_examples(rows))}


def trained_without(rows: list[dict[str, Any]], groups: list[Any], group: Any, cache: dict[Any, dict[str, Model]]) -> dict[str, Model]:
    """Return the models trained on every row outside ``group``, trained once per group: the options only change thresholds."""
    if group not in cache:
        cache[group] = trained([row for row, other in zip(rows, groups, strict=True) if other != group])
    return cache[group]


def cross_validate(rows: list[dict[str, Any]], cache: dict[Any, dict[str, Model]] | None = None) -> list[Classification]:
    """Return each row's classification by a model trained on the other four folds."""
    folds = stratified_folds([(row["text"], row["subcategory"]) for row in rows])
    results: list[Classification | None] = [None] * len(rows)
    for fold in range(FOLDS):
        models = trained_without(rows, folds, fold, {} if cache is None else cache)
        for index, row in enumerate(rows):
            if folds[index] == fold:
                results[index] = decision.classify(row["text"], **models)
    return [result for result in results if result is not None]


def figures(rows: list[dict[str, Any]], results: list[Classification]) -> str:
    """Return one table row: category, subcategory, tier, emergency recall and precision, needs_review."""
    size = len(rows)
    pairs = list(zip(rows, results, strict=True))
    accuracy = [sum(getattr(result, field) == row[field] for row, result in pairs) / size for field in ("category", "subcategory", "tier")]
    expected = [result.tier == "emergency" for row, result in zip(rows, results, strict=True) if row["tier"] == "emergency"]
    said = [row["tier"] == "emergency" for row, result in zip(rows, results, strict=True) if result.tier == "emergency"]
    review = sum(result.needs_review for result in results)
    return " | ".join(
        [*(f"{value:.3f}" for value in accuracy), f"{sum(expected) / len(expected):.3f}", f"{sum(said) / len(said):.3f}", str(review)]
    )


CHOSEN = {
    "MODEL_MIN": 0.5,
    "MODEL_MIN_UNPLACED": 0.9,
    "MODEL_OVERRIDE": 0.99999,
    "TIER_MODEL_MIN": 0.5,
    "DANGER_MODEL_MIN": 0.5,
    "TIER_MODEL_RAISE": 0.999,
    "TIER_RAISE_MIN_FEATURES": 60,
    "MODEL_MIN_FEATURES": 15,
}
NO_RAISE = {"TIER_MODEL_RAISE": 2.0}
NO_DANGER_MODEL = {"DANGER_MODEL_MIN": 2.0, **NO_RAISE}
NO_TIER_MODEL = {"TIER_MODEL_MIN": 2.0, **NO_DANGER_MODEL}
OPTIONS: list[tuple[str, dict[str, float]]] = [
    ("rules only (the models never speak)", {"MODEL_MIN": 2.0, "MODEL_MIN_UNPLACED": 2.0, "MODEL_OVERRIDE": 2.0, **NO_TIER_MODEL}),
    (
        "round 2: the model where the rules are unsure, at 0.99",
        {"MODEL_MIN": 0.99, "MODEL_MIN_UNPLACED": 0.99, "MODEL_OVERRIDE": 2.0, **NO_TIER_MODEL},
    ),
    ("where unsure at 0.999", {"MODEL_MIN": 0.999, "MODEL_MIN_UNPLACED": 0.999, "MODEL_OVERRIDE": 2.0, **NO_TIER_MODEL}),
    ("where unsure at 0.9 (unplaced 0.99)", {"MODEL_MIN": 0.9, "MODEL_MIN_UNPLACED": 0.99, "MODEL_OVERRIDE": 2.0, **NO_TIER_MODEL}),
    ("where unsure at 0.5 (unplaced 0.99)", {"MODEL_MIN": 0.5, "MODEL_MIN_UNPLACED": 0.99, "MODEL_OVERRIDE": 2.0, **NO_TIER_MODEL}),
    ("where unsure at 0.5 (unplaced 0.9)", {"MODEL_MIN": 0.5, "MODEL_MIN_UNPLACED": 0.9, "MODEL_OVERRIDE": 2.0, **NO_TIER_MODEL}),
    ("where unsure at any posterior, unplaced too", {"MODEL_MIN": 0.0, "MODEL_MIN_UNPLACED": 0.0, "MODEL_OVERRIDE": 2.0, **NO_TIER_MODEL}),
    ("unsure at 0.5 (unplaced 0.9) + contradicts sure rules at 0.999", {**CHOSEN, "MODEL_OVERRIDE": 0.999, **NO_TIER_MODEL}),
    ("unsure at 0.5 (unplaced 0.9) + contradicts sure rules at 0.99999", {**CHOSEN, **NO_TIER_MODEL}),
    ("+ the tier model where a default set the tier, at 0.5", {**CHOSEN, **NO_DANGER_MODEL}),
    ("+ the tier model where a default set the tier, at 0.8", {**CHOSEN, "TIER_MODEL_MIN": 0.8, **NO_DANGER_MODEL}),
    ("+ the tier model where a default set the tier, at 0.9", {**CHOSEN, "TIER_MODEL_MIN": 0.9, **NO_DANGER_MODEL}),
    ("+ the tier model where a default set the tier, at 0.99", {**CHOSEN, "TIER_MODEL_MIN": 0.99, **NO_DANGER_MODEL}),
    ("+ the danger model where the word families found nothing, at 0.5", {**CHOSEN, **NO_RAISE}),
    ("+ the danger model at 0.9", {**CHOSEN, "DANGER_MODEL_MIN": 0.9, **NO_RAISE}),
    ("+ the danger model at 0.99", {**CHOSEN, "DANGER_MODEL_MIN": 0.99, **NO_RAISE}),
    ("+ the danger model at 0.999", {**CHOSEN, "DANGER_MODEL_MIN": 0.999, **NO_RAISE}),
    (
        "+ the tier model raises general at 0.9 (texts of 25 n-grams or more)",
        {**CHOSEN, "TIER_MODEL_RAISE": 0.9, "TIER_RAISE_MIN_FEATURES": 25},
    ),
    ("+ the tier model raises general at 0.999 (25 n-grams or more)", {**CHOSEN, "TIER_RAISE_MIN_FEATURES": 25}),
    ("+ the tier model raises general at 0.999 (40 n-grams or more)", {**CHOSEN, "TIER_RAISE_MIN_FEATURES": 40}),
    ("+ the tier model raises general at 0.999 (60 n-grams or more)", {**CHOSEN, "MODEL_MIN_FEATURES": 0}),
    ("+ the subcategory model silent on texts under 15 n-grams (chosen)", CHOSEN),
    ("+ the subcategory model silent on texts under 25 n-grams", {**CHOSEN, "MODEL_MIN_FEATURES": 25}),
]


WRITERS = tuple(name for name in DEVELOPMENT_FILES if name.startswith("train") and "_" in name)
"""The training writers of rounds 5, 6 and 7: each file is classified by models trained on every other development file."""


def leave_writer_out(
    rows: list[dict[str, Any]], sources: list[str], cache: dict[Any, dict[str, Model]] | None = None
) -> list[Classification]:
    """Return, for the rows of each new writer, the classification by a model that never saw that writer's texts."""
    results: list[Classification] = []
    for writer in WRITERS:
        models = trained_without(rows, sources, writer, {} if cache is None else cache)
        results += [decision.classify(row["text"], **models) for row, source in zip(rows, sources, strict=True) if source == writer]
    return results


def labelled_training_rows() -> list[dict[str, Any]]:
    """Return the training rows with every label of their development file (category, register, life_safety…)."""
    full: dict[str, dict[str, Any]] = {}
    for name in DEVELOPMENT_FILES:
        for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                full.setdefault(row["text"], row)
    return [{**full[row["text"]], "source": row["source"]} for row in training_rows()]


def print_table(title: str, rows: list[dict[str, Any]], classify_all: Callable[[], list[Classification]]) -> None:
    """Print one table: a row of figures per option, ``classify_all`` classifying ``rows`` under each."""
    columns = "category | subcategory | tier | emergency recall | emergency precision | needs_review"
    print(f"| {title} | {columns} |")
    print("|---|---|---|---|---|---|---|")
    for name, constants in OPTIONS:
        with option(**constants):
            print(f"| {name} | {figures(rows, classify_all())} |", flush=True)


def main_writers() -> None:
    """Print the leave-one-writer-out table of every option (``python -m tests.dispatch.test_classify_cv writers``)."""
    examples = labelled_training_rows()
    sources = [example["source"] for example in examples]
    held = [example for writer in WRITERS for example, source in zip(examples, sources, strict=True) if source == writer]
    cache: dict[Any, dict[str, Model]] = {}
    print_table(f"new writers' texts, {len(held)}, each writer left out", held, lambda: leave_writer_out(examples, sources, cache))


def main() -> None:
    """Print the cross-validation table of every option."""
    examples = labelled_training_rows()
    cache: dict[Any, dict[str, Model]] = {}
    print_table(f"development data, {len(examples)} texts, 5-fold CV", examples, lambda: cross_validate(examples, cache))


if __name__ == "__main__":
    main_writers() if sys.argv[1:] == ["writers"] else main()


def test_the_shipped_thresholds_are_the_chosen_option() -> None:
    assert {name: getattr(decision, name) for name in CHOSEN} == CHOSEN
