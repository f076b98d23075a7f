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

import functools
import logging
import re
import unicodedata
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dispatch.domain import taxonomy

CATEGORIES: dict[str, tuple[str, ...]] = taxonomy.CATEGORIES
TIERS: tuple[str, ...] = taxonomy.TIERS

MIN_TOPIC_SCORE = 1.5
REVIEW_CONFIDENCE = 0.5
CLOSE_MARGIN = 0.25
HINT_CATEGORY_WEIGHT = 0.75
HINT_SUBCATEGORY_WEIGHT = 1.0
DEFAULT_SUBCATEGORY = {
    "facility": "public_facility",
    "service": "customer_service",
    "fees": "property_fee",
    "community": "neighbour",
    "other": "inquiry",
}
MAX_MATCHED = 24
_INTENTS = ("praise", "suggestion", "inquiry")
_EMERGENCY_CUES = frozenset({"emergency", "injury", "stuck", "burst", "outage"})
_TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS)}
_ORDER = {sub: index for index, sub in enumerate(sub for subs in CATEGORIES.values() for sub in subs)}
_NO_PROBLEM_AFTER = re.compile(r"(?:的|方面的?)?(?:问题|毛病|故障)")


@dataclass(frozen=True)
class Classification:
    """What a complaint text is about, how urgent it is, who handles it, and why."""

    category: str
    subcategory: str
    tier: str
    department: str
    confidence: float
    matched: tuple[str, ...]
    needs_review: bool


def department_for(category: str, subcategory: str) -> str:
    """Return the department that handles a subcategory by default."""
    return taxonomy.SUBCATEGORY_DEPARTMENT.get((category, subcategory)) or taxonomy.CATEGORY_DEPARTMENT.get(category, "customer_service")


def is_valid_subcategory(category: str, subcategory: str) -> bool:
    """Return whether the subcategory belongs to the category."""
    return subcategory in CATEGORIES.get(category, ())


def tier_with_history(tier: str, *, household_same_subcategory_30d: int, building_same_subcategory_30d: int) -> tuple[str, str | None]:
    """Raise a tier to at least important for a repeated failure; return the tier and the reason, if raised."""
    if tier not in _TIER_RANK:
        raise ValueError(f"unknown tier {tier!r}")
    if _TIER_RANK[tier] <= _TIER_RANK["important"]:
        return tier, None
    if household_same_subcategory_30d >= 1:
        return "important", f"repeat: household's complaint no. {household_same_subcategory_30d + 1} of this subcategory in 30 days"
    if building_same_subcategory_30d >= 2:
        return "important", f"repeat: building's complaint no. {building_same_subcategory_30d + 1} of this subcategory in 30 days"
    return tier, None


# --- Lexicon --------------------------------------------------------------------------------------


@dataclass
class _Entry:
    """One term and everything it is evidence of."""

    label: str
    weights: dict[str, float] = field(default_factory=dict)
    intents: dict[str, float] = field(default_factory=dict)
    cues: list[str] = field(default_factory=list)


def _stem(word: str) -> str:
    """Reduce an English word to a crude stem shared by its spellings and plural."""
    if len(word) > 4 and word.endswith(("xes", "ches", "shes", "sses")):
        word = word[:-2]
    elif len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return re.sub(r"(.)\1+", r"\1", word)


def _en_tokens(text: str) -> tuple[str, ...]:
    """Split English text into normalised tokens."""
    return tuple(_stem(word) for word in re.findall(r"[a-z0-9]+", text.replace("'", "")))


def _build_zh() -> dict[str, _Entry]:
    """Compile the Chinese lexicon."""
    lexicon: dict[str, _Entry] = {}

    def entry(term: str) -> _Entry:
        return lexicon.setdefault(term, _Entry(label=term))

    for subcategory, lists in taxonomy.ZH_TOPIC.items():
        for weight, terms in lists:
            for term in terms:
                entry(term).weights[subcategory] = max(entry(term).weights.get(subcategory, 0.0), weight)
    for intent, lists in taxonomy.ZH_INTENT.items():
        for weight, terms in lists:
            for term in terms:
                entry(term).intents[intent] = max(entry(term).intents.get(intent, 0.0), weight)
    for cue, terms in taxonomy.ZH_CUES.items():
        for term in terms:
            entry(term).cues.append(cue)
    return lexicon


def _build_en() -> dict[tuple[str, ...], _Entry]:
    """Compile the English lexicon, keyed by normalised token tuples."""
    lexicon: dict[tuple[str, ...], _Entry] = {}

    def entry(phrase: str) -> _Entry:
        return lexicon.setdefault(_en_tokens(phrase), _Entry(label=phrase))

    for subcategory, lists in taxonomy.EN_TOPIC.items():
        for weight, terms in lists:
            for phrase in terms:
                entry(phrase).weights[subcategory] = max(entry(phrase).weights.get(subcategory, 0.0), weight)
    for intent, lists in taxonomy.EN_INTENT.items():
        for weight, terms in lists:
            for phrase in terms:
                entry(phrase).intents[intent] = max(entry(phrase).intents.get(intent, 0.0), weight)
    for cue, terms in taxonomy.EN_CUES.items():
        for phrase in terms:
            entry(phrase).cues.append(cue)
    return lexicon


_ZH = _build_zh()
_EN = _build_en()
_ZH_LENGTHS: dict[str, tuple[int, ...]] = {}
for _term in _ZH:
    _ZH_LENGTHS[_term[0]] = tuple(sorted({*_ZH_LENGTHS.get(_term[0], ()), len(_term)}, reverse=True))
_EN_MAX = max(len(key) for key in _EN)
_TRADITIONAL = str.maketrans(taxonomy.TRADITIONAL_TO_SIMPLIFIED)
_ASCII_REWRITES = tuple((re.compile(rf"(?<![a-z]){re.escape(short)}(?![a-z])"), long) for short, long in taxonomy.ASCII_REWRITES)
# Full-width punctuation (U+FF01-FF5E) is ASCII after NFKC, so the class lists the half-width forms.
_CLAUSE_SPLIT = re.compile(r"[。!?;,、\n\r…~:()\[\]【】<>《》\"“”]+|\.(?!\d)")
_ZH_PERSISTENCE = tuple(re.compile(pattern) for pattern in taxonomy.ZH_PERSISTENCE_PATTERNS)
_EN_PERSISTENCE = tuple(re.compile(pattern) for pattern in taxonomy.EN_PERSISTENCE_PATTERNS)
_EN_NEG_BEFORE = tuple(_en_tokens(phrase) for phrase in taxonomy.EN_NEGATION_BEFORE)
_EN_NEG_AFTER = tuple(_en_tokens(phrase) for phrase in taxonomy.EN_NEGATION_AFTER)
_EN_MARKERS = {kind: tuple(_en_tokens(phrase) for phrase in phrases) for kind, phrases in taxonomy.EN_MARKERS.items()}
_EN_QUESTION_OPENINGS = frozenset(_stem(word) for word in taxonomy.EN_QUESTION_OPENINGS)
_EN_DETERMINERS = frozenset(_stem(word) for word in taxonomy.EN_DETERMINERS)


# --- Analysis -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    """A lexicon entry found in a clause."""

    entry: _Entry
    start: int
    end: int
    english: bool


@dataclass
class _Clause:
    """A clause, its matches and how much it counts."""

    text: str
    tokens: tuple[str, ...]
    matches: list[_Match]
    negated: set[int]
    markers: set[str]
    weight: float = 1.0
    intent_weight: float = 1.0


@dataclass
class _Analysis:
    """Scores and cues gathered from a whole text."""

    scores: dict[str, float]
    contributions: dict[str, list[tuple[float, str]]]
    intents: dict[str, float]
    intent_terms: dict[str, list[str]]
    cues: dict[str, list[str]]
    notes: list[str]
    resolved: bool


def normalise(text: str) -> str:
    """Return the text as the classifier reads it: half-width, simplified, lowercase, abbreviations expanded."""
    text = unicodedata.normalize("NFKC", text).translate(_TRADITIONAL).lower().replace("\u2019", "'").replace("\u2018", "'")
    for pattern, long in _ASCII_REWRITES:
        text = pattern.sub(long, text)
    for slip, word in taxonomy.ZH_REWRITES:
        text = text.replace(slip, word)
    return text


def _contains_tokens(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """Return whether a token sequence occurs in the tokens."""
    size = len(phrase)
    return any(tokens[i : i + size] == phrase for i in range(len(tokens) - size + 1))


def _markers(text: str, tokens: tuple[str, ...]) -> set[str]:
    """Return the kinds of clause marker present."""
    found = {kind for kind, words in taxonomy.ZH_MARKERS.items() if kind != "rhetorical_end" and any(word in text for word in words)}
    found |= {kind for kind, phrases in _EN_MARKERS.items() if any(_contains_tokens(tokens, phrase) for phrase in phrases)}
    if text.rstrip().endswith(taxonomy.ZH_MARKERS["rhetorical_end"]):
        found.add("rhetorical")
    return found


def _select(candidates: list[_Match]) -> list[_Match]:
    """Keep the longest candidates that do not overlap a longer one (leftmost first among equals), in text order."""
    taken: list[_Match] = []
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


def _drop_straddlers(text: str, candidates: list[_Match]) -> list[_Match]:
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


def _scan_zh(text: str) -> list[_Match]:
    """Find lexicon terms in Chinese text, longest first, word boundaries settling partial overlaps."""
    candidates = []
    size = len(text)
    for i, char in enumerate(text):
        for length in _ZH_LENGTHS.get(char, ()):
            entry = _ZH.get(text[i : i + length]) if i + length <= size else None
            if entry is not None:
                candidates.append(_Match(entry, i, i + length, english=False))
    return _select(_drop_straddlers(text, candidates))


def _scan_en(tokens: tuple[str, ...]) -> list[_Match]:
    """Find lexicon phrases in English tokens, longest first."""
    candidates = []
    for i in range(len(tokens)):
        for length in range(1, min(_EN_MAX, len(tokens) - i) + 1):
            entry = _EN.get(tokens[i : i + length])
            if entry is not None:
                candidates.append(_Match(entry, i, i + length, english=True))
    return _select(candidates)


def _negated_zh(text: str, matches: list[_Match], rhetorical: bool) -> set[int]:
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


def _negated_en(tokens: tuple[str, ...], matches: list[_Match]) -> set[int]:
    """Return the indexes of English matches a negation cancels ("not the lift", "the lift is fine")."""
    negated: set[int] = set()
    en = [(index, match) for index, match in enumerate(matches) if match.english]
    for cue in _EN_NEG_BEFORE:
        for start in range(len(tokens) - len(cue) + 1):
            if tokens[start : start + len(cue)] != cue:
                continue
            end = start + len(cue)
            following = next(((index, match) for index, match in en if match.start >= end), None)
            if following is None:
                continue
            between = tokens[end : following[1].start]
            needs_determiner = cue[-1] not in ("with", "by", "of")
            if len(between) > 2 or any(word not in _EN_DETERMINERS for word in between) or (needs_determiner and not between):
                continue
            negated.add(following[0])
    for cue in _EN_NEG_AFTER:
        for start in range(len(tokens) - len(cue) + 1):
            if tokens[start : start + len(cue)] != cue:
                continue
            preceding = [(index, match) for index, match in en if match.end <= start]
            if preceding and start - preceding[-1][1].end <= 1:
                negated.add(preceding[-1][0])
    return negated


def _near_miss(clause: _Clause, match: _Match) -> bool:
    """Return whether the match is preceded by "almost" (差点砸到, "nearly hit")."""
    if match.english:
        tokens_before = clause.tokens[max(0, match.start - 2) : match.start]
        return any(_stem(word) in tokens_before for word in taxonomy.EN_MARKERS["near_miss"])
    text_before = clause.text[max(0, match.start - 4) : match.start]
    return any(word in text_before for word in taxonomy.ZH_MARKERS["near_miss"])


def _clauses(text: str) -> list[_Clause]:
    """Split normalised text into weighed clauses with their matches."""
    clauses = []
    for part in _CLAUSE_SPLIT.split(text):
        part = part.strip()
        if not part:
            continue
        tokens = _en_tokens(part)
        matches = _scan_zh(part) + _scan_en(tokens)
        markers = _markers(part, tokens)
        negated = _negated_zh(part, matches, "rhetorical" in markers) | _negated_en(tokens, matches)
        clauses.append(_Clause(part, tokens, matches, negated, markers))
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


def _is_question(clause: _Clause) -> bool:
    """Return whether a clause is asked: a question particle, an asking verb or an English question opening."""
    if clause.text.endswith(taxonomy.ZH_QUESTION_ENDINGS) or any(word in clause.text for word in taxonomy.ZH_ASKING):
        return True
    return bool(clause.tokens) and clause.tokens[0] in _EN_QUESTION_OPENINGS


def _persistence(text: str) -> list[str]:
    """Return the duration and count phrases in a clause that make a nuisance long-running."""
    found = [m.group(0) for pattern in _ZH_PERSISTENCE for m in pattern.finditer(text)]
    return found + [m.group(0) for pattern in _EN_PERSISTENCE for m in pattern.finditer(text)]


def _analyse(text: str) -> _Analysis:
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
                if "resolved" in clause.markers or (cue in _EMERGENCY_CUES and (hypothetical or "past" in clause.markers)):
                    continue
                if cue in ("emergency", "injury", "thrown") and _near_miss(clause, match):
                    continue
                cues.setdefault(cue, []).append(entry.label)
                if cue in _EMERGENCY_CUES:
                    intents["problem"] += 1.0 * clause.weight
        if "resolved" not in clause.markers:
            for phrase in _persistence(clause.text):
                cues.setdefault("persistence", []).append(phrase)
    if not question:
        intents["inquiry"] *= 0.5
    return _Analysis(scores, contributions, intents, intent_terms, cues, notes, resolved)


# --- Decision -------------------------------------------------------------------------------------


def _apply_hint(scores: dict[str, float], category_hint: str | None, notes: list[str]) -> None:
    """Add a little weight to the hinted category or subcategory where the text already points to it."""
    if not category_hint:
        return
    hint = category_hint.strip().lower()
    if hint in CATEGORIES:
        targets = [(sub, HINT_CATEGORY_WEIGHT) for sub in CATEGORIES[hint] if scores.get(sub, 0.0) > 0]
    elif hint in taxonomy.SUBCATEGORY_CATEGORY and scores.get(hint, 0.0) > 0:
        targets = [(hint, HINT_SUBCATEGORY_WEIGHT)]
    else:
        targets = []
    for sub, weight in targets:
        scores[sub] += weight
    if targets:
        notes.append(f"hint:{hint}")


def _intent(analysis: _Analysis) -> str | None:
    """Return praise, suggestion or inquiry when that is what the text wants, else None."""
    problem = analysis.intents["problem"]
    thresholds = {"praise": 2.5, "suggestion": 2.5, "inquiry": 2.0}
    candidates = [intent for intent in _INTENTS if analysis.intents[intent] >= thresholds[intent] and analysis.intents[intent] > problem]
    if not candidates and analysis.resolved and 0 < analysis.intents["praise"] and problem < 1.0:
        candidates = ["praise"]
    if not candidates:
        return None
    return max(candidates, key=lambda intent: (analysis.intents[intent], -_INTENTS.index(intent)))


def _tier(category: str, subcategory: str, cues: Mapping[str, list[str]]) -> tuple[str, list[str]]:
    """Return the tier of a complaint and the cues or rules that set it."""
    if category == "other":
        return "general", []
    candidates: list[tuple[str, str]] = []
    if category == "fees":
        candidates.append(("complex", "rule:fee dispute"))
    if category == "community" and "mediation" in cues:
        candidates.append(("complex", f"tier:complex:{cues['mediation'][0]}"))
    elif subcategory == "neighbour":
        candidates.append(("complex", "rule:neighbour dispute"))
    if subcategory == "fire_safety":
        candidates.append(("important", "rule:fire equipment"))
    conditional = {"open_entrance": "access_control", "load_bearing": "renovation"}
    for cue in ("safety", "thrown", "open_entrance", "load_bearing"):
        if cue in cues and conditional.get(cue, subcategory) == subcategory:
            candidates.append(("important", f"tier:important:{cues[cue][0]}"))
    # Persistence raises a nuisance; a card, plate or intercom that keeps failing stays general (data README).
    if "persistence" in cues and category != "fees" and subcategory != "access_control":
        candidates.append(("important", f"tier:important:{cues['persistence'][0]}"))
    for cue in ("injury", "emergency"):
        if cue in cues:
            candidates.append(("emergency", f"tier:emergency:{cues[cue][0]}"))
    if "stuck" in cues and subcategory == "elevator":
        candidates.append(("emergency", f"tier:emergency:{cues['stuck'][0]}"))
    if "burst" in cues and subcategory == "water":
        candidates.append(("emergency", f"tier:emergency:{cues['burst'][0]}"))
    if "outage" in cues and subcategory in ("water", "electrical"):
        candidates.append(("emergency", f"tier:emergency:{cues['outage'][0]}"))
    if not candidates:
        return "general", []
    best = min(_TIER_RANK[tier] for tier, _ in candidates)
    return TIERS[best], [reason for tier, reason in candidates if _TIER_RANK[tier] == best]


def _confidence(top: float, rival: float) -> float:
    """Return a 0..1 confidence from the winning score and the best score of another category."""
    margin = (top - rival) / top if top > 0 else 0.0
    strength = top / (top + 1.5)
    return round(max(0.05, min(0.97, strength * (0.35 + 0.65 * margin))), 2)


def _rank_categories(scores: Mapping[str, float]) -> list[tuple[float, str]]:
    """Return (score, category) best first: a category's best subcategory plus its category-wide evidence."""
    ranked = []
    for category, subcategories in CATEGORIES.items():
        score = max((scores.get(sub, 0.0) for sub in subcategories), default=0.0) + scores.get(category, 0.0)
        if score > 0:
            ranked.append((score, category))
    return sorted(ranked, key=lambda item: (-item[0], list(CATEGORIES).index(item[1])))


def _unplaced(analysis: _Analysis, notes: list[str]) -> Classification:
    """Return the classification of a text the classifier cannot place: other, for a person to look at.

    The tier stays general unless the text reports an emergency or an injury: someone bleeding is
    urgent even when the classifier cannot tell where it happened.
    """
    suggestion = analysis.intents["suggestion"]
    subcategory = "suggestion" if suggestion >= 1.0 and suggestion >= analysis.intents["inquiry"] else "inquiry"
    best = max(analysis.scores.values(), default=0.0)
    confidence = round(min(0.3, 0.1 + best / 10), 2)
    urgent = [f"tier:emergency:{label}" for cue in ("injury", "emergency") for label in analysis.cues.get(cue, [])[:1]]
    tier = "emergency" if urgent else "general"
    matched = ("unplaced", *urgent, *notes)[:MAX_MATCHED]
    return Classification("other", subcategory, tier, department_for("other", subcategory), confidence, matched, True)


def classify(text: str, *, channel: str | None = None, category_hint: str | None = None) -> Classification:
    """Classify a complaint text; ``channel`` is accepted for the record and ``category_hint`` is a weak prior."""
    analysis = _analyse(text or "")
    notes = list(dict.fromkeys(analysis.notes))
    intent = _intent(analysis)
    if intent is not None:
        return _classify_intent(analysis, intent, notes)
    scores = dict(analysis.scores)
    _apply_hint(scores, category_hint, notes)
    ranked = _rank_categories(scores)
    if not ranked or ranked[0][0] < MIN_TOPIC_SCORE:
        return _unplaced(analysis, notes)
    return _classify_complaint(analysis, scores, ranked, notes)


def _classify_intent(analysis: _Analysis, intent: str, notes: list[str]) -> Classification:
    """Return the classification of praise, a suggestion or an inquiry."""
    own = analysis.intents[intent]
    rival = max(analysis.intents["problem"], *(analysis.intents[other] for other in _INTENTS if other != intent))
    confidence = _confidence(own, rival)
    terms = [f"intent:{intent}:{term}" for term in analysis.intent_terms[intent]]
    matched = tuple(dict.fromkeys([*terms, *notes]))[:MAX_MATCHED]
    return Classification("other", intent, "general", department_for("other", intent), confidence, matched, confidence < REVIEW_CONFIDENCE)


def _classify_complaint(
    analysis: _Analysis, scores: Mapping[str, float], ranked: list[tuple[float, str]], notes: list[str]
) -> Classification:
    """Return the classification of a complaint from its best-scoring category."""
    top, category = ranked[0]
    rival_score, rival = ranked[1] if len(ranked) > 1 else (0.0, "")
    subcategory = max(CATEGORIES[category], key=lambda sub: (scores.get(sub, 0.0), -_ORDER[sub]))
    if scores.get(subcategory, 0.0) <= 0:
        subcategory = DEFAULT_SUBCATEGORY[category]
    confidence = _confidence(top, rival_score)
    close = bool(rival) and (top - rival_score) / top < CLOSE_MARGIN
    tier, tier_reasons = _tier(category, subcategory, analysis.cues)
    terms = [(weight, f"{subcategory}:{label}") for weight, label in analysis.contributions.get(subcategory, [])]
    terms += [(weight, f"{category}:{label}") for weight, label in analysis.contributions.get(category, [])]
    reasons = [label for _, label in sorted(terms, key=lambda item: -item[0])] + tier_reasons
    if close:
        reasons.append(f"close:{rival}")
    matched = tuple(dict.fromkeys([*reasons, *notes]))[:MAX_MATCHED]
    return Classification(
        category, subcategory, tier, department_for(category, subcategory), confidence, matched, close or confidence < REVIEW_CONFIDENCE
    )
