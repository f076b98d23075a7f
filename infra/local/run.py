"""One-process mode: the five services, their consumers, MongoDB and one gateway, for a laptop or a demo.

``python -m infra.local.run`` (``make run``) starts a ``mongod`` from the Python wheel with its data
under ``.data/mongo`` (unless ``MONGODB_URL`` is set), uses kombu's in-process memory broker (unless
``RABBITMQ_URL`` is set), builds each service's app and worker with its own settings and database,
serves the gateway on ``PORT`` and loads a demo city through the services' HTTP APIs.
Ctrl-C or SIGTERM stops the gateway, the workers (in-flight messages finish) and mongod.

The memory broker passes messages between threads of this process only: every service must use
the same ``memory://`` URL here, which they do because they all read ``RABBITMQ_URL``. It has no TTL
or dead-lettering, so a failed message is retried by a timer in the consumer (docs/RELIABILITY.md).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from infra.local.gateway import Gateway
from infra.local.mongod import MongodProcess, free_port
from propcare_shared.http.app import ServiceContext
from propcare_shared.logs import configure_logging
from propcare_shared.metrics import render_metrics
from propcare_shared.mongo import connect
from propcare_shared.service import definition_of
from propcare_shared.settings import Settings
from propcare_shared.worker import Worker

log = logging.getLogger("propcare.local")

SERVICES: tuple[str, ...] = ("intake", "dispatch", "notification", "survey", "analytics")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = PROJECT_ROOT / ".data"
PREFERRED_MONGOD_PORT = 27018


@dataclass
class RunningService:
    """One service inside the process: its context, its Flask app and its worker."""

    name: str
    context: ServiceContext
    app: Any
    worker: Worker


@dataclass
class LocalStack:
    """Everything ``make run`` starts, in the order it starts and the reverse order it stops."""

    environ: Mapping[str, str]
    data_dir: Path = DEFAULT_DATA_DIR
    host: str = "127.0.0.1"
    port: int | None = None
    services: Sequence[str] = SERVICES
    demo: bool = True
    mongod: MongodProcess | None = None
    running: list[RunningService] = field(default_factory=list)
    server: BaseWSGIServer | None = None
    demo_state: str = "off"
    admin_token: str = ""
    _threads: list[threading.Thread] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        """Return the gateway's address."""
        host = "127.0.0.1" if self.host in {"", "0.0.0.0"} else self.host
        return f"http://{host}:{self.port}"

    def settings_for(self, name: str, mongodb_url: str | None) -> Settings:
        """Return a service's settings from the environment, pointed at this process's MongoDB."""
        settings = Settings.from_env(name, self.environ)
        changes: dict[str, Any] = {"port": self.port}
        if mongodb_url is not None and not self.environ.get(f"{name.upper()}_MONGODB_URL"):
            changes["mongodb_url"] = mongodb_url
        return settings.with_overrides(**changes)

    def service_environ(self) -> dict[str, str]:
        """Return the environment the services' own configs read: this one, with links to this gateway by default."""
        return {"PUBLIC_BASE_URL": self.base_url, **{key: value for key, value in self.environ.items() if value}}

    def start(self) -> None:
        """Start mongod, the services and their workers, then the gateway and the demo loader."""
        base = Settings.from_env("gateway", self.environ)
        self.port = self.port if self.port is not None else base.port
        if not _port_is_free(self.port, self.host):
            raise SystemExit(f"port {self.port} is in use: stop what listens there or set PORT to another port")
        mongodb_url = None
        if not self.environ.get("MONGODB_URL"):
            self.mongod = self._start_mongod()
            mongodb_url = self.mongod.url
        shared_url = mongodb_url or base.mongodb_url
        client = connect(shared_url, app_name="propcare-local")  # one pool for the five databases
        for name in self.services:
            settings = self.settings_for(name, mongodb_url)
            context = ServiceContext.open(settings, client=client if settings.mongodb_url == shared_url else None)
            definition_of(name).configure(context, self.service_environ())
            app = importlib.import_module(f"{name}.app").create_app(context)
            worker = importlib.import_module(f"{name}.worker").build_worker(context)
            self.running.append(RunningService(name=name, context=context, app=app, worker=worker))
        for service in self.running:
            service.worker.start()
        gateway = Gateway({s.name: s.app for s in self.running}, health=self.health, metrics=render_metrics)
        self.server = make_server(self.host, self.port, gateway, threaded=True)
        self._spawn("gateway", self.server.serve_forever)
        self.demo_state = "pending" if self.demo else "off"
        self._spawn("announcer", self._announce)

    def _start_mongod(self) -> MongodProcess:
        dbpath = self.data_dir / "mongo"
        lock = dbpath / "mongod.lock"
        if lock.exists() and lock.read_text().strip():
            pid = lock.read_text().strip()
            if Path(f"/proc/{pid}").exists():
                raise SystemExit(f"a mongod (pid {pid}) already uses {dbpath}: is another `make run` running? Stop it, or `kill {pid}`.")
        port = PREFERRED_MONGOD_PORT if _port_is_free(PREFERRED_MONGOD_PORT) else free_port()
        log.info("starting mongod", extra={"dbpath": str(dbpath), "port": port})
        return MongodProcess(dbpath=dbpath, port=port, keep_data=True).start()

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Tell whether every service and its consumer are ready, with each check's result."""
        services: dict[str, dict[str, bool]] = {}
        for service in self.running:
            checks = {name: bool(check()) for name, check in list(service.context.checks.items())}
            checks.setdefault("consumer", False)  # the worker adds its check when it starts
            services[service.name] = checks
        ready = len(services) == len(self.services) and all(all(checks.values()) for checks in services.values())
        return ready, {"services": services, "demo": self.demo_state}

    def _announce(self) -> None:
        """Wait until every service is ready, load the demo city, then print where everything is."""
        from infra.local import demo

        self.admin_token = demo.admin_token(self.running[0].context.settings.jwt_secret)
        while not self.health()[0]:
            if self._stopping.wait(0.2):
                return
        if self.demo:
            try:
                self.demo_state = "loading"
                demo.load(self.base_url, token=self.admin_token, stopping=self._stopping)
                self.demo_state = "loaded"
            except Exception as exc:
                self.demo_state = f"failed: {exc}"
                log.exception("loading the demo city failed")
        print(
            demo.banner(self.base_url, token=self.admin_token, services=[s.name for s in self.running], demo_state=self.demo_state),
            flush=True,
        )

    def stop(self) -> None:
        """Stop the gateway, then every worker (in parallel), then the database client and mongod (whatever failed before)."""
        try:
            self._stop_services()
        finally:
            if self.mongod is not None:
                self.mongod.stop()

    def _stop_services(self) -> None:
        self._stopping.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        stoppers = [
            threading.Thread(target=service.worker.stop, args=(service.context.settings.shutdown_grace,), name=f"stop-{service.name}")
            for service in self.running
        ]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        closed: set[int] = set()
        for service in self.running:
            if id(service.context.client) not in closed:
                closed.add(id(service.context.client))
                service.context.close()


def _port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will; TIME_WAIT is no conflict
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def run(
    *,
    environ: Mapping[str, str] | None = None,
    data_dir: Path | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    services: Sequence[str] = SERVICES,
    demo: bool = True,
    stop_event: threading.Event | None = None,
) -> int:
    """Run the one-process mode until ``stop_event`` is set or SIGINT/SIGTERM arrives; return an exit code."""
    env = os.environ if environ is None else environ
    stop = stop_event or threading.Event()
    stack = LocalStack(environ=env, data_dir=data_dir or DEFAULT_DATA_DIR, host=host, port=port, services=services, demo=demo)
    if threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            print(f"\nstopping on {signal.Signals(signum).name} (workers finish their messages, then mongod stops)", flush=True)
            stop.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        print(f"Propcare gateway on {stack.base_url} (GET /healthz)", flush=True)
        stop.wait()
    finally:
        stack.stop()
        print("stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(prog="python -m infra.local.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where mongod keeps its data (default .data/)")
    parser.add_argument("--host", default="127.0.0.1", help="address the gateway binds (default 127.0.0.1)")
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo city")
    args = parser.parse_args(argv)
    configure_logging("local", Settings.from_env("local").log_level)
    # kombu warns once per memory:// connection that it has no host name; in this mode that is the point.
    logging.getLogger("kombu.connection").addFilter(lambda record: "No hostname was supplied" not in record.getMessage())
    return run(data_dir=args.data_dir, host=args.host, demo=not args.no_demo)


if __name__ == "__main__":
    sys.exit(main())
