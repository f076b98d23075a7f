"""The safety stage: a recall-first detector of danger to people, run before topic classification decides the tier.

Pure and deterministic: a normalised text (``lexicon.normalise``: simplified, Cantonese rewritten, lowercase)
in, the dangers it reports out. Its word families and rules are data, ``data/safety.json``:

- ``families``: what counts as danger, each a list of regular expressions over a clause, for Chinese
  and English, in priority order: ``trapped`` (困人, 被困, "trapped"; 出不来/卡在/"stuck" only where the
  text names a lift), ``gas`` (煤气/燃气/天然气/瓦斯/液化气 with a smell, a leak or a hiss), ``fire``
  (着火, 冒烟, 烧焦味, "smoke" but not "smoke alarm"), ``electric`` (漏电, 触电, 被电到, sparks),
  ``flood`` (爆管, 淹, water reaching a socket, a light or a meter box), ``outage`` (停电, 停水, "no
  power"), ``falling`` (a façade, ceiling or tiles falling or collapsing; something thrown that hit a
  person), ``injury`` (受伤, 流血, 晕倒, "slipped", "bleeding"), ``threat`` (持刀, 跟踪我, "knife"),
  ``missing`` (不见了, 还没回来, where a child or an elder is named). A family may name the subcategory it
  implies (gas → fire_safety, smoke at a socket → electrical, threat and missing → security); ``injury``
  names none: the place it happened decides (data README).
- ``veto`` (per family): a match whose words match ``evidence`` is dropped when the whole text matches
  ``text``: a planned cut asked about (请问这周六停水是几点到几点, "停电…通知上说下午三点") is not an
  outage now, unless the text says it is happening (停电了, 现在, "since"); one socket or doorbell 没电
  is not a flat without power; 烟味 next to 抽烟 is a smoker.
- ``clause_markers``: a clause that is resolved (已经处理好了, "was fixed"), unreal (万一, 明天, 演练,
  误报, "if", "tomorrow", "drill") or past (上次, 昨天, "last night") without a present marker (现在,
  又, 还在, "now", "still") reports no danger now, so it is skipped. The past problem mentioned before
  the current one stays in its own clause: clauses split at punctuation and at spaces between Chinese
  characters, which is how residents who type without punctuation separate them.
- ``negators``: a match right after a negation (没有漏气, 不是着火, 没有人受伤, "nobody is stuck",
  "no one was hurt") is skipped; ``near_miss`` (差点砸到, "nearly hit") too.
- ``conditions`` and ``sentence_end``: a condition (如果, 万一, "if") and the rest of its sentence are
  imagined until a clause says now; ``closed``: a closed log (已解困, 已处置完毕, "incident closed")
  reports nothing unless a clause says now.
- ``learned``: the gates of the learned backstop (``learned``), which reads the texts the families found
  nothing in: a person named (``person``), nobody spared by luck (``spared``), no thrown object (``defer``).

It is deliberately biased: a false alarm costs a phone call, a miss costs a life. Its answer forces
the tier ``emergency`` and its evidence goes into ``matched`` as ``safety:<family>:<text>`` or
``safety:learned:<probability>:<n-grams>`` (``classify`` in ``decision.py`` combines it with the topic).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from dispatch.domain.classify.lexicon import CLAUSE_SPLIT
from dispatch.domain.classify.model import DANGER, Model, features

PRIORITY = ("trapped", "gas", "fire", "electric", "flood", "outage", "falling", "injury", "threat", "missing")
LEARNED = "learned"
DAMAGE = frozenset({"flood", "outage"})
EVIDENCE_CHARS = 16
EVIDENCE_GRAMS = 3
LEARNED_MIN_FEATURES = 25


@dataclass(frozen=True)
class Danger:
    """A danger to people found in a text: its family, the words that showed it, the subcategory it implies."""

    family: str
    evidence: str
    subcategory: str | None

    @property
    def reason(self) -> str:
        """Return the danger as ``matched`` shows it: ``safety:<family>:<evidence>``."""
        return f"safety:{self.family}:{self.evidence}"


@dataclass(frozen=True)
class _Family:
    name: str
    subcategory: str | None
    patterns: tuple[re.Pattern[str], ...]
    in_context: tuple[re.Pattern[str], ...]
    context: re.Pattern[str] | None
    vetoes: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = ()


def _english(pattern: str) -> re.Pattern[str]:
    """Compile an English marker so that it matches whole words only."""
    return re.compile(rf"(?<![a-z])(?:{pattern})(?![a-z])")


def _load() -> dict[str, Any]:
    return dict(json.loads(resources.files("dispatch.domain").joinpath("data", "safety.json").read_text(encoding="utf-8")))


def _union(patterns: list[str], flags: int = 0) -> tuple[re.Pattern[str], ...]:
    """Compile a list of patterns as one alternation (one pass over a clause instead of one per pattern)."""
    return (re.compile("|".join(f"(?:{pattern})" for pattern in patterns), flags),) if patterns else ()


def _english_union(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    """Compile English patterns so that ``\\b`` is a boundary of Latin words: "corridor有smoke" has the word smoke."""
    return _union(patterns, re.ASCII)


def _families(data: dict[str, Any]) -> tuple[_Family, ...]:
    families = []
    for name in PRIORITY:
        spec = data["families"][name]
        context = spec.get("context")
        families.append(
            _Family(
                name=name,
                subcategory=spec["subcategory"],
                patterns=_union(spec["zh"]) + _english_union(spec["en"]),
                in_context=_union(spec.get("zh_in_context", [])) + _english_union(spec.get("en_in_context", [])),
                context=re.compile(f"{context['zh']}|{context['en']}") if context else None,
                vetoes=tuple((re.compile(veto["evidence"]), re.compile(veto["text"])) for veto in spec.get("veto", [])),
            )
        )
    return tuple(families)


_DATA = _load()
FAMILIES = _families(_DATA)
_MARKERS = {
    kind: _union([*_DATA["clause_markers"]["zh"][kind], *(_english(word).pattern for word in _DATA["clause_markers"]["en"][kind])])
    for kind in ("resolved", "past", "present", "unreal", "now")
}
_NEGATED_BEFORE = (re.compile(_DATA["negators"]["zh"]), re.compile(_DATA["negators"]["en"]))
_NEAR_MISS_BEFORE = (re.compile(_DATA["near_miss"]["zh"]), re.compile(_DATA["near_miss"]["en"]))
_WATER = re.compile(_DATA["families"]["outage"]["water_terms"])
_ELECTRICAL = re.compile(_DATA["families"]["fire"]["electrical_terms"])
_CLOSED = re.compile(f"{_DATA['closed']['zh']}|{_DATA['closed']['en']}")
_CONDITION = re.compile(f"{_DATA['conditions']['zh']}|{_DATA['conditions']['en']}")
_SENTENCE_END = re.compile(_DATA["sentence_end"])
_LEARNED = {name: re.compile(f"{words['zh']}|{words['en']}") for name, words in _DATA["learned"].items()}


def _has(kind: str, clause: str) -> bool:
    return any(marker.search(clause) for marker in _MARKERS[kind])


def reports_now(clause: str) -> bool:
    """Return whether a clause can report a present danger: not resolved, not unreal, not past unless it says now."""
    if _has("resolved", clause) or _has("unreal", clause):
        return False
    return not _has("past", clause) or _has("present", clause)


def _closes_a_past_story(clause: str) -> bool:
    """Return whether a clause tells a past event as over (前几天冒烟那次后来查清楚了, "the fire last month was sorted")."""
    return _has("past", clause) and _has("resolved", clause) and not _has("present", clause)


def live_clauses(clauses: list[str]) -> list[str]:
    """Return the clauses that can report a danger now.

    A clause that closes a past story (a past event, resolved) is followed by its cause and aftermath
    (是有人在烧纸, "just asking when the scorched wall will be repainted"): those clauses carry no present
    marker and report nothing now, until a clause says 现在/"now" again.
    """
    live: list[str] = []
    story_closed = False
    for clause in clauses:
        if story_closed and not _has("present", clause):
            continue
        story_closed = _closes_a_past_story(clause)
        if reports_now(clause):
            live.append(clause)
    return live


def _cancelled(clause: str, start: int) -> bool:
    """Return whether the words before a match negate it or make it a near miss."""
    before = clause[max(0, start - 24) : start]
    return any(pattern.search(before) for pattern in (*_NEGATED_BEFORE, *_NEAR_MISS_BEFORE))


def _vetoed(family: _Family, evidence: str, normalised: str) -> bool:
    """Return whether one of the family's vetoes drops this match in this text (a planned cut asked about, one device)."""
    return any(words.search(evidence) and text.search(normalised) for words, text in family.vetoes)


def _first_match(clause: str, patterns: tuple[re.Pattern[str], ...], family: _Family, normalised: str) -> str | None:
    for pattern in patterns:
        for found in pattern.finditer(clause):
            if not _cancelled(clause, found.start()) and not _vetoed(family, found.group(0), normalised):
                return found.group(0)
    return None


def _subcategory(family: _Family, evidence: str, normalised: str) -> str | None:
    """Return the subcategory a danger implies: an outage of water is water's; smoke from a socket or a meter box is electrical."""
    if family.name == "outage" and _WATER.search(evidence):
        return "water"
    if family.name == "fire" and _ELECTRICAL.search(normalised):
        return "electrical"
    return family.subcategory


def _clauses(sentence: str) -> list[str]:
    """Return a sentence's clauses, a condition (如果, 万一, "if", "in case") opening a clause of its own."""
    parts = [part.strip() for part in CLAUSE_SPLIT.split(_CONDITION.sub(lambda found: f",{found.group(0)}", sentence))]
    return [part for part in parts if part]


def _outside_conditions(clauses: list[str]) -> list[str]:
    """Return a sentence's clauses without a condition and what follows it in the sentence, until a clause says now.

    "请问如果电梯停在半路 人在里面应该怎么做", "what's the procedure if someone gets stuck in a lift": what
    follows the condition is imagined; "如果你们再不来 …她现在被困在电梯里" is not.
    """
    kept: list[str] = []
    imagined = False
    for clause in clauses:
        if _CONDITION.match(clause):
            imagined = True
        elif imagined and _has("present", clause):
            imagined = False
        if not imagined:
            kept.append(clause)
    return kept


@lru_cache(maxsize=64)
def _live(normalised: str) -> tuple[str, ...]:
    """Return the clauses of a text that can report a danger now (cached: the families and the backstop both read them)."""
    clauses = [clause for sentence in _SENTENCE_END.split(normalised) for clause in _outside_conditions(_clauses(sentence))]
    return tuple(live_clauses(clauses))


def _closed_log(normalised: str, live: Sequence[str]) -> bool:
    """Return whether a text is a closed log (已解困, 已处置完毕, "incident closed") with no clause saying now."""
    return bool(_CLOSED.search(normalised)) and not any(_has("now", clause) for clause in live)


def learned(normalised: str, model: Model, minimum: float) -> tuple[Danger, ...]:
    """Return the danger model's verdict on a text the word families found nothing in: the backstop of the safety stage.

    The families read words; new writers tell dangers as situations no family names (a man lying by the bins
    not moving, a father with epilepsy not back from his run). The model (``model.shipped_danger``: naive Bayes
    over the topic model's n-grams, trained on whether each labelled text is an emergency) reads the clauses
    that can report a danger now (``live_clauses``: the past, the resolved and the unreal set aside) and
    reports a danger at a posterior of ``minimum`` or more, as slots: a situation (the model), a person in it
    (``learned.person``: a danger to people names someone) and now (the live clauses). It stays silent

    - on a text too short to tell a situation (fewer than ``LEARNED_MIN_FEATURES`` n-grams, about ten Chinese
      characters or a dozen English words): a short text is the families' to read, and on a few n-grams the
      posterior is noise;
    - where the text says nobody came or is in harm's way (``learned.spared``: 差点, 还好没人受伤, 里面没人,
      "nearly", "nobody was hurt"): a near miss, or a stopped lift with nobody inside, is not an emergency;
    - on objects thrown from height (``learned.defer``): important by the labelling rules unless someone was
      hit, which the families find.
    - on a closed log (``closed``: 已解困, 已处置完毕, "incident closed") where no clause says now.

    Its evidence is the probability and the n-grams that weighed most for it (``safety:learned:0.97:不动+倒在``).
    It implies no subcategory, and ``classify`` marks its answer ``needs_review``.
    """
    live = _live(normalised)
    text = " ".join(live)
    if _closed_log(normalised, live):
        return ()
    if len(features(text)) < LEARNED_MIN_FEATURES or not _LEARNED["person"].search(text):
        return ()
    if _LEARNED["spared"].search(normalised) or _LEARNED["defer"].search(normalised):
        return ()
    probability = model.probability(text, DANGER)
    if probability < minimum:
        return ()
    grams = "+".join(model.evidence(text, DANGER, EVIDENCE_GRAMS))
    return (Danger(LEARNED, f"{probability:.2f}:{grams}", None),)


def detect(normalised: str, *, thanks: bool = False, dispute: bool = False) -> tuple[Danger, ...]:
    """Return the dangers to people a normalised text reports now, one per family, most specific family first.

    In a text of ``thanks`` (the topic read it as praise) a danger counts only in a clause that says now in
    so many words (``now``: 现在, 正在, 还在, "now", "still"; not 又, which in thanks is "also"): thanks
    tell of a rescue that is over ("多谢寻晚个技工师傅 我阿妈困咗喺𨋢"), unless they go on to a danger now
    ("上周水管的事已经处理好了 谢谢 但是现在卫生间天花板在往下灌水").
    In a ``dispute`` (a claim, a fee contested, said in words) a flood or an outage counts only where a clause
    says now: claims are for damage done ("水浸嗰次整坏咗我屋企木地板 … 我要求赔偿"), unless the water is still
    coming ("楼上水管爆了 现在水还在往我家灌 … 我要求赔偿"). A closed log (``closed``: 已解困, 已处置完毕,
    工单…关闭, "incident closed") reports nothing unless a clause says now.
    """
    live = [clause for clause in _live(normalised) if not thanks or _has("now", clause)]
    present = [clause for clause in live if _has("present", clause)]
    if _closed_log(normalised, live):
        return ()  # a closed log tells of a danger that is over
    found: list[Danger] = []
    for family in FAMILIES:
        patterns = family.patterns
        if family.context is not None and family.context.search(normalised):
            patterns += family.in_context
        if dispute and family.name in DAMAGE and not present:
            continue
        for clause in live:
            evidence = _first_match(clause, patterns, family, normalised)
            if evidence is not None:
                evidence = evidence.strip()[:EVIDENCE_CHARS]
                found.append(Danger(family.name, evidence, _subcategory(family, evidence, normalised)))
                break
    return tuple(found)
