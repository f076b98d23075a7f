"""Where a consumer's time goes per message: named stages timed on the thread that handles it.

The consumer opens a ``recording()`` around each message only while someone listens (an observer
added with ``observe``: the benchmark ``tests/bench/dispatch_worker.py``); code on the handling path
marks its stages with ``stage(name)``. Without a recording on the thread, ``stage`` costs one
thread-local look-up, so the markers stay in production code.

Stages measured by the kernel: ``decode`` (envelope and payload validation), ``inbox`` (the inbox
marker's insert), ``outbox`` (the outbox rows' insert), ``statements`` (everything inside the transaction: the
handler's reads and writes with the inbox and outbox inserts), ``transaction`` (the whole unit of
work: ``statements``, then the majority commit, and any retry), ``handle`` (the handler with its ``after``) and
``ack`` (from the handler's end until the broker was told; with concurrent handling it includes the
wait for the consumer thread). A service's own stages (classification, routing reads) nest inside
``transaction``.

No Prometheus metric is made of these: production keeps ``event_handling_seconds`` and
``event_lag_seconds`` per event type (docs/OBSERVABILITY.md); a per-stage histogram would add a
series per stage and bucket to every service for a question only a performance investigation asks
(docs/PERFORMANCE.md, "Workers").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

StageTimes = dict[str, float]
Observer = Callable[[str, StageTimes], None]
"""Called with the event type and the seconds spent per stage, once a message was acked."""

_local = threading.local()
_observers: list[Observer] = []


def observe(observer: Observer) -> Callable[[], None]:
    """Call ``observer`` for every message a consumer of this process handles; return how to stop."""
    _observers.append(observer)
    return lambda: _observers.remove(observer)


def observed() -> bool:
    """Tell whether anyone listens (the consumer records stages only then)."""
    return bool(_observers)


def report(event_type: str, times: StageTimes) -> None:
    """Give one message's stage times to every observer."""
    for observer in list(_observers):
        observer(event_type, times)


@contextmanager
def recording(times: StageTimes | None = None) -> Iterator[StageTimes]:
    """Collect the stages marked on this thread into ``times`` (a new dict by default) until the block ends."""
    collected: StageTimes = {} if times is None else times
    previous = getattr(_local, "times", None)
    _local.times = collected
    try:
        yield collected
    finally:
        _local.times = previous


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Add the time the block took to stage ``name`` of the recording on this thread, if there is one."""
    times: StageTimes | None = getattr(_local, "times", None)
    if times is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        times[name] = times.get(name, 0.0) + time.perf_counter() - started


def timed(name: str, function: Callable[..., object]) -> Callable[..., object]:
    """Return ``function`` wrapped in ``stage(name)`` (a benchmark wraps a service's functions with it)."""

    def wrapper(*args: object, **kwargs: object) -> object:
        with stage(name):
            return function(*args, **kwargs)

    wrapper.__wrapped__ = function  # type: ignore[attr-defined]
    return wrapper
