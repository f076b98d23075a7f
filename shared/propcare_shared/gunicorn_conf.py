"""The gunicorn settings of every Propcare web service: ``gunicorn -c python:propcare_shared.gunicorn_conf``.

One config for the five services, chosen by ``SERVICE`` (the image sets it from its build argument):
it serves ``<SERVICE>.app:create_app()`` as ``propcare-<SERVICE>``. An app named on the command line
wins (tests serve a probe app this way).

- ``bind`` from ``PORT`` (default 8000), ``workers`` from ``WEB_CONCURRENCY`` (default 2), ``threads``
  from ``WEB_THREADS`` (default 8, the ``gthread`` worker), ``graceful_timeout`` from ``GRACEFUL_TIMEOUT``.
- The GIL's switch interval from ``WEB_SWITCH_INTERVAL_MS`` (default 1 ms; Python's own is 5 ms), set
  in each worker after the fork. A request thread waits for the GIL after every socket call to
  MongoDB; with several threads busy in Python, each such wait lasted up to the interval (a complaint
  makes about seven round trips). Chosen by measurement (docs/PERFORMANCE.md, "Intake's write path"):
  with 2 workers, 8 threads and 1 ms, ``POST /api/v1/complaints`` answered 37-43% more than with 4
  threads and 5 ms at 16 and 64 connections, the no-op endpoint no less. ``gthread`` stays: the work
  is blocking PyMongo calls, which a thread pool overlaps without monkey-patching (gevent).
- No ``preload_app``: each worker builds the app after the fork, so MongoDB and broker clients are
  never shared across a fork (gunicorn issue 1953, PyMongo's fork warning).
- Metrics: ``PROMETHEUS_MULTIPROC_DIR`` must be in the environment before Python starts (the image and
  the Kubernetes manifests set it); ``on_starting`` empties it so counters of a previous run are not
  added in, and ``child_exit`` marks a dead worker's live gauges as gone.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

from propcare_shared.settings import env_int, env_str

_env = os.environ
_service = env_str(_env, "SERVICE", "")

if _service:
    wsgi_app = f"{_service}.app:create_app()"
proc_name = f"propcare-{_service or 'web'}"

bind = f"0.0.0.0:{env_int(_env, 'PORT', 8000)}"
workers = env_int(_env, "WEB_CONCURRENCY", 2)
worker_class = "gthread"
threads = env_int(_env, "WEB_THREADS", 8)
switch_interval_ms = float(env_str(_env, "WEB_SWITCH_INTERVAL_MS", "1"))
graceful_timeout = env_int(_env, "GRACEFUL_TIMEOUT", 20)
timeout = env_int(_env, "WEB_TIMEOUT", 30)
keepalive = 5
preload_app = False
forwarded_allow_ips = env_str(_env, "FORWARDED_ALLOW_IPS", "*")  # only the gateway reaches the web pods
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None
accesslog = None  # requests are counted in http_requests_total; logs stay free of addresses
errorlog = "-"
loglevel = env_str(_env, "LOG_LEVEL", "info").lower()
# gunicorn >= 25 opens a control socket under $HOME by default: one path shared by every gunicorn of a
# user (five services on one host collide) and a write to a read-only root in Kubernetes. Not used here.
control_socket_disable = True


def on_starting(server: Any) -> None:
    """Empty the metrics folder before the first worker starts."""
    folder = _env.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        server.log.warning("PROMETHEUS_MULTIPROC_DIR is not set: /metrics shows only the worker that answers")
        return
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def post_fork(server: Any, worker: Any) -> None:
    """Log as JSON from each worker, like every other Propcare process; set the GIL's switch interval."""
    from propcare_shared.logs import configure_logging

    configure_logging(server.cfg.proc_name.removeprefix("propcare-"), env_str(_env, "LOG_LEVEL", "INFO"))
    sys.setswitchinterval(switch_interval_ms / 1000)


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the aggregate."""
    if _env.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
