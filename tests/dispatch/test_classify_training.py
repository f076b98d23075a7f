"""The n-gram model's training file is exactly the development data, and never a blind batch.

``dispatch/domain/data/training.jsonl`` is the concatenation, in a fixed order, of the labelled
development files under ``tests/dispatch/data`` (text, subcategory, tier and the file it came from).
It is generated, not edited: ``.venv/bin/python -m tests.dispatch.test_classify_training`` rewrites it
after a development file changes. A held-out batch becomes development data once it has been seen (batch 3
in the fourth round, batch 4 in the sixth); the blind batch 5 (``heldout5_a``/``heldout5_b``) is not a
development file, and ``test_classify_heldout_writers.py`` checks that none of its texts is in training.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dispatch.domain.classify.model import training_rows

DATA = Path(__file__).resolve().parent / "data"
TRAINING = Path(__file__).resolve().parents[2] / "services" / "dispatch" / "dispatch" / "domain" / "data" / "training.jsonl"
DEVELOPMENT_FILES = (
    "complaints_dev",
    "own_dev",
    "heldout",
    "safety_heldout",
    "heldout2",
    "train3",
    "heldout3",
    "train4_a",
    "train4_b",
    "train4_c",
    "heldout4_a",
    "heldout4_b",
    "train5_a",
    "train5_b",
    "train6_a",
    "train6_b",
    "train7_a",
    "train7_b",
    "train8_a",
    "train8_b",
    "train9_a",
    "train9_b",
    "train10_a",
    "train10_b",
)
FIELDS = ("text", "subcategory", "tier")


def development_rows() -> list[dict[str, Any]]:
    """Return the training rows the development files make: one per labelled text, first occurrence kept."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name in DEVELOPMENT_FILES:
        for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if row["text"] in seen:
                continue
            seen.add(row["text"])
            rows.append({**{field: row[field] for field in FIELDS}, "source": name})
    return rows


def test_the_training_file_is_the_development_files_concatenated() -> None:
    assert training_rows() == development_rows()
    assert {row["source"] for row in training_rows()} == set(DEVELOPMENT_FILES)
    assert len(training_rows()) >= 4500


def test_no_blind_batch_is_a_development_file() -> None:
    assert not any(name.startswith("heldout5") for name in DEVELOPMENT_FILES)
    assert not any(name.startswith("heldout5") for name in {row["source"] for row in training_rows()})


def write() -> None:
    """Rewrite the training file from the development files."""
    TRAINING.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in development_rows()), encoding="utf-8")


if __name__ == "__main__":
    write()
    print(f"{TRAINING}: {len(development_rows())} texts")
