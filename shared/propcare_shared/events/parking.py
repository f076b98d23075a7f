"""List and replay parked messages: ``propcare-parking list|replay <queue> [--limit N]``.

``list`` looks at parked messages and puts them back untouched; ``replay`` sends them to the
queue they came from with their attempt count reset, and removes them from the parking queue
only after the republish is confirmed. A message that could not be decoded (not JSON, or another
content type) was parked as the bytes that came: ``list`` shows the start of them, and ``replay``
sends the same bytes with the same content type (once fixed at the source, or to park them again).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kombu.serialization import loads

from propcare_shared.events.bus import ATTEMPTS_HEADER, ERROR_HEADER, EventBus, open_connection
from propcare_shared.settings import Settings


def parked_messages(settings: Settings, queue: str, *, limit: int) -> list[dict[str, Any]]:
    """Return up to ``limit`` parked messages of ``queue`` without removing them."""
    found = []
    with open_connection(settings) as connection:
        channel = connection.channel()
        parked = connection.SimpleQueue(f"{queue}.parked", channel=channel)
        messages = []
        try:
            for _ in range(limit):
                try:
                    message = parked.get(block=False)
                except parked.Empty:
                    break
                messages.append(message)
                headers = message.headers or {}
                found.append({**_readable(message), "attempts": headers.get(ATTEMPTS_HEADER), "error": headers.get(ERROR_HEADER)})
        finally:
            for message in messages:
                message.requeue()
            parked.close()
    return found


def _readable(message: Any) -> dict[str, Any]:
    """Return a parked message's event, or the start of its bytes when it cannot be decoded."""
    try:  # JSON only: a parked message is untrusted, never unpickled
        return {"event": loads(message.body, message.content_type, message.content_encoding, accept=["application/json"])}
    except Exception:  # noqa: BLE001 - an undecodable message is shown as what it is
        return {"undecodable": repr(message.body[:200]), "content_type": message.content_type}


def replay_parked(settings: Settings, queue: str, *, limit: int) -> int:
    """Send up to ``limit`` of the messages parked now back to ``queue``; return how many.

    Only those parked when the replay starts: one that fails again at once is parked behind them and waits.
    """
    bus = EventBus(settings)
    replayed = 0
    with open_connection(settings) as connection:
        parked = connection.SimpleQueue(f"{queue}.parked")
        waiting = parked.qsize()
        try:
            for _ in range(min(limit, waiting)):
                try:
                    message = parked.get(block=False)
                except parked.Empty:
                    break
                bus.publish_raw(
                    message.body,
                    exchange=bus.topology.requeue,
                    routing_key=queue,
                    headers={ATTEMPTS_HEADER: 0},
                    mandatory=True,
                    content_type=message.content_type or "application/octet-stream",
                    content_encoding=message.content_encoding or "binary",
                )
                message.ack()
                replayed += 1
        finally:
            parked.close()
            bus.close()
    return replayed


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(prog="propcare-parking", description=__doc__)
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("queue", help="the consumer queue, e.g. dispatch.complaints")
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args(argv)
    settings = Settings.from_env("parking")
    if args.command == "list":
        for entry in parked_messages(settings, args.queue, limit=args.limit):
            print(json.dumps(entry, ensure_ascii=False, default=str))
    else:
        print(f"replayed {replay_parked(settings, args.queue, limit=args.limit)} message(s) to {args.queue}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
