"""The GeoReport v2 rules of intake, pure: plain values in, the standard's shapes out.

- Service codes are the subcategories of ``propcare_shared.vocabulary.SUBCATEGORIES``; a service's
  ``group`` is its category. Names follow the locale asked for: ``zh-CN`` (the default) or ``en``.
- A complaint is a GeoReport request: its ticket number is the ``service_request_id``; ``status`` is
  ``closed`` once the work order is resolved, closed or cancelled and ``open`` before; the resolve
  deadline dispatch set is ``expected_datetime``; the department is ``agency_responsible``.
- ``request_view`` names every field it returns: nothing of the reporter (name, phone, e-mail,
  device or account) can slip into a public read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from propcare_shared.clock import isoformat_z
from propcare_shared.vocabulary import SUBCATEGORIES

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
FORMATS = ("application/json",)
SERVICES_CHANGESET = datetime(2026, 11, 29, tzinfo=UTC)
"""When the service list last changed (the vocabulary's subcategories); clients refresh their caches after it."""
CLOSED_STATUSES = ("resolved", "closed", "cancelled")
REQUEST_STATES = ("open", "closed")

CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "facility": ("设施维护", "Facilities"),
    "service": ("服务质量", "Service quality"),
    "fees": ("收费争议", "Fee disputes"),
    "community": ("社区管理", "Community"),
    "other": ("其他", "Other"),
}
"""Each category's name in zh-CN and en: the ``group`` of its services."""

STATUS_NOTES: dict[str, tuple[str, str]] = {
    "received": ("已受理，正在分类", "Received; being classified."),
    "classified": ("已分类，正在派单", "Classified; being assigned."),
    "assigned": ("已派给处理人", "Assigned to a handler."),
    "responded": ("处理人已联系报事人", "The handler has made contact."),
    "in_progress": ("正在处理", "Work is under way."),
    "on_hold": ("暂停，等待入户或补充信息", "On hold, waiting for access or information."),
    "resolved": ("已处理完毕", "Resolved."),
    "closed": ("已办结", "Closed."),
    "cancelled": ("已取消（重复或无效）", "Cancelled (a duplicate or not a valid request)."),
}
"""What ``status_notes`` says at each of our statuses: fixed texts, never a staff member's note."""


def locale_of(requested: str | None) -> str:
    """Return the locale to answer in: ``en`` for any English tag, ``zh-CN`` otherwise."""
    tag = (requested or "").strip().replace("_", "-").lower()
    return "en" if tag == "en" or tag.startswith("en-") else DEFAULT_LOCALE


def _pick(names: tuple[str, str], locale: str) -> str:
    return names[LOCALES.index(locale)]


def service_name(code: str | None, *, locale: str) -> str | None:
    """Return a service code's name in a locale, or ``None`` for a code we do not know."""
    if code not in SUBCATEGORIES:
        return None
    _category, chinese, english = SUBCATEGORIES[code]
    return _pick((chinese, english), locale)


def service(code: str, *, locale: str) -> dict[str, Any]:
    """Return one entry of ``services.json``."""
    category, chinese, english = SUBCATEGORIES[code]
    name = _pick((chinese, english), locale)
    group = _pick(CATEGORY_NAMES[category], locale)
    return {
        "service_code": code,
        "service_name": name,
        "description": f"{name}（{group}）" if locale == DEFAULT_LOCALE else f"{name} ({group})",
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join((code, category, chinese, english)),
        "group": group,
    }


def services(*, locale: str) -> list[dict[str, Any]]:
    """Return ``services.json``: one realtime service without attributes per subcategory."""
    return [service(code, locale=locale) for code in SUBCATEGORIES]


def service_definition(code: str) -> dict[str, Any]:
    """Return ``services/{code}.json``: our services ask for no attributes."""
    return {"service_code": code, "attributes": []}


def discovery(*, url: str, contact: str, key_service: str) -> dict[str, Any]:
    """Return ``discovery.json``: one production GeoReport v2 endpoint serving JSON."""
    changeset = isoformat_z(SERVICES_CHANGESET)
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [{"specification": SPECIFICATION, "url": url, "changeset": changeset, "type": "production", "formats": list(FORMATS)}],
    }


def state_of(status: str | None) -> str:
    """Return a complaint's GeoReport status: ``closed`` once resolved, closed or cancelled, else ``open``."""
    return "closed" if status in CLOSED_STATUSES else "open"


def statuses_in(state: str) -> dict[str, Any]:
    """Return the filter on our statuses that selects the GeoReport status ``state``."""
    return {"$in": list(CLOSED_STATUSES)} if state == "closed" else {"$nin": list(CLOSED_STATUSES)}


def service_code_of(complaint: Mapping[str, Any]) -> str | None:
    """Return a complaint's service code: the subcategory once classified, the code filed before."""
    return complaint.get("subcategory") or complaint.get("category_hint")


def service_notice(*, estate_name: str | None, locale: str) -> str:
    """Return who handles a request, in the ``service_notice`` of the POST answer and the reads."""
    if locale == "en":
        return f"Handled by the property management of {estate_name}." if estate_name else "Handled by the property management."
    return f"由{estate_name}物业服务中心处理" if estate_name else "由物业服务中心处理"


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return isoformat_z(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def request_view(complaint: Mapping[str, Any], filed: Mapping[str, Any] | None, *, locale: str) -> dict[str, Any]:
    """Return a complaint as a GeoReport request: the standard's fields, nothing of the reporter."""
    filed = filed or {}
    code = service_code_of(complaint)
    status = complaint.get("status")
    deadlines = complaint.get("deadlines") or {}
    return {
        "service_request_id": complaint["ticket_no"],
        "status": state_of(status),
        "status_notes": _pick(STATUS_NOTES[status], locale) if status in STATUS_NOTES else None,
        "service_name": service_name(code, locale=locale),
        "service_code": code,
        "description": complaint.get("description"),
        "agency_responsible": complaint.get("department"),
        "service_notice": service_notice(estate_name=filed.get("estate_name"), locale=locale),
        "requested_datetime": _time(complaint.get("received_at")),
        "updated_datetime": _time(complaint.get("updated_at")),
        "expected_datetime": _time(deadlines.get("resolve")),
        "address": filed.get("address_string"),
        "address_id": filed.get("address_id"),
        "zipcode": None,
        "lat": filed.get("lat"),
        "long": filed.get("long"),
        "media_url": filed.get("media_url"),
    }


def request_ids(text: str) -> list[str]:
    """Return the ids of a comma-separated ``service_request_id``, without blanks or repeats."""
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def errors(code: int, description: str) -> list[dict[str, Any]]:
    """Return the standard's error answer: an array of ``{"code", "description"}``."""
    return [{"code": code, "description": description}]


def describe_problem(body: Mapping[str, Any]) -> str:
    """Return one sentence from a problem+json body: its detail, then each field's messages."""
    text = str(body.get("detail") or body.get("title") or "Error.")
    field_errors = body.get("errors") or {}
    if isinstance(field_errors, Mapping) and field_errors:
        parts = [f"{name}: {' '.join(_messages(messages))}" for name, messages in field_errors.items()]
        text = f"{text} {'; '.join(parts)}"
    return text


def _messages(messages: Any) -> list[str]:
    if isinstance(messages, list | tuple):
        return [str(message) for message in messages]
    if isinstance(messages, Mapping):
        return [f"{key}: {' '.join(_messages(value))}" for key, value in messages.items()]
    return [str(messages)]
