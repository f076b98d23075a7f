"""Closed loop: ``wrk`` on ``POST /api/v1/complaints`` beside a no-op endpoint under the same gunicorn settings.

The no-op is ``tests.bench.load.noop`` (the kernel's app factory, so it pays the middleware, metrics and
JSON a service pays, but does no work), served by gunicorn with ``propcare_shared.gunicorn_conf`` and the
same environment as the services, so the same workers and threads. The request scripts are
``tests/bench/load/noop.lua`` (a complaint-sized JSON body) and ``tests/bench/load/post_complaint.lua``
(a staff-entered complaint for a random household of one estate: the hot-estate case issue 16 measured).

Runs are interleaved, so both endpoints see the same background (the platform's workers and the other
work on the machine): for each concurrency, the no-op and then intake, each after the pipeline has
drained what the previous run left (every outbox published, every consumer queue empty, bounded wait).
While intake runs, dispatch, notification and analytics consume its events, as they would in production.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from infra.local.mongod import free_port
from propcare_shared.testing import wait_for
from tests.bench.platform import BUILDINGS, FLOORS, Platform

LOAD = Path(__file__).resolve().parent / "load"
NOOP_SCRIPT = LOAD / "noop.lua"
COMPLAINT_SCRIPT = LOAD / "post_complaint.lua"
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def millis(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


def parse(output: str) -> dict[str, float]:
    """Requests/s, p50/p90/p99 in ms, non-2xx answers and socket errors of a ``wrk --latency`` run."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None:
        raise ValueError(f"no Requests/sec in wrk's output:\n{output}")
    result = {"rate": float(rate.group(1))}
    for share in ("50", "90", "99"):
        found = re.search(rf"\s{share}%\s+(\S+)", output)
        result[f"p{share}"] = millis(found.group(1)) if found else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non2xx"] = float(non2xx.group(1)) if non2xx else 0.0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["errors"] = float(sum(int(errors.group(n)) for n in (1, 2, 3))) if errors else 0.0
    result["timeouts"] = float(errors.group(4)) if errors else 0.0
    return result


def command(url: str, script: Path, *, connections: int, seconds: int, timeout: int) -> list[str]:
    return ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", f"{timeout}s", "--latency", "-s", str(script), url]


def run_wrk(args: list[str], env: dict[str, str]) -> dict[str, float]:
    return parse(subprocess.run(args, capture_output=True, text=True, check=True, env=env, timeout=600).stdout)


def start_noop(platform: Platform) -> None:
    """The no-op app as one more gunicorn of the platform (so it is stopped with the rest)."""
    platform.processes.urls["noop"] = f"http://127.0.0.1:{free_port()}"
    platform.processes.start("noop", "web", SERVICE="tests.bench.load.noop")
    wait_for(lambda: platform.processes.ready("noop"), timeout=90, interval=0.3, message=f"no-op ready ({platform.processes.logs})")


def settle(platform: Platform, timeout: float) -> None:
    """Let the pipeline drain what the previous run left, so each run starts from the same quiet state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not platform.drained():
        time.sleep(1)


def cell(result: dict[str, float]) -> str:
    trouble = [
        f"{int(result[key])} {name}"
        for key, name in (("non2xx", "non-2xx"), ("errors", "socket errors"), ("timeouts", "timeouts"))
        if result[key]
    ]
    return f"p50 {result['p50']:,.1f} ms, p90 {result['p90']:,.1f} ms, p99 {result['p99']:,.1f} ms" + (
        f"; {', '.join(trouble)}" if trouble else ""
    )


def rows(platform: Platform) -> list[tuple[str, str, str, str]]:
    """``wrk -t2 -c<n>`` for ``BENCH_WRK_SECONDS`` (default 20) at each of ``BENCH_WRK_CONNECTIONS`` (default 16,64)."""
    if shutil.which("wrk") is None:
        return [("wrk comparison", "—", "not measured", "wrk is not installed: `make wrk` (apt-get install wrk)")]
    if not COMPLAINT_SCRIPT.exists() or not NOOP_SCRIPT.exists():
        return [("wrk comparison", "—", "not measured", f"missing {COMPLAINT_SCRIPT.name} or {NOOP_SCRIPT.name} in {LOAD}")]
    seconds = int(os.environ.get("BENCH_WRK_SECONDS", "20"))
    timeout = int(os.environ.get("BENCH_WRK_TIMEOUT", "10"))
    settle_for = float(os.environ.get("BENCH_DRAIN", "300"))
    concurrencies = [int(c) for c in os.environ.get("BENCH_WRK_CONNECTIONS", "16,64").split(",") if c.strip()]
    start_noop(platform)
    estate = platform.estates[0]
    env = {**os.environ, "BEARER": platform.token(), "ESTATE_ID": estate, "FLOORS": str(FLOORS), "BUILDINGS": str(BUILDINGS)}
    noop_url, intake_url = platform.url("noop", ""), platform.url("intake", "")
    run_wrk(command(noop_url, NOOP_SCRIPT, connections=4, seconds=2, timeout=timeout), env)  # warm imports and pools
    run_wrk(command(intake_url, COMPLAINT_SCRIPT, connections=4, seconds=2, timeout=timeout), env)
    found: list[tuple[str, str, str, str]] = []
    intake_ratio: dict[int, float] = {}
    for connections in concurrencies:
        settle(platform, settle_for)
        baseline = run_wrk(command(noop_url, NOOP_SCRIPT, connections=connections, seconds=seconds, timeout=timeout), env)
        settle(platform, settle_for)
        before = platform.database("intake").complaints.count_documents({})
        measured = run_wrk(command(intake_url, COMPLAINT_SCRIPT, connections=connections, seconds=seconds, timeout=timeout), env)
        stored = platform.database("intake").complaints.count_documents({}) - before
        intake_ratio[connections] = measured["rate"] / baseline["rate"]
        line = f"wrk -t2 -c{connections} -d{seconds}s --timeout {timeout}s"
        versus = f"{100 * intake_ratio[connections]:.1f}% of the no-op (target ≥ 25%"
        if connections != concurrencies[0]:
            versus += f", and ≥ -c{concurrencies[0]}'s {100 * intake_ratio[concurrencies[0]]:.1f}%"
        found.append(
            (f"{line}: no-op POST /api/v1/noop (same gunicorn settings)", "baseline", f"{baseline['rate']:,.0f} req/s", cell(baseline))
        )
        found.append(
            (
                f"{line}: POST /api/v1/complaints, one estate",
                versus + ")",
                f"{measured['rate']:,.1f} req/s",
                cell(measured) + f"; {stored:,} stored",
            )
        )
        print(*(" | ".join(row) for row in found[-2:]), sep="\n", file=sys.stderr, flush=True)
    settle(platform, settle_for)
    return found
