"""A private RabbitMQ node for the fault suite: one the tests may stop and start, unlike the machine's shared broker.

The machine's ``rabbitmq-server`` serves other engineers, so stopping it to test an outage is not an
option. ``rabbitmq-server`` can run a second node beside it when every name and port it owns is its
own: the node name (``RABBITMQ_NODENAME``), the AMQP and distribution ports, the data and log
folders (``RABBITMQ_MNESIA_BASE``, ``RABBITMQ_LOG_BASE``) and an empty enabled-plugins file (no
management plugin, so no port 15672 to clash with). ``HOME`` points at the node's own folder too, so
the node and ``rabbitmqctl`` share an Erlang cookie created there and never read the shared node's.

``stop()`` is ``rabbitmqctl -n <node> stop`` (a clean shutdown: connections are closed, the
process ends) and ``start()`` boots the node again on the same data folder, so durable queues, their
bindings and their persistent messages survive the outage as they would in production.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

RABBITMQ_BIN = Path(os.environ.get("RABBITMQ_BIN", "/usr/lib/rabbitmq/bin"))
"""The real scripts, not ``/usr/sbin``'s wrappers (which switch to the ``rabbitmq`` user and its cookie)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    """Whether something accepts TCP connections on ``port`` (the AMQP listener is the last thing a boot opens)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def available() -> bool:
    """Whether this machine can run a private node (the RabbitMQ scripts and Erlang are installed)."""
    return (RABBITMQ_BIN / "rabbitmq-server").exists() and shutil.which("erl") is not None


class PrivateBroker:
    """A RabbitMQ node of the test's own: ``url`` to connect, ``stop()`` and ``start()`` to cut and restore it."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="propcare-rabbit-"))
        self.node = f"propcare-faults-{uuid.uuid4().hex[:8]}@localhost"
        self.port = _free_port()
        self.dist_port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        (self.folder / "enabled_plugins").write_text("[].\n")

    @property
    def url(self) -> str:
        """The AMQP URL (the default ``guest`` user may connect from the loopback interface)."""
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    @property
    def env(self) -> dict[str, str]:
        """The environment of the node and of ``rabbitmqctl`` talking to it."""
        return {
            **os.environ,
            "HOME": str(self.folder),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "none"),  # no config file: the defaults and the variables above
            "RABBITMQ_PID_FILE": str(self.folder / "node.pid"),
        }

    def start(self, timeout: float = 60.0) -> PrivateBroker:
        """Boot the node (again, on the same data folder after ``stop``) and wait until it accepts AMQP connections."""
        log = (self.folder / "server.log").open("ab")
        self.process = subprocess.Popen(
            [str(RABBITMQ_BIN / "rabbitmq-server")], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not _answers(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited with {self.process.returncode}; see {self.folder / 'server.log'}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the private broker did not answer within {timeout}s; see {self.folder}")
            time.sleep(0.2)
        return self

    def ctl(self, *args: str, timeout: float = 60.0) -> str:
        """Run ``rabbitmqctl -n <node> <args>`` and return its output."""
        done = subprocess.run(
            [str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node, *args],
            env=self.env,
            capture_output=True,
            timeout=timeout,
            check=True,
        )
        return done.stdout.decode()

    def stop(self) -> None:
        """Stop the node cleanly (``rabbitmqctl stop``) and wait for its process to end."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.ctl("stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, 9)
        self.process.wait(30)

    def remove(self) -> None:
        """Stop the node if it runs and delete its folder."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PrivateBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.remove()
