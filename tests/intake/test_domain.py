"""Pure parts of intake: ticket numbers, tracking tokens, the households import, file sniffing and names."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from intake.attachments import MAX_NAME_LENGTH, safe_filename, sniff
from intake.domain.households import household_id, parse_import
from intake.domain.tickets import local_day, new_tracking_token, ticket_no, token_digest


def test_ticket_number_uses_the_estates_local_date_and_a_four_digit_sequence() -> None:
    late_utc = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)  # 00:30 on the 23rd in Shanghai
    assert local_day(late_utc, timezone="Asia/Shanghai") == date(2026, 11, 23)
    assert local_day(late_utc, timezone="Asia/Urumqi") == date(2026, 11, 22)
    assert ticket_no(estate_code="NS01", day=date(2026, 11, 22), sequence=7) == "NS01-20261122-0007"
    assert ticket_no(estate_code="NS01", day=date(2026, 11, 22), sequence=12345) == "NS01-20261122-12345"


def test_tracking_tokens_are_unguessable_and_stored_only_as_digests() -> None:
    tokens = {new_tracking_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(token) >= 40 for token in tokens)
    token = tokens.pop()
    assert token_digest(token) == token_digest(token) != token and len(token_digest(token)) == 64


def test_csv_import_keeps_valid_rows_and_explains_each_rejected_one() -> None:
    text = (
        "building,unit,room,household_type,age_band,resident_name,resident_phone\n"
        "3,2,1502,owner,65+,王女士,13800138000\n"
        ",2,1503,tenant,,,\n"
        "3,2,1504,landlord,,,\n"
        "3,2,1505,owner,,,12345\n"
        "5,1,0101,vacant,,李四,13900139000\n"
        "3,2,1502,tenant,36-50,,\n"
    )
    parsed = parse_import(text, estate_id="NS01", json_lines=False)
    assert [row["row"] for row in parsed.rejected] == [2, 3, 4]
    assert "building" in parsed.rejected[0]["errors"]
    assert "household_type" in parsed.rejected[1]["errors"]
    assert "resident_phone" in parsed.rejected[2]["errors"]
    by_id = {row["household_id"]: row for row in parsed.rows}
    assert by_id["NS01:3:2:1502"]["household_type"] == "tenant"  # the later row corrects the earlier
    assert by_id["NS01:5:1:0101"]["resident_name"] is None  # a vacant flat has no resident
    assert len(parsed.rows) == 2


def test_json_lines_import_rejects_lines_that_are_not_objects() -> None:
    text = '{"building": "3", "room": "101", "household_type": "owner"}\n[1, 2]\nnot json\n\n'
    parsed = parse_import(text, estate_id="NS01", json_lines=True)
    assert [row["household_id"] for row in parsed.rows] == [household_id(estate_id="NS01", building="3", unit=None, room="101")]
    assert [row["row"] for row in parsed.rejected] == [2, 3]


def test_csv_without_the_required_columns_is_unusable() -> None:
    with pytest.raises(ValueError, match="household_type"):
        parse_import("building,room\n3,101\n", estate_id="NS01", json_lines=False)


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
        (b"#!/bin/sh\nrm -rf /", None),
        (b"%PDF-1.7\n", None),
    ],
)
def test_uploads_are_typed_by_their_first_bytes(head: bytes, media_type: str | None) -> None:
    assert sniff(head) == media_type


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("lift.jpg", "lift.jpg"),
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\win.ini.png", "win.ini.png"),
        ("/abs/path/电梯 故障.jpg", "电梯 故障.jpg"),
        ("a\x00b\nc\r\td.png", "abcd.png"),
        ("photo\u202egnp.exe", "photognp.exe"),  # no right-to-left override to disguise the extension
        ("  .hidden.png  ", "hidden.png"),
        ("../..", "attachment"),
        ("\x00\x01", "attachment"),
        ("", "attachment"),
    ],
)
def test_file_names_are_kept_as_a_bare_printable_name(sent: str, kept: str) -> None:
    assert safe_filename(sent) == kept


def test_long_file_names_are_cut_keeping_their_extension() -> None:
    kept = safe_filename("很" * 500 + ".jpeg")
    assert len(kept) == MAX_NAME_LENGTH and kept.endswith("很.jpeg")
    assert len(safe_filename("x" * 500)) == MAX_NAME_LENGTH
