"""The public opt-out page: ``GET /o/{token}`` asks, ``POST /o/{token}`` stores the choice.

Every resident message ends with this link (``domain.opt_out``). Opening it changes nothing (SMS apps
and mail scanners open links by themselves); the resident confirms with a plain form post, which
works without JavaScript. ``choice=resume`` takes the opt-out back. The choice is stored per address
the token's complaint or household is written to (phone and e-mail, as HMAC keys only), so it is
honoured by every later message to that address; emergencies and essential messages still go.

A token this service did not sign (forged, altered, cut short) is answered with the same 404 page as
one naming a complaint or household notification has never seen, so tokens cannot be probed. The
pages are in zh-CN or en by ``Accept-Language`` and carry no phone, name or complaint details.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_smorest import Blueprint
from markupsafe import escape

from notification.config import config_of
from notification.domain import opt_out
from notification.store import NotificationStore
from propcare_shared.context import current_context, current_store

pages = Blueprint("opt_out_pages", __name__, url_prefix="/o", description="The resident's opt-out page (public).")

TEXTS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "lang": "zh-CN",
        "title": "退订非必要通知",
        "ask": "确认后，我们将不再向您发送投诉进度、回访邀请等非必要通知。紧急情况及必要通知（受理、暂停、处理结果、撤销）仍会发送。",
        "confirm": "确认退订",
        "done": "已为您退订非必要通知。紧急情况及必要通知仍会发送。",
        "resume": "恢复接收全部通知",
        "resumed": "已恢复，您将继续收到全部通知。",
        "missing": "链接无效或已失效。如需帮助，请联系客服中心。",
    },
    "en": {
        "lang": "en",
        "title": "Stop non-essential messages",
        "ask": "Once you confirm, we will stop sending you progress updates and survey invitations. "
        "Urgent and required messages (acknowledgement, on hold, resolution, cancellation) still come.",
        "confirm": "Stop non-essential messages",
        "done": "Done: non-essential messages are stopped. Urgent and required messages still come.",
        "resume": "Receive every message again",
        "resumed": "Done: you will receive every message again.",
        "missing": "This link is not valid. Please contact customer service if you need help.",
    },
}


def _texts() -> dict[str, str]:
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"], default="zh-CN")
    return TEXTS["en" if best == "en" else "zh-CN"]


def _page(texts: dict[str, str], body: str, *, status: int = 200) -> Response:
    html = (
        f'<!doctype html><html lang="{texts["lang"]}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(texts['title'])}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.6}"
        "button{font-size:1rem;padding:.75rem 1rem;margin:.25rem 0;width:100%}</style></head>"
        f"<body><main><h1>{escape(texts['title'])}</h1>{body}</main></body></html>"
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _form(texts: dict[str, str], *, choice: str, label: str) -> str:
    return f'<form method="post"><input type="hidden" name="choice" value="{choice}"><button type="submit">{escape(label)}</button></form>'


def _addresses(store: NotificationStore, token: str) -> list[str] | None:
    """Return the addresses a token's complaint or household is written to; None for a token not ours or unknown."""
    try:
        kind, identifier = opt_out.verify(token, secret=config_of(current_context()).opt_out_secret)
    except opt_out.InvalidOptOutToken:
        return None
    record: dict[str, Any] | None = store.contact(identifier) if kind == opt_out.COMPLAINT else store.household(identifier)
    if record is None:
        return None
    return [address for address in (record.get("phone"), record.get("email")) if address]


@pages.route("/<token>", methods=["GET"])
@pages.doc(exclude=True)
def ask(token: str) -> Response:
    """Ask the resident to confirm they want to stop non-essential messages."""
    texts = _texts()
    if _addresses(current_store(NotificationStore), token) is None:
        return _page(texts, f"<p>{escape(texts['missing'])}</p>", status=404)
    return _page(texts, f"<p>{escape(texts['ask'])}</p>{_form(texts, choice='stop', label=texts['confirm'])}")


@pages.route("/<token>", methods=["POST"])
@pages.doc(exclude=True)
def choose(token: str) -> Response:
    """Store the resident's choice (stop, or ``resume``) for every address of the token's complaint or household."""
    texts = _texts()
    store = current_store(NotificationStore)
    addresses = _addresses(store, token)
    if addresses is None:
        return _page(texts, f"<p>{escape(texts['missing'])}</p>", status=404)
    links = config_of(current_context()).opt_out
    stop = request.form.get("choice") != "resume"
    now = current_context().clock()
    for address in addresses:
        key = links.key(address)
        if key is not None:
            store.save_opt_out(key, opted_out=stop, at=now)
    if stop:
        return _page(texts, f"<p>{escape(texts['done'])}</p>{_form(texts, choice='resume', label=texts['resume'])}")
    return _page(texts, f"<p>{escape(texts['resumed'])}</p>")
