"""RFC 6902 JSON patches: unit tests, and the same patches run through `kubectl kustomize` (kustomize v5)."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from homeops.core.errors import KustomizeError
from homeops.core.yamlemit import dump
from homeops.core.yamlio import deep_copy, load_all, load_one
from homeops.kustomize.jsonpatch import apply_json6902, load_json6902

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl not on PATH: differential tests against `kubectl kustomize` skipped"
)

RESOURCE = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  annotations:
    example.com/owner: team
    odd~key: x
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: main
          image: app:1
          args: [a, b, c]
"""


def resource() -> dict[str, Any]:
    return load_one(RESOURCE)


def patch(text: str) -> list[dict[str, Any]]:
    return load_json6902(textwrap.dedent(text).lstrip("\n"))


def args(obj: dict[str, Any]) -> list[Any]:
    return obj["spec"]["template"]["spec"]["containers"][0]["args"]


# ----------------------------------------------------------------------------------------------
# operations


def test_add_replace_remove_with_append_and_escapes() -> None:
    obj = resource()
    before = deep_copy(obj)
    out = apply_json6902(
        obj,
        patch("""
        - {op: add, path: /spec/template/spec/containers/0/args/-, value: d}
        - {op: add, path: /spec/template/spec/containers/0/args/0, value: first}
        - {op: replace, path: /metadata/annotations/example.com~1owner, value: ops}
        - {op: remove, path: /metadata/annotations/odd~0key}
        - {op: add, path: /metadata/labels, value: {app: app}}
    """),
    )
    assert args(out) == ["first", "a", "b", "c", "d"]
    assert out["metadata"]["annotations"] == {"example.com/owner": "ops"}
    assert out["metadata"]["labels"] == {"app": "app"}
    assert obj == before


def test_move_copy_test() -> None:
    out = apply_json6902(
        resource(),
        patch("""
        - {op: test, path: /spec/replicas, value: 1}
        - {op: copy, from: /spec/template/spec/containers/0, path: /spec/template/spec/containers/-}
        - {op: replace, path: /spec/template/spec/containers/1/name, value: copy}
        - {op: move, from: /spec/template/spec/containers/1/args, path: /spec/args}
        - {op: test, path: /spec/args, value: [a, b, c]}
    """),
    )
    containers = out["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["main", "copy"]
    assert "args" not in containers[1] and out["spec"]["args"] == ["a", "b", "c"]
    assert args(out) == ["a", "b", "c"]  # the copy was deep


def test_json_patch_library_quirks() -> None:
    out = apply_json6902(
        resource(),
        patch("""
        - {op: replace, path: /spec/paused, value: true}
        - {op: add, path: /spec/template/spec/containers/0/args/-1, value: end}
        - {op: remove, path: /spec/template/spec/containers/0/args/-4}
        - {op: add, path: /spec/nothing}
        - {op: copy, from: /spec/absent, path: /spec/copied}
        - {op: add, path: spec/ignoredfirstsegment, value: 1}
        - {op: test, path: /spec/absent, value: null}
    """),
    )
    assert out["spec"]["paused"] is True  # replace of a missing key adds it
    assert args(out) == ["b", "c", "end"]  # -1 appends for add, -4 is the first for remove
    assert out["spec"]["nothing"] is None and out["spec"]["copied"] is None
    assert out["ignoredfirstsegment"] == 1


def test_numbers_go_through_float64() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "spec": {"ratio": 1.0, "big": 2**53 + 1, "half": 0.5}}
    out = apply_json6902(obj, [{"op": "add", "path": "/spec/n", "value": 2.0}])
    assert out["spec"] == {"ratio": 1, "big": 2**53, "half": 0.5, "n": 2}
    assert type(out["spec"]["ratio"]) is int


def test_replace_whole_document() -> None:
    out = apply_json6902(
        resource(), [{"op": "replace", "path": "", "value": {"apiVersion": "v1", "kind": "X"}}]
    )
    assert out == {"apiVersion": "v1", "kind": "X"}
    with pytest.raises(KustomizeError, match="not an object"):
        apply_json6902(resource(), [{"op": "replace", "path": "", "value": [1]}])


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        (
            [{"op": "add", "path": "/spec/nope/x", "value": 1}],
            r"operation 1 \(add /spec/nope/x\): add operation does not apply: doc is missing path",
        ),
        (
            [{"op": "replace", "path": "/spec/template/spec/containers/0/args/3", "value": 1}],
            r"list index 3 is out of range \(the list has 3 elements\)",
        ),
        (
            [{"op": "add", "path": "/spec/template/spec/containers/0/args/5", "value": 1}],
            r"list index 5 is out of range",
        ),
        (
            [{"op": "add", "path": "/spec/template/spec/containers/x/args", "value": 1}],
            r"doc is missing path",
        ),
        (
            [{"op": "add", "path": "/spec/template/spec/containers/0/args/x", "value": 1}],
            r"'x' is not a list index",
        ),
        ([{"op": "remove", "path": "/spec/nope"}], r"cannot remove 'nope': the key does not exist"),
        (
            [{"op": "test", "path": "/spec/replicas", "value": "1"}],
            r"test failed: the value at '/spec/replicas' is not \"1\"",
        ),
        ([{"op": "test", "path": "/spec/replicas"}], r"missing its 'value' field"),
        ([{"op": "add", "value": 1}], r"add operation is missing its 'path' field"),
        ([{"op": "move", "path": "/a"}], r"missing its 'from' field"),
        ([{"op": "frob", "path": "/a"}], r"unexpected kind: frob"),
        ([{"path": "/a"}], r"unexpected kind: unknown"),
        (
            [{"op": "add", "path": "/spec/replicas", "value": 2}, "oops"],
            r"JSON patch operation 2 is not a map",
        ),
    ],
)
def test_errors(ops: list[Any], message: str) -> None:
    with pytest.raises(KustomizeError, match=message):
        apply_json6902(resource(), ops)


# ----------------------------------------------------------------------------------------------
# reading operations


def test_load_types_values_like_go_yaml_v2() -> None:
    ops = load_json6902(
        "- op: add\n  path: /v\n  value: {a: yes, b: off, c: 0644, d: 2024-01-02, e: 'yes', f: 1.0, "
        "g: 1_000, h: 0x1F, i: 08, j: 1e3, k: ~, l: .5, m: 0o17, n: 0b101}\n"
    )
    assert ops[0]["value"] == {
        "a": True, "b": False, "c": 420, "d": "2024-01-02", "e": "yes", "f": 1, "g": 1000, "h": 31,
        "i": 8, "j": 1000, "k": None, "l": 0.5, "m": 15, "false": 5,  # the key n is false in YAML 1.1
    }  # fmt: skip


def test_load_json_text_and_errors() -> None:
    assert load_json6902('[{"op": "remove", "path": "/a"}]') == [{"op": "remove", "path": "/a"}]
    with pytest.raises(KustomizeError, match="empty json patch operations"):
        load_json6902("")
    with pytest.raises(KustomizeError, match="must be a list of operations"):
        load_json6902("op: add\npath: /a\n")
    with pytest.raises(KustomizeError, match="unable to parse JSON patch"):
        load_json6902('[{"op": "add", "value": NaN}]')


# ----------------------------------------------------------------------------------------------
# differential: the same resource and operations through `kubectl kustomize`

DIFF_CASES: list[tuple[str, str]] = [
    (
        "add replace remove with - and escaped pointers",
        """
        - {op: add, path: /spec/template/spec/containers/0/args/-, value: d}
        - {op: add, path: /spec/template/spec/containers/0/args/1, value: inserted}
        - {op: replace, path: /metadata/annotations/example.com~1owner, value: ops}
        - {op: remove, path: /metadata/annotations/odd~0key}
        - {op: replace, path: /spec/replicas, value: 3}
    """,
    ),
    (
        "move copy test",
        """
        - {op: test, path: /spec/replicas, value: 1}
        - {op: copy, from: /spec/template/spec/containers/0, path: /spec/template/spec/containers/-}
        - {op: move, from: /spec/template/spec/containers/1/args, path: /spec/args}
        - {op: copy, from: /spec/absent, path: /spec/copied}
    """,
    ),
    (
        "library quirks",
        """
        - {op: replace, path: /spec/paused, value: true}
        - {op: add, path: /spec/template/spec/containers/0/args/-1, value: end}
        - {op: remove, path: /spec/template/spec/containers/0/args/-4}
        - {op: add, path: /spec/nothing}
        - {op: add, path: spec/ignoredfirstsegment, value: 1}
        - {op: test, path: /spec/absent, value: null}
    """,
    ),
    (
        "YAML 1.1 typing of values",
        """
        - op: add
          path: /spec/v
          value: {a: yes, b: on, c: 0644, d: 2024-01-02, e: "yes", f: 1.0, g: 1_000, h: 0x1F, i: 08, j: 1e3, n: 1, 5: 2}
    """,
    ),
    (
        "JSON text",
        """[{"op": "add", "path": "/spec/j", "value": 1.50}, {"op": "remove", "path": "/spec/replicas"}]""",
    ),
    (
        "replace whole document",
        """
        - op: replace
          path: ""
          value: {apiVersion: apps/v1, kind: Deployment, metadata: {name: app}, spec: {replicas: 9}}
    """,
    ),
    (
        "add at index equal to length",
        """
        - {op: add, path: /spec/template/spec/containers/0/args/3, value: x}
    """,
    ),
    ("error: missing parent", "- {op: add, path: /spec/nothere/x, value: 1}"),
    ("error: index out of range", "- {op: replace, path: /spec/template/spec/containers/0/args/3, value: q}"),
    ("error: remove missing key", "- {op: remove, path: /spec/nothere}"),
    ("error: failed test", '- {op: test, path: /spec/replicas, value: "1"}'),
    ("error: unknown op", "- {op: frob, path: /spec}"),
]


def _kubectl_json6902(tmp_path: Path, text: str) -> tuple[Any, str]:
    (tmp_path / "resource.yaml").write_text(RESOURCE)
    (tmp_path / "patch.yaml").write_text(text)
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [resource.yaml]\npatches:\n  - path: patch.yaml\n    target: {kind: Deployment}\n"
    )
    assert KUBECTL is not None
    proc = subprocess.run([KUBECTL, "kustomize", str(tmp_path)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None, proc.stderr.strip() or "failed"
    return load_all(proc.stdout)[0], ""


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.parametrize("text", [c[1] for c in DIFF_CASES], ids=[c[0] for c in DIFF_CASES])
def test_differential_against_kubectl(tmp_path: Path, text: str) -> None:
    text = textwrap.dedent(text).lstrip("\n")
    expected, error = _kubectl_json6902(tmp_path, text)
    try:
        out = apply_json6902(load_one(RESOURCE), load_json6902(text))
    except KustomizeError as exc:
        assert error, f"kubectl succeeded where we failed with: {exc}"
        return
    assert not error, f"kubectl failed where we succeeded: {error}"
    assert load_one(dump(out)) == expected
