"""Intake's write path under closed-loop load: ``POST /api/v1/complaints`` beside a no-op, interleaved, with wrk.

    .venv/bin/python -m tests.bench.load.intake_write [--concurrency 16 64] [--duration 15] [--rounds 2]
        [--estates 1] [--profile DIR] [--web-concurrency N --web-threads N]

Starts a private mongod, intake's web (gunicorn, ``propcare_shared.gunicorn_conf``) and worker (its relay
publishes to the local RabbitMQ under a throwaway exchange), and the no-op app
(``tests.bench.load.noop``) under the same gunicorn settings; creates the estate(s) and their households
through the API; then, per round and concurrency, runs ``wrk`` against the no-op and then intake, so
both see the same background load (other work on the machine). Prints one Markdown row per run and the
ratio of intake to the no-op; mongod's committed and aborted transactions are counted per run (an
aborted attempt is a write conflict the driver retried). With ``--profile DIR``, one more intake run
per concurrency is sampled by ``py-spy record`` (every web worker, collapsed stacks and an SVG in DIR)
and summarised by the frames where the time goes.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from pymongo import MongoClient

from infra.local.mongod import MongodProcess, free_port
from propcare_shared.http.auth import issue_token
from propcare_shared.settings import Settings
from propcare_shared.testing import delete_topology, unique_name, wait_for
from tests.processes import Processes

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
SECRET = "bench-secret-for-propcare-load-runs-0123456789"
# Frames whose share of the web workers' samples tells where a complaint's time goes.
FRAMES = {
    "inside the unit of work (UnitOfWork.run)": r"run \(.*propcare_shared/events/outbox\.py",
    "back-off sleep before a retried transaction": r"with_transaction \([^;]*client_session\.py:41[5-9]\)$",
    "complaints.receive": r"receive \(.*intake/complaints\.py",
    "ticket number allocation": r"next_ticket|allocate",
    "waiting on mongod (socket reads)": r"receive_message|receive_data|recv_into",
    "commit": r"commit_transaction",
    "reading the estate (route)": r"_estate_of_complaint",
}
# Where the innermost Python frame of a request sample is: its own time, by package.
PACKAGES = ("pymongo", "bson", "marshmallow", "webargs", "flask", "werkzeug", "jwt", "intake", "propcare_shared", "prometheus_client")


def households_csv(buildings: int, floors: int, units: int) -> bytes:
    """Households on ``buildings`` x ``units`` x ``floors`` (room ``<floor>01``), one phone each."""
    lines = ["building,unit,room,household_type,age_band,resident_name,resident_phone"]
    for building in range(1, buildings + 1):
        for unit in range(1, units + 1):
            for floor in range(1, floors + 1):
                lines.append(f"{building},{unit},{floor}01,owner,36-50,Resident,1380{building:02d}{unit:01d}{floor:04d}")
    return ("\n".join(lines) + "\n").encode()


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s, p50 and p99 (ms), non-2xx responses and socket errors of a ``wrk --latency`` run."""

    def millis(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = millis(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = millis(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rate": rate,
        "p50": p50,
        "p99": p99,
        "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "timeouts": float(errors.group(4)) if errors else 0.0,
    }


def wrk(url: str, script: Path, *, connections: int, duration: int, env: dict[str, str]) -> tuple[dict[str, float], str]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    return parse_wrk(output), output


def transactions(client: MongoClient) -> tuple[int, int]:
    status = client.admin.command("serverStatus")["transactions"]
    return int(status["totalCommitted"]), int(status["totalAborted"])


def web_worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def profile(pids: list[int], *, seconds: int, out: Path, label: str, gil: bool = False) -> list[tuple[Path, subprocess.Popen[bytes]]]:
    """Start ``py-spy record`` on each web worker for ``seconds``; return the collapsed-stack files and their recorders."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    started = []
    for pid in pids:
        raw = out / f"{label}-{pid}.txt"
        # --idle: threads waiting on mongod or for the GIL count too (wall time); --gil: only the thread running Python (CPU)
        command = [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--gil" if gil else "--idle",
            "--nonblocking",
        ]
        with (out / f"{label}-{pid}.log").open("wb") as log:
            recorder = subprocess.Popen([*command, "--format", "raw", "-o", str(raw)], stdout=log, stderr=subprocess.STDOUT)
        started.append((raw, recorder))
    return started


def summarise(files: list[Path]) -> list[tuple[str, float]]:
    """Share of request-handling samples (stacks through Flask's ``full_dispatch_request``) holding each frame of ``FRAMES``."""
    total = 0
    hits: collections.Counter[str] = collections.Counter()
    for file in files:
        for line in file.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if "full_dispatch_request" not in stack:
                continue
            total += int(count)
            leaf = stack.rsplit(";", 1)[-1]
            owner = next((name for name in PACKAGES if f"/{name}/" in leaf or f"({name}/" in leaf), "other")
            hits[f"own time in {owner}"] += int(count)
            for label, pattern in FRAMES.items():
                if re.search(pattern, stack):
                    hits[label] += int(count)
    own = sorted((key for key in hits if key.startswith("own time")), key=lambda key: -hits[key])
    return [(label, 100.0 * hits[label] / total if total else 0.0) for label in [*FRAMES, *own]]


def config_key(name: str, config: str) -> str:
    return f"{name}@{config}"


@contextmanager
def platform(args: argparse.Namespace) -> Iterator[tuple[Processes, MongodProcess]]:
    """intake's worker once; per gunicorn configuration ``WxT``, intake's web and the no-op, as ``intake@WxT`` and ``noop@WxT``."""
    run_id = unique_name("")
    with MongodProcess() as mongod:
        env = {
            **os.environ,
            "MONGODB_URL": mongod.url,
            "RABBITMQ_URL": os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"),
            "EVENT_EXCHANGE": f"bench.{run_id}.events",
            "QUEUE_PREFIX": f"bench.{run_id}.",
            "JWT_SECRET": SECRET,
            "LOG_LEVEL": "WARNING",
            # a PYTHONPATH given wins (a "before" run serves an older checkout's packages)
            "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)])),
        }
        processes = Processes(env=env, logs=Path(tempfile.mkdtemp(prefix="propcare-load-")))
        try:
            processes.urls = {"intake": f"http://127.0.0.1:{free_port()}"}  # the worker's key (its PORT, unused by a worker)
            processes.start("intake", "worker")
            for config in args.configs:
                size, _, switch_ms = config.partition("s")  # "2x4" or "2x4s1": 2 workers, 4 threads, 1 ms GIL switch interval
                workers, threads = size.split("x")
                sizes = {"WEB_CONCURRENCY": workers, "WEB_THREADS": threads, **({"WEB_SWITCH_INTERVAL_MS": switch_ms} if switch_ms else {})}
                for name, service in (("intake", "intake"), ("noop", "tests.bench.load.noop")):
                    key = config_key(name, config)
                    processes.urls[key] = f"http://127.0.0.1:{free_port()}"
                    processes.start(key, "web", SERVICE=service, **sizes)
            for key in [key for key in processes.urls if "@" in key]:
                _wait_ready(processes, key)
            yield processes, mongod
        finally:
            processes.stop_all()
            delete_topology(Settings.from_env("intake", env), [])


def _wait_ready(processes: Processes, key: str) -> None:
    wait_for(lambda: processes.ready(key), timeout=120, interval=0.3, message=f"{key} ready ({processes.logs})")


def seed(processes: Processes, token: str, estates: list[str], *, intake: str) -> None:
    admin = {"Authorization": f"Bearer {token}"}
    for index, estate_id in enumerate(estates):
        body = {"name": f"Bench {index}", "code": estate_id, "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"}
        response = requests.put(processes.url(intake, f"/api/v1/estates/{estate_id}"), json=body, headers=admin, timeout=30)
        assert response.status_code in (200, 201), response.text
        imported = requests.post(
            processes.url(intake, f"/api/v1/estates/{estate_id}/households:import"),
            data=households_csv(10, 40, 5),
            headers={**admin, "Content-Type": "text/csv"},
            timeout=60,
        )
        assert imported.status_code == 200, imported.text
        probe: dict[str, Any] = {
            "estate_id": estate_id,
            "building": "1",
            "unit": "1",
            "room": "101",
            "reporter": {"name": "Load Test", "phone": "13900000001", "role": "tenant"},
            "channel": "phone",
            "first_responder_id": "bench-agent",
            "description": "1号楼101室厨房水管漏水",
            "demand": "尽快上门维修",
        }
        posted = requests.post(processes.url(intake, "/api/v1/complaints"), json=probe, headers=admin, timeout=30)
        assert posted.status_code == 201, posted.text  # the body post_complaint.lua sends, with other numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--estates", type=int, default=1, help="complaints spread over this many estates (1: one hot estate)")
    parser.add_argument("--profile", type=Path, help="also sample intake's web workers with py-spy into this folder")
    parser.add_argument(
        "--configs",
        nargs="+",
        default=[f"{os.environ.get('WEB_CONCURRENCY', '2')}x{os.environ.get('WEB_THREADS', '4')}"],
        help="gunicorn workers x threads[sGIL switch interval ms], each beside its own no-op: 2x4 2x8 4x4 2x4s1",
    )
    parser.add_argument("--skip-noop", action="store_true")
    parser.add_argument("--gil", action="store_true", help="profile only samples holding the GIL (where the CPU goes), not wall time")
    args = parser.parse_args()
    token = issue_token(SECRET, sub="bench-agent", role="group_admin", group_id="G1", ttl_seconds=24 * 3600)
    estates = [f"LD{index:02d}" for index in range(args.estates)]
    rows = [
        "| gunicorn WxT | app | -c | req/s | p50 ms | p99 ms | non-2xx | timeouts | tx committed | tx aborted | intake / no-op |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    client: MongoClient[dict[str, Any]]
    with platform(args) as (processes, mongod), MongoClient(mongod.url) as client:
        seed(processes, token, estates, intake=config_key("intake", args.configs[0]))
        wrk_env = {**os.environ, "BEARER": token}
        for config in args.configs:  # warm every app (imports, connection pools) before the first measured run
            wrk(processes.url(config_key("noop", config), ""), HERE / "noop.lua", connections=8, duration=2, env=wrk_env)
            _intake_run(processes.url(config_key("intake", config), ""), estates, connections=8, duration=2, env=wrk_env)
        for _round in range(args.rounds):
            for connections in args.concurrency:
                for config in args.configs:
                    rows.extend(
                        _measure_pair(processes, client, args, config=config, connections=connections, estates=estates, env=wrk_env)
                    )
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            config = args.configs[0]
            for connections in args.concurrency:
                pids = web_worker_pids(processes.running[(config_key("intake", config), "web")].pid)
                recorders = profile(pids, seconds=args.duration, out=args.profile, label=f"c{connections}", gil=args.gil)
                time.sleep(1)
                _intake_run(
                    processes.url(config_key("intake", config), ""), estates, connections=connections, duration=args.duration, env=wrk_env
                )
                for _raw, recorder in recorders:
                    recorder.wait(60)
                files = [raw for raw, _recorder in recorders if raw.exists()]
                print(f"\npy-spy ({'CPU: samples holding the GIL' if args.gil else 'wall time'}), intake {config} at -c{connections}:")
                for label, share in summarise(files):
                    print(f"- {label}: {share:.1f}%")
        print("\n" + "\n".join(rows))
        print(f"\nlogs: {processes.logs}")


def _measure_pair(
    processes: Processes,
    client: MongoClient,
    args: argparse.Namespace,
    *,
    config: str,
    connections: int,
    estates: list[str],
    env: dict[str, str],
) -> list[str]:
    """The no-op then intake under one gunicorn configuration, back to back; their rows."""
    rows = []
    baseline = None
    if not args.skip_noop:
        baseline, _ = wrk(
            processes.url(config_key("noop", config), ""), HERE / "noop.lua", connections=connections, duration=args.duration, env=env
        )
        rows.append(
            f"| {config} | no-op | {connections} | {baseline['rate']:.0f} | {baseline['p50']:.1f} | {baseline['p99']:.1f}"
            f" | {baseline['non2xx']:.0f} | {baseline['timeouts']:.0f} | | | |"
        )
        print(rows[-1], flush=True)
    before = transactions(client)
    measured = _intake_run(
        processes.url(config_key("intake", config), ""), estates, connections=connections, duration=args.duration, env=env
    )
    after = transactions(client)
    ratio = f"{100 * measured['rate'] / baseline['rate']:.1f}%" if baseline else ""
    rows.append(
        f"| {config} | intake POST /complaints | {connections} | {measured['rate']:.1f} | {measured['p50']:.1f} | {measured['p99']:.1f}"
        f" | {measured['non2xx']:.0f} | {measured['timeouts']:.0f} | {after[0] - before[0]} | {after[1] - before[1]} | {ratio} |"
    )
    print(rows[-1], flush=True)
    return rows


def _intake_run(url: str, estates: list[str], *, connections: int, duration: int, env: dict[str, str]) -> dict[str, float]:
    """One wrk run against intake; with several estates, one wrk per estate sharing the connections, rates added."""
    if len(estates) == 1:
        return wrk(url, HERE / "post_complaint.lua", connections=connections, duration=duration, env={**env, "ESTATE_ID": estates[0]})[0]
    share = max(2, connections // len(estates))
    command = ["wrk", "-t1", f"-c{share}", f"-d{duration}s", "--timeout", "10s", "--latency", "-s", str(HERE / "post_complaint.lua")]
    running = [subprocess.Popen([*command, url], stdout=subprocess.PIPE, text=True, env={**env, "ESTATE_ID": estate}) for estate in estates]
    results = [parse_wrk(process.communicate()[0]) for process in running]
    return {
        "rate": sum(result["rate"] for result in results),
        "p50": max(result["p50"] for result in results),
        "p99": max(result["p99"] for result in results),
        "non2xx": sum(result["non2xx"] for result in results),
        "timeouts": sum(result["timeouts"] for result in results),
    }


if __name__ == "__main__":
    main()
