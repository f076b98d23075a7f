"""Hostile JSON bodies refused before any view reads them: nesting too deep, text that is not Unicode.

Every JSON body of every app passes ``inspect_json_body`` once, before the view (the app factory
registers ``refuse_hostile_json``), so no route has to remember it:

- a body nested deeper than ``MAX_JSON_DEPTH`` is a 400: Python's parser (and marshmallow, and BSON
  after it) recurses per level, and a few thousand levels end in a ``RecursionError``, a 500. No
  request of the contract nests more than a handful of levels;
- a string holding a lone surrogate (``"\\ud800"``, legal in JSON text, not in UTF-8) is a 422 naming
  the field: it would be stored, then fail to encode to BSON or to any UTF-8 answer — a 500 at the
  write, or worse, a document no read can answer with.

A body that is not JSON at all is left to the view, whose parser answers its own 400. The check
parses the body a second time; bodies are capped by ``MAX_CONTENT_LENGTH`` and the cost is small
next to the database write that follows.
"""

from __future__ import annotations

import json
import re
from typing import Any

from propcare_shared.http.errors import Problem

MAX_JSON_DEPTH = 32
"""The deepest nesting of objects and arrays a JSON body may have (the contract's deepest is under 6)."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
NOT_UNICODE = "Not valid Unicode text: it holds a lone surrogate (e.g. \\ud800)."


def inspect_json_body(data: bytes) -> None:
    """Raise a ``Problem`` for a JSON body nested too deep or holding text that is not Unicode."""
    try:
        document = json.loads(data)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        return
    if json_depth(document) > MAX_JSON_DEPTH:
        raise _too_deep()
    errors = surrogate_errors(document)
    if errors:
        raise Problem(422, "Invalid request", detail="Some fields are missing or invalid.", errors=errors)


def json_depth(document: Any) -> int:
    """Return how deeply objects and arrays nest in a parsed JSON document (a scalar is 0), without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth) for child in children)
    return deepest


def surrogate_errors(document: Any) -> dict[str, Any]:
    """Return field errors, nested like marshmallow's, for every string (or name) holding a lone surrogate."""
    errors: dict[str, Any] = {}
    pending: list[tuple[Any, tuple[str, ...]]] = [(document, ())]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                _put(errors, path or ("_body",), NOT_UNICODE)
        elif isinstance(value, dict):
            for key, child in value.items():
                if _LONE_SURROGATE.search(key):
                    _put(errors, (*path, "_schema"), "A name in this object is " + NOT_UNICODE[0].lower() + NOT_UNICODE[1:])
                else:
                    pending.append((child, (*path, key)))
        elif isinstance(value, list):
            pending.extend((child, (*path, str(index))) for index, child in enumerate(value))
    return errors


def _put(errors: dict[str, Any], path: tuple[str, ...], message: str) -> None:
    node = errors
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = [message]


def _too_deep() -> Problem:
    return Problem(
        400,
        "Bad Request",
        detail=f"The JSON body nests objects and arrays more than {MAX_JSON_DEPTH} levels deep.",
        errors={"_body": [f"At most {MAX_JSON_DEPTH} levels of nesting."]},
    )
