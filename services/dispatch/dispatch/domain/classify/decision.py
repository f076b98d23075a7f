"""Deciding from an analysis: the intent, the category and subcategory, the tier, the confidence and ``needs_review``.

Pure: an ``Analysis`` in, a frozen ``Classification`` out; ``classify`` is the whole pipeline: the topic
from the analysis, then the safety stage (``safety.detect``), whose dangers force the tier ``emergency``
and come first in ``matched``. A danger that implies a subcategory also places the text when the topic
could not (other) or when it is one no topic outweighs: a lift with people in it is the lift, a gas
smell or smoke is fire safety, sparks and shocks are electrical, whatever else the text mentions.
Flooding and outages place a text only outside facility (a leak onto a meter box stays the water
complaint it was read as); falling structure only a text the topic could not place. A threat or a
missing person is security's wherever it happens; an injury, a collapse or a situation the learned
backstop found is security's only in a text the topic could not place (otherwise the place it happened
decides: a slip on a wet floor is cleaning, data README). A text the safety stage moved to another
category is marked ``needs_review``: its tier is certain, its department is for a person to confirm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from dispatch.domain import taxonomy
from dispatch.domain.classify.analysis import Analysis, analyse
from dispatch.domain.classify.labels import CATEGORIES, TIER_RANK, TIERS, Classification, department_for
from dispatch.domain.classify.lexicon import normalise, unread_language
from dispatch.domain.classify.model import Model, features, shipped, shipped_danger, shipped_tier
from dispatch.domain.classify.safety import LEARNED, Danger, detect, learned

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
INTENTS = ("praise", "suggestion", "inquiry")
SAFETY_PLACES_ALWAYS = frozenset({"trapped", "gas", "fire", "electric", "threat", "missing"})
SAFETY_PLACES_OUTSIDE_FACILITY = frozenset({"flood", "outage"})
SAFETY_PLACES_UNPLACED = frozenset({"falling"})
PEOPLE_UNPLACED = frozenset({"injury", LEARNED})
PEOPLE_SUBCATEGORY = "security"
SAFETY_CONFIDENCE = 0.6
MODEL_MIN = 0.5
MODEL_MIN_UNPLACED = 0.9
MODEL_SURE = 0.999
MODEL_OVERRIDE = 0.99999
MODEL_CONFIDENCE_SCALE = 0.8
MODEL_MIN_FEATURES = 15
TIER_MODEL_MIN = 0.5
TIER_MODEL_RAISE = 0.999
TIER_RAISE_MIN_FEATURES = 60
DANGER_MODEL_MIN = 0.5
CALM_INTENTS = frozenset({"praise", "suggestion"})
DISPUTE_REASONS = ("tier:complex:", "rule:fee dispute", "rule:neighbour dispute")
_ORDER = {sub: index for index, sub in enumerate(sub for subs in CATEGORIES.values() for sub in subs)}


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


def _intent(analysis: Analysis) -> str | None:
    """Return praise, suggestion or inquiry when that is what the text wants, else None."""
    problem = analysis.intents["problem"]
    thresholds = {"praise": 2.5, "suggestion": 2.5, "inquiry": 2.0}
    candidates = [intent for intent in INTENTS if analysis.intents[intent] >= thresholds[intent] and analysis.intents[intent] > problem]
    if "persistence" in analysis.cues:  # "居民多次反映 … 建议物业组织清理": a complaint chased, ending in a request
        candidates = [intent for intent in candidates if intent != "suggestion"]
    if not candidates and analysis.resolved and 0 < analysis.intents["praise"] and problem < 1.0:
        candidates = ["praise"]
    if not candidates:
        return None
    return max(candidates, key=lambda intent: (analysis.intents[intent], -INTENTS.index(intent)))


def _tier(category: str, subcategory: str, cues: Mapping[str, list[str]]) -> tuple[str, list[str]]:
    """Return the tier of a complaint from its topic (important, complex, general) and the cues or rules that set it.

    ``emergency`` is the safety stage's alone (``with_safety``): one detector, one set of negation and past rules.
    """
    if category == "other":
        return "general", []
    candidates: list[tuple[str, str]] = []
    # A request about a bill (an invoice, a receipt, a payment not shown, an account to change) is general;
    # a fee text is a dispute, complex, unless it asks only for that, contests nothing and has not been chased
    # again and again (data README: a slip only to be checked is general, contesting a demand is complex).
    contest = [cue for cue in ("fee_dispute", "claim", "persistence") if cue in cues]
    fee_request = category == "fees" and "fee_request" in cues and not contest
    if category == "fees" and contest:  # said in words: a cue, which the tier model does not overturn
        candidates.append(("complex", f"tier:complex:{cues[contest[0]][0]}"))
    elif category == "fees" and not fee_request:
        candidates.append(("complex", "rule:fee dispute"))
    if "claim" in cues and category != "fees":  # a claim for compensation, or who pays, is a dispute wherever it happened
        candidates.append(("complex", f"tier:complex:{cues['claim'][0]}"))
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
    if not candidates:
        return "general", [f"tier:general:{cues['fee_request'][0]}"] if fee_request else []
    best = min(TIER_RANK[tier] for tier, _ in candidates)
    return TIERS[best], [reason for tier, reason in candidates if TIER_RANK[tier] == best]


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


def _unplaced(analysis: Analysis, notes: list[str]) -> Classification:
    """Return the classification of a text the classifier cannot place: other, general, for a person to look at.

    An emergency in it (someone bleeding, a gas smell) is the safety stage's to find: it raises the tier.
    """
    suggestion = analysis.intents["suggestion"]
    subcategory = "suggestion" if suggestion >= 1.0 and suggestion >= analysis.intents["inquiry"] else "inquiry"
    best = max(analysis.scores.values(), default=0.0)
    confidence = round(min(0.3, 0.1 + best / 10), 2)
    matched = ("unplaced", *notes)[:MAX_MATCHED]
    return Classification("other", subcategory, "general", department_for("other", subcategory), confidence, matched, True)


def classify(
    text: str,
    *,
    channel: str | None = None,
    category_hint: str | None = None,
    model: Model | None = None,
    tier_model: Model | None = None,
    danger_model: Model | None = None,
) -> Classification:
    """Classify a complaint text; ``channel`` is accepted for the record and ``category_hint`` is a weak prior.

    ``model``, ``tier_model`` and ``danger_model`` replace the shipped n-gram models (cross-validation trains
    them per fold).
    """
    topic = _classify_topic(text or "", category_hint=category_hint, model=model or shipped())
    topic = _with_tier_model(topic, text or "", tier_model or shipped_tier())
    normalised = normalise(text or "")
    dispute = any(reason.startswith(DISPUTE_REASONS) for reason in topic.matched)  # said in words, not the tier model's guess
    dangers = detect(normalised, thanks=topic.subcategory == "praise", dispute=dispute)
    if not dangers and topic.subcategory not in CALM_INTENTS:  # thanks and wishes tell of dangers past or imagined
        dangers = learned(normalised, danger_model or shipped_danger(), DANGER_MODEL_MIN)
    return with_safety(topic, dangers)


def _with_tier_model(topic: Classification, text: str, tier_model: Model) -> Classification:
    """Return the topic with the tier model's tier where no cue set the tier and the model is sure enough.

    The rules' tier comes from a cue (``tier:<tier>:<term>``: persistence, a risk, a claim, a bill only
    to be checked) or from a default of the subcategory (no cue: general; ``rule:fee dispute``,
    ``rule:neighbour dispute``, ``rule:fire equipment``). A cue stands. A default important or complex
    gives way to the tier model at ``TIER_MODEL_MIN``: a fee text that only asks for a check, a
    neighbour asking for a reminder, a fire sign to replace. General is raised only at
    ``TIER_MODEL_RAISE`` and on a text of ``TIER_RAISE_MIN_FEATURES`` n-grams or more (about twenty
    Chinese characters): on a short text the posterior is the topic's prior (leaks are often persistent,
    or claims, in the data), not evidence, and the short regression cases lost 4 to 8 points when it
    spoke there. Both thresholds were chosen by the leave-one-writer-out table (docs/CLASSIFIER.md).
    ``matched`` says so first: ``tier-model:<tier>:<probability>``, and loses the default it overturned.
    Other stays general.
    """
    if topic.category == "other" or any(reason.startswith("tier:") for reason in topic.matched):
        return topic
    normalised = normalise(text)
    if topic.tier == "general" and len(features(normalised)) < TIER_RAISE_MIN_FEATURES:
        return topic
    label, probability = tier_model.predict(normalised)
    if label == topic.tier or probability < (TIER_MODEL_RAISE if topic.tier == "general" else TIER_MODEL_MIN):
        return topic
    kept = [reason for reason in topic.matched if not reason.startswith("rule:")]
    return replace(topic, tier=label, matched=(f"tier-model:{label}:{probability:.2f}", *kept)[:MAX_MATCHED])


def _placing(topic: Classification, dangers: tuple[Danger, ...]) -> str | None:
    """Return the subcategory the most specific danger places the text in, if any does."""
    for danger in dangers:
        if danger.subcategory is None:
            continue
        if danger.family in SAFETY_PLACES_ALWAYS:
            return danger.subcategory
        if danger.family in SAFETY_PLACES_OUTSIDE_FACILITY and topic.category != "facility":
            return danger.subcategory
        if danger.family in SAFETY_PLACES_UNPLACED and topic.category == "other":
            return danger.subcategory
    if topic.category == "other" and any(danger.family in PEOPLE_UNPLACED for danger in dangers):
        return PEOPLE_SUBCATEGORY  # someone hurt, collapsed or in danger, and no place named: the guards go
    return None


def with_safety(topic: Classification, dangers: tuple[Danger, ...]) -> Classification:
    """Return the topic's classification with the safety stage's verdict: tier emergency, its evidence first in ``matched``."""
    if not dangers:
        return topic
    category, subcategory, confidence, review = topic.category, topic.subcategory, topic.confidence, topic.needs_review
    placed = _placing(topic, dangers)
    if placed is not None and placed != subcategory:
        moved = taxonomy.SUBCATEGORY_CATEGORY[placed] != category
        category, subcategory = taxonomy.SUBCATEGORY_CATEGORY[placed], placed
        confidence = max(confidence, SAFETY_CONFIDENCE) if not moved else SAFETY_CONFIDENCE
        review = review or moved
    elif category == "other":
        subcategory, review = "inquiry", True
    review = review or any(danger.family == LEARNED for danger in dangers)  # the model alone: a person confirms
    matched = tuple(dict.fromkeys([*(danger.reason for danger in dangers), *topic.matched]))[:MAX_MATCHED]
    return Classification(category, subcategory, "emergency", department_for(category, subcategory), confidence, matched, review)


def _classify_topic(text: str, *, category_hint: str | None, model: Model) -> Classification:
    """Classify the topic of a text, and its tier from the topic's own cues; the model decides where the rules are unsure."""
    analysis = analyse(text)
    notes = list(dict.fromkeys(analysis.notes))
    intent = _intent(analysis)
    if intent is not None:
        return _classify_intent(analysis, intent, notes)
    scores = dict(analysis.scores)
    _apply_hint(scores, category_hint, notes)
    ranked = _rank_categories(scores)
    if unread_language(normalise(text)):
        return _unplaced(analysis, notes)
    if not ranked or ranked[0][0] < MIN_TOPIC_SCORE:
        return _with_model(_unplaced(analysis, notes), analysis, text, model)
    if ranked[0][1] == "fees" and _asks_about_a_fee(analysis):
        return _classify_intent(analysis, "inquiry", notes)
    return _with_model(_classify_complaint(analysis, scores, ranked, notes), analysis, text, model)


def _with_model(rules: Classification, analysis: Analysis, text: str, model: Model) -> Classification:
    """Return the rules' answer where they are sure; else the model's subcategory when it is confident enough.

    Where the rules are unsure (``needs_review``: weak evidence, a close call, unplaced) the model's
    most probable subcategory wins from ``MODEL_MIN``; where the rules are sure, only a model that
    disagrees at ``MODEL_OVERRIDE`` or more (naive Bayes is over-confident: this is where it was right
    more often than the rules in cross-validation, docs/CLASSIFIER.md), and never where the rules set a
    problem aside as past, resolved or negated (a bag of n-grams cannot tell 上次电梯困人已经修好了 from a
    lift fault). A text the rules could not place at all needs ``MODEL_MIN_UNPLACED`` (small talk and
    greetings have no subcategory to find). The model's answer keeps the
    rules' tier cues (persistence, risk, fees, disputes) and evidence, and says so first in ``matched``:
    ``model:<subcategory>:<probability>``. A model answer below ``MODEL_SURE``, one the rules found
    naming two departments (``close:``), or one for a text the rules could not place at all, stays ``needs_review``.
    On a text of fewer than ``MODEL_MIN_FEATURES`` n-grams (about five Chinese characters) the model is silent.
    """
    if "unplaced" in rules.matched and "injury" in analysis.cues:
        return rules  # an injury's place is the text's to name (data README); a guess would be a confident wrong department
    normalised = normalise(text)
    if len(features(normalised)) < MODEL_MIN_FEATURES:
        return rules  # a few n-grams: the posterior is the prior of whatever shares them ("车位的问题" is not a leak)
    label, probability = model.predict(normalised)
    if not rules.needs_review and (label == rules.subcategory or probability < MODEL_OVERRIDE or _set_aside(rules)):
        return rules
    note = f"model:{label}:{probability:.2f}"
    if probability < (MODEL_MIN_UNPLACED if "unplaced" in rules.matched else MODEL_MIN):
        return replace(rules, matched=(*rules.matched, note)[:MAX_MATCHED])
    category = taxonomy.SUBCATEGORY_CATEGORY[label]
    tier, tier_reasons = _tier(category, label, analysis.cues) if category != "other" else ("general", [])
    kept = [reason for reason in rules.matched if reason != "unplaced" and not reason.startswith(("rule:", "tier:"))]
    matched = tuple(dict.fromkeys([note, *tier_reasons, *kept]))[:MAX_MATCHED]
    two_topics = any(reason.startswith("close:") for reason in rules.matched)  # two departments in one text: a person splits it
    confidence = rules.confidence if two_topics else round(max(rules.confidence, min(0.9, probability * MODEL_CONFIDENCE_SCALE)), 2)
    review = probability < MODEL_SURE or two_topics or "unplaced" in rules.matched  # the model alone: a person confirms
    return Classification(category, label, tier, department_for(category, label), confidence, matched, review)


def _set_aside(rules: Classification) -> bool:
    """Return whether the rules weighed part of the text down as past, resolved or negated (the model reads it all alike)."""
    return any(reason.startswith(("past:", "negated:")) for reason in rules.matched)


def _asks_about_a_fee(analysis: Analysis) -> bool:
    """Return whether a fee text only asks (how to pay, how much, how long a refund takes): an inquiry, data README.

    A question that contests, claims or chases (为什么多收, "why was I charged twice") stays a fee complaint,
    and so does a slip to be checked (核对一下, "please check"), which asks for an action, not an answer.
    """
    cues = analysis.cues
    return (
        analysis.question
        and analysis.intents["inquiry"] > 0
        and not any(cue in cues for cue in ("fee_dispute", "claim", "persistence", "fee_request"))
    )


def _classify_intent(analysis: Analysis, intent: str, notes: list[str]) -> Classification:
    """Return the classification of praise, a suggestion or an inquiry."""
    own = analysis.intents[intent]
    rival = max(analysis.intents["problem"], *(analysis.intents[other] for other in INTENTS if other != intent))
    confidence = _confidence(own, rival)
    terms = [f"intent:{intent}:{term}" for term in analysis.intent_terms[intent]]
    matched = tuple(dict.fromkeys([*terms, *notes]))[:MAX_MATCHED]
    return Classification("other", intent, "general", department_for("other", intent), confidence, matched, confidence < REVIEW_CONFIDENCE)


def _classify_complaint(
    analysis: Analysis, scores: Mapping[str, float], ranked: list[tuple[float, str]], notes: list[str]
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
