"""Bilingual (Chinese/English) complaint classifier: category, subcategory, tier, department.

Pure and deterministic: plain values in, a frozen ``Classification`` out, no I/O, no global state
beyond lexicons compiled once at import. Pipeline:

1. Normalise: NFKC (full-width → half-width), traditional → simplified for the characters complaint
   texts use, lowercase, pinyin abbreviations (``wy`` → 物业, ``tcf`` → 停车费) and common input-method
   slips (物叶 → 物业).
2. Split into clauses at punctuation and weigh each clause: a resolved or past problem (上次, 已经修好,
   "last time", "was fixed") counts little, background (平时) and additions (另外, "also") less, the
   clause a focus marker opens (但是, 这次是, "but") more, and clauses before it less.
3. Match terms: Chinese by longest-first lookup of character n-grams in the lexicon, where two terms
   overlap in part the one that jieba's segmentation confirms as words wins (jieba is loaded lazily,
   only for such texts); English by the same lookup over normalised word n-grams. A negation (不是/并非/"not the" before, 没问题/"is fine"
   after) cancels the next term in its clause.
4. Decide the intent: praise, suggestion or an inquiry wins when its cues outweigh the evidence of a
   problem; otherwise the subcategory with the highest weighted score wins, a ``category_hint`` adding
   a little to subcategories that already have evidence.
5. Decide the tier from cue lists and the labelling rules of the development data: the more urgent
   wins; a text that cannot be placed keeps an emergency tier when it reports one.
6. Confidence from the evidence and the margin over the best other category; close calls, weak
   evidence and unplaceable texts set ``needs_review`` (unplaceable → other/inquiry, general).
"""

from __future__ import annotations

from dispatch.domain.classify.decision import classify
from dispatch.domain.classify.labels import CATEGORIES, TIERS, Classification, department_for, is_valid_subcategory, tier_with_history
from dispatch.domain.classify.lexicon import normalise

__all__ = [
    "CATEGORIES",
    "TIERS",
    "Classification",
    "classify",
    "department_for",
    "is_valid_subcategory",
    "normalise",
    "tier_with_history",
]
