"""Households import: CSV or JSON lines to validated rows and rejected rows with their reasons.

Pure. Columns (docs/API.md, Intake, ``households:import``): ``building, unit, room, household_type
(owner|tenant|vacant), age_band?, resident_name?, resident_phone?``. A household is keyed by estate,
building, unit and room; a file naming one household twice keeps the last row (a later row corrects
an earlier one). Row numbers count data rows from 1 (the CSV header is not a row). ``resident_phone``
is kept in E.164; a row whose phone is not a phone number is refused with the reason. A file that
cannot be read at all (not UTF-8, a CSV header without the required columns) raises
``UnusableImport``.

On the bus (``published``) a household carries its address and type, and its resident's name and
phone only sealed in ``contact`` for notification (which invites the household to satisfaction
campaigns); a household without a phone has no contact (``None``), since a name alone reaches no one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from intake.domain.people import Phone
from propcare_shared.http.bodies import MAX_JSON_DEPTH, json_depth, surrogate_errors

HOUSEHOLD_TYPES = ("owner", "tenant", "vacant")
AGE_BANDS = ("18-35", "36-50", "51-65", "65+")
COLUMNS = ("building", "unit", "room", "household_type", "age_band", "resident_name", "resident_phone")
PART = validate.Length(min=1, max=32)
PUBLISHED_FIELDS = ("household_id", "building", "unit", "room", "household_type", "age_band")


class HouseholdRow(Schema):
    """One row of a households import."""

    class Meta:
        unknown = EXCLUDE

    building = fields.String(required=True, validate=PART)
    unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    room = fields.String(required=True, validate=PART)
    household_type = fields.String(required=True, validate=validate.OneOf(HOUSEHOLD_TYPES))
    age_band = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(AGE_BANDS))
    resident_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    resident_phone = Phone(load_default=None, allow_none=True)


_ROW = HouseholdRow()  # one instance for every row: building a schema costs more than loading a row


RawRow = dict[str, Any]
"""A data row as read from the file: column to cell, or (``RefusedRow``) the errors that refuse it already."""


class UnusableImport(ValueError):
    """A households file that cannot be read at all, with what is wrong with it."""

    def __init__(self, detail: str, *, reason: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason or detail


@dataclass
class ParsedImport:
    """The rows of an import that may be stored, and those refused with their reasons."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def household_id(*, estate_id: str, building: str, unit: str | None, room: str) -> str:
    """Return the id of a household: its estate and address."""
    return ":".join((estate_id, building, unit or "-", room))


def only_household_in(household_ids: Iterable[str], *, estate_id: str) -> str | None:
    """Return the one household of an estate among a resident's, or ``None`` for none or several (no guessing)."""
    here = {household for household in household_ids if household.startswith(f"{estate_id}:")}
    return here.pop() if len(here) == 1 else None


def _without_blanks(row: dict[str, Any]) -> dict[str, Any]:
    """Drop empty cells, so that a blank required column reads as missing and a blank optional one as unset."""
    cleaned = {key: value.strip() if isinstance(value, str) else value for key, value in row.items() if key}
    return {key: value for key, value in cleaned.items() if value not in ("", None)}


class RefusedRow(dict[str, Any]):
    """The field errors of a row refused before validation (empty, and so false, when there are none)."""


def _csv_rows(text: str) -> list[RawRow]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"building", "room", "household_type"} - set(reader.fieldnames or ())
    if missing:
        raise UnusableImport(f"The CSV header lacks the columns: {', '.join(sorted(missing))}.")
    return list(reader)


def _json_row(line: str) -> RawRow:
    """Return one JSON line as a row, or the errors that refuse it (not an object, nested too deep, not Unicode)."""
    too_deep = RefusedRow(_row=[f"Nested more than {MAX_JSON_DEPTH} levels deep."])
    try:
        row = json.loads(line)
    except RecursionError:
        return too_deep
    except ValueError:
        return RefusedRow(_row=["Not a JSON object."])
    if not isinstance(row, dict):
        return RefusedRow(_row=["Not a JSON object."])
    if json_depth(row) > MAX_JSON_DEPTH:
        return too_deep
    return RefusedRow(surrogate_errors(row)) or row


def decode_import(data: bytes) -> str:
    """Return the text of an uploaded file (UTF-8, with or without a BOM); raise ``UnusableImport`` otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnusableImport("The file is not UTF-8 text.", reason="Not UTF-8.") from None


def read_rows(text: str, *, json_lines: bool) -> list[RawRow]:
    """Split a file into its data rows, unvalidated; raise ``UnusableImport`` when the file itself is unusable."""
    if not json_lines:
        return _csv_rows(text)
    return [_json_row(line) for line in text.splitlines() if line.strip()]


def parse_rows(rows: Sequence[RawRow], *, estate_id: str, first_row: int = 1) -> ParsedImport:
    """Validate rows numbered from ``first_row``; of one household named twice the later row is kept."""
    parsed = ParsedImport()
    by_household: dict[str, dict[str, Any]] = {}
    for number, raw in enumerate(rows, start=first_row):
        if isinstance(raw, RefusedRow):
            parsed.rejected.append({"row": number, "errors": dict(raw)})
            continue
        try:
            row = _ROW.load(_without_blanks(raw))
        except ValidationError as error:
            parsed.rejected.append({"row": number, "errors": error.messages})
            continue
        if row["household_type"] == "vacant":
            row.update(resident_name=None, resident_phone=None)
        row["household_id"] = household_id(estate_id=estate_id, building=row["building"], unit=row["unit"], room=row["room"])
        by_household[row["household_id"]] = row
    parsed.rows = list(by_household.values())
    return parsed


def parse_import(text: str, *, estate_id: str, json_lines: bool) -> ParsedImport:
    """Validate every row of an import; raise ``UnusableImport`` when the file itself is unusable."""
    return parse_rows(read_rows(text, json_lines=json_lines), estate_id=estate_id)


def published(row: Mapping[str, Any], *, seal: Callable[[Mapping[str, Any]], str]) -> dict[str, Any]:
    """Return a household as ``directory.households.imported`` carries it: name and phone only sealed, no contact without a phone."""
    phone = row.get("resident_phone")
    contact = seal({"name": row.get("resident_name"), "phone": phone}) if phone else None
    return {**{key: row.get(key) for key in PUBLISHED_FIELDS}, "contact": contact}
