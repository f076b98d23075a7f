"""Every 4xx and 5xx answered as ``application/problem+json`` (RFC 9457) with field errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, json
from pymongo.errors import ConnectionFailure, PyMongoError, ServerSelectionTimeoutError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error to answer with: status, title, detail, field errors and any extra members."""

    def __init__(
        self,
        status: int,
        title: str,
        *,
        detail: str | None = None,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers
        self.extra = extra


ProblemMap = Mapping[type[Exception], Callable[[Any], Problem]]
"""A service's table from its domain exceptions to the problems that answer them (one table, no try/except per view)."""


def problem_response(
    status: int,
    title: str,
    *,
    detail: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """Build a problem+json response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors(messages: Any) -> dict[str, Any]:
    """Flatten webargs' ``{"json": {...}, "query": {...}}`` into one mapping of field errors."""
    if not isinstance(messages, dict):
        return {"_request": messages if isinstance(messages, list) else [str(messages)]}
    flat: dict[str, Any] = {}
    for location, errors in messages.items():
        if location in {"json", "query", "querystring", "form", "files", "headers", "view_args", "path"} and isinstance(errors, dict):
            flat.update(errors)
        elif location in {"json", "query", "querystring", "form"}:
            flat["_body" if location == "json" else f"_{location}"] = errors
        else:
            flat[location] = errors
    return flat


def register_error_handlers(app: Flask, *, problems: ProblemMap | None = None) -> None:
    """Answer every error of the app as problem+json, domain exceptions by ``problems``; a 500 never leaks internals."""
    for exception_type, to_problem in {**KERNEL_PROBLEMS, **(problems or {})}.items():
        app.register_error_handler(exception_type, _answer_with(to_problem))

    @app.errorhandler(Problem)
    def on_problem(error: Problem) -> Response:
        return problem_response(error.status, error.title, detail=error.detail, errors=error.errors, headers=error.headers, **error.extra)

    @app.errorhandler(HTTPException)
    def on_http_exception(error: HTTPException) -> Response:
        data = getattr(error, "data", None) or {}
        messages = data.get("messages")
        status = error.code or 500
        if status == 400 and messages and "json" in messages and not isinstance(messages["json"], dict):
            return problem_response(400, "Malformed JSON", detail="The request body is not valid JSON.")
        errors = field_errors(messages) if messages else None
        title = error.name if status != 422 else "Invalid request"
        detail = data.get("message") or (error.description if status != 422 else "Some fields are missing or invalid.")
        headers = dict(data.get("headers") or {})
        return problem_response(status, title, detail=detail, errors=errors, headers=headers)

    @app.errorhandler(ConnectionFailure)
    @app.errorhandler(ServerSelectionTimeoutError)
    def on_database_down(error: Exception) -> Response:
        log.error("database unavailable", extra={"error": str(error)})
        return problem_response(
            503, "Service Unavailable", detail="The database cannot be reached; try again shortly.", headers={"Retry-After": "5"}
        )

    @app.errorhandler(PyMongoError)
    def on_database_error(error: PyMongoError) -> Response:
        if not (error.timeout or _interrupted(error)):
            return on_unexpected(error)
        log.error("database deadline passed", extra={"error": type(error).__name__})
        return problem_response(
            503,
            "Service Unavailable",
            detail="The database did not answer in time; try again shortly (with the same Idempotency-Key, if you sent one).",
            headers={"Retry-After": "5"},
        )

    @app.errorhandler(Exception)
    def on_unexpected(error: Exception) -> Response:
        log.exception("unexpected error")
        return problem_response(500, "Internal Server Error", detail="Something went wrong on our side; it has been logged.")


# The server interrupted the operation (a killed session, a step-down): nothing was committed by it, and
# the same request a moment later goes through, so it is a 503 to retry, not a 500.
INTERRUPTED_CODES = frozenset({11600, 11601, 11602, 189, 91})


def _interrupted(error: PyMongoError) -> bool:
    code = getattr(error, "code", None)
    return code in INTERRUPTED_CODES or error.has_error_label("TransientTransactionError")


def _answer_with(to_problem: Callable[[Any], Problem]) -> Callable[[Exception], Response]:
    def answer(error: Exception) -> Response:
        problem = to_problem(error)
        return problem_response(
            problem.status, problem.title, detail=problem.detail, errors=problem.errors, headers=problem.headers, **problem.extra
        )

    return answer


def invalid_field(field: str) -> Callable[[Exception], Problem]:
    """Return a mapping that answers an exception as a 422 on one field, with the exception's text."""

    def to_problem(error: Exception) -> Problem:
        return Problem(422, "Invalid request", detail="Some fields are missing or invalid.", errors={field: [str(error)]})

    return to_problem


def _kernel_problems() -> dict[type[Exception], Callable[[Any], Problem]]:
    from propcare_shared.pagination import InvalidCursor
    from propcare_shared.scope import InvalidScope

    return {InvalidCursor: invalid_field("cursor"), InvalidScope: invalid_field("scope")}


KERNEL_PROBLEMS = _kernel_problems()
