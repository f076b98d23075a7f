"""gunicorn with the shared configuration: PORT and WEB_CONCURRENCY, a metrics folder emptied at start,
metrics summed over the workers and kept when a worker dies, a graceful stop, and each service's app."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from infra.local.mongod import free_port
from propcare_shared.testing import wait_for
from tests.infra.api_routes import SERVICES

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = [sys.executable, "-m", "gunicorn"]


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


@pytest.fixture
def start_gunicorn(tmp_path: Path, mongodb_url: str, rabbitmq_url: str) -> Iterator[Callable[..., tuple[subprocess.Popen[bytes], str]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, metrics_dir: Path, workers: int = 2, service: str = "intake") -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        env = {
            **os.environ,
            "SERVICE": service,
            "PORT": str(port),
            "WEB_CONCURRENCY": str(workers),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "MONGODB_URL": mongodb_url,
            "RABBITMQ_URL": rabbitmq_url,
            "JWT_SECRET": "test-secret-for-propcare-tests-0123456789",
            "GRACEFUL_TIMEOUT": "5",
            "PYTHONPATH": str(ROOT),
        }
        log = (tmp_path / f"gunicorn-{port}.log").open("wb")
        process = subprocess.Popen([*GUNICORN, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: process.poll() is not None or _answers(f"{base}/healthz"), timeout=60, message="gunicorn up")
        assert process.poll() is None, (tmp_path / f"gunicorn-{port}.log").read_text()
        return process, base

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _requests_total(base: str) -> float:
    text = requests.get(f"{base}/metrics", timeout=5).text
    return sum(float(value) for value in re.findall(r'^http_requests_total\{[^}]*route="/api/v1/probe"[^}]*\} (\S+)$', text, re.MULTILINE))


def _worker_pids(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def test_metrics_are_summed_over_workers_and_survive_a_dead_worker(
    start_gunicorn: Callable[..., tuple[subprocess.Popen[bytes], str]], tmp_path: Path
) -> None:
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left over from a previous run")
    process, base = start_gunicorn(
        "-c", "python:propcare_shared.gunicorn_conf", "tests.infra.gunicorn_probe:create_app()", metrics_dir=metrics_dir
    )
    assert not (metrics_dir / "counter_999999.db").exists(), "on_starting empties the metrics folder"
    wait_for(lambda: len(_worker_pids(process.pid)) == 2, timeout=30, message="two workers (WEB_CONCURRENCY)")

    answered_by: set[int] = set()
    sent = 0
    while len(answered_by) < 2 and sent < 500:
        answered_by.add(requests.get(f"{base}/api/v1/probe", headers={"Connection": "close"}, timeout=5).json()["pid"])
        sent += 1
    assert len(answered_by) == 2, "both workers answered"
    assert _requests_total(base) == sent, "/metrics adds up every worker's counts"

    victim = answered_by.pop()
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: victim not in _worker_pids(process.pid) and len(_worker_pids(process.pid)) == 2, timeout=30, message="a replacement worker"
    )
    assert _requests_total(base) == sent, "a dead worker's counts stay in the sum"

    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_serves_under_the_one_gunicorn_conf_chosen_by_service(
    start_gunicorn: Callable[..., tuple[subprocess.Popen[bytes], str]], tmp_path: Path, service: str
) -> None:
    metrics_dir = tmp_path / "prometheus"
    process, base = start_gunicorn("-c", "python:propcare_shared.gunicorn_conf", metrics_dir=metrics_dir, workers=1, service=service)
    wait_for(lambda: _answers(f"{base}/readyz"), timeout=30, message=f"{service} ready")
    spec = requests.get(f"{base}/openapi.json", timeout=5)
    assert spec.status_code == 200 and spec.json()["paths"]
    assert "http_requests_total" in requests.get(f"{base}/metrics", timeout=5).text
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0
