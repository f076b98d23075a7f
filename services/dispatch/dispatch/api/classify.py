"""The complaint classifier over HTTP: what it makes of a text, and why."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from dispatch.domain.classify import classify
from dispatch.domain.roles import READERS
from dispatch.schemas import ClassificationOut, ClassifyIn
from propcare_shared.http.auth import authenticated

classifier = Blueprint("classify", __name__, url_prefix="/api/v1/classify", description="The complaint classifier.")


@classifier.route("", methods=["POST"])
@authenticated(roles=READERS)
@classifier.arguments(ClassifyIn)
@classifier.response(200, ClassificationOut)
def post_classify(values: dict[str, Any]) -> dict[str, Any]:
    """Classify a text: category, subcategory, tier, department, confidence and the terms that matched."""
    result = classify(values["text"], channel=values["channel"])
    return {
        "category": result.category,
        "subcategory": result.subcategory,
        "tier": result.tier,
        "department": result.department,
        "confidence": result.confidence,
        "matched": list(result.matched),
        "needs_review": result.needs_review,
    }
