"""tools/gen_smp_schema.py: the generated block of kustomize/smp_schema.py is what the generator prints.

The byte-for-byte check needs kustomize's schema files, which the repository does not hold (they are
kustomize's data). It reads them from a local git clone of kubernetes-sigs/kustomize, found through
``HOMEOPS_KUSTOMIZE_GIT_DIR`` (default: the mirror of the development machine), and is skipped where
there is none — CI has none, so there its value is nil and the other tests here carry the weight:
the derivation rules on a small OpenAPI document written here, and the committed tables being
consistent (every type they name exists).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from homeops.kustomize import smp_schema
from support import ROOT

GENERATOR = ROOT / "tools" / "gen_smp_schema.py"
TARGET = ROOT / "src" / "homeops" / "kustomize" / "smp_schema.py"
KUSTOMIZE_GIT = Path(
    os.environ.get("HOMEOPS_KUSTOMIZE_GIT_DIR", "/work/.mirror/kubernetes-sigs+kustomize/repo")
)
UNION = "kyaml/openapi/kubernetesapi/data/kubernetes-openapi-union-v1.21.2.bundle-v1.json.gz"
KUSTOMIZATION = "kyaml/openapi/kustomizationapi/swagger.json"


def generate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *map(str, paths)], capture_output=True, text=True, check=False
    )


def committed_block() -> str:
    text = TARGET.read_text()
    found = re.search(r"^# BEGIN GENERATED.*?^# END GENERATED\n", text, re.S | re.M)
    assert found, "smp_schema.py lost its generated block"
    return found.group(0)


def _git_show(path: str, out: Path) -> Path:
    blob = subprocess.run(
        ["git", f"--git-dir={KUSTOMIZE_GIT}", "show", f"HEAD:{path}"], capture_output=True, check=False
    )
    if blob.returncode != 0:
        pytest.skip(f"{KUSTOMIZE_GIT} has no {path}: {blob.stderr.decode().strip()}")
    out.write_bytes(blob.stdout)
    return out


@pytest.mark.skipif(
    not KUSTOMIZE_GIT.is_dir(),
    reason=f"no kustomize git clone at {KUSTOMIZE_GIT} (set HOMEOPS_KUSTOMIZE_GIT_DIR): "
    "the byte-for-byte check of the generated tables needs kustomize's schema files",
)
def test_committed_block_is_what_the_generator_prints_from_kustomizes_schema(tmp_path: Path) -> None:
    union = _git_show(UNION, tmp_path / "union.json.gz")
    kustomization = _git_show(KUSTOMIZATION, tmp_path / "kustomization-swagger.json")
    proc = generate(union, kustomization)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == committed_block()


def _array(ref: str, **extensions: Any) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": f"#/definitions/{ref}"}, **extensions}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/definitions/{name}"}


def _gvk(group: str, version: str, kind: str) -> dict[str, Any]:
    return {"x-kubernetes-group-version-kind": [{"group": group, "version": version, "kind": kind}]}


DOCUMENT: dict[str, Any] = {
    "info": {"version": "v9.9.9"},
    "definitions": {
        "meta.ObjectMeta": {
            "properties": {
                "finalizers": {
                    "type": "array",
                    "items": {"type": "string"},
                    "x-kubernetes-patch-strategy": "merge",
                },
                "name": {"type": "string"},
            }
        },
        "core.Port": {"properties": {"port": {"type": "integer"}}},
        "core.Env": {"properties": {"name": {"type": "string"}}},
        "core.Container": {
            "properties": {
                # list-map-keys win over the merge key
                "ports": _array(
                    "core.Port",
                    **{
                        "x-kubernetes-patch-strategy": "merge",
                        "x-kubernetes-patch-merge-key": "port",
                        "x-kubernetes-list-map-keys": ["port", "protocol"],
                    },
                ),
                "env": _array(
                    "core.Env",
                    **{"x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "name"},
                ),
                # retainKeys alone is no merge strategy; a list without strategy is replaced
                "args": {
                    "type": "array",
                    "items": {"type": "string"},
                    "x-kubernetes-patch-strategy": "retainKeys",
                },
                "tolerations": _array("core.Env"),
            }
        },
        "core.PodSpec": {
            "properties": {
                "containers": _array(
                    "core.Container",
                    **{
                        "x-kubernetes-patch-strategy": "merge,retainKeys",
                        "x-kubernetes-patch-merge-key": "name",
                    },
                ),
                "byName": {"type": "object", "additionalProperties": _ref("core.Container")},
                "plain": {"type": "object", "additionalProperties": {"type": "string"}},
            }
        },
        "core.Pod": {
            "properties": {"metadata": _ref("meta.ObjectMeta"), "spec": _ref("core.PodSpec")},
            **_gvk("", "v1", "Pod"),
        },
        "core.ConfigMap": {
            "properties": {"metadata": _ref("meta.ObjectMeta"), "data": {"type": "object"}},
            **_gvk("", "v1", "ConfigMap"),
        },
        "meta.Status": {"properties": {"code": {"type": "integer"}}, **_gvk("", "v1", "Status")},
        "apps.Tree": {"properties": {"children": _ref("apps.Tree"), "leaf": _ref("apps.Leaf")}},
        "apps.Leaf": {"properties": {"metadata": _ref("meta.ObjectMeta")}},
        "apps.Forest": {"properties": {"tree": _ref("apps.Tree")}, **_gvk("apps", "v1", "Forest")},
    },
}


def test_derivation_rules_on_a_small_document(tmp_path: Path) -> None:
    doc = tmp_path / "openapi.json"
    doc.write_text(json.dumps(DOCUMENT))
    proc = generate(doc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "# BEGIN GENERATED by tools/gen_smp_schema.py\n"
        "# fmt: off\n"
        "# Source: Kubernetes v9.9.9 OpenAPI (swagger.json). Do not edit by hand.\n"
        "_TYPES: dict[str, dict[str, str]] = {\n"
        '    "Container": {"env": "[name]", "ports": "[port,protocol]"},\n'
        '    "Forest": {"tree": "Tree"},\n'
        '    "ObjectMeta": {"finalizers": "[]"},\n'
        '    "Pod": {"metadata": "ObjectMeta", "spec": "PodSpec"},\n'
        '    "PodSpec": {"byName": "{}Container", "containers": "[name]Container"},\n'
        '    "Tree": {"children": "Tree", "leaf": "Object"},\n'
        '    "Object": {"metadata": "ObjectMeta"},\n'
        "}\n"
        "_KINDS: dict[str, dict[str, str]] = {\n"
        '    "apps/v1": {\n'
        '        "Forest": "Forest",\n'
        "    },\n"
        '    "v1": {\n'
        '        "ConfigMap": "Object", "Pod": "Pod", "Status": "",\n'
        "    },\n"
        "}\n"
        "# fmt: on\n"
        "# END GENERATED\n"
    )


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    doc = tmp_path / "openapi.json"
    doc.write_text(json.dumps({"definitions": {"a.A": {"properties": {"b": _ref("a.Missing")}}}}))
    proc = generate(doc)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "gen_smp_schema: error: unresolved $ref '#/definitions/a.Missing'\n"
    (tmp_path / "notjson.json").write_text("{")
    proc = generate(tmp_path / "notjson.json")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr


def test_committed_tables_name_only_types_they_define() -> None:
    """Every type a field or a kind points to is in _TYPES (a dangling name crashed the walker)."""
    defined = set(smp_schema._TYPES)
    named = {spec for by_kind in smp_schema._KINDS.values() for spec in by_kind.values() if spec}
    for fields in smp_schema._TYPES.values():
        for spec in fields.values():
            named.add(re.sub(r"^(\[[^\]]*\]|\{\})", "", spec))
    assert named - {""} <= defined, sorted(named - {""} - defined)
