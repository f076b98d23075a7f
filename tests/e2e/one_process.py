"""The whole platform in this test process (``LocalStack``) on the session's MongoDB, each service on a database of its own."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from pymongo import MongoClient

from infra.local.mongod import free_port
from infra.local.run import SERVICES, LocalStack
from propcare_shared.testing import unique_name, wait_for


@contextmanager
def one_process_stack(mongodb_url: str, environ: Mapping[str, str], *, prefix: str, demo: bool = False) -> Iterator[LocalStack]:
    """Start the five services and their workers (and load the demo city if asked); yield once ready; stop and drop their databases."""
    databases = {f"{name.upper()}_MONGODB_DATABASE": unique_name(f"{prefix}_{name}_") for name in SERVICES}
    local = LocalStack(environ={"MONGODB_URL": mongodb_url, **environ, **databases}, port=free_port(), demo=demo)
    local.start()
    try:
        wait_for(lambda: local.health()[0], timeout=60, message="every service and consumer ready")
        if demo:
            wait_for(lambda: local.demo_state not in {"off", "pending", "loading"}, timeout=300, message="the demo city loaded")
            assert local.demo_state == "loaded", local.demo_state
        yield local
    finally:
        local.stop()
        with MongoClient(mongodb_url) as client:
            for service in local.running:
                client.drop_database(service.context.settings.mongodb_database)
