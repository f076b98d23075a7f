"""Fail fast, before the suite starts, when no RabbitMQ broker and no Docker engine answer."""

from __future__ import annotations

import os
import sys

from propcare_shared.testing import INSTALL_HINT, broker_answers, default_broker_url, docker_engine_answers


def main() -> int:
    """Return 0 when the tests have a broker to talk to, else print what to install and return 1."""
    url = default_broker_url(os.environ.get("RABBITMQ_URL"))
    if broker_answers(url) or docker_engine_answers():
        return 0
    print(f"make test: {INSTALL_HINT}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
