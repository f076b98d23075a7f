"""The third blind held-out batch (issue 13, third round): figures printed, emergency recall asserted.

``tests/dispatch/data/heldout3.jsonl`` was written and labelled by the data README's rules and committed
before the classifier ran on it (commit "Classifier held-out batch 3"). Nobody building the third round
opened it: no rule, word list, threshold or model is tuned on it, and the model's training file
(``dispatch/domain/data/training.jsonl``) must not contain any of its texts. It is measured once, after
the round, by someone else; its blind figures then go into docs/CLASSIFIER.md. Accuracy is printed, not
asserted: a blind figure is a measurement. Run with ``-s`` to see it.

Since the fourth round (docs/CLASSIFIER.md, "Fourth round (not blind)") the batch has been seen: its
misses were studied and the safety stage's word families widened, so what it prints now is not blind.
Since the fifth round it is development data: the model's training file holds it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dispatch.domain.classify import classify
from dispatch.domain.classify.measure import format_figures, measure
from dispatch.domain.classify.model import training_rows

DATA = Path(__file__).resolve().parent / "data"


def heldout3() -> list[dict[str, Any]]:
    """Return the blind batch; fail (never skip) when it is missing."""
    path = DATA / "heldout3.jsonl"
    if not path.is_file():
        pytest.fail(f"held-out batch 3 not found at {path}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _key(text: str) -> str:
    """Return a text as the duplicate check compares it: case and white space ignored."""
    return "".join(text.lower().split())


def test_the_batch_covers_every_subcategory_and_tier_and_is_training_data_since_the_fifth_round() -> None:
    rows = heldout3()
    assert len(rows) >= 300
    assert len({row["subcategory"] for row in rows}) == 23
    assert {row["tier"] for row in rows} == {"emergency", "important", "complex", "general"}
    assert sum(bool(row.get("life_safety")) for row in rows) >= 80
    training = {_key(row["text"]) for row in training_rows()}
    assert [row["text"] for row in rows if _key(row["text"]) not in training] == []


def test_every_life_safety_text_is_an_emergency() -> None:
    rows = heldout3()
    figures = measure(rows, classifier=classify, name="held-out batch 3 (seen since the fourth round, not blind)")
    print("\n" + format_figures(figures, matrices=("category", "subcategory", "tier")))
    safety = [row for row in rows if row.get("life_safety")]
    missed = [row["text"] for row in safety if classify(row["text"]).tier != "emergency"]
    print(f"life-safety texts: {len(safety)}, emergency recall {(len(safety) - len(missed)) / len(safety):.3f}")
    assert missed == []
