"""The residents' pages: filing a complaint from ``/r/{estate_code}`` without JavaScript, in both languages, once per form."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import gridfs
import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from intake.app import create_app
from intake.config import IntakeConfig
from intake.store import INDEXES
from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import outbox_events
from tests.intake.conftest import ESTATE

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def form_token(html: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match, "the page carries a one-time form token"
    return match.group(1)


def tracking_path(html: str) -> str:
    match = re.search(r'href="(/r/t/[A-Za-z0-9_-]+)\?lang=', html)
    assert match, "the confirmation links to the tracking page"
    return match.group(1)


def fields(client: FlaskClient, **changes: Any) -> dict[str, Any]:
    """Return a filled complaint form with a fresh token from the page, some fields changed."""
    page = client.get("/r/NS01")
    data: dict[str, Any] = {
        "form_token": form_token(page.get_data(as_text=True)),
        "building": "3",
        "unit": "2",
        "room": "1502",
        "description": "3号楼2单元电梯停在两层之间不动了",
        "demand": "尽快修好",
        "name": "王女士",
        "phone": "138 0013 8000",
        "role": "owner",
        "consent": "yes",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def photo(content: bytes = JPEG, name: str = "lift.jpg") -> tuple[io.BytesIO, str]:
    return io.BytesIO(content), name


def nothing_stored(context: ServiceContext) -> None:
    assert context.database.complaints.count_documents({}) == 0
    assert context.database["attachments.files"].count_documents({}) == 0
    assert context.database.resident_form_claims.count_documents({}) == 0
    assert [event for event in outbox_events(context.database) if event["type"].startswith("complaint.")] == []


def test_the_form_is_a_phone_page_without_scripts_or_external_assets(client: FlaskClient, estate: dict[str, Any]) -> None:
    page = client.get("/r/NS01")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert 'name="viewport"' in html and 'enctype="multipart/form-data"' in html and 'method="post"' in html
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src" not in page.headers["Content-Security-Policy"] and "default-src 'none'" in page.headers["Content-Security-Policy"]
    for name in ("building", "unit", "room", "description", "demand", "photos", "name", "phone", "role", "consent", "form_token"):
        assert f'name="{name}"' in html
    assert "南山花园" in html and '<html lang="zh-CN">' in html and "提交投诉或报修" in html


def test_the_language_follows_the_browser_and_the_switch_link(client: FlaskClient, estate: dict[str, Any]) -> None:
    english = client.get("/r/NS01", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Report a problem" in english and 'href="?lang=zh-CN"' in english
    chinese = client.get("/r/NS01", headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese and 'href="?lang=en"' in chinese
    switched = client.get("/r/NS01?lang=en", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in switched and "Report a problem" in switched


def test_the_estate_comes_from_its_code(client: FlaskClient, estate: dict[str, Any], context: ServiceContext) -> None:
    chooser = client.get("/r/")
    assert chooser.status_code == 200 and 'name="code"' in chooser.get_data(as_text=True)
    chosen = client.get("/r/?code=NS01&lang=en")
    assert chosen.status_code == 303 and chosen.headers["Location"].endswith("/r/NS01?lang=en")
    assert client.get("/r/ns01").status_code == 200  # a code typed in small letters
    for code in ("XX99", "NS01%3Cscript%3E", "a" * 40):
        unknown = client.get(f"/r/{code}")
        assert (
            unknown.status_code == 404
            and "找不到这个小区" in unknown.get_data(as_text=True)
            and "<form" not in unknown.get_data(as_text=True)
        )
    posted = client.post("/r/XX99", data=fields(client), content_type="multipart/form-data")
    assert posted.status_code == 404
    nothing_stored(context)


def test_a_complaint_with_photos_ends_on_its_ticket_and_tracking_link(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext
) -> None:
    data = {**fields(client), "photos": [photo(), photo(PNG, "water.png")]}
    filed = client.post("/r/NS01", data=data, content_type="multipart/form-data")
    html = filed.get_data(as_text=True)
    assert filed.status_code == 201, html
    assert "已收到您的投诉" in html and "NS01-20261122-0001" in html and filed.headers["Cache-Control"] == "no-store"
    complaint = context.database.complaints.find_one({})
    assert complaint["channel"] == "web" and complaint["reporter"]["phone"] == "+8613800138000" and complaint["language"] == "zh-CN"
    assert complaint["household_id"] == "NS01:3:2:1502" and complaint["demand"] == "尽快修好"
    assert sorted(item["content_type"] for item in complaint["attachments"]) == ["image/jpeg", "image/png"]
    stored = gridfs.GridFSBucket(context.database, bucket_name="attachments").open_download_stream_by_name("lift.jpg").read()
    assert stored == JPEG
    [event] = [event for event in outbox_events(context.database) if event["type"] == "complaint.received"]
    assert event["data"]["channel"] == "web" and "138" not in str(event["data"]) and "王女士" not in str(event["data"])
    tracked = client.get(tracking_path(html))
    assert tracked.status_code == 200 and "NS01-20261122-0001" in tracked.get_data(as_text=True)
    claim = context.database.resident_form_claims.find_one({})
    token = tracking_path(html).rsplit("/", 1)[1]
    assert token not in str(claim) and data["form_token"] not in str(claim)  # neither token kept in clear


def test_the_same_form_twice_is_one_complaint_and_the_same_ticket(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext
) -> None:
    data = fields(client)
    first = client.post("/r/NS01", data={**data, "photos": [photo()]}, content_type="multipart/form-data")
    again = client.post("/r/NS01", data={**data, "photos": [photo()]}, content_type="multipart/form-data")
    assert first.status_code == again.status_code == 201
    assert tracking_path(first.get_data(as_text=True)) == tracking_path(again.get_data(as_text=True))
    assert context.database.complaints.count_documents({}) == 1
    assert context.database["attachments.files"].count_documents({}) == 1
    changed = client.post("/r/NS01", data={**data, "description": "另一个问题：楼道灯不亮"}, content_type="multipart/form-data")
    assert changed.status_code == 409 and "/r/t/" not in changed.get_data(as_text=True)
    assert context.database.complaints.count_documents({}) == 1
    other = client.post("/r/NS01", data=fields(client), content_type="multipart/form-data")  # a new form is a new complaint
    assert other.status_code == 201 and context.database.complaints.count_documents({}) == 2


def test_empty_fields_come_back_with_errors_next_to_them(client: FlaskClient, estate: dict[str, Any], context: ServiceContext) -> None:
    empty = {"form_token": fields(client)["form_token"], "description": "", "phone": "", "building": "", "room": ""}
    page = client.post("/r/NS01", data=empty, content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and 'role="alert"' in html
    for name in ("description", "phone", "consent"):
        assert f'id="{name}-error"' in html and f'aria-describedby="{name}-error' in html
    assert "请用2到2000个字描述发生了什么。" in html and "需要您的同意" in html
    english = client.post("/r/NS01?lang=en", data=empty, content_type="multipart/form-data").get_data(as_text=True)
    assert "Say what happened in 2 to 2,000 characters." in english
    nothing_stored(context)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"description": "漏" * 5000}, "description", "2到2000"),
        ({"demand": "快" * 1001}, "demand", "最多1000"),
        ({"phone": "12345"}, "phone", "有效的手机号码"),
        ({"phone": "1" * 5000}, "phone", "有效的手机号码"),
        ({"name": "王" * 101}, "name", "称呼最多100"),
        ({"building": "3" * 33}, "building", "楼栋最多32"),
        ({"building": "", "room": "1502"}, "room", "同时填写楼栋"),
        ({"role": "landlord"}, "role", "请选择"),
        ({"consent": None}, "consent", "需要您的同意"),
        ({"form_token": "forged"}, "form_token", "表单已过期"),
        ({"form_token": None}, "form_token", "表单已过期"),
    ],
)
def test_bad_fields_are_refused_with_nothing_stored(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext, changes: dict[str, Any], field: str, message: str
) -> None:
    page = client.post("/r/NS01", data=fields(client, **changes), content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and message in html, html
    assert ("<form" in html and "3号楼2单元电梯" in html) or field == "description"  # what the resident wrote is kept
    nothing_stored(context)


@pytest.mark.parametrize(
    ("photos", "message"),
    [
        ([photo(EXE, "photo.jpg")], "photo.jpg 不是照片"),
        ([photo(), photo(EXE, "virus.exe.jpg")], "virus.exe.jpg 不是照片"),
        ([photo(b"", "empty.jpg")], "empty.jpg 不是照片"),
        ([photo(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64, "clip.jpg")], "clip.jpg 不是照片"),
        ([photo() for _ in range(20)], "最多上传6张照片"),
        ([photo() for _ in range(7)], "最多上传6张照片"),
    ],
)
def test_bad_photos_refuse_the_whole_form(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext, photos: list[Any], message: str
) -> None:
    page = client.post("/r/NS01", data={**fields(client), "photos": photos}, content_type="multipart/form-data")
    assert page.status_code == 422 and message in page.get_data(as_text=True)
    nothing_stored(context)


def test_a_photo_over_the_size_limit_is_refused(client: FlaskClient, estate: dict[str, Any], context: ServiceContext) -> None:
    big = JPEG[:4] + b"\x00" * (10 * 1024 * 1024 + 1)
    # Encoded here in memory: the test client would spool a body this large to a temporary file it never closes.
    boundary, body = encode_multipart({**fields(client), "photos": FileStorage(io.BytesIO(big), filename="big.jpg")})
    page = client.post("/r/NS01", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert page.status_code == 422 and "big.jpg 太大了" in page.get_data(as_text=True)
    nothing_stored(context)


def test_a_form_beyond_six_full_photos_is_a_page_not_a_500(client: FlaskClient, estate: dict[str, Any], context: ServiceContext) -> None:
    declared = 6 * 10 * 1024 * 1024 + 1024 * 1024 + 1  # what the browser announces for the form: refused before it is read
    page = client.post(
        "/r/NS01",
        data={**fields(client), "photos": [photo()]},
        content_type="multipart/form-data",
        environ_overrides={"CONTENT_LENGTH": str(declared)},
    )
    assert page.status_code == 413 and page.mimetype == "text/html" and "文件太大" in page.get_data(as_text=True)
    nothing_stored(context)


def test_html_and_script_in_every_field_are_escaped_on_every_page(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext
) -> None:
    hostile = {key: HOSTILE for key in ("building", "unit", "room", "demand", "name")}
    refused = client.post(
        "/r/NS01", data=fields(client, **hostile, description=HOSTILE, phone=HOSTILE), content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert "<script>" not in refused and "<img src=x" not in refused and "&lt;script&gt;" in refused
    hostile_parts = {key: HOSTILE[:32] for key in ("building", "unit", "room")}
    filed = client.post(
        "/r/NS01",
        data=fields(client, **hostile_parts, demand=HOSTILE, name=HOSTILE, description=HOSTILE),
        content_type="multipart/form-data",
    )
    assert filed.status_code == 201, filed.get_data(as_text=True)
    tracked = client.get(tracking_path(filed.get_data(as_text=True))).get_data(as_text=True)
    assert "<script>" not in tracked and "<img src=x" not in tracked and tracked.count("&lt;script&gt;") >= 3
    assert context.database.complaints.find_one({})["description"] == HOSTILE  # stored as written, escaped when shown


@pytest.fixture
def limited_context(open_context: Callable[..., ServiceContext], settings: Settings) -> ServiceContext:
    """Intake's context with a resident limit of two complaints per client address."""
    return open_context(settings, indexes=INDEXES, config=IntakeConfig(resident_limit_per_address=2, resident_limit_per_phone=1000))


def test_filing_is_rate_limited_like_the_api_and_a_replay_is_not_counted(limited_context: ServiceContext, admin: dict[str, str]) -> None:
    limited = create_app(limited_context).test_client()
    assert limited.put("/api/v1/estates/NS01", json=ESTATE, headers=admin).status_code == 201
    first = fields(limited)
    assert limited.post("/r/NS01", data=first, content_type="multipart/form-data").status_code == 201
    assert limited.post("/r/NS01", data=first, content_type="multipart/form-data").status_code == 201  # the same form again
    api = limited.post(
        "/api/v1/complaints",
        json={"estate_id": "NS01", "channel": "app", "description": "楼道灯不亮", "reporter": {"phone": "13900139000"}},
    )
    assert api.status_code == 201  # the page and the API share the address's counter: this is the second
    refused = limited.post("/r/NS01", data=fields(limited), content_type="multipart/form-data")
    assert refused.status_code == 429 and refused.mimetype == "text/html" and "请稍后再试" in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"]
    assert limited_context.database.complaints.count_documents({}) == 2
