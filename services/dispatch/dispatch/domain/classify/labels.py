"""The labels a classification carries (category, subcategory, tier, department) and the rules between them.

Pure: the taxonomy table (``dispatch.domain.taxonomy``) in, plain answers out.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.domain import taxonomy
from propcare_shared.vocabulary import TIERS

CATEGORIES: dict[str, tuple[str, ...]] = taxonomy.CATEGORIES
TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS)}


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
    if tier not in TIER_RANK:
        raise ValueError(f"unknown tier {tier!r}")
    if TIER_RANK[tier] <= TIER_RANK["important"]:
        return tier, None
    if household_same_subcategory_30d >= 1:
        return "important", f"repeat: household's complaint no. {household_same_subcategory_30d + 1} of this subcategory in 30 days"
    if building_same_subcategory_30d >= 2:
        return "important", f"repeat: building's complaint no. {building_same_subcategory_30d + 1} of this subcategory in 30 days"
    return tier, None
