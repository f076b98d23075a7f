"""Attachments: the per-complaint limit under concurrent uploads, safe file names, Idempotency-Key."""

from __future__ import annotations

import io
import threading
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from intake.attachments import MAX_PER_COMPLAINT
from intake.store import IntakeStore
from propcare_shared.context import ServiceContext
from tests.intake.conftest import complaint_body

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 1024
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 512


def received(client: FlaskClient) -> dict[str, Any]:
    response = client.post("/api/v1/complaints", json=complaint_body())
    assert response.status_code == 201
    return response.get_json()


def test_twenty_concurrent_uploads_store_exactly_nine(
    app: Flask, client: FlaskClient, agent: dict[str, str], estate: dict[str, Any], context: ServiceContext
) -> None:
    complaint = received(client)
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def upload(number: int) -> None:
        start.wait()
        response = app.test_client().post(
            f"/api/v1/complaints/{complaint['id']}/attachments", data={"file": (io.BytesIO(JPEG), f"{number}.jpg")}, headers=agent
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=upload, args=(number,)) for number in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * MAX_PER_COMPLAINT + [422] * (20 - MAX_PER_COMPLAINT)
    stored = context.database.complaints.find_one({"_id": complaint["id"]})
    assert len(stored["attachments"]) == stored["attachment_slots"] == MAX_PER_COMPLAINT
    assert context.database["attachments.files"].count_documents({"metadata.complaint_id": complaint["id"]}) == MAX_PER_COMPLAINT


def test_a_refused_file_takes_no_slot(client: FlaskClient, agent: dict[str, str], estate: dict[str, Any], context: ServiceContext) -> None:
    complaint = received(client)
    url = f"/api/v1/complaints/{complaint['id']}/attachments"
    assert client.post(url, data={"file": (io.BytesIO(b"#!/bin/sh\n"), "x.jpg")}, headers=agent).status_code == 415
    assert client.post(url, data={"file": (io.BytesIO(b""), "empty.jpg")}, headers=agent).status_code == 415
    statuses = [client.post(url, data={"file": (io.BytesIO(PNG), f"{n}.png")}, headers=agent).status_code for n in range(10)]
    assert statuses == [201] * MAX_PER_COMPLAINT + [422]
    assert context.database.complaints.find_one({"_id": complaint["id"]})["attachment_slots"] == MAX_PER_COMPLAINT


def test_slots_are_released_and_complaints_from_before_the_counter_count_their_files(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext, store: IntakeStore
) -> None:
    complaint = received(client)
    context.database.complaints.update_one(
        {"_id": complaint["id"]}, {"$unset": {"attachment_slots": ""}, "$set": {"attachments": [{"id": str(n)} for n in range(8)]}}
    )
    assert store.reserve_attachment_slot(complaint_id=complaint["id"], limit=MAX_PER_COMPLAINT)
    assert not store.reserve_attachment_slot(complaint_id=complaint["id"], limit=MAX_PER_COMPLAINT)
    store.release_attachment_slot(complaint_id=complaint["id"])
    assert store.reserve_attachment_slot(complaint_id=complaint["id"], limit=MAX_PER_COMPLAINT)
    assert not store.reserve_attachment_slot(complaint_id="no-such-complaint", limit=MAX_PER_COMPLAINT)


def test_file_names_are_kept_as_a_bare_printable_name(
    client: FlaskClient, agent: dict[str, str], estate: dict[str, Any], context: ServiceContext
) -> None:
    complaint = received(client)
    url = f"/api/v1/complaints/{complaint['id']}/attachments"
    traversal = client.post(url, data={"file": (io.BytesIO(JPEG), "../../etc/passwd.png")}, headers=agent)
    assert traversal.status_code == 201 and traversal.get_json()["filename"] == "passwd.png"
    multipart = (
        b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''..%2F%E7%94%B5%E6%A2%AF%0A%00%1B%5B31m.jpg\r\n"
        b"Content-Type: image/jpeg\r\n\r\n" + JPEG + b"\r\n--B--\r\n"
    )
    controls = client.post(url, data=multipart, headers={**agent, "Content-Type": "multipart/form-data; boundary=B"})
    assert controls.status_code == 201 and controls.get_json()["filename"] == "电梯[31m.jpg"
    dots = client.post(url, data={"file": (io.BytesIO(JPEG), "../..")}, headers=agent)
    assert dots.status_code == 201 and dots.get_json()["filename"] == "attachment"
    names = {document["filename"] for document in context.database["attachments.files"].find()}
    assert names == {"passwd.png", "电梯[31m.jpg", "attachment"}


def multipart(content: bytes, filename: str) -> bytes:
    """Return a multipart body with a fixed boundary, as a client retrying the same request resends it."""
    return (
        f'--B\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        + content
        + b"\r\n--B--\r\n"
    )


def test_the_same_idempotency_key_stores_an_attachment_once(
    client: FlaskClient, agent: dict[str, str], estate: dict[str, Any], context: ServiceContext
) -> None:
    complaint = received(client)
    url = f"/api/v1/complaints/{complaint['id']}/attachments"
    form = {"Content-Type": "multipart/form-data; boundary=B", "Idempotency-Key": "photo-1"}
    resident = {**form, "X-Tracking-Token": complaint["tracking_token"]}
    first = client.post(url, data=multipart(JPEG, "lift.jpg"), headers=resident)
    again = client.post(url, data=multipart(JPEG, "lift.jpg"), headers=resident)
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other_file = client.post(url, data=multipart(PNG, "lift.jpg"), headers=resident)
    assert other_file.status_code == 409
    by_staff = client.post(url, data=multipart(JPEG, "lift.jpg"), headers={**agent, **form})
    assert by_staff.status_code == 201 and by_staff.get_json()["id"] != first.get_json()["id"]
    wrong_token = client.post(url, data=multipart(JPEG, "lift.jpg"), headers={**form, "X-Tracking-Token": "guess"})
    assert wrong_token.status_code == 404
    assert context.database["attachments.files"].count_documents({"metadata.complaint_id": complaint["id"]}) == 2
