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
from dispatch.domain.classify.model import shipped_danger
from dispatch.service import DISPATCH
from propcare_shared.context import ServiceContext
from propcare_shared.worker import Worker


def warm_classifier() -> None:
    """Load the classifier, its three models and its tokenizer once, on this thread, before any message is handled.

    "电梯困人" trains the subcategory and tier models; the danger model (the safety stage's backstop) only
    reads texts the word families found nothing in, so it is trained here explicitly.
    """
    classify("电梯困人")
    shipped_danger()
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
