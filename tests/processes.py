"""The services as real processes for the fault suite and the benchmarks: gunicorn web and consumer worker.

``Processes`` starts ``<service>`` in a ``role`` (``web`` under gunicorn with the project's config, or
``worker``), each in its own session so a signal reaches its whole process group, with its own log file
and metrics folder under ``logs``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Processes:
    """The services' processes by (service, role), their URLs and the environment they share."""

    env: dict[str, str]
    logs: Path
    urls: dict[str, str] = field(default_factory=dict)
    running: dict[tuple[str, str], subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, service: str, role: str, **extra_env: str) -> None:
        port = self.urls[service].rsplit(":", 1)[1]
        command = (
            [str(Path(sys.executable).with_name("gunicorn")), "-c", "python:propcare_shared.gunicorn_conf", "--bind", f"127.0.0.1:{port}"]
            if role == "web"
            else [sys.executable, "-m", f"{service}.worker"]
        )
        metrics = self.logs / f"{service}-{role}-metrics"
        metrics.mkdir(exist_ok=True)
        env = {**self.env, "SERVICE": service, "PORT": port, "PROMETHEUS_MULTIPROC_DIR": str(metrics), **extra_env}
        with (self.logs / f"{service}-{role}.log").open("ab") as log:
            self.running[(service, role)] = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def signal(self, service: str, role: str, signum: int) -> None:
        os.killpg(self.running[(service, role)].pid, signum)

    def kill(self, service: str, role: str) -> None:
        self.signal(service, role, signal.SIGKILL)
        self.running[(service, role)].wait(10)

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def url(self, service: str, path: str) -> str:
        return f"{self.urls[service]}{path}"

    def ready(self, service: str) -> bool:
        for (name, role), process in self.running.items():
            assert process.poll() is None, f"{name} {role} exited; logs in {self.logs}"
        try:
            return requests.get(self.url(service, "/readyz"), timeout=1).status_code == 200
        except requests.RequestException:
            return False
