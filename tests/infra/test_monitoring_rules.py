"""The alert rules and the Prometheus configuration, checked and unit-tested by promtool (Debian's `prometheus` package).

`make prometheus` (part of `make test`) installs it when missing; these tests fail, never skip, without it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "infra" / "prometheus"
PROMTOOL = "/usr/bin/promtool"
RUNBOOK = ROOT / "docs" / "RUNBOOK.md"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=120, check=False)


def alerts() -> list[dict[str, object]]:
    found = []
    for path in sorted((PROMETHEUS_DIR / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            found += [rule for rule in group["rules"] if "alert" in rule]
    return found


def test_the_rules_and_the_config_are_valid() -> None:
    rules = promtool("check", "rules", *[str(p) for p in sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))])
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr
    assert "1 rule files found" in config.stdout


def test_promtool_unit_tests_of_the_alerts_pass() -> None:
    result = promtool("test", "rules", *[str(p) for p in sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_is_unit_tested_has_a_summary_a_runbook_line_and_a_team() -> None:
    tested = "\n".join(path.read_text() for path in (PROMETHEUS_DIR / "tests").glob("*.yml"))
    runbook = RUNBOOK.read_text()
    for alert in alerts():
        name = str(alert["alert"])
        assert f"alertname: {name}\n" in tested, f"{name} has no promtool test"
        annotations, labels = alert["annotations"], alert["labels"]
        assert isinstance(annotations, dict) and isinstance(labels, dict)
        assert annotations["summary"] and annotations["runbook"] == f"docs/RUNBOOK.md#{name.lower()}"
        assert f"### {name}" in runbook, f"{name} has no line in docs/RUNBOOK.md"
        assert labels["team"] in {"regional-ops", "platform"}
        if labels["team"] == "regional-ops":
            assert "region" in str(alert["expr"]), f"{name} must keep the region its team is routed by"


def test_a_broken_expectation_fails_the_unit_tests(tmp_path: Path) -> None:
    original = (PROMETHEUS_DIR / "tests" / "propcare_test.yml").read_text()
    broken = tmp_path / "tests" / "broken_test.yml"
    broken.parent.mkdir()
    (tmp_path / "rules").symlink_to(PROMETHEUS_DIR / "rules")
    expected = "team: regional-ops, region: G1/R1, tier: general}"
    broken.write_text(original.replace(expected, expected.replace("G1/R1", "G1/R9"), 1))
    result = subprocess.run([PROMTOOL, "test", "rules", str(broken)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr
