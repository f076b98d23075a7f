"""Paper and phone answers of a campaign imported from CSV: bytes to rows to record and rows refused with reasons.

Pure. The header is ``invitation_id,channel,overall,recommend,comment,<question id>...`` in any order;
``comment`` may be left out, every other column is required, and a column the campaign does not ask
is refused too (a misspelt question id must not be dropped in silence). The file as a whole is
refused (``UnreadableImport``, a 422, nothing recorded) when it is not UTF-8 (with or without a BOM)
or GBK (what Excel saves on a Chinese Windows), when it is not CSV, or when its header is wrong; a
file over ``MAX_ROWS`` data rows is ``TooManyRows`` (a 413). Otherwise each row stands alone: a row
that breaks a rule here (a bad channel, a score that is not a whole number within its scale, a
missing cell) comes back with its reason, and the rest are recorded. Row numbers count data rows
from 1 (the header is not a row), as the households import does; blank lines are skipped.

Whether the invitation exists, belongs to the campaign and is still unanswered is decided when the
row is recorded (``survey.campaigns.answer``), in its own transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from survey.domain.campaigns import COMMENT_LIMIT
from survey.domain.questionnaires import OVERALL_SCORES, QUESTION_SCORES, RECOMMEND_SCORES

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
REQUIRED_COLUMNS = ("invitation_id", "channel", "overall", "recommend")
OPTIONAL_COLUMNS = ("comment",)
IMPORT_CHANNELS = ("offline", "phone")
UTF8_BOM = b"\xef\xbb\xbf"


class UnreadableImport(ValueError):
    """A file that cannot be imported at all; ``errors`` says why, under ``file`` (a 422, nothing recorded)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.errors = {"file": [message]}


class TooManyRows(ValueError):
    """A file with more data rows than one import takes (a 413)."""


@dataclass(frozen=True)
class ImportedAnswer:
    """One row to record: the invitation, the channel and the answer in the JSON shape."""

    row: int
    invitation_id: str
    channel: str
    values: dict[str, Any]


@dataclass
class ParsedAnswers:
    """The rows of an import that may be recorded, the rows refused here, and the file's encoding."""

    encoding: str
    rows: list[ImportedAnswer] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def decode_csv(data: bytes) -> tuple[str, str]:
    """Return the text of an uploaded file and its encoding: UTF-8 with or without a BOM, else GBK; else ``UnreadableImport``."""
    if data.startswith(UTF8_BOM):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    else:
        candidates = ("utf-8", "gbk")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text, encoding
    raise UnreadableImport("The file could not be decoded: send CSV text in UTF-8 (with or without a BOM) or GBK.")


def _header(reader: Any, questions: Sequence[str]) -> list[str]:
    header = [cell.strip() for cell in next(reader, [])]
    if not any(header):
        raise UnreadableImport("The file is empty: the first line must be the header.")
    expected = (*REQUIRED_COLUMNS, *questions)
    problems = []
    if missing := [column for column in expected if column not in header]:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown := [column for column in header if column not in (*expected, *OPTIONAL_COLUMNS)]:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if repeated := sorted({column for column in header if header.count(column) > 1}):
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    if problems:
        raise UnreadableImport(
            f"The header is wrong: {'; '.join(problems)}. It is invitation_id,channel,overall,recommend,comment,<question ids>."
        )
    return header


def _score(cells: dict[str, str], column: str, bounds: tuple[int, int]) -> int:
    low, high = bounds
    value = cells[column]
    if not value.lstrip("-").isdigit():
        raise ValueError(f"score of {column} is not a whole number: {value!r}" if value else f"score of {column} is empty")
    if not low <= int(value) <= high:
        raise ValueError(f"score out of range: {column} = {value} (from {low} to {high})")
    return int(value)


def _answer(row: int, cells: dict[str, str], questions: Sequence[str]) -> ImportedAnswer:
    """Return a row's answer, or raise ``ValueError`` with the reason it is refused."""
    if not cells["invitation_id"]:
        raise ValueError("invitation_id is empty")
    channel = cells["channel"].lower()
    if channel not in IMPORT_CHANNELS:
        raise ValueError(f"bad channel {cells['channel']!r}: must be offline or phone")
    answers = {question: _score(cells, question, QUESTION_SCORES) for question in questions}
    comment = cells.get("comment", "")
    if len(comment) > COMMENT_LIMIT:
        raise ValueError(f"comment longer than {COMMENT_LIMIT} characters")
    values = {
        "answers": answers,
        "overall": _score(cells, "overall", OVERALL_SCORES),
        "recommend": _score(cells, "recommend", RECOMMEND_SCORES),
        "comment": comment,
    }
    return ImportedAnswer(row=row, invitation_id=cells["invitation_id"], channel=channel, values=values)


def parse_answers(data: bytes, *, questions: Sequence[str], max_rows: int = MAX_ROWS) -> ParsedAnswers:
    """Decode and check an import against a campaign's questions; raise ``UnreadableImport`` or ``TooManyRows`` for the whole file."""
    text, encoding = decode_csv(data)
    parsed = ParsedAnswers(encoding=encoding)
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = _header(reader, questions)
        lines = [cells for cells in reader if any(cell.strip() for cell in cells)]
    except csv.Error as error:
        raise UnreadableImport(f"The file is not valid CSV: {error}.") from None
    if len(lines) > max_rows:
        raise TooManyRows(f"One import takes at most {max_rows} rows; this file has {len(lines)}. Split it.")
    for row, line in enumerate(lines, start=1):
        if len(line) != len(header):
            parsed.rejected.append({"row": row, "reason": f"{len(line)} cells where the header has {len(header)}"})
            continue
        try:
            parsed.rows.append(_answer(row, {column: cell.strip() for column, cell in zip(header, line, strict=True)}, questions))
        except ValueError as refused:
            parsed.rejected.append({"row": row, "reason": str(refused)})
    return parsed
