"""A small kustomize for the subset deploy/kubernetes uses, for machines without kubectl
(whose built-in kustomize the tests prefer): `resources` (files and directories holding a
kustomization.yaml) and `patches` of `path:` strategic-merge patches matched by kind and
name. Merging follows Kubernetes' patch merge keys for the lists the manifests patch
(containers, volumes, env, ports by name; volumeMounts by mountPath); any other list is
replaced, as strategic merge does. Nothing else (namespace, commonLabels, generators,
JSON patches) is supported: a kustomization using it is refused, so this cannot render
something else silently. tests/deploy/test_manifests.py checks it renders what
`kubectl kustomize` does whenever kubectl is there.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "patches"}
MERGE_KEYS = {"containers": "name", "initContainers": "name", "volumes": "name", "env": "name",
              "ports": "name", "volumeMounts": "mountPath", "envFrom": None}


def render(directory: Path) -> list[dict]:
    """The objects the kustomization in `directory` makes."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    unsupported = set(kustomization) - SUPPORTED_KEYS
    if unsupported:
        raise ValueError(f"{directory}: mini_kustomize does not support {sorted(unsupported)}")
    objects: list[dict] = []
    for resource in kustomization.get("resources", []):
        path = directory / resource
        if path.is_dir():
            objects += render(path)
        else:
            objects += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    for patch in kustomization.get("patches", []):
        if set(patch) != {"path"}:
            raise ValueError(f"{directory}: only `path:` patches are supported, not {patch}")
        for change in yaml.safe_load_all((directory / patch["path"]).read_text(encoding="utf-8")):
            [target] = [o for o in objects if (o["kind"], o["metadata"]["name"]) ==
                        (change["kind"], change["metadata"]["name"])]
            merged = merge(target, change)
            objects[objects.index(target)] = merged
    return objects


def merge(base: object, patch: object, key: str | None = None) -> object:
    """`patch` strategically merged into `base` (neither is changed)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for name, value in patch.items():
            out[name] = merge(base[name], value, name) if name in base else copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(patch, list) and MERGE_KEYS.get(key or ""):
        field = MERGE_KEYS[key or ""]
        out = copy.deepcopy(base)
        for item in patch:
            same = [i for i, existing in enumerate(out) if existing.get(field) == item.get(field)]
            if same:
                out[same[0]] = merge(out[same[0]], item)
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(patch)
