"""Checks on an uploaded photo or video before it is stored.

The type is read from the file's first bytes, not from the name or the header the client sent, so a
script renamed ``photo.jpg`` is refused. Limits: 10 MB for a photo, 25 MB for a video (the app's
request limit answers 413 above it), 9 files per complaint (``MAX_PER_COMPLAINT``, held by a slot
counter on the complaint that the store reserves atomically, not here).

The name a client sent is only a label: it is kept as its last path segment, without control or
format characters (no ``../``, NUL, newline or bidirectional override), at most ``MAX_NAME_LENGTH``
characters with its extension kept, and ``attachment`` when nothing is left.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import IO

from werkzeug.datastructures import FileStorage

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_VIDEO_BYTES = 25 * 1024 * 1024
MAX_PER_COMPLAINT = 9
MAX_NAME_LENGTH = 120
MAX_EXTENSION_LENGTH = 10
FALLBACK_NAME = "attachment"
VIDEO_BRANDS = {
    b"qt  ": "video/quicktime",
    b"isom": "video/mp4",
    b"mp41": "video/mp4",
    b"mp42": "video/mp4",
    b"avc1": "video/mp4",
    b"iso2": "video/mp4",
}
HEIF_BRANDS = {b"heic", b"heix", b"mif1", b"msf1"}


class AttachmentRefused(Exception):
    """An upload that is not stored, with the status and reason to answer."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


@dataclass(frozen=True)
class Upload:
    """An accepted upload: its name, its sniffed type and its content."""

    filename: str
    content_type: str
    stream: IO[bytes]


def sniff(head: bytes) -> str | None:
    """Return the media type the first bytes of a file show, or ``None`` when not a photo or video."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in HEIF_BRANDS:
            return "image/heic"
        return VIDEO_BRANDS.get(brand)
    return None


def safe_filename(raw: str) -> str:
    """Return the name to keep for an uploaded file: its last path segment, printable and bounded."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Zl", "Zp"})
    name = name.strip().lstrip(".").strip()
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= MAX_EXTENSION_LENGTH:
            name = f"{stem[: MAX_NAME_LENGTH - len(extension) - 1].rstrip()}.{extension}"
        else:
            name = name[:MAX_NAME_LENGTH].rstrip()
    return name or FALLBACK_NAME


def refused_when_full() -> AttachmentRefused:
    """Return the refusal of a file beyond the per-complaint limit."""
    return AttachmentRefused(422, "Invalid request", f"A complaint holds at most {MAX_PER_COMPLAINT} files.")


def accept_upload(upload: FileStorage | None) -> Upload:
    """Return the upload when it is a photo or video within the size limits; raise ``AttachmentRefused``."""
    if upload is None or not upload.filename:
        raise AttachmentRefused(422, "Invalid request", "Send the file as the multipart field `file`.")
    stream = upload.stream
    head = stream.read(16)
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    content_type = sniff(head)
    if content_type is None:
        raise AttachmentRefused(415, "Unsupported Media Type", "Only photos (JPEG, PNG, WebP, HEIC) and videos (MP4, MOV) are accepted.")
    if size == 0:
        raise AttachmentRefused(422, "Invalid request", "The file is empty.")
    limit = MAX_VIDEO_BYTES if content_type.startswith("video/") else MAX_PHOTO_BYTES
    if size > limit:
        raise AttachmentRefused(413, "Payload Too Large", f"A {content_type.split('/')[0]} may be at most {limit // (1024 * 1024)} MB.")
    return Upload(filename=safe_filename(upload.filename), content_type=content_type, stream=stream)
