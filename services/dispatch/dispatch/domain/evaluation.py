"""Measuring the classifier against labelled texts: per-class precision and recall, accuracy.

Pure: labelled examples and a classify function in, a ``Report`` out, and a plain-text rendering
of it that tests print and docs quote. The held-out split is a fixed hash of the text, so it never
changes between runs or machines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from dispatch.domain.classify import Classification

FIELDS = ("category", "subcategory", "tier", "department")
HELD_OUT_PERCENT = 30


@dataclass(frozen=True)
class ClassScore:
    """Precision and recall of one class of one field."""

    label: str
    support: int
    predicted: int
    correct: int

    @property
    def precision(self) -> float:
        """Return the share of predictions of this class that were right."""
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        """Return the share of texts of this class that were found."""
        return self.correct / self.support if self.support else 0.0


@dataclass(frozen=True)
class Miss:
    """A text the classifier got wrong in at least one field."""

    text: str
    expected: tuple[str, ...]
    predicted: tuple[str, ...]
    confidence: float
    needs_review: bool


@dataclass(frozen=True)
class Report:
    """How the classifier did on a set of labelled texts."""

    name: str
    size: int
    accuracy: dict[str, float]
    classes: dict[str, tuple[ClassScore, ...]]
    needs_review: int
    confident_wrong_department: int
    misses: tuple[Miss, ...]


def is_held_out(text: str, *, percent: int = HELD_OUT_PERCENT) -> bool:
    """Return whether a text falls in the fixed held-out split: sha256 of its UTF-8 bytes, as an integer, mod 100 below percent."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big") % 100 < percent


def evaluate(examples: Iterable[Mapping[str, str]], *, classifier: Callable[[str], Classification], name: str) -> Report:
    """Classify every labelled example and score each field."""
    rows = [(example, classifier(example["text"])) for example in examples]
    size = len(rows)
    accuracy = {
        name_: sum(example[name_] == getattr(result, name_) for example, result in rows) / size if size else 0.0 for name_ in FIELDS
    }
    classes: dict[str, tuple[ClassScore, ...]] = {}
    for field_name in ("category", "subcategory", "tier"):
        labels = sorted({example[field_name] for example, _ in rows} | {getattr(result, field_name) for _, result in rows})
        classes[field_name] = tuple(
            ClassScore(
                label=label,
                support=sum(example[field_name] == label for example, _ in rows),
                predicted=sum(getattr(result, field_name) == label for _, result in rows),
                correct=sum(example[field_name] == label == getattr(result, field_name) for example, result in rows),
            )
            for label in labels
        )
    misses = tuple(
        Miss(
            text=example["text"],
            expected=tuple(example[f] for f in ("category", "subcategory", "tier")),
            predicted=(result.category, result.subcategory, result.tier),
            confidence=result.confidence,
            needs_review=result.needs_review,
        )
        for example, result in rows
        if any(example[f] != getattr(result, f) for f in ("category", "subcategory", "tier"))
    )
    return Report(
        name=name,
        size=size,
        accuracy=accuracy,
        classes=classes,
        needs_review=sum(result.needs_review for _, result in rows),
        confident_wrong_department=sum(example["department"] != result.department and not result.needs_review for example, result in rows),
        misses=misses,
    )


def format_report(report: Report, *, per_class: bool = True) -> str:
    """Render a report as plain text: accuracies, then per-class precision/recall, then the misses."""
    lines = [f"== {report.name}: {report.size} texts"]
    lines.append("accuracy  " + "  ".join(f"{name} {report.accuracy[name]:.3f}" for name in FIELDS))
    lines.append(f"needs_review {report.needs_review}  wrong department without needs_review {report.confident_wrong_department}")
    if per_class:
        for field_name, scores in report.classes.items():
            lines.append(f"-- {field_name}: {'class':<18} {'prec':>5} {'rec':>5} {'n':>4}")
            lines.extend(f"   {'':<{len(field_name)}}  {s.label:<18} {s.precision:5.2f} {s.recall:5.2f} {s.support:4d}" for s in scores)
    for miss in report.misses:
        lines.append(
            f"miss: expected {'/'.join(miss.expected)} got {'/'.join(miss.predicted)} "
            f"(confidence {miss.confidence:.2f}{', needs_review' if miss.needs_review else ''}): {miss.text[:60]}"
        )
    return "\n".join(lines)


def stratified_folds(texts_and_labels: Iterable[tuple[str, str]], *, folds: int = 5, seed: str = "propcare-13") -> list[int]:
    """Return a fold number per example: within each label, examples in order of sha256(seed + text), dealt round-robin.

    Stratified (every fold holds about a fifth of each label) and fixed (the seed is part of the hash:
    no random state, the same folds on every machine), so cross-validation figures can be compared
    between options and rounds.
    """
    pairs = list(texts_and_labels)
    order = sorted(range(len(pairs)), key=lambda i: (pairs[i][1], hashlib.sha256((seed + pairs[i][0]).encode("utf-8")).hexdigest()))
    assigned = [0] * len(pairs)
    position: dict[str, int] = {}
    for index in order:
        label = pairs[index][1]
        assigned[index] = position.get(label, 0) % folds
        position[label] = position.get(label, 0) + 1
    return assigned
