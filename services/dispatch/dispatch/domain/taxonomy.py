"""The complaint taxonomy of SPEC §4 and the vocabulary the classifier reads it with.

The taxonomy is code: the category → subcategory table and the default department of each
subcategory (tiers and departments are the shared vocabulary's, ``propcare_shared.vocabulary``).
The vocabulary the classifier reads is data, in ``data/*.json`` (package data), read once at import:

- ``topics.json``: terms per subcategory, with a weight each (``{"zh": {subcategory: [{"weight",
  "terms"}]}, "en": ...}``); a key that is a category (``fees``, ``facility``) holds evidence for the
  whole category.
- ``intents.json``: the same shape per intent. ``praise``, ``suggestion`` and ``inquiry`` say what
  the resident wants; ``problem`` is the evidence of a complaint (a fault, a dispute, a request to
  fix something), which they must outweigh.
- ``cues.json``: the terms per tier cue and the patterns that make a nuisance long-running.
  ``emergency`` and ``injury`` → emergency anywhere; ``stuck`` → emergency for a lift; ``burst`` →
  emergency for water; ``outage`` (went off, 水停了) → emergency for water and electrical;
  ``persistence`` → important (not for fees: a fee dispute stays complex); ``safety`` and ``thrown``
  → important; ``open_entrance`` → important for access control; ``load_bearing`` → important for
  renovation; ``mediation`` → complex for community complaints. The persistence patterns are
  regular expressions on the normalised text (durations and counts).
- ``clauses.json``: negation (a cue before a term negates the next term: in Chinese within four
  characters, unless one of ``zh_not_after`` precedes it, 是不是/要不是/可不是; in English only across
  determiners, "not the lift"; a cue after a term negates it, 电梯没问题, "the lift is fine"); the
  clause markers (past, resolved, hypothetical, focus, additive, background, speculation, near miss;
  a Chinese clause ending in a ``rhetorical_end`` particle is rhetorical); the question cues (an
  inquiry needs a question: without one its cues count half, 上班时间玩手机 is no question).
- ``normalisation.json``: Cantonese words rewritten to Mandarin after OpenCC has converted traditional
  characters to simplified (冇 → 没, 升降机 → 电梯, 水喉 → 水管), longest first; input-method slips
  and colloquialisms rewritten before matching (the hotline's 业主来电反映 loses its 来电, which would
  otherwise read as "power is back"); Latin-letter abbreviations of Chinese chat (pinyin initials),
  rewritten when standing alone.

The lists were written from the taxonomy and property-management practice, as families of words;
the development set was read while writing them, so some of its wording is in them
(docs/CLASSIFIER.md gives the blind figures).

Conventions of the lists:
- Terms are simplified Chinese words or English phrases. The classifier normalises both the same way
  (lowercase, no apostrophes, a light stemmer, doubled letters collapsed), so ``rubbish``/``rubish``
  and ``messages``/``mesage`` meet.
- A term may appear under several subcategories, cues and intents; listed twice under the same one,
  the higher weight counts. Matching is longest-first, so a longer term (``停车费``, ``fire lane``,
  ``打不着火``) hides the shorter ones inside it.
- Weights are evidence, roughly: 3.5 names the subject, 2 to 3 strongly suggests it, ≤ 1.5 is context
  (a place, a generic word), 0.5 a location that should not decide alone (``电梯里``, ``in the lift``).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

CATEGORIES: dict[str, tuple[str, ...]] = {
    "facility": ("elevator", "water", "electrical", "fire_safety", "access_control", "public_facility"),
    "service": ("cleaning", "security", "customer_service", "landscaping"),
    "fees": ("property_fee", "shared_utilities", "parking_fee", "deposit"),
    "community": ("parking", "noise", "pets", "renovation", "neighbour", "encroachment"),
    "other": ("suggestion", "inquiry", "praise"),
}

CATEGORY_DEPARTMENT: dict[str, str] = {
    "facility": "engineering",
    "service": "customer_service",
    "fees": "finance",
    "community": "customer_service",
    "other": "customer_service",
}
SUBCATEGORY_DEPARTMENT: dict[tuple[str, str], str] = {
    ("service", "cleaning"): "environment",
    ("service", "landscaping"): "environment",
    ("service", "security"): "security",
    ("service", "customer_service"): "customer_service",
    ("community", "parking"): "security",
    ("community", "encroachment"): "security",
}
SUBCATEGORY_CATEGORY: dict[str, str] = {sub: category for category, subs in CATEGORIES.items() for sub in subs}

Weighted = dict[str, tuple[tuple[float, tuple[str, ...]], ...]]
"""Terms per subcategory (or intent), grouped by weight: ``{key: ((weight, terms), ...)}``."""


def _load(name: str) -> Any:
    return json.loads(resources.files("dispatch.domain").joinpath("data", name).read_text(encoding="utf-8"))


def _weighted(lists: dict[str, list[dict[str, Any]]]) -> Weighted:
    return {key: tuple((float(entry["weight"]), tuple(entry["terms"])) for entry in entries) for key, entries in lists.items()}


def _lists(lists: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(terms) for key, terms in lists.items()}


_TOPICS = _load("topics.json")
_INTENTS = _load("intents.json")
_CUES = _load("cues.json")
_CLAUSES = _load("clauses.json")
_NORMALISATION = _load("normalisation.json")

ZH_TOPIC: Weighted = _weighted(_TOPICS["zh"])
EN_TOPIC: Weighted = _weighted(_TOPICS["en"])
ZH_INTENT: Weighted = _weighted(_INTENTS["zh"])
EN_INTENT: Weighted = _weighted(_INTENTS["en"])

ZH_CUES: dict[str, tuple[str, ...]] = _lists(_CUES["terms"]["zh"])
EN_CUES: dict[str, tuple[str, ...]] = _lists(_CUES["terms"]["en"])
ZH_PERSISTENCE_PATTERNS: tuple[str, ...] = tuple(_CUES["persistence_patterns"]["zh"])
EN_PERSISTENCE_PATTERNS: tuple[str, ...] = tuple(_CUES["persistence_patterns"]["en"])

ZH_NEGATION_BEFORE: tuple[str, ...] = tuple(_CLAUSES["negation"]["zh_before"])
ZH_NEGATION_AFTER: tuple[str, ...] = tuple(_CLAUSES["negation"]["zh_after"])
ZH_NEGATION_NOT_AFTER: tuple[str, ...] = tuple(_CLAUSES["negation"]["zh_not_after"])
EN_NEGATION_BEFORE: tuple[str, ...] = tuple(_CLAUSES["negation"]["en_before"])
EN_NEGATION_AFTER: tuple[str, ...] = tuple(_CLAUSES["negation"]["en_after"])
EN_DETERMINERS: frozenset[str] = frozenset(_CLAUSES["negation"]["en_determiners"])

ZH_MARKERS: dict[str, tuple[str, ...]] = _lists(_CLAUSES["markers"]["zh"])
EN_MARKERS: dict[str, tuple[str, ...]] = _lists(_CLAUSES["markers"]["en"])
ZH_QUESTION_ENDINGS: tuple[str, ...] = tuple(_CLAUSES["questions"]["zh_endings"])
ZH_ASKING: tuple[str, ...] = tuple(_CLAUSES["questions"]["zh_asking"])
EN_QUESTION_OPENINGS: tuple[str, ...] = tuple(_CLAUSES["questions"]["en_openings"])

CANTONESE_REWRITES: tuple[tuple[str, str], ...] = tuple((word, plain) for word, plain in _NORMALISATION["cantonese_rewrites"])
ZH_REWRITES: tuple[tuple[str, str], ...] = tuple((slip, word) for slip, word in _NORMALISATION["zh_rewrites"])
ASCII_REWRITES: tuple[tuple[str, str], ...] = tuple((short, long) for short, long in _NORMALISATION["ascii_rewrites"])
