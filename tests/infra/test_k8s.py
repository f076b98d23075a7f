"""The Kubernetes manifests: they parse, each service has its workloads and autoscalers, the Ingress
covers docs/API.md's prefixes, and the generated per-service files are up to date."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.tools import k8s_manifests
from tests.infra.api_routes import EXPECTED_ROUTES, SERVICES

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module")
def base() -> dict[tuple[str, str], dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for resource in kustomization["resources"]:
        for doc in _documents(K8S / "base" / resource):
            key = (doc["kind"], doc["metadata"]["name"])
            assert key not in found, f"{key} declared twice"
            found[key] = doc
    return found


def test_every_manifest_parses_with_kind_and_name() -> None:
    files = sorted(K8S.rglob("*.yaml"))
    assert files
    for path in files:
        for doc in _documents(path):
            assert doc.get("apiVersion") and doc.get("kind"), path
            if doc["kind"] != "Kustomization":
                assert doc["metadata"]["name"], path


def test_generated_service_manifests_are_up_to_date() -> None:
    for service in SERVICES:
        assert (K8S / "base" / f"{service}.yaml").read_text() == k8s_manifests.render(service), (
            f"run python -m infra.tools.k8s_manifests ({service})"
        )


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_web_service_hpa_worker_and_scaled_object(base: dict[tuple[str, str], dict[str, Any]], service: str) -> None:
    web = base[("Deployment", f"{service}-web")]
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"propcare/{service}:latest"
    assert "command" not in container, "the image's CMD runs gunicorn"
    assert {"name": "PROMETHEUS_MULTIPROC_DIR", "value": "/tmp/prometheus"} in container["env"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"]["cpu"], "a CPU HPA needs a CPU request"
    personal_data = {"propcare-personal-data"} if service in {"intake", "notification"} else set()
    assert {ref.get("configMapRef", ref.get("secretRef", {})).get("name") for ref in container["envFrom"]} == {
        "propcare-config",
        "propcare-secrets",
        *personal_data,
    }
    worker_refs = base[("Deployment", f"{service}-worker")]["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {ref.get("secretRef", {}).get("name") for ref in worker_refs} >= {"propcare-secrets", *personal_data}
    assert "propcare-personal-data" not in str(worker_refs) or personal_data, "only intake and notification hold the contact keys"
    assert web["spec"]["selector"]["matchLabels"].items() <= web["spec"]["template"]["metadata"]["labels"].items()

    svc = base[("Service", f"{service}-web")]
    assert svc["spec"]["selector"] == web["spec"]["selector"]["matchLabels"]
    assert svc["spec"]["ports"][0]["port"] == container["ports"][0]["containerPort"]

    hpa = base[("HorizontalPodAutoscaler", f"{service}-web")]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{service}-web"}
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"

    worker = base[("Deployment", f"{service}-worker")]
    assert worker["spec"]["template"]["spec"]["containers"][0]["command"] == ["python", "-m", f"{service}.worker"]
    scaled = base[("ScaledObject", f"{service}-worker")]
    assert scaled["spec"]["scaleTargetRef"]["name"] == f"{service}-worker"
    assert scaled["spec"]["minReplicaCount"] >= 1
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["type"] == "rabbitmq" and trigger["metadata"]["mode"] == "QueueLength"
    queues = re.compile(trigger["metadata"]["queueName"])
    assert queues.match(f"{service}.complaints") and not queues.match(f"{service}.complaints.parked")
    assert not queues.match(f"{service}.complaints.retry.0") and not queues.match(f"other{service}.complaints")
    assert ("TriggerAuthentication", trigger["authenticationRef"]["name"]) in base


def _ingress_service(paths: list[dict[str, Any]], path: str) -> str | None:
    """Route like ingress-nginx with use-regex: case-insensitive regexes anchored at the start, longest first."""
    for entry in sorted(paths, key=lambda entry: len(entry["path"]), reverse=True):
        if re.match(entry["path"], path, re.IGNORECASE):
            return str(entry["backend"]["service"]["name"])
    return None


def test_ingress_covers_every_api_prefix(base: dict[tuple[str, str], dict[str, Any]]) -> None:
    ingress = base[("Ingress", "propcare")]
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/use-regex"] == "true"
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    for path, service in EXPECTED_ROUTES:
        assert _ingress_service(paths, path) == (f"{service}-web" if service else None), path
    for entry in paths:
        assert ("Service", entry["backend"]["service"]["name"]) in base
        assert entry["backend"]["service"]["port"] == {"name": "http"}


def test_dev_overlay_builds_when_kubectl_is_there() -> None:
    overlay = yaml.safe_load((K8S / "overlays" / "dev" / "kustomization.yaml").read_text())
    assert "../../base" in overlay["resources"]
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("kubectl is not installed: the overlay was read, not built")
        return
    built = subprocess.run([kubectl, "kustomize", str(K8S / "overlays" / "dev")], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    docs = [doc for doc in yaml.safe_load_all(built.stdout) if doc]
    assert {doc["metadata"].get("namespace") for doc in docs if doc["kind"] != "Namespace"} == {"propcare-dev"}
    assert any(doc["kind"] == "Secret" and doc["metadata"]["name"] == "propcare-secrets" for doc in docs)
    images = {c["image"] for doc in docs if doc["kind"] == "Deployment" for c in doc["spec"]["template"]["spec"]["containers"]}
    assert images == {f"propcare/{service}:dev" for service in SERVICES}
