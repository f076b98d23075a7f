"""Benchmarks (``make bench``, ``python -m tests.bench``): each module's figures as rows of one table."""

from __future__ import annotations

Row = tuple[str, str, str, str]
"""A table row: measure, compared with, rate, latency."""


def print_table(heading: str, rows: list[Row]) -> None:
    """Print ``rows`` under ``heading`` as the Markdown table that docs/PERFORMANCE.md quotes."""
    print(f"\n{heading}\n")
    print("| measure | compared with | rate | latency |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
