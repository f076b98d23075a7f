"""Reading a normalised text: clauses, the terms matched in each, negations, markers and cues, and the scores they add up to.

Pure and deterministic. jieba is loaded lazily, only for a Chinese text where two terms overlap in part.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from dataclasses import dataclass
from typing import Any

from dispatch.domain import taxonomy
from dispatch.domain.classify.lexicon import (
    CLAUSE_SPLIT,
    EN,
    EN_DETERMINERS,
    EN_MARKERS,
    EN_MAX,
    EN_NEG_AFTER,
    EN_NEG_BEFORE,
    EN_PERSISTENCE,
    EN_QUESTION_OPENINGS,
    ZH,
    ZH_LENGTHS,
    ZH_PERSISTENCE,
    Entry,
    en_tokens,
    normalise,
    stem,
)

EMERGENCY_CUES = frozenset({"emergency", "injury", "stuck", "burst", "outage"})
_NO_PROBLEM_AFTER = re.compile(r"(?:的|方面的?)?(?:问题|毛病|故障)")


@dataclass(frozen=True)
class Match:
    """A lexicon entry found in a clause."""

    entry: Entry
    start: int
    end: int
    english: bool


@dataclass
class Clause:
    """A clause, its matches and how much it counts."""

    text: str
    tokens: tuple[str, ...]
    matches: list[Match]
    negated: set[int]
    markers: set[str]
    weight: float = 1.0
    intent_weight: float = 1.0


@dataclass
class Analysis:
    """Scores and cues gathered from a whole text."""

    scores: dict[str, float]
    contributions: dict[str, list[tuple[float, str]]]
    intents: dict[str, float]
    intent_terms: dict[str, list[str]]
    cues: dict[str, list[str]]
    notes: list[str]
    resolved: bool
    question: bool = False


def _contains_tokens(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """Return whether a token sequence occurs in the tokens."""
    size = len(phrase)
    return any(tokens[i : i + size] == phrase for i in range(len(tokens) - size + 1))


def _markers(text: str, tokens: tuple[str, ...]) -> set[str]:
    """Return the kinds of clause marker present."""
    found = {kind for kind, words in taxonomy.ZH_MARKERS.items() if kind != "rhetorical_end" and any(word in text for word in words)}
    found |= {kind for kind, phrases in EN_MARKERS.items() if any(_contains_tokens(tokens, phrase) for phrase in phrases)}
    if text.rstrip().endswith(taxonomy.ZH_MARKERS["rhetorical_end"]):
        found.add("rhetorical")
    return found


def _select(candidates: list[Match]) -> list[Match]:
    """Keep the longest candidates that do not overlap a longer one (leftmost first among equals), in text order."""
    taken: list[Match] = []
    covered: set[int] = set()
    for match in sorted(candidates, key=lambda m: (m.start - m.end, m.start)):
        span = range(match.start, match.end)
        if covered.isdisjoint(span):
            taken.append(match)
            covered.update(span)
    return sorted(taken, key=lambda m: m.start)


@functools.cache
def _jieba() -> Any:
    """Return a jieba tokenizer, initialised on first use with its logging and import warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba  # imported here: loading it and its dictionary takes a second, paid only when a text needs it

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def _word_boundaries(text: str) -> set[int]:
    """Return the offsets where jieba puts a word boundary."""
    boundaries = {0}
    offset = 0
    for word in _jieba().cut(text):
        offset += len(word)
        boundaries.add(offset)
    return boundaries


def _drop_straddlers(text: str, candidates: list[Match]) -> list[Match]:
    """Resolve partly overlapping terms by jieba's word boundaries: in 没有电梯, 电梯 is a word and 没有电 is not."""
    pairs = [(a, b) for a in candidates for b in candidates if a.start < b.start < a.end < b.end]
    if not pairs:
        return candidates
    boundaries = _word_boundaries(text)
    dropped: set[int] = set()
    for first, second in pairs:
        first_aligned = first.start in boundaries and first.end in boundaries
        second_aligned = second.start in boundaries and second.end in boundaries
        if first_aligned != second_aligned:
            dropped.add(id(second if first_aligned else first))
    return [match for match in candidates if id(match) not in dropped]


def _scan_zh(text: str) -> list[Match]:
    """Find lexicon terms in Chinese text, longest first, word boundaries settling partial overlaps."""
    candidates = []
    size = len(text)
    for i, char in enumerate(text):
        for length in ZH_LENGTHS.get(char, ()):
            entry = ZH.get(text[i : i + length]) if i + length <= size else None
            if entry is not None:
                candidates.append(Match(entry, i, i + length, english=False))
    return _select(_drop_straddlers(text, candidates))


def _scan_en(tokens: tuple[str, ...]) -> list[Match]:
    """Find lexicon phrases in English tokens, longest first."""
    candidates = []
    for i in range(len(tokens)):
        for length in range(1, min(EN_MAX, len(tokens) - i) + 1):
            entry = EN.get(tokens[i : i + length])
            if entry is not None:
                candidates.append(Match(entry, i, i + length, english=True))
    return _select(candidates)


def _negated_zh(text: str, matches: list[Match], rhetorical: bool) -> set[int]:
    """Return the indexes of Chinese matches a negation cancels."""
    negated: set[int] = set()
    zh = [(index, match) for index, match in enumerate(matches) if not match.english]
    if not rhetorical:
        for cue in taxonomy.ZH_NEGATION_BEFORE:
            for found in re.finditer(re.escape(cue), text):
                if found.start() > 0 and text[found.start() - 1] in taxonomy.ZH_NEGATION_NOT_AFTER:
                    continue
                following = next(((index, match) for index, match in zh if match.start >= found.end()), None)
                if following is None or following[1].start - found.end() > 4:
                    continue
                if cue == "没有" and not _NO_PROBLEM_AFTER.match(text, following[1].end):
                    continue
                negated.add(following[0])
    for cue in taxonomy.ZH_NEGATION_AFTER:
        for found in re.finditer(re.escape(cue), text):
            preceding = [(index, match) for index, match in zh if match.end <= found.start()]
            if preceding and found.start() - preceding[-1][1].end <= 3:
                negated.add(preceding[-1][0])
    return negated


def _negated_en(tokens: tuple[str, ...], matches: list[Match]) -> set[int]:
    """Return the indexes of English matches a negation cancels ("not the lift", "the lift is fine")."""
    negated: set[int] = set()
    en = [(index, match) for index, match in enumerate(matches) if match.english]
    for cue in EN_NEG_BEFORE:
        for start in range(len(tokens) - len(cue) + 1):
            if tokens[start : start + len(cue)] != cue:
                continue
            end = start + len(cue)
            following = next(((index, match) for index, match in en if match.start >= end), None)
            if following is None:
                continue
            between = tokens[end : following[1].start]
            needs_determiner = cue[-1] not in ("with", "by", "of")
            if len(between) > 2 or any(word not in EN_DETERMINERS for word in between) or (needs_determiner and not between):
                continue
            negated.add(following[0])
    for cue in EN_NEG_AFTER:
        for start in range(len(tokens) - len(cue) + 1):
            if tokens[start : start + len(cue)] != cue:
                continue
            preceding = [(index, match) for index, match in en if match.end <= start]
            if preceding and start - preceding[-1][1].end <= 1:
                negated.add(preceding[-1][0])
    return negated


def _near_miss(clause: Clause, match: Match) -> bool:
    """Return whether the match is preceded by "almost" (差点砸到, "nearly hit")."""
    if match.english:
        tokens_before = clause.tokens[max(0, match.start - 2) : match.start]
        return any(stem(word) in tokens_before for word in taxonomy.EN_MARKERS["near_miss"])
    text_before = clause.text[max(0, match.start - 4) : match.start]
    return any(word in text_before for word in taxonomy.ZH_MARKERS["near_miss"])


def _clauses(text: str) -> list[Clause]:
    """Split normalised text into weighed clauses with their matches."""
    clauses = []
    for part in CLAUSE_SPLIT.split(text):
        part = part.strip()
        if not part:
            continue
        tokens = en_tokens(part)
        matches = _scan_zh(part) + _scan_en(tokens)
        markers = _markers(part, tokens)
        negated = _negated_zh(part, matches, "rhetorical" in markers) | _negated_en(tokens, matches)
        clauses.append(Clause(part, tokens, matches, negated, markers))
    focus = max((index for index, clause in enumerate(clauses) if "focus" in clause.markers and index > 0), default=None)
    for index, clause in enumerate(clauses):
        if "resolved" in clause.markers:
            clause.weight *= 0.25
        elif "past" in clause.markers:
            clause.weight *= 0.5
        if "background" in clause.markers:
            clause.weight *= 0.6
        if "speculation" in clause.markers:
            clause.weight *= 0.7
        if "hypothetical" in clause.markers:
            clause.weight *= 0.5
        if "additive" in clause.markers or (index > 0 and re.search(r"也[停坏不没花松破]", clause.text)):
            clause.weight *= 0.6
        if focus is not None and index < focus:
            clause.weight *= 0.7
            clause.intent_weight = 0.7
        elif focus is not None and index == focus:
            clause.weight *= 1.4
    return clauses


def _is_question(clause: Clause) -> bool:
    """Return whether a clause is asked: a question particle, an asking verb or an English question opening."""
    if clause.text.endswith(taxonomy.ZH_QUESTION_ENDINGS) or any(word in clause.text for word in taxonomy.ZH_ASKING):
        return True
    return bool(clause.tokens) and clause.tokens[0] in EN_QUESTION_OPENINGS


def _persistence(text: str) -> list[str]:
    """Return the duration and count phrases in a clause that make a nuisance long-running."""
    found = [m.group(0) for pattern in ZH_PERSISTENCE for m in pattern.finditer(text)]
    return found + [m.group(0) for pattern in EN_PERSISTENCE for m in pattern.finditer(text)]


def analyse(text: str) -> Analysis:
    """Score every subcategory, intent and tier cue in a text."""
    scores: dict[str, float] = {}
    contributions: dict[str, list[tuple[float, str]]] = {}
    intents: dict[str, float] = {"praise": 0.0, "suggestion": 0.0, "inquiry": 0.0, "problem": 0.0}
    intent_terms: dict[str, list[str]] = {intent: [] for intent in intents}
    cues: dict[str, list[str]] = {}
    notes: list[str] = []
    normalised = normalise(text)
    clauses = _clauses(normalised)
    resolved = any("resolved" in clause.markers for clause in clauses)
    question = "?" in normalised or any(_is_question(clause) for clause in clauses)
    for clause in clauses:
        if "resolved" in clause.markers or "past" in clause.markers:
            notes.append(f"past:{clause.text[:24]}")
        hypothetical = "hypothetical" in clause.markers
        for index, match in enumerate(clause.matches):
            entry = match.entry
            if index in clause.negated:
                notes.append(f"negated:{entry.label}")
                continue
            for subcategory, weight in entry.weights.items():
                scores[subcategory] = scores.get(subcategory, 0.0) + weight * clause.weight
                contributions.setdefault(subcategory, []).append((weight * clause.weight, entry.label))
            for intent, weight in entry.intents.items():
                if intent == "problem":
                    weight *= clause.weight * (0.6 if hypothetical else 1.0)
                else:
                    weight *= clause.intent_weight
                intents[intent] += weight
                intent_terms[intent].append(entry.label)
            for cue in entry.cues:
                if "resolved" in clause.markers or (cue in EMERGENCY_CUES and (hypothetical or "past" in clause.markers)):
                    continue
                if cue in ("emergency", "injury", "thrown") and _near_miss(clause, match):
                    continue
                cues.setdefault(cue, []).append(entry.label)
                if cue in EMERGENCY_CUES:
                    intents["problem"] += 1.0 * clause.weight
        if "resolved" not in clause.markers:
            for phrase in _persistence(clause.text):
                cues.setdefault("persistence", []).append(phrase)
    if not question:
        intents["inquiry"] *= 0.5
    return Analysis(scores, contributions, intents, intent_terms, cues, notes, resolved, question)
