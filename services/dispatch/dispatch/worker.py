"""Dispatch's consumer process: its event handlers, its outbox relay and the SLA escalation scanner.

``python -m dispatch.worker`` runs it until SIGTERM or SIGINT (``dispatch.service.DISPATCH``).

The classifier is loaded before the consumer starts (``warm_classifier``): its tokenizer's
dictionary takes one to several seconds to load on first use, and with ``CONSUMER_CONCURRENCY``
lanes every lane that met a text needing it first would load its own copy at once (the loader's
cache does not lock), stalling the first complaints after each start (docs/PERFORMANCE.md, "Workers").
"""

from __future__ import annotations

from dispatch.domain.classify import classify
from dispatch.domain.classify.analysis import _jieba
from dispatch.service import DISPATCH
from propcare_shared.context import ServiceContext
from propcare_shared.worker import Worker


def warm_classifier() -> None:
    """Load the classifier and its tokenizer once, on this thread, before any message is handled."""
    classify("电梯困人")
    _jieba()


def build_worker(context: ServiceContext | None = None) -> Worker:
    """Build dispatch's worker with the classifier loaded (``DISPATCH.build_worker``)."""
    warm_classifier()
    return DISPATCH.build_worker(context)


def main() -> None:
    """Run the worker until stopped."""
    warm_classifier()
    DISPATCH.run_worker()


if __name__ == "__main__":
    main()
