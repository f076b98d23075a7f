"""Message templates: Jinja2 files ``templates/<language>/<kind>.txt.j2`` in zh-CN and en.

A rendered template's first line is the title (the e-mail subject, the push title); the rest,
after a blank line, is the body. Templates get plain values (``domain.compose``) and a ``label``
function that names departments, tiers, targets and roles in the message's language. Undefined
values are errors, so a template and its values cannot drift apart unnoticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from notification.domain.compose import KINDS, audience_of

TEMPLATE_ROOT = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "zh-CN": {
        "department": {
            "engineering": "工程部",
            "security": "安保部",
            "environment": "环境部",
            "finance": "财务部",
            "customer_service": "客服中心",
            "management": "项目管理处",
        },
        "tier": {"emergency": "紧急", "important": "重要", "complex": "复杂", "general": "一般"},
        "target": {"response": "响应", "onsite": "到场", "plan": "书面方案", "resolve": "解决", "follow_up": "回访"},
        "role": {"supervisor": "部门主管", "manager": "项目经理", "regional_ops": "区域运营", "handler": "处理人", "agent": "客服"},
    },
    "en": {
        "department": {
            "engineering": "engineering",
            "security": "security",
            "environment": "cleaning and landscaping",
            "finance": "finance",
            "customer_service": "customer service",
            "management": "estate management",
        },
        "tier": {"emergency": "emergency", "important": "important", "complex": "complex", "general": "general"},
        "target": {
            "response": "first response",
            "onsite": "on-site arrival",
            "plan": "written plan",
            "resolve": "resolution",
            "follow_up": "follow-up",
        },
        "role": {
            "supervisor": "department supervisor",
            "manager": "estate manager",
            "regional_ops": "regional operations",
            "handler": "handler",
            "agent": "agent",
        },
    },
}

_environment = Environment(
    loader=FileSystemLoader(str(TEMPLATE_ROOT)),
    undefined=StrictUndefined,
    autoescape=False,  # plain-text messages, never HTML
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


OPT_OUT_LINES = {
    "zh-CN": "不想再收到进度类通知？点此退订（紧急及必要通知仍会发送）：{link}",
    "en": "To stop non-essential updates (urgent and required messages still come): {link}",
}
"""The last line of every resident message: the link to opt out of non-essential messages."""


def with_opt_out(body: str, *, language: str, link: str | None) -> str:
    """Return a resident message's body ending with its opt-out link (unchanged without one)."""
    if not link:
        return body
    return f"{body}\n\n{OPT_OUT_LINES[normalise_language(language)].format(link=link)}"


class UnknownTemplate(KeyError):
    """Raised for a kind no template exists for."""


@dataclass(frozen=True)
class Rendered:
    """A rendered message: its title and its body."""

    title: str
    body: str


def normalise_language(language: str | None) -> str:
    """Return the template language for a resident's language tag (zh-CN unless it is English)."""
    tag = (language or "").replace("_", "-").lower()
    return "en" if tag == "en" or tag.startswith("en-") else DEFAULT_LANGUAGE


def template_name(kind: str, language: str) -> str:
    """Return the file of a kind's template in a language, relative to the template root."""
    if kind not in KINDS:
        raise UnknownTemplate(kind)
    return f"{normalise_language(language)}/{kind}.txt.j2"


def label_function(language: str) -> Any:
    """Return ``label(group, code)`` naming a code in the language (the code itself when unnamed)."""
    labels = LABELS[normalise_language(language)]

    def label(group: str, code: str | None) -> str:
        if code is None:
            return ""
        return labels.get(group, {}).get(code, code)

    return label


def render(kind: str, *, language: str, values: Mapping[str, Any]) -> Rendered:
    """Render a kind's template in a language with its values."""
    language = normalise_language(language)
    text = _environment.get_template(template_name(kind, language)).render(**values, label=label_function(language))
    title, _, body = text.strip().partition("\n")
    return Rendered(title=title.strip(), body=body.strip())


def source(kind: str, language: str) -> str:
    """Return a template's source text."""
    return (TEMPLATE_ROOT / template_name(kind, language)).read_text(encoding="utf-8")


def of_kind(kind: str) -> dict[str, Any]:
    """Return one kind of message in every language: kind, audience and each language's source."""
    return {
        "kind": kind,
        "audience": audience_of(kind),
        "languages": {language: source(kind, language) for language in LANGUAGES},
    }


def catalogue() -> list[dict[str, Any]]:
    """Return every template: kind, audience, language, file and source."""
    return [
        {
            "kind": kind,
            "audience": audience_of(kind),
            "language": language,
            "file": template_name(kind, language),
            "source": source(kind, language),
        }
        for kind in KINDS
        for language in LANGUAGES
    ]
