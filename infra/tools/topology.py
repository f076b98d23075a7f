"""The platform's consumer queues as a table every process can read: ``python -m infra.tools.topology write|check|declare``.

Each service image holds only its own package, yet every publisher must declare every service's
queues before it publishes (``propcare_shared.events.topology``). So the queues are read here from the
services' declared handlers (``definition_of(service).handlers``) and written as a table into the
shared kernel (``propcare_shared/events/queues.py``); a test fails when the table and the handlers
drift apart. ``declare`` declares the whole topology on the broker from the environment
(``RABBITMQ_URL``, ``EVENT_EXCHANGE``, ``QUEUE_PREFIX``): a deploy step, harmless to repeat.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from propcare_shared.service import definition_of
from propcare_shared.settings import Settings

SERVICES = ("intake", "dispatch", "notification", "survey", "analytics")
TABLE = Path(__file__).resolve().parents[2] / "shared" / "propcare_shared" / "events" / "queues.py"

HEADER = '''"""Every service's consumer queues and the event types each takes: ``{service: {purpose: event types}}``.

Generated from the services' declared handlers by ``python -m infra.tools.topology write``; do not
edit by hand (tests/shared/test_topology.py fails when it drifts from the handlers). Publishers
declare all of them before publishing (``propcare_shared.events.topology``).
"""

from __future__ import annotations
'''


def platform_queues(services: tuple[str, ...] = SERVICES) -> dict[str, dict[str, tuple[str, ...]]]:
    """Return the consumer queues the services declare, read from their definitions."""
    return {service: {handles.purpose: tuple(handles.event_types) for handles in definition_of(service).handlers} for service in services}


def render(queues: dict[str, dict[str, tuple[str, ...]]]) -> str:
    """Return the source of the generated table."""
    lines = [HEADER, "PLATFORM_QUEUES: dict[str, dict[str, tuple[str, ...]]] = {"]
    for service, purposes in queues.items():
        lines.append(f"    {json.dumps(service)}: {{")
        for purpose, event_types in purposes.items():
            if len(event_types) == 1:
                lines.append(f"        {json.dumps(purpose)}: ({json.dumps(event_types[0])},),")
                continue
            lines.append(f"        {json.dumps(purpose)}: (")
            lines.extend(f"            {json.dumps(event_type)}," for event_type in event_types)
            lines.append("        ),")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write or check the table, or declare the topology on the broker."""
    parser = argparse.ArgumentParser(prog="python -m infra.tools.topology", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["write", "check", "declare"])
    args = parser.parse_args(argv)
    if args.command == "declare":
        from propcare_shared.events.topology import declare_platform

        declare_platform(Settings.from_env("topology"))
        print("declared the exchanges and every consumer queue")
        return 0
    if args.command == "write":
        TABLE.write_text(render(platform_queues()), encoding="utf-8")
        return 0
    from propcare_shared.events.queues import PLATFORM_QUEUES

    if PLATFORM_QUEUES != platform_queues():
        print(f"{TABLE} is out of date: run python -m infra.tools.topology write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
