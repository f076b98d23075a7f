"""The Kubernetes manifests: they parse, each service has its workloads and autoscalers, the Ingress
covers docs/API.md's prefixes, every web and worker pod is scraped by a PodMonitor (workers on their
declared ``metrics`` port), the alert rules are the PrometheusRule, and the generated files are up to date."""

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
    for name in (*SERVICES, "monitoring"):
        assert (K8S / "base" / f"{name}.yaml").read_text() == k8s_manifests.render(name), (
            f"run python -m infra.tools.k8s_manifests ({name})"
        )


def _scraped_by(monitor: dict[str, Any], deployment: dict[str, Any]) -> str | None:
    """Return the container port name ``monitor`` scrapes on ``deployment``'s pods, or None when it does not select them."""
    template = deployment["spec"]["template"]
    if not monitor["spec"]["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items():
        return None
    declared = {port["name"] for container in template["spec"]["containers"] for port in container.get("ports", [])}
    endpoint = monitor["spec"]["podMetricsEndpoints"][0]
    return str(endpoint["port"]) if endpoint["port"] in declared else None


@pytest.mark.parametrize("service", SERVICES)
def test_every_web_and_worker_pod_is_scraped_once_workers_on_their_metrics_port(
    base: dict[tuple[str, str], dict[str, Any]], service: str
) -> None:
    monitors = [doc for (kind, _), doc in base.items() if kind == "PodMonitor"]
    worker = base[("Deployment", f"{service}-worker")]
    container = worker["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "METRICS_PORT", "value": "9100"} in container["env"]
    assert {"name": "metrics", "containerPort": 9100} in container["ports"]
    web = base[("Deployment", f"{service}-web")]
    for deployment, port, job in ((web, "http", "propcare-web"), (worker, "metrics", "propcare-workers")):
        scraping = [(monitor, _scraped_by(monitor, deployment)) for monitor in monitors]
        found = [(monitor, scraped) for monitor, scraped in scraping if scraped]
        assert [scraped for _, scraped in found] == [port], f"{deployment['metadata']['name']} must be scraped once, on {port}"
        monitor = found[0][0]
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        endpoint = monitor["spec"]["podMetricsEndpoints"][0]
        assert endpoint["path"] == "/metrics"
        assert {"action": "replace", "targetLabel": "job", "replacement": job} in endpoint["relabelings"], "the job compose's rules read"
        annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
        assert "prometheus.io/scrape" not in annotations, "scraped by annotation too, it would count twice"


def test_the_prometheus_rule_holds_every_alert_rule_of_infra_prometheus(base: dict[tuple[str, str], dict[str, Any]]) -> None:
    rule = base[("PrometheusRule", "propcare")]
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    files = sorted((ROOT / "infra" / "prometheus" / "rules").glob("*.yml"))
    assert files
    groups = [group for path in files for group in yaml.safe_load(path.read_text())["groups"]]
    assert rule["spec"]["groups"] == groups
    alerts = {entry["alert"] for group in groups for entry in group["rules"] if "alert" in entry}
    assert {"ServiceDown", "EmergencyUnacknowledged", "ConsumerStalled"} <= alerts


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
