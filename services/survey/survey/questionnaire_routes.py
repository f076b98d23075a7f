"""Questionnaires over HTTP (docs/API.md, Questionnaires and campaigns; docs/SURVEYS.md).

A questionnaire is a group's: it is stored with the caller's ``group_id`` and shared by all the
group's estates, so every staff role of the group reads it. Another group's questionnaire, and one
that does not exist, get the kernel's one answer for "not yours" (404). ``manager``,
``regional_ops`` and ``group_admin`` create and change them. A PUT replaces an unused questionnaire
in place (200) or makes a new version of one a campaign uses (201, new id, ``previous_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, jsonify, url_for
from flask_smorest import Blueprint

from propcare_shared.context import current_context, current_store
from propcare_shared.http.auth import STAFF_ROLES, authenticated, current_principal, group_query, require_in_group
from propcare_shared.http.idempotency import replayable
from propcare_shared.http.pagination import PageArgs
from survey import questionnaires
from survey.schemas import QuestionnaireIn, QuestionnaireOut, QuestionnairePage
from survey.store import SurveyStore

AUTHORS = ("group_admin",)
"""A questionnaire is the whole group's: only its group admin writes one (estate and region staff read it)."""

blueprint = Blueprint(
    "questionnaires", __name__, url_prefix="/api/v1/questionnaires", description="Questionnaires of satisfaction campaigns."
)


def _answer(questionnaire: Mapping[str, Any], status: int) -> Response:
    response = jsonify(QuestionnaireOut().dump(questionnaire))
    response.status_code = status
    if status == 201:
        response.headers["Location"] = url_for("questionnaires.get_questionnaire", questionnaire_id=questionnaire["_id"])
    return response


def _visible(questionnaire_id: str) -> dict[str, Any]:
    """Return a questionnaire of the caller's group; 404 for another group's or none (the scope rule)."""
    return require_in_group(current_store(SurveyStore).questionnaire(questionnaire_id), what="questionnaire", identifier=questionnaire_id)


@blueprint.route("", methods=["POST"])
@authenticated(roles=AUTHORS)
@blueprint.arguments(QuestionnaireIn)
@blueprint.response(201, QuestionnaireOut)
def post_questionnaire(content: dict[str, Any]) -> Response:
    """Create a questionnaire (version 1) for the caller's group."""
    principal = current_principal()
    context = current_context()
    store = current_store(SurveyStore)
    return replayable(
        lambda: _answer(
            questionnaires.create(store=store, group_id=principal.group_id, content=content, created_by=principal.sub, now=context.clock()),
            201,
        )
    )


@blueprint.route("/<questionnaire_id>", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@blueprint.response(200, QuestionnaireOut)
def get_questionnaire(questionnaire_id: str) -> dict[str, Any]:
    """Return a questionnaire of the caller's group."""
    return _visible(questionnaire_id)


@blueprint.route("/<questionnaire_id>", methods=["PUT"])
@authenticated(roles=AUTHORS)
@blueprint.arguments(QuestionnaireIn)
@blueprint.response(200, QuestionnaireOut)
def put_questionnaire(content: dict[str, Any], questionnaire_id: str) -> Response:
    """Replace an unused questionnaire (200), or make a new version of one in use (201); 409 when a newer version exists."""
    questionnaire = _visible(questionnaire_id)
    document, is_new = questionnaires.change(
        store=current_store(SurveyStore),
        questionnaire=questionnaire,
        content=content,
        changed_by=current_principal().sub,
        now=current_context().clock(),
    )
    return _answer(document, 201 if is_new else 200)


@blueprint.route("", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, QuestionnairePage)
def list_questionnaires(args: dict[str, Any]) -> dict[str, Any]:
    """List the questionnaires of the caller's group, newest first (every version)."""
    items, next_cursor = current_store(SurveyStore).list_questionnaires(query=group_query(), limit=args["limit"], cursor=args["cursor"])
    return {"items": items, "next_cursor": next_cursor}
