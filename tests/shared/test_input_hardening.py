"""The kernel's guards against hostile input: nesting depth, lone surrogates, times without a UTC form."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError

from propcare_shared.fields import UtcDateTime
from propcare_shared.http.bodies import MAX_JSON_DEPTH, inspect_json_body, json_depth, surrogate_errors
from propcare_shared.http.errors import Problem


class Window(Schema):
    at = UtcDateTime()


def test_json_depth_counts_objects_and_arrays_without_recursing() -> None:
    assert json_depth("text") == 0
    assert json_depth({"a": [1, {"b": []}]}) == 4


def test_a_body_thousands_of_levels_deep_is_a_400_not_a_recursion_error() -> None:
    with pytest.raises(Problem) as refused:
        inspect_json_body(b"[" * 5000 + b"]" * 5000)
    assert refused.value.status == 400 and "_body" in refused.value.errors
    with pytest.raises(Problem):
        inspect_json_body(b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1))
    inspect_json_body(b'{"a":' * (MAX_JSON_DEPTH - 1) + b"1" + b"}" * (MAX_JSON_DEPTH - 1))


def test_a_lone_surrogate_is_named_by_its_field_path() -> None:
    errors = surrogate_errors({"reporter": {"name": "王\ud800"}, "tags": ["ok", "\udfff"], "fine": "ok", "\ud801": 1})
    assert set(errors) == {"reporter", "tags", "_schema"}
    assert list(errors["reporter"]) == ["name"] and list(errors["tags"]) == ["1"]
    with pytest.raises(Problem) as refused:
        inspect_json_body(b'{"description": "ab\\ud800cd"}')
    assert refused.value.status == 422 and list(refused.value.errors) == ["description"]


def test_a_body_that_is_not_json_is_left_to_the_view() -> None:
    inspect_json_body(b"{not json")


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+14:00",  # no UTC form: year 0
        "9999-12-31T23:00:00-05:00",  # no UTC form: year 10000
        "9999-12-31T23:00:00Z",  # a UTC form, but nothing can be computed after it
        "1899-12-31T23:59:59Z",
    ],
)
def test_a_time_outside_the_range_is_a_field_error(text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Window().load({"at": text})
    assert "Out of range" in refused.value.messages["at"][0]


def test_a_time_inside_the_range_is_loaded_in_utc() -> None:
    loaded = Window().load({"at": "2026-11-23T00:30:00+08:00"})["at"]
    assert loaded.isoformat() == "2026-11-22T16:30:00+00:00"
