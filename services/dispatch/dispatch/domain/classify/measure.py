"""Measuring the classifier for docs/CLASSIFIER.md: emergency recall and precision, and confusion matrices.

Pure: labelled examples (``text``, ``category``, ``subcategory``, ``tier``) and a classify function in,
plain values out. Complements ``dispatch.domain.evaluation`` (per-field accuracy and per-class scores),
which the tests print beside these figures. Emergency recall is the figure that matters most: a
missed emergency is a gas leak sent to a three-working-day queue; a false alarm costs a phone call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from dispatch.domain.classify.labels import Classification

FIELDS = ("category", "subcategory", "tier")


@dataclass(frozen=True)
class Figures:
    """How a classifier did on one labelled set."""

    name: str
    size: int
    accuracy: dict[str, float]
    emergency_recall: float
    emergency_precision: float
    emergencies: int
    missed_emergencies: tuple[tuple[str, str], ...]
    false_alarms: tuple[tuple[str, str], ...]
    confusion: dict[str, dict[tuple[str, str], int]]
    needs_review: int


def measure(examples: Iterable[Mapping[str, str]], *, classifier: Callable[[str], Classification], name: str) -> Figures:
    """Classify every example; return accuracies, emergency recall and precision, and the confusion per field."""
    rows = [(example, classifier(example["text"])) for example in examples]
    size = len(rows)
    accuracy = {field: sum(example[field] == getattr(result, field) for example, result in rows) / max(size, 1) for field in FIELDS}
    expected_emergency = [(example, result) for example, result in rows if example["tier"] == "emergency"]
    predicted_emergency = [(example, result) for example, result in rows if result.tier == "emergency"]
    found = sum(result.tier == "emergency" for _, result in expected_emergency)
    confusion: dict[str, dict[tuple[str, str], int]] = {}
    for field in FIELDS:
        cells: dict[tuple[str, str], int] = {}
        for example, result in rows:
            key = (example[field], getattr(result, field))
            cells[key] = cells.get(key, 0) + 1
        confusion[field] = cells
    return Figures(
        name=name,
        size=size,
        accuracy=accuracy,
        emergency_recall=found / len(expected_emergency) if expected_emergency else 1.0,
        emergency_precision=found / len(predicted_emergency) if predicted_emergency else 1.0,
        emergencies=len(expected_emergency),
        missed_emergencies=tuple((example["text"], result.tier) for example, result in expected_emergency if result.tier != "emergency"),
        false_alarms=tuple((example["text"], example["tier"]) for example, result in predicted_emergency if example["tier"] != "emergency"),
        confusion=confusion,
        needs_review=sum(result.needs_review for _, result in rows),
    )


def format_figures(figures: Figures, *, matrices: tuple[str, ...] = ("category", "tier")) -> str:
    """Render figures as plain text: accuracies, emergency recall and precision, misses, and confusion matrices (rows expected)."""
    lines = [f"== {figures.name}: {figures.size} texts"]
    accuracies = "  ".join(f"{field} {figures.accuracy[field]:.3f}" for field in FIELDS)
    lines.append(f"accuracy  {accuracies}  needs_review {figures.needs_review}")
    lines.append(
        f"emergency recall {figures.emergency_recall:.3f} ({figures.emergencies - len(figures.missed_emergencies)}/{figures.emergencies})"
        f"  precision {figures.emergency_precision:.3f}"
    )
    lines.extend(f"missed emergency (got {tier}): {text[:70]}" for text, tier in figures.missed_emergencies)
    lines.extend(f"false alarm (labelled {tier}): {text[:70]}" for text, tier in figures.false_alarms)
    for field in matrices:
        lines.extend(confusion_table(figures.confusion[field], title=field))
    return "\n".join(lines)


def confusion_table(cells: Mapping[tuple[str, str], int], *, title: str) -> list[str]:
    """Render a confusion matrix as Markdown: one row per expected label, one column per predicted label."""
    labels = sorted({expected for expected, _ in cells} | {predicted for _, predicted in cells})
    lines = [f"| {title}: expected ↓ got → | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for expected in labels:
        lines.append(f"| {expected} | " + " | ".join(str(cells.get((expected, predicted), 0) or "·") for predicted in labels) + " |")
    return lines
