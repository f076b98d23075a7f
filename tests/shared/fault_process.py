"""A separate process for the fault tests: it is killed with SIGKILL at a chosen moment.

Modes:
- ``consume``: consumes ``directory.#`` and records each event in ``effects``; with ``hang_after``
  ("commit" or "start") it writes a ``reached`` marker at that point and then hangs, so the test can
  kill it before the ack.
- ``write``: commits one write with one event in the outbox and hangs without a relay.
- ``relay``: runs only the outbox relay.
"""

from __future__ import annotations

import json
import sys
import threading

from propcare_shared.events.bus import Subscription
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import OutboxRelay
from propcare_shared.http.app import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.worker import Worker


def main() -> None:
    mode, raw = sys.argv[1], sys.argv[2]
    config = json.loads(raw)
    settings = Settings(**{**config["settings"], "retry_delays": tuple(config["settings"]["retry_delays"])})
    context = ServiceContext.open(settings)
    context.ensure_indexes([])
    database = context.database
    hang = threading.Event()

    if mode == "consume":
        hang_after = config.get("hang_after")

        def on_event(event: Event) -> None:
            if hang_after == "start":
                database.reached.insert_one({"event_id": event.id, "at": "start"})
                hang.wait()

            def work(tx):  # type: ignore[no-untyped-def]
                database.effects.insert_one({"event_id": event.id, "pid": config["label"]}, session=tx.session)

            context.uow.run(work, handled_event=event, consumer="fault.consume")
            if hang_after == "commit":
                database.reached.insert_one({"event_id": event.id, "at": "commit"})
                hang.wait()

        worker = Worker(context=context, subscriptions=[Subscription("consume", ("directory.#",), on_event)])
        worker.run_forever()
    elif mode == "write":

        def work(tx):  # type: ignore[no-untyped-def]
            database.estates.insert_one({"_id": "E1"}, session=tx.session)
            tx.emit(
                "directory.estate.upserted",
                data={"estate_id": "E1", "name": "n", "code": "E1", "region_id": "R1", "group_id": "G1"},
                estate_id="E1",
            )

        context.uow.run(work)
        database.reached.insert_one({"at": "written"})
        hang.wait()
    elif mode == "relay":
        from propcare_shared.events.bus import EventBus

        OutboxRelay(database=database, publisher=EventBus(settings), poll_interval=0.2).run()


if __name__ == "__main__":
    main()
