"""A linear model over character n-grams for the texts the rules cannot place with confidence.

Multinomial naive Bayes (a linear model in log space) over the normalised text: Chinese characters as
unigrams, bigrams and trigrams, Latin text as stemmed words and word bigrams. Pure Python, no numpy or
scikit-learn: the model is 8,045 labelled texts and 100,000 features, training is one counting pass
(about 2.7 s with the normalisation of every text, 0.8 s more for each of the tier and danger models,
once per process, on first use) and scoring a text is a few hundred dictionary lookups (well inside the
5 ms budget). Deterministic: the same training file gives the same model, so nothing is stored but the
labelled texts (``dispatch/domain/data/training.jsonl``: every development file, rebuilt by
``tests/dispatch/test_classify_training.py``).

The model decides where the rules are unsure, and contradicts them only when nearly certain
(``decision``; ``matched`` carries ``model:<subcategory>:<probability>``). A second model of the same
kind learns the tier of complaints (general, important, complex; emergencies are the safety stage's,
and other is always general): where a subcategory's default set the tier, not a cue, it may lower or
change it, and raise a general tier on a long text when nearly certain (``tier-model:<tier>:<probability>``,
docs/CLASSIFIER.md, sixth and seventh rounds). A third, the danger model, learns whether a text is an
emergency at all: the safety stage's backstop where its word families find nothing (``safety.learned``,
``safety:learned:<probability>:<n-grams>``, seventh round). Discriminative
alternatives (averaged perceptron, logistic regression by SGD, same features) were tried in
cross-validation and did worse on 1,800 texts while training 3-5 times slower; for the tier, on 4,500
texts, logistic regression was level with naive Bayes and 30 times slower to train. Naive Bayes posteriors
are over-confident, so the threshold that lets the model decide was chosen by cross-validation on the
development data, not read off the probability (docs/CLASSIFIER.md).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from dispatch.domain.classify.lexicon import en_tokens
from dispatch.domain.taxonomy import SUBCATEGORY_CATEGORY

ALPHA = 0.3
LEARNED_TIERS = ("general", "important", "complex")
DANGER, CALM = "emergency", "calm"
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_LATIN = re.compile(r"[a-z][a-z']*")


@lru_cache(maxsize=64)
def features(normalised: str) -> tuple[str, ...]:
    """Return the n-gram features of a normalised text (duplicates kept: counts matter).

    Cached for the last few texts: one classification reads the same text's n-grams for the subcategory
    model, the tier model and the danger model, and for their length gates.
    """
    grams: list[str] = []
    for run in _CJK_RUN.findall(normalised):
        for size in (1, 2, 3):
            grams.extend(run[i : i + size] for i in range(len(run) - size + 1))
    words = en_tokens(" ".join(_LATIN.findall(normalised))) if _LATIN.search(normalised) else ()
    grams.extend(f"w:{word}" for word in words)
    grams.extend(f"w:{a}_{b}" for a, b in itertools.pairwise(words))
    return tuple(grams)


@dataclass(frozen=True)
class Model:
    """Class priors and per-feature log-likelihoods of a trained multinomial naive Bayes."""

    labels: tuple[str, ...]
    priors: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]

    def posteriors(self, normalised: str) -> tuple[float, ...] | None:
        """Return the posterior probability of every label for a normalised text; None when no feature is known."""
        totals = list(self.priors)
        seen = False
        for gram in features(normalised):
            row = self.weights.get(gram)
            if row is None:
                continue
            seen = True
            for index, weight in enumerate(row):
                totals[index] += weight
        if not seen:
            return None
        top = max(totals)
        exps = [math.exp(total - top) for total in totals]
        return tuple(value / sum(exps) for value in exps)

    def predict(self, normalised: str) -> tuple[str, float]:
        """Return the most probable label of a normalised text and its posterior probability (0 when no feature is known)."""
        posteriors = self.posteriors(normalised)
        if posteriors is None:
            return self.labels[max(range(len(self.priors)), key=self.priors.__getitem__)], 0.0
        best = max(range(len(posteriors)), key=lambda index: (posteriors[index], -index))
        return self.labels[best], posteriors[best]

    def probability(self, normalised: str, label: str) -> float:
        """Return the posterior probability of one label for a normalised text (0 when no feature is known)."""
        posteriors = self.posteriors(normalised)
        return 0.0 if posteriors is None else posteriors[self.labels.index(label)]

    def evidence(self, normalised: str, label: str, count: int = 3) -> list[str]:
        """Return the features of a text that weigh most for a label against every other, strongest first."""
        index = self.labels.index(label)
        lift: dict[str, float] = {}
        for gram in set(features(normalised)):
            row = self.weights.get(gram)
            if row is not None:
                lift[gram] = row[index] - max(weight for other, weight in enumerate(row) if other != index)
        ranked = sorted((gram for gram, value in lift.items() if value > 0), key=lambda gram: (-lift[gram], gram))
        return [gram.removeprefix("w:") for gram in ranked[:count]]


def train(examples: Iterable[tuple[str, str]]) -> Model:
    """Train on (normalised text, label) pairs; labels in sorted order, so the model is deterministic."""
    counts: dict[str, Counter[str]] = {}
    documents: Counter[str] = Counter()
    for text, label in examples:
        documents[label] += 1
        counts.setdefault(label, Counter()).update(features(text))
    labels = tuple(sorted(documents))
    vocabulary = sorted({gram for counter in counts.values() for gram in counter})
    total_documents = sum(documents.values())
    priors = tuple(math.log(documents[label] / total_documents) for label in labels)
    denominators = [sum(counts[label].values()) + ALPHA * len(vocabulary) for label in labels]
    weights = {
        gram: tuple(math.log((counts[label][gram] + ALPHA) / denominator) for label, denominator in zip(labels, denominators, strict=True))
        for gram in vocabulary
    }
    return Model(labels, priors, weights)


def training_examples(rows: Sequence[dict[str, str]]) -> list[tuple[str, str]]:
    """Return (normalised text, subcategory) pairs from labelled rows."""
    from dispatch.domain.classify.lexicon import normalise

    return [(normalise(row["text"]), row["subcategory"]) for row in rows]


def tier_examples(rows: Sequence[dict[str, str]]) -> list[tuple[str, str]]:
    """Return (normalised text, tier) pairs of the complaints among labelled rows: no emergency, nothing in other."""
    from dispatch.domain.classify.lexicon import normalise

    return [
        (normalise(row["text"]), row["tier"])
        for row in rows
        if row["tier"] in LEARNED_TIERS and SUBCATEGORY_CATEGORY[row["subcategory"]] != "other"
    ]


def danger_examples(rows: Sequence[dict[str, str]]) -> list[tuple[str, str]]:
    """Return (normalised text, emergency or calm) pairs of every labelled row: what the safety stage's backstop learns."""
    from dispatch.domain.classify.lexicon import normalise

    return [(normalise(row["text"]), DANGER if row["tier"] == "emergency" else CALM) for row in rows]


def training_rows() -> list[dict[str, str]]:
    """Return the labelled texts the shipped model is trained on."""
    text = resources.files("dispatch.domain").joinpath("data", "training.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@lru_cache(maxsize=1)
def shipped() -> Model:
    """Return the subcategory model trained on the shipped training file (trained once per process)."""
    return train(training_examples(training_rows()))


@lru_cache(maxsize=1)
def shipped_tier() -> Model:
    """Return the tier model trained on the shipped training file (trained once per process)."""
    return train(tier_examples(training_rows()))


@lru_cache(maxsize=1)
def shipped_danger() -> Model:
    """Return the danger model (emergency or calm) trained on the shipped training file (trained once per process)."""
    return train(danger_examples(training_rows()))
