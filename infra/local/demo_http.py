"""What the demo loaders share: the error they raise when a service refuses a demo request."""

from __future__ import annotations

import requests


class DemoLoadError(RuntimeError):
    """A demo request the services refused."""


def expect(response: requests.Response, what: str, key: str) -> None:
    """Raise ``DemoLoadError`` naming the request and the answer when a demo request was refused."""
    if not response.ok:
        raise DemoLoadError(
            f"{what} {key}: {response.request.method} {response.url} answered {response.status_code}: {response.text[:500]}"
        )
