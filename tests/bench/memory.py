"""Resident set size of every process of the platform under load, per service and role.

A sampler thread reads ``/proc/<pid>/status`` once a second for each process ``tests.processes`` started
and their children (a gunicorn master and the workers it forked). Per pid it keeps the first sample
(the idle process, after start-up and provisioning), the largest ``VmRSS`` seen, and the last
``VmHWM`` (the kernel's own peak, which catches a spike between two samples). Rows are per service
and role: gunicorn master, gunicorn workers (the largest of them), consumer worker; the bound is
200 MB per process (issue 16). Linux only.

``cpu_by_service`` reads the CPU time (user + system, ``/proc/<pid>/stat``) the same processes have
used, per service: the open-loop runs turn two readings into CPU milliseconds per complaint, which
says how many complaints a second the machine's cores can carry at all.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.processes import Processes

BOUND_MB = 200
PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Usage:
    """What one process used, in KiB."""

    kind: str
    first: int = 0
    peak: int = 0
    hwm: int = 0


def status_kib(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of a process in KiB; empty when it is gone."""
    try:
        text = (PROC / str(pid) / "status").read_text()
    except OSError:
        return {}
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used; 0 when it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()  # after "pid (comm)": state is fields[0], utime fields[11], stime fields[12]
    return (int(fields[11]) + int(fields[12])) / TICKS


def cpu_by_service(processes: Processes, extra: dict[str, int] | None = None) -> dict[str, float]:
    """CPU seconds used so far by each service's processes (gunicorn master, its workers, consumer), plus ``extra`` pids by name."""
    used: dict[str, float] = {}
    for (service, _role), process in processes.running.items():
        if process.poll() is None:
            used[service] = used.get(service, 0.0) + sum(cpu_seconds(pid) for pid in [process.pid, *children(process.pid)])
    for name, pid in (extra or {}).items():
        used[name] = cpu_seconds(pid)
    return used


def children(pid: int) -> list[int]:
    """Direct children of a process, from every one of its threads' ``children`` lists."""
    found: list[int] = []
    try:
        tasks = list((PROC / str(pid) / "task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


@dataclass
class MemorySampler:
    """Samples the platform's processes every ``interval`` seconds until stopped."""

    processes: Processes
    interval: float = 1.0
    usage: dict[int, Usage] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def targets(self) -> dict[int, str]:
        """Every pid to sample, with its ``service role`` kind."""
        kinds: dict[int, str] = {}
        for (service, role), process in self.processes.running.items():
            if process.poll() is not None:
                continue
            if role == "web":
                kinds[process.pid] = f"{service} gunicorn master"
                for child in children(process.pid):
                    kinds[child] = f"{service} gunicorn worker"
            else:
                kinds[process.pid] = f"{service} {role}"
        return kinds

    def sample(self) -> None:
        for pid, kind in self.targets().items():
            values = status_kib(pid)
            if not values:
                continue
            usage = self.usage.setdefault(pid, Usage(kind=kind, first=values["VmRSS"]))
            usage.peak = max(usage.peak, values["VmRSS"])
            usage.hwm = max(usage.hwm, values.get("VmHWM", 0))

    def run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def start(self) -> None:
        self.sample()
        self._thread = threading.Thread(target=self.run, name="bench-memory", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.sample()

    def rows(self) -> list[tuple[str, str, str, str]]:
        """One row per service and role: the largest process of that kind, against the bound."""
        by_kind: dict[str, list[Usage]] = {}
        for usage in self.usage.values():
            by_kind.setdefault(usage.kind, []).append(usage)
        rows = []
        for kind in sorted(by_kind):
            group = by_kind[kind]
            peak = max(usage.peak for usage in group) / 1024
            hwm = max(usage.hwm for usage in group) / 1024
            idle = max(usage.first for usage in group) / 1024
            verdict = "within" if hwm * 2**20 < BOUND_MB * 10**6 else "OVER"  # 200 MB = 190.7 MiB
            rows.append(
                (
                    f"RSS under load: {kind}" + (f" (largest of {len(group)})" if len(group) > 1 else ""),
                    f"bound {BOUND_MB} MB ({verdict})",
                    f"peak VmRSS {peak:,.0f} MiB",
                    f"VmHWM {hwm:,.0f} MiB, idle {idle:,.0f} MiB",
                )
            )
        return rows
