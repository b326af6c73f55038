"""Values composition: Helm's coalescing, Flux's valuesFrom and targetPath (strvals)."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from homeops.core import yamlio
from homeops.helm.values import ValuesError, merge_values, parse_set, set_path, values_from

DEFAULTS: dict[str, Any] = {
    "image": {"repository": "ghcr.io/example/app", "tag": "v1.0.0", "pullPolicy": "IfNotPresent"},
    "args": ["--a", "--b"],
    "resources": {"limits": {"memory": "128Mi", "cpu": "1"}},
    "service": {"enabled": True, "port": 8080},
    "env": {"TZ": "UTC"},
}


def test_merge_order_and_semantics() -> None:
    before = copy.deepcopy(DEFAULTS)
    values_from_layer = {"image": {"tag": "v2.0.0"}, "env": {"A": "1"}, "args": ["--x"]}
    spec_values = {"image": {"tag": "v3.0.0"}, "resources": {"limits": {"cpu": None}}, "service": None}
    merged = merge_values(DEFAULTS, values_from_layer, spec_values)
    assert merged["image"] == {
        "repository": "ghcr.io/example/app",
        "tag": "v3.0.0",
        "pullPolicy": "IfNotPresent",
    }
    assert merged["env"] == {"TZ": "UTC", "A": "1"}
    assert merged["args"] == ["--x"]  # lists are replaced, never merged
    assert merged["resources"] == {"limits": {"memory": "128Mi"}}  # null deletes a default
    assert "service" not in merged
    assert before == DEFAULTS  # inputs are never mutated


def test_later_layers_win_and_null_then_value() -> None:
    assert merge_values({"a": 1}, {"a": None}, {"a": 2}) == {"a": 2}
    assert merge_values({"a": 1}, {"a": 2}, {"a": None}) == {}
    assert merge_values({}, {"new": None}) == {"new": None}  # Helm keeps a null it cannot delete
    assert merge_values(None, None, {"x": {"y": 1}}) == {"x": {"y": 1}}


def test_table_over_scalar_keeps_user_value() -> None:
    assert merge_values({"a": {"b": 1}}, {"a": "text"}) == {"a": "text"}
    assert merge_values({"a": "text"}, {"a": {"b": 1}}) == {"a": {"b": 1}}


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("a.b", "1", {"a": {"b": 1}}),
        ("a.b", "true", {"a": {"b": True}}),
        ("a.b", "null", {"a": {"b": None}}),
        ("a.b", "0123", {"a": {"b": "0123"}}),
        ("a.b", '"123"', {"a": {"b": "123"}}),
        ("a.b", "'true'", {"a": {"b": "true"}}),
        ("a.b", "{x,y}", {"a": {"b": ["x", "y"]}}),
        ("list[1].name", "two", {"list": [None, {"name": "two"}]}),
        (
            r"annotations.reloader\.stakater\.com/auto",
            "yes",
            {"annotations": {"reloader.stakater.com/auto": "yes"}},
        ),
        ("a", "text with spaces", {"a": "text with spaces"}),
    ],
)
def test_set_path(path: str, value: str, expected: dict[str, Any]) -> None:
    assert set_path({}, path, value) == expected


def test_parse_set_multiple_and_errors() -> None:
    assert parse_set("a=1,b.c=x,d[0]=y") == {"a": 1, "b": {"c": "x"}, "d": ["y"]}
    with pytest.raises(ValuesError):
        parse_set("a")
    with pytest.raises(ValuesError):
        parse_set("a[x]=1")


OBJECTS_YAML = """
apiVersion: v1
kind: ConfigMap
metadata: {{name: app-values, namespace: apps}}
data:
  values.yaml: |
    image:
      tag: v2.0.0
    env:
      FROM_CM: "yes"
  other.yaml: |
    replicaCount: 3
---
apiVersion: v1
kind: Secret
metadata: {{name: app-secret, namespace: apps}}
data:
  password: {}
  values.yaml: {}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: host, namespace: apps}}
data:
  hostname: app.example.com
""".format(
    base64.b64encode(b"hunter2").decode(),
    base64.b64encode(b"env:\n  FROM_SECRET: 'yes'\nimage:\n  tag: v3.0.0\n").decode(),
)


def _objects() -> dict[tuple[str, str, str], Any]:
    return {
        (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o
        for o in yamlio.load_all(OBJECTS_YAML, "objects.yaml")
    }


def _refs(text: str) -> Any:
    return yamlio.load_one(text, "helmrelease.yaml")


def test_values_from_in_order_then_spec_values() -> None:
    refs = _refs(
        """
- kind: ConfigMap
  name: app-values
- kind: Secret
  name: app-secret
- kind: ConfigMap
  name: app-values
  valuesKey: other.yaml
- kind: Secret
  name: app-secret
  valuesKey: password
  targetPath: auth.password
- kind: ConfigMap
  name: host
  valuesKey: hostname
  targetPath: route.main.hostnames[0]
"""
    )
    layer = values_from(refs, _objects(), namespace="apps")
    assert layer == {
        "image": {"tag": "v3.0.0"},
        "env": {"FROM_CM": "yes", "FROM_SECRET": "yes"},
        "replicaCount": 3,
        "auth": {"password": "hunter2"},
        "route": {"main": {"hostnames": ["app.example.com"]}},
    }
    final = merge_values(DEFAULTS, layer, {"image": {"tag": "v4.0.0"}})
    assert final["image"]["tag"] == "v4.0.0"
    assert final["env"] == {"TZ": "UTC", "FROM_CM": "yes", "FROM_SECRET": "yes"}


def test_values_from_by_kind_and_name_keys() -> None:
    objects = {(k[0], k[2]): v for k, v in _objects().items()}
    assert values_from([{"kind": "ConfigMap", "name": "app-values", "valuesKey": "other.yaml"}], objects) == {
        "replicaCount": 3
    }


def test_values_from_optional_missing_is_skipped() -> None:
    refs = _refs(
        """
- kind: Secret
  name: does-not-exist
  optional: true
- kind: ConfigMap
  name: app-values
  valuesKey: missing.yaml
  optional: true
"""
    )
    assert values_from(refs, _objects(), namespace="apps") == {}


def test_values_from_missing_is_an_error_at_its_line() -> None:
    refs = _refs("- kind: ConfigMap\n  name: app-values\n- kind: Secret\n  name: does-not-exist\n")
    with pytest.raises(ValuesError) as info:
        values_from(refs, _objects(), namespace="apps")
    assert info.value.file == "helmrelease.yaml" and info.value.line == 3
    assert "does-not-exist" in str(info.value) and "optional" in str(info.value)
    with pytest.raises(ValuesError, match=r"missing key 'nope\.yaml'"):
        values_from(
            [{"kind": "ConfigMap", "name": "app-values", "valuesKey": "nope.yaml"}],
            _objects(),
            namespace="apps",
        )


def test_values_from_bad_yaml_and_kind() -> None:
    objects = {("ConfigMap", "bad"): {"data": {"values.yaml": "a: [unclosed"}}}
    with pytest.raises(ValuesError, match="not valid YAML"):
        values_from([{"kind": "ConfigMap", "name": "bad"}], objects)
    with pytest.raises(ValuesError, match="ConfigMap or Secret"):
        values_from([{"kind": "Deployment", "name": "x"}], objects)
