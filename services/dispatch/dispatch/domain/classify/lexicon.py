"""The classifier's lexicons, compiled once at import from the word lists, and the normalisation of a text.

Pure: the Chinese lexicon is keyed by term, the English one by normalised token tuples; a term listed
under several subcategories, intents or cues carries all of them in one ``Entry``.

Traditional characters are converted by OpenCC (the ``opencc`` package, its ``hk2s`` and ``tw2s``
configurations: Hong Kong and Taiwan variants, then phrases and characters to simplified) rather than a
hand-kept table: 瓦斯, 裡/裏, 衞 and every character the word lists never named are converted alike.
A converter is built once per process; converting simplified text leaves it unchanged.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources

import opencc

from dispatch.domain import taxonomy


@dataclass
class Entry:
    """One term and everything it is evidence of."""

    label: str
    weights: dict[str, float] = field(default_factory=dict)
    intents: dict[str, float] = field(default_factory=dict)
    cues: list[str] = field(default_factory=list)


def stem(word: str) -> str:
    """Reduce an English word to a crude stem shared by its spellings and plural."""
    if len(word) > 4 and word.endswith(("xes", "ches", "shes", "sses")):
        word = word[:-2]
    elif len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return re.sub(r"(.)\1+", r"\1", word)


def en_tokens(text: str) -> tuple[str, ...]:
    """Split English text into normalised tokens."""
    return tuple(stem(word) for word in re.findall(r"[a-z0-9]+", text.replace("'", "")))


def _build_zh() -> dict[str, Entry]:
    """Compile the Chinese lexicon."""
    lexicon: dict[str, Entry] = {}

    def entry(term: str) -> Entry:
        return lexicon.setdefault(term, Entry(label=term))

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


def _build_en() -> dict[tuple[str, ...], Entry]:
    """Compile the English lexicon, keyed by normalised token tuples."""
    lexicon: dict[tuple[str, ...], Entry] = {}

    def entry(phrase: str) -> Entry:
        return lexicon.setdefault(en_tokens(phrase), Entry(label=phrase))

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


ZH = _build_zh()
EN = _build_en()
ZH_LENGTHS: dict[str, tuple[int, ...]] = {}
for _term in ZH:
    ZH_LENGTHS[_term[0]] = tuple(sorted({*ZH_LENGTHS.get(_term[0], ()), len(_term)}, reverse=True))
EN_MAX = max(len(key) for key in EN)
_HONG_KONG = opencc.OpenCC("hk2s")
_TAIWAN = opencc.OpenCC("tw2s")
_ASCII_REWRITES = tuple((re.compile(rf"(?<![a-z]){re.escape(short)}(?![a-z])"), long) for short, long in taxonomy.ASCII_REWRITES)
# Full-width punctuation (U+FF01-FF5E) is ASCII after NFKC, so the class lists the half-width forms. Residents
# who type without punctuation separate clauses with spaces: a space between two Chinese characters splits too.
CLAUSE_SPLIT = re.compile(r"[。!?;,、\n\r…~:()\[\]【】<>《》\"“”]+|\.(?!\d)|(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
ZH_PERSISTENCE = tuple(re.compile(pattern) for pattern in taxonomy.ZH_PERSISTENCE_PATTERNS)
EN_PERSISTENCE = tuple(re.compile(pattern) for pattern in taxonomy.EN_PERSISTENCE_PATTERNS)
EN_NEG_BEFORE = tuple(en_tokens(phrase) for phrase in taxonomy.EN_NEGATION_BEFORE)
EN_NEG_AFTER = tuple(en_tokens(phrase) for phrase in taxonomy.EN_NEGATION_AFTER)
EN_MARKERS = {kind: tuple(en_tokens(phrase) for phrase in phrases) for kind, phrases in taxonomy.EN_MARKERS.items()}
EN_QUESTION_OPENINGS = frozenset(stem(word) for word in taxonomy.EN_QUESTION_OPENINGS)
EN_DETERMINERS = frozenset(stem(word) for word in taxonomy.EN_DETERMINERS)


_EN_FUNCTION_WORDS = frozenset(
    json.loads(resources.files("dispatch.domain").joinpath("data", "languages.json").read_text(encoding="utf-8"))["en_function_words"]
)
_CJK = re.compile(r"[\u3400-\u9fff]")


def unread_language(normalised: str) -> bool:
    """Return whether a normalised text is in a language the classifier does not read: no Chinese, no English function word."""
    words = re.findall(r"[a-z]+", normalised.replace("'", ""))
    return bool(words) and not _CJK.search(normalised) and _EN_FUNCTION_WORDS.isdisjoint(words)


_SPACED_CJK = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_SPACED_DIGIT = re.compile(r"(?<=[\u3400-\u9fff]) +(?=\d)|(?<=\d) +(?=[\u3400-\u9fff])")
_SPACED_LETTERS = re.compile(r"(?<![a-z])(?:[a-z] ){3,}[a-z](?![a-z])")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
SPACED_OUT = 0.5
SPACED_RUNS = 4
SPACED_RUN_LENGTH = 2.5


def _closed_up(text: str) -> str:
    """Return a text spaced out word by word or letter by letter closed up.

    Spaces between Chinese characters separate clauses (residents who type without punctuation use them so);
    where they separate most characters ("我 在 电梯 里 面 出 不 去 了", as some voice input types it) or
    words of one or two characters ("插座 烫手 一股 烧塑料 味"), they separate nothing, and are dropped.
    Letters spaced out one by one ("s p a r k s") are closed up too.
    """
    text = _SPACED_LETTERS.sub(lambda found: found.group(0).replace(" ", ""), text)
    characters = len(_CJK.findall(text))
    runs = _CJK_RUN.findall(text)
    spaced = len(_SPACED_CJK.findall(text)) >= SPACED_OUT * characters
    wordy = len(runs) >= SPACED_RUNS and characters <= SPACED_RUN_LENGTH * len(runs)
    if characters and (spaced or wordy):
        return _SPACED_DIGIT.sub("", _SPACED_CJK.sub("", text))
    return text


@functools.lru_cache(maxsize=64)
def normalise(text: str) -> str:
    """Return the text as the classifier reads it: half-width, simplified, lowercase, abbreviations expanded.

    Cached for the last few texts: the topic and the safety stage both read the same text.
    """
    text = _HONG_KONG.convert(_TAIWAN.convert(unicodedata.normalize("NFKC", text)))
    text = _closed_up(text.lower().replace("\u2019", "'").replace("\u2018", "'"))
    for pattern, long in _ASCII_REWRITES:
        text = pattern.sub(long, text)
    for word, plain in taxonomy.CANTONESE_REWRITES:
        text = text.replace(word, plain)
    for slip, word in taxonomy.ZH_REWRITES:
        text = text.replace(slip, word)
    return text
