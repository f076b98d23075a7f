"""Delivery providers behind one interface: ``Provider.send(message) -> ProviderResult``.

- ``LogProvider`` (development): writes a log line with the message id, channel and template,
  never the address or the text, and reports success.
- ``SmtpProvider``: e-mail through ``SMTP_URL`` (``smtp://user:pass@host:port``, upgraded with
  STARTTLS when the server offers it; ``smtps://`` for implicit TLS) with ``smtplib``.
- ``WebhookProvider``: an HTTP POST of JSON to a gateway (app push, SMS, WeChat, staff) with a bearer
  credential and the message id as ``Idempotency-Key``; a non-2xx answer or a timeout is a failure.

A provider never raises for a delivery problem: it returns a failed result, whose error text is
kept short and has addresses masked, since it is stored and shown to staff.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import requests

from notification.config import NotifyConfig
from notification.domain.channels import APP_PUSH, EMAIL, SMS, STAFF, WECHAT
from propcare_shared.logs import redact

log = logging.getLogger(__name__)

ERROR_LIMIT = 300


@dataclass(frozen=True)
class OutgoingMessage:
    """What a provider needs to deliver one message."""

    message_id: str
    channel: str
    kind: str
    recipient: str
    title: str
    body: str
    language: str
    complaint_id: str | None = None
    ticket_no: str | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> OutgoingMessage:
        """Build the outgoing message of a stored message."""
        return cls(
            message_id=document["_id"],
            channel=document["channel"],
            kind=document["kind"],
            recipient=document["recipient"],
            title=document["title"],
            body=document["body"],
            language=document["language"],
            complaint_id=document.get("complaint_id"),
            ticket_no=document.get("ticket_no"),
        )


@dataclass(frozen=True)
class ProviderResult:
    """The outcome of one attempt: delivered or not, by which provider, and why not."""

    provider: str
    ok: bool
    error: str | None = None

    @classmethod
    def failure(cls, provider: str, error: str) -> ProviderResult:
        """Return a failed result with a short error text without addresses."""
        return cls(provider=provider, ok=False, error=redact(error)[:ERROR_LIMIT])


class Provider(Protocol):
    """Delivers messages of one or more channels."""

    name: str

    def send(self, message: OutgoingMessage) -> ProviderResult:
        """Deliver one message and tell how it went."""
        ...


class LogProvider:
    """The development provider: logs that a message would go out, with ids only."""

    name = "log"

    def send(self, message: OutgoingMessage) -> ProviderResult:
        """Log the message id, channel and template, and report success."""
        log.info(
            "notification delivered to the log provider",
            extra={"message_id": message.message_id, "channel": message.channel, "template": message.kind, "language": message.language},
        )
        return ProviderResult(provider=self.name, ok=True)


class SmtpProvider:
    """E-mail through an SMTP server named by a URL."""

    name = "smtp"

    def __init__(self, url: str, *, sender: str, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:port or smtps://...")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout

    def _email(self, message: OutgoingMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.title
        email["Message-ID"] = make_msgid(idstring=message.message_id, domain="propcare.local")
        email["X-Propcare-Message-Id"] = message.message_id
        email.set_content(message.body)
        return email

    def send(self, message: OutgoingMessage) -> ProviderResult:
        """Send one e-mail; any SMTP or network error is a failure."""
        try:
            if self.implicit_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                client.ehlo()
                if not self.implicit_tls and client.has_extn("starttls"):
                    client.starttls(context=ssl.create_default_context())
                    client.ehlo()
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(self._email(message))
        except (smtplib.SMTPException, OSError) as exc:
            return ProviderResult.failure(self.name, f"{type(exc).__name__}: {exc}")
        return ProviderResult(provider=self.name, ok=True)


class WebhookProvider:
    """A gateway reached by an HTTP POST of JSON with a bearer credential."""

    name = "webhook"

    def __init__(self, url: str, *, token: str, timeout: float, session: requests.Session | None = None) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout
        self.session = session or requests.Session()

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        """Return the JSON body posted for a message."""
        return {
            "message_id": message.message_id,
            "channel": message.channel,
            "template": message.kind,
            "language": message.language,
            "to": message.recipient,
            "title": message.title,
            "body": message.body,
            "complaint_id": message.complaint_id,
            "ticket_no": message.ticket_no,
        }

    def send(self, message: OutgoingMessage) -> ProviderResult:
        """Post the message; a 2xx answer is a delivery, anything else a failure."""
        headers = {"Idempotency-Key": message.message_id}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self.session.post(self.url, json=self.payload(message), headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            return ProviderResult.failure(self.name, f"{type(exc).__name__}: {exc}")
        if not 200 <= response.status_code < 300:
            return ProviderResult.failure(self.name, f"HTTP {response.status_code} {response.reason or ''}".strip())
        return ProviderResult(provider=self.name, ok=True)


@dataclass
class Providers:
    """The provider of each delivery channel; the log provider for any channel not configured."""

    by_channel: dict[str, Provider] = field(default_factory=dict)
    fallback: Provider = field(default_factory=LogProvider)

    def for_channel(self, channel: str) -> Provider:
        """Return the provider that delivers a channel."""
        return self.by_channel.get(channel, self.fallback)

    @classmethod
    def configured(cls, *, config: NotifyConfig, smtp_url: str) -> Providers:
        """Build the providers from the configuration: a gateway per configured URL, the log otherwise."""
        by_channel: dict[str, Provider] = {}
        webhooks = {APP_PUSH: config.push_url, SMS: config.sms_url, WECHAT: config.wechat_url, STAFF: config.staff_url}
        for channel, url in webhooks.items():
            if url:
                by_channel[channel] = WebhookProvider(url, token=config.provider_token, timeout=config.send_timeout)
        if smtp_url:
            by_channel[EMAIL] = SmtpProvider(smtp_url, sender=config.email_from, timeout=config.send_timeout)
        return cls(by_channel=by_channel)
