"""The Kubernetes manifests (deploy/kubernetes): every file and every rendered overlay is
valid against the Kubernetes API schemas (kubernetes-validate, strict: unknown fields are
errors), and the objects fit together.

Overlays are rendered with `kubectl kustomize` (kustomize built into kubectl, offline);
without kubectl, with mini_kustomize.py beside this file (the subset the manifests use),
which is checked against kubectl's rendering wherever kubectl is there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import click
import kubernetes_validate
import pytest
import yaml

from jixiao.api.tokens import parse_token_file

import mini_kustomize
from jixiao.server import main as server_command

REPO = Path(__file__).resolve().parents[2]
KUBERNETES = REPO / "deploy" / "kubernetes"
OVERLAYS = ("single-sqlite", "multi-postgres")
#: A current Kubernetes release whose schemas kubernetes-validate bundles.
K8S_VERSION = "1.35.0"
GRPC_PORT = 50051
METRICS_PORT = 9464

#: Files that are kustomize patches, not whole objects (validated after rendering).
PATCHES = {"deployment-patch.yaml", "configmap-patch.yaml"}


def _validate(obj: dict) -> None:
    kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def _load_all(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


@pytest.mark.parametrize("path", sorted(
    p.relative_to(KUBERNETES) for p in KUBERNETES.rglob("*.yaml")
    if p.name != "kustomization.yaml" and p.name not in PATCHES), ids=str)
def test_each_manifest_file_is_a_valid_kubernetes_object(path: Path) -> None:
    documents = _load_all(KUBERNETES / path)
    assert documents
    for obj in documents:
        _validate(obj)


def test_strict_validation_refuses_an_unknown_field() -> None:
    [deployment] = _load_all(KUBERNETES / "base" / "deployment.yaml")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"grpc": {"port": GRPC_PORT}}
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(deployment)


def test_the_secret_examples_hold_placeholders_in_the_shape_the_server_reads() -> None:
    [tokens] = _load_all(KUBERNETES / "tokens.example.yaml")
    assert (tokens["kind"], tokens["metadata"]["name"]) == ("Secret", "jixiao-auth")
    entries = parse_token_file(tokens["stringData"]["tokens.yaml"], "tokens.example.yaml")  # as the server reads it
    assert {(e.name, *e.roles) for e in entries} == {("ops-alice", "deploy"), ("portal", "evaluate"),
                                                   ("auditor", "audit")}
    assert all(len(set(e.sha256)) == 1 for e in entries)  # placeholders: no token hashes to them
    assert "jixiao token new" in (KUBERNETES / "tokens.example.yaml").read_text(encoding="utf-8")
    [database] = _load_all(KUBERNETES / "database.example.yaml")
    assert (database["kind"], database["metadata"]["name"]) == ("Secret", "jixiao-database")
    assert database["stringData"]["url"].startswith("postgresql+psycopg://jixiao:CHANGE-ME@")


def _kubectl_render(overlay: str) -> list[dict]:
    result = subprocess.run([shutil.which("kubectl"), "kustomize", str(KUBERNETES / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    """Each overlay as `kubectl kustomize` renders it; without kubectl, as mini_kustomize does."""
    if shutil.which("kubectl") is None:
        return {overlay: mini_kustomize.render(KUBERNETES / "overlays" / overlay) for overlay in OVERLAYS}
    return {overlay: _kubectl_render(overlay) for overlay in OVERLAYS}


def _canonical(value: object) -> object:
    """`value` with every list of mappings in a fixed order (merged lists' order may differ)."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True)) if all(isinstance(v, dict) for v in items) else items
    return value


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_mini_renderer_used_without_kubectl_renders_what_kustomize_does(overlay: str) -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: nothing to compare mini_kustomize with")
    mine = _by_kind(mini_kustomize.render(KUBERNETES / "overlays" / overlay))
    theirs = _by_kind(_kubectl_render(overlay))
    assert mine.keys() == theirs.keys()
    for key in theirs:
        assert _canonical(mine[key]) == _canonical(theirs[key]), key


def _by_kind(objects: list[dict]) -> dict[tuple[str, str], dict]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_is_valid(rendered, overlay: str) -> None:
    kinds = sorted(_by_kind(rendered[overlay]))
    expected = {
        "single-sqlite": [("ConfigMap", "jixiao"), ("Deployment", "jixiao"),
                          ("PersistentVolumeClaim", "jixiao-registry"), ("Service", "jixiao")],
        "multi-postgres": [("ConfigMap", "jixiao"), ("Deployment", "jixiao"),
                           ("HorizontalPodAutoscaler", "jixiao"), ("PodDisruptionBudget", "jixiao"),
                           ("Service", "jixiao"), ("Service", "jixiao-headless")],
    }[overlay]
    assert kinds == expected
    for obj in rendered[overlay]:
        _validate(obj)


def _container(deployment: dict) -> dict:
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return container


def _selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_select_the_pods_and_probes_call_grpc_health_on_the_served_port(rendered, overlay: str) -> None:
    objects = _by_kind(rendered[overlay])
    deployment = objects["Deployment", "jixiao"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert _selects(deployment["spec"]["selector"]["matchLabels"], pod_labels)
    container = _container(deployment)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": GRPC_PORT, "metrics": METRICS_PORT}
    config = objects["ConfigMap", "jixiao"]["data"]
    assert int(config["JIXIAO_PORT"]) == GRPC_PORT and int(config["JIXIAO_METRICS_PORT"]) == METRICS_PORT
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == METRICS_PORT
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["grpc"]["port"] == GRPC_PORT, probe
    assert container["readinessProbe"]["grpc"]["service"] == "jixiao.v1.EvaluationService"
    assert container["image"] == "jixiao:0.1.0"
    for (kind, name), service in objects.items():
        if kind == "Service":
            assert _selects(service["spec"]["selector"], pod_labels), name
            assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(GRPC_PORT, "grpc")]
    mounted = {m["name"] for m in container["volumeMounts"]}
    assert mounted == {v["name"] for v in deployment["spec"]["template"]["spec"]["volumes"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_environment_name_is_a_server_option_that_takes_its_value(rendered, overlay: str) -> None:
    options = {p.envvar: p for p in server_command.params if isinstance(p, click.Option) and p.envvar}
    objects = _by_kind(rendered[overlay])
    container = _container(objects["Deployment", "jixiao"])
    config = objects["ConfigMap", "jixiao"]["data"]
    names = set(config) | {e["name"] for e in container["env"]}
    unknown = sorted(names - set(options))
    assert not unknown, f"not jixiao-server options: {unknown}"
    context = click.Context(server_command)
    for name, value in config.items():
        option = options[name]
        if not isinstance(option.type, click.Path):  # paths exist only in the image
            option.type_cast_value(context, value)  # raises on a value the server refuses


def test_single_sqlite_runs_one_replica_recreated_on_its_claim(rendered) -> None:
    objects = _by_kind(rendered["single-sqlite"])
    deployment = objects["Deployment", "jixiao"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    claim = objects["PersistentVolumeClaim", "jixiao-registry"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["registry"]["persistentVolumeClaim"]["claimName"] == "jixiao-registry"
    mount = next(m for m in _container(deployment)["volumeMounts"] if m["name"] == "registry")
    registry = objects["ConfigMap", "jixiao"]["data"]["JIXIAO_REGISTRY"]
    assert Path(registry).parent == Path(mount["mountPath"])
    assert "JIXIAO_REGISTRY_URL" not in {e["name"] for e in _container(deployment)["env"]}


def test_multi_postgres_rolls_replicas_over_a_shared_database_with_pdb_hpa_and_headless_service(rendered) -> None:
    objects = _by_kind(rendered["multi-postgres"])
    deployment = objects["Deployment", "jixiao"]
    spec = deployment["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    assert not any(kind == "PersistentVolumeClaim" for kind, _ in objects)
    pod = spec["template"]["spec"]
    assert not any("persistentVolumeClaim" in v for v in pod["volumes"])
    env = {e["name"]: e for e in _container(deployment)["env"]}
    assert env["JIXIAO_REGISTRY_URL"]["valueFrom"]["secretKeyRef"] == {"name": "jixiao-database", "key": "url"}
    assert "JIXIAO_REGISTRY" not in objects["ConfigMap", "jixiao"]["data"]
    [database] = _load_all(KUBERNETES / "database.example.yaml")
    assert "url" in database["stringData"] and database["metadata"]["name"] == "jixiao-database"

    pod_labels = spec["template"]["metadata"]["labels"]
    headless = objects["Service", "jixiao-headless"]
    assert headless["spec"]["clusterIP"] == "None"
    assert _selects(headless["spec"]["selector"], pod_labels)
    assert objects["Service", "jixiao"]["spec"].get("clusterIP") in (None, "")  # the ClusterIP one

    pdb = objects["PodDisruptionBudget", "jixiao"]
    assert _selects(pdb["spec"]["selector"]["matchLabels"], pod_labels)
    assert pdb["spec"]["maxUnavailable"] == 1
    hpa = objects["HorizontalPodAutoscaler", "jixiao"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "jixiao"}
    assert hpa["spec"]["minReplicas"] == spec["replicas"] < hpa["spec"]["maxReplicas"]
    [cpu] = hpa["spec"]["metrics"]
    assert cpu["resource"]["name"] == "cpu"
    assert "cpu" in _container(deployment)["resources"]["requests"]  # utilization needs a request

    spread = pod["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in spread} >= {"kubernetes.io/hostname"}
    assert all(_selects(c["labelSelector"]["matchLabels"], pod_labels) for c in spread)
