"""Query plans of a store's real queries: record what the code sends to MongoDB, then ``explain`` each command.

A hot-path test seeds a collection, runs the store's functions under ``recording(client, database)``,
and checks every recorded command with ``check_plan``: no collection scan, and no more index keys or
documents examined than the answer needs (``slack`` beyond what was returned), so the cost of a query
does not grow with the collection.

    with recording(client, "dispatch") as recorded:
        store.repeat_candidates(...)
    for plan in explain_all(client, recorded):
        check_plan(plan, slack=5)

Commands are recorded by PyMongo's command monitoring (``event_listeners`` of the ``MongoClient`` the store
uses), so the plan is the plan of the query the code actually sends. Writes (``update``, ``delete``,
``findAndModify``) are explained too; ``explain`` never applies them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from pymongo import MongoClient, monitoring

T = TypeVar("T")
EXPLAINED = frozenset({"find", "aggregate", "count", "distinct", "update", "delete", "findAndModify"})
# Fields a driver adds to a command that ``explain`` refuses or that bind it to a session.
_SESSION_FIELDS = frozenset(
    {
        "lsid",
        "txnNumber",
        "autocommit",
        "startTransaction",
        "$clusterTime",
        "$db",
        "readConcern",
        "writeConcern",
        "$readPreference",
        "maxTimeMS",
        "cursor",
    }
)


@dataclass(frozen=True)
class Recorded:
    database: str
    command: dict[str, Any]

    @property
    def name(self) -> str:
        return next(iter(self.command))


class _Recorder(monitoring.CommandListener):
    def __init__(self) -> None:
        self.database: str | None = None
        self.commands: list[Recorded] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.database is not None and event.database_name == self.database and event.command_name in EXPLAINED:
            command = {key: value for key, value in event.command.items() if key not in _SESSION_FIELDS}
            if event.command_name == "aggregate":
                command["cursor"] = {}
            self.commands.append(Recorded(event.database_name, command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def recording_client(url: str, **options: Any) -> tuple[MongoClient, _Recorder]:
    """A client whose commands can be recorded; pass it to the store under test."""
    recorder = _Recorder()
    return MongoClient(url, event_listeners=[recorder], tz_aware=True, **options), recorder


@contextmanager
def recording(recorder: _Recorder, database: str) -> Iterator[list[Recorded]]:
    """Record the explainable commands sent to ``database`` inside the block."""
    recorder.database, recorder.commands = database, []
    try:
        yield recorder.commands
    finally:
        recorder.database = None


@dataclass(frozen=True)
class Plan:
    command: dict[str, Any]
    stages: tuple[str, ...]
    keys_examined: int
    docs_examined: int
    returned: int
    indexes: tuple[str, ...]

    @property
    def collection_scan(self) -> bool:
        return "COLLSCAN" in self.stages

    def describe(self) -> str:
        return (
            f"{self.command}: stages {self.stages}, indexes {self.indexes}, keys examined {self.keys_examined},"
            f" documents examined {self.docs_examined}, returned {self.returned}"
        )


def _walk(node: Any, stages: list[str], indexes: list[str]) -> None:
    if isinstance(node, dict):
        if "stage" in node:
            stages.append(node["stage"])
            if "indexName" in node:
                indexes.append(node["indexName"])
        for value in node.values():
            _walk(value, stages, indexes)
    elif isinstance(node, list):
        for value in node:
            _walk(value, stages, indexes)


def _execution_stats(explained: dict[str, Any]) -> dict[str, Any]:
    if "executionStats" in explained:
        return explained["executionStats"]
    for stage in explained.get("stages", []):  # an aggregation whose first stage is a $cursor
        cursor = stage.get("$cursor")
        if cursor and "executionStats" in cursor:
            return cursor["executionStats"]
    return {}


def explain(client: MongoClient, recorded: Recorded) -> Plan:
    explained = client[recorded.database].command({"explain": recorded.command, "verbosity": "executionStats"})
    stages: list[str] = []
    indexes: list[str] = []
    _walk(explained.get("queryPlanner", {}).get("winningPlan"), stages, indexes)
    for stage in explained.get("stages", []):
        _walk(stage.get("$cursor", {}).get("queryPlanner", {}).get("winningPlan"), stages, indexes)
    stats = _execution_stats(explained)
    return Plan(
        command=recorded.command,
        stages=tuple(stages),
        keys_examined=int(stats.get("totalKeysExamined", 0)),
        docs_examined=int(stats.get("totalDocsExamined", 0)),
        returned=int(stats.get("nReturned", 0)),
        indexes=tuple(dict.fromkeys(indexes)),
    )


def explain_all(client: MongoClient, recorded: list[Recorded]) -> list[Plan]:
    return [explain(client, command) for command in recorded]


def planned(client: MongoClient, recorder: _Recorder, database: str, call: Callable[[], T]) -> tuple[T, list[Plan]]:
    """Run ``call`` once, recording what it sent to ``database``; return its answer and the plan of every command."""
    with recording(recorder, database) as recorded:
        answer = call()
    assert recorded, "the store sent no explainable command"
    return answer, explain_all(client, recorded)


def check_plan(plan: Plan, *, slack: int = 10) -> None:
    """Fail on a collection scan or on more keys or documents examined than returned plus ``slack``."""
    assert not plan.collection_scan, "collection scan: " + plan.describe()
    bound = plan.returned + slack
    assert plan.keys_examined <= bound and plan.docs_examined <= bound, "examines more than it returns: " + plan.describe()


def served(plans: list[Plan], *, needs: int = 0, slack: int = 10) -> None:
    """Check each plan: an index, and no more examined than returned plus what the answer needs (``needs``) plus ``slack``."""
    for plan in plans:
        check_plan(plan, slack=slack + needs)
