"""Dispatch's consumer process: its event handlers, its outbox relay and the SLA escalation scanner.

``python -m dispatch.worker`` runs it until SIGTERM or SIGINT (``dispatch.service.DISPATCH``).
"""

from __future__ import annotations

from dispatch.service import DISPATCH

build_worker = DISPATCH.build_worker


def main() -> None:
    """Run the worker until stopped."""
    DISPATCH.run_worker()


if __name__ == "__main__":
    main()
