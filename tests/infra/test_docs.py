"""The generated and hand-written docs keep up with the code: event catalogue, settings, README, CI."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from infra.tools import event_catalogue, route_roles
from propcare_shared.events.catalogue import CATALOGUE
from propcare_shared.service import definition_of
from propcare_shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "dispatch", "notification", "survey", "analytics")


class _RecordingEnviron(dict[str, str]):
    """An empty environment that remembers which variables were asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        self.asked.append(key)
        return default


def test_security_doc_lists_every_route_with_who_may_call_it() -> None:
    current = (ROOT / "docs" / "SECURITY.md").read_text()
    assert current == route_roles.render(current), "run python -m infra.tools.route_roles"
    unguarded = [row for row in route_roles.rows() if "UNGUARDED" in row[3]]
    assert not unguarded, f"routes without `authenticated` that are not named public with a reason: {unguarded}"
    assert len(route_roles.rows()) >= 30


def test_events_doc_is_generated_from_the_catalogue() -> None:
    assert (ROOT / "docs" / "EVENTS.md").read_text() == event_catalogue.render(), "run python -m infra.tools.event_catalogue"
    for event_type in CATALOGUE:
        assert f"`{event_type}`" in event_catalogue.render()


def test_settings_doc_lists_every_variable_settings_reads() -> None:
    environ = _RecordingEnviron()
    Settings.from_env("intake", environ)
    assert environ.asked
    documented = (ROOT / "docs" / "SETTINGS.md").read_text()
    for name in environ.asked:
        shown = re.sub(r"^INTAKE_", "<SERVICE>_", name)
        assert f"`{shown}`" in documented, f"{shown} is read by Settings.from_env but not in docs/SETTINGS.md"


@pytest.mark.parametrize("service", SERVICES)
def test_settings_doc_lists_every_variable_a_service_config_reads(service: str) -> None:
    definition = definition_of(service)
    if definition.config is None:
        return
    environ = _RecordingEnviron()
    definition.config(environ)
    readme = ROOT / "services" / service / "README.md"
    documented = (ROOT / "docs" / "SETTINGS.md").read_text() + (readme.read_text() if readme.exists() else "")
    for name in environ.asked:
        assert f"`{name}`" in documented, f"{name} is read by {service}'s config but documented nowhere"


def test_settings_doc_lists_the_gunicorn_variables() -> None:
    common = (ROOT / "shared" / "propcare_shared" / "gunicorn_conf.py").read_text()
    documented = (ROOT / "docs" / "SETTINGS.md").read_text()
    for name in re.findall(r'env_(?:int|str|float)\(_env, "([A-Z_]+)"', common):
        assert f"`{name}`" in documented, name


def test_readme_starts_with_the_two_commands() -> None:
    first_lines = (ROOT / "README.md").read_text().splitlines()[:10]
    assert any(line.startswith("make run") for line in first_lines)
    assert any(line.startswith("make test") for line in first_lines)


def test_ci_runs_make_test() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script and re.search(r"^make test$", script, re.MULTILINE)


def test_every_code_path_the_docs_cite_exists() -> None:
    documents = [*(ROOT / "docs").glob("*.md"), ROOT / "README.md", *ROOT.glob("services/*/README.md")]
    missing = {
        f"{document.relative_to(ROOT)}: {path}"
        for document in documents
        for path in re.findall(r"`((?:services|shared|infra|tests|k8s)/[\w/.\-]+)`", document.read_text())
        if not (ROOT / path.rstrip("/")).exists()
    }
    assert not missing, sorted(missing)


def test_nothing_in_the_repository_cites_a_file_outside_it() -> None:
    tracked = [
        ROOT / name for name in subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    ]
    outside = re.compile(r"\.\./shared|(?<![\w/])SPEC\.md|(?<![\w/])API\.md|seeds/\d")
    citing = [
        str(path.relative_to(ROOT))
        for path in tracked
        if path.suffix in {".py", ".md", ".yml", ".yaml", ".toml", ".conf", ".j2"}
        and path.is_file()
        and outside.search(path.read_text(errors="ignore"))
    ]
    assert not citing, citing
