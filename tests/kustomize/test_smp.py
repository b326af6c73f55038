"""Strategic merge patches: unit tests, and the same patches run through `kubectl kustomize` (kustomize v5)."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeops.core.errors import KustomizeError
from homeops.core.yamlemit import dump
from homeops.core.yamlio import deep_copy, load_all, load_one
from homeops.kustomize import smp
from homeops.kustomize.smp import strategic_merge
from homeops.kustomize.smp_schema import is_merge_list, list_merge_keys

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl not on PATH: differential tests against `kubectl kustomize` skipped"
)


def y(text: str) -> Any:
    return load_one(textwrap.dedent(text))


def merge(base: str, patch: str) -> Any:
    return strategic_merge(y(base), y(patch))


DEPLOY = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  labels: {app: app, tier: web}
spec:
  replicas: 1
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
        - name: main
          image: app:1
          env:
            - {name: A, value: "1"}
            - {name: B, value: "2"}
          ports:
            - {containerPort: 80, protocol: TCP, name: http}
            - {containerPort: 90}
          volumeMounts:
            - {name: data, mountPath: /data}
        - name: sidecar
          image: side:1
      volumes:
        - name: data
          emptyDir: {}
        - name: config
          configMap: {name: cfg}
      tolerations:
        - {key: a, operator: Exists}
"""

HELMRELEASE = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app
  namespace: apps
spec:
  interval: 30m
  chart:
    spec: {chart: app-template, version: 3.0.0}
  values:
    controllers:
      main:
        containers:
          app:
            image: {repository: ghcr.io/x/app, tag: "1.0"}
            env:
              TZ: UTC
    service:
      main:
        ports:
          http: {port: 80}
    ingress:
      main:
        hosts:
          - host: app.example.com
            paths: [{path: /}]
    env:
      - {name: A, value: "1"}
      - {name: B, value: "2"}
"""


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return obj["spec"]["template"]["spec"]["containers"]


# ----------------------------------------------------------------------------------------------
# maps, nulls, directives


def test_maps_merge_recursively_and_inputs_are_untouched() -> None:
    base, patch = (
        y(DEPLOY),
        y("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app, labels: {tier: api, extra: "yes"}}
        spec: {replicas: 3}
    """),
    )
    before_base, before_patch = deep_copy(base), deep_copy(patch)
    out = strategic_merge(base, patch)
    assert out is not None
    assert out["metadata"]["labels"] == {"app": "app", "tier": "api", "extra": "yes"}
    assert out["spec"]["replicas"] == 3
    assert containers(out) == containers(base)
    assert base == before_base and patch == before_patch
    assert out["spec"] is not base["spec"]


def test_null_deletes_and_kept_nulls() -> None:
    out = merge(
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c, annotations: {a: "1", b: "2"}}
        data: {x: "1", y: "2", kept: null}
        """,
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c, annotations: {a: null}}
        data: {y: null, absent: null, new: {deep: null, v: 1}}
        """,
    )
    assert out == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "annotations": {"b": "2"}},
        "data": {"x": "1", "kept": None, "new": {"v": 1}},
    }


def test_patch_directives_on_maps() -> None:
    out = merge(
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: app
          labels: {$patch: replace, only: this}
        spec:
          template:
            metadata: {$patch: delete}
    """,
    )
    assert out is not None
    assert out["metadata"]["labels"] == {"only": "this"}
    assert "metadata" not in out["spec"]["template"]
    assert (
        merge(DEPLOY, "{apiVersion: apps/v1, kind: Deployment, metadata: {name: app}, $patch: delete}")
        is None
    )


def test_unknown_directive_is_an_error() -> None:
    with pytest.raises(KustomizeError, match=r"unknown patch strategy 'frobnicate' at spec"):
        merge(DEPLOY, "{apiVersion: apps/v1, kind: Deployment, spec: {$patch: frobnicate}}")


def test_changing_a_fields_type_is_an_error() -> None:
    with pytest.raises(KustomizeError, match=r"wrong node kind at metadata\.labels: expected MappingNode"):
        merge(DEPLOY, "{apiVersion: apps/v1, kind: Deployment, metadata: {labels: [a]}}")
    with pytest.raises(KustomizeError, match=r"at spec\.replicas: expected ScalarNode but got MappingNode"):
        merge(DEPLOY, "{apiVersion: apps/v1, kind: Deployment, spec: {replicas: {a: 1}}}")


# ----------------------------------------------------------------------------------------------
# lists


def test_containers_merge_by_name_patch_elements_first() -> None:
    out = merge(
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        spec:
          template:
            spec:
              containers:
                - {name: new, image: new:1}
                - name: main
                  image: app:2
                  env: [{name: C, value: "3"}, {name: A, value: "9"}]
    """,
    )
    assert out is not None
    assert [c["name"] for c in containers(out)] == ["new", "main", "sidecar"]
    main = containers(out)[1]
    assert main["image"] == "app:2"
    assert main["env"] == [
        {"name": "C", "value": "3"},
        {"name": "A", "value": "9"},
        {"name": "B", "value": "2"},
    ]
    assert main["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]


def test_list_element_directives() -> None:
    out = merge(
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        spec:
          template:
            spec:
              containers:
                - {name: sidecar, $patch: delete}
                - {name: main, $patch: replace, image: only}
              volumes:
                - $patch: replace
                - {name: fresh, emptyDir: {}}
    """,
    )
    assert out is not None
    # kyaml puts the unmerged element back for an element-level replace: it has no effect
    assert containers(out) == [containers(y(DEPLOY))[0]]
    assert out["spec"]["template"]["spec"]["volumes"] == [{"name": "fresh", "emptyDir": {}}]
    out = merge(
        DEPLOY,
        "{apiVersion: apps/v1, kind: Deployment, spec: {template: {spec: {volumes: [{$patch: delete}]}}}}",
    )
    assert out is not None and "volumes" not in out["spec"]["template"]["spec"]


def test_lists_without_merge_strategy_are_replaced() -> None:
    out = merge(
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        spec:
          template:
            spec:
              tolerations: [{key: b, operator: Exists}]
              containers: [{name: main, args: [--x]}]
    """,
    )
    assert out is not None
    assert out["spec"]["template"]["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]
    assert containers(out)[0]["args"] == ["--x"]


def test_container_ports_match_on_port_and_protocol() -> None:
    out = merge(
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        spec:
          template:
            spec:
              containers:
                - name: main
                  ports:
                    - {containerPort: 80, protocol: TCP, name: web}
                    - {containerPort: 443}
    """,
    )
    assert out is not None
    assert containers(out)[0]["ports"] == [
        {"containerPort": 443},
        {"containerPort": 80, "protocol": "TCP", "name": "web"},
        {"containerPort": 90},
    ]


def test_primitive_merge_list_finalizers() -> None:
    out = merge(
        "{apiVersion: v1, kind: ConfigMap, metadata: {name: c, finalizers: [a, b]}}",
        "{apiVersion: v1, kind: ConfigMap, metadata: {finalizers: [c, b]}}",
    )
    assert out is not None and out["metadata"]["finalizers"] == ["c", "b", "a"]


def test_directives_kustomize_does_not_interpret_are_kept_as_fields() -> None:
    out = merge(
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        spec:
          template:
            spec:
              $setElementOrder/containers: [{name: sidecar}, {name: main}]
              containers: [{name: main, $retainKeys: [name]}]
    """,
    )
    assert out is not None
    spec = out["spec"]["template"]["spec"]
    assert spec["$setElementOrder/containers"] == [{"name": "sidecar"}, {"name": "main"}]
    assert [c["name"] for c in spec["containers"]] == ["main", "sidecar"]
    assert spec["containers"][0]["$retainKeys"] == ["name"]


def test_merge_keys_compare_as_text() -> None:
    out = merge(
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        spec: {template: {spec: {containers: [{name: main, ports: [{containerPort: "90", name: m}]}]}}}
    """,
    )
    assert out is not None
    assert containers(out)[0]["ports"][-1] == {"containerPort": "90", "name": "m"}


def test_patched_scalar_keeps_quotes_of_a_string_that_needs_them() -> None:
    out = merge(
        '{apiVersion: v1, kind: ConfigMap, data: {a: "1", b: "", c: plain, d: "x: y"}}',
        "{apiVersion: v1, kind: ConfigMap, data: {a: 2, b: true, c: 3, d: 4.5}}",
    )
    assert out is not None and out["data"] == {"a": "2", "b": "true", "c": 3, "d": "4.5"}


# ----------------------------------------------------------------------------------------------
# custom resources


def test_helmrelease_values_merge_deeply_but_lists_are_replaced() -> None:
    out = merge(
        HELMRELEASE,
        """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: app, namespace: apps}
        spec:
          values:
            controllers:
              main:
                containers:
                  app:
                    image: {tag: "2.0"}
                    env: {LOG: debug}
            env:
              - {name: B, value: "3"}
            ingress: null
    """,
    )
    assert out is not None
    values = out["spec"]["values"]
    app = values["controllers"]["main"]["containers"]["app"]
    assert app["image"] == {"repository": "ghcr.io/x/app", "tag": "2.0"}
    assert app["env"] == {"TZ": "UTC", "LOG": "debug"}
    assert values["env"] == [{"name": "B", "value": "3"}]  # no merge key without a schema
    assert "ingress" not in values
    assert out["spec"]["chart"] == {"spec": {"chart": "app-template", "version": "3.0.0"}}


def test_embedded_builtin_object_gets_its_schema() -> None:
    base = """
        apiVersion: example.com/v1
        kind: Wrapper
        metadata: {name: w}
        spec:
          pod:
            apiVersion: v1
            kind: Pod
            spec: {containers: [{name: a, image: a}, {name: b, image: b}]}
    """
    out = merge(
        base,
        """
        apiVersion: example.com/v1
        kind: Wrapper
        spec: {pod: {spec: {containers: [{name: b, image: b2}]}}}
    """,
    )
    assert out is not None
    assert out["spec"]["pod"]["spec"]["containers"] == [
        {"name": "b", "image": "b2"},
        {"name": "a", "image": "a"},
    ]


# ----------------------------------------------------------------------------------------------
# schema facts


@pytest.mark.parametrize(
    ("api_version", "kind", "path", "keys"),
    [
        ("apps/v1", "Deployment", "spec.template.spec.containers", ("name",)),
        ("apps/v1", "StatefulSet", "spec.template.spec.initContainers", ("name",)),
        ("apps/v1", "DaemonSet", "spec.template.spec.containers.[].env", ("name",)),
        ("apps/v1", "Deployment", "spec.template.spec.containers.[].ports", ("containerPort", "protocol")),
        ("apps/v1", "Deployment", "spec.template.spec.containers.[].volumeMounts", ("mountPath",)),
        ("apps/v1", "Deployment", "spec.template.spec.volumes", ("name",)),
        ("apps/v1", "Deployment", "spec.template.spec.imagePullSecrets", ("name",)),
        (
            "apps/v1",
            "Deployment",
            "spec.template.spec.topologySpreadConstraints",
            ("topologyKey", "whenUnsatisfiable"),
        ),
        ("batch/v1", "CronJob", "spec.jobTemplate.spec.template.spec.containers", ("name",)),
        ("v1", "Pod", "spec.ephemeralContainers.[].env", ("name",)),
        ("v1", "Service", "spec.ports", ("port", "protocol")),
        ("v1", "ServiceAccount", "secrets", ("name",)),
        ("v1", "ConfigMap", "metadata.finalizers", ()),
        ("v1", "ConfigMap", "metadata.ownerReferences", ("uid",)),
        (
            "apps/v1",
            "Deployment",
            "spec.template.spec.volumes.[].ephemeral.volumeClaimTemplate.metadata.finalizers",
            (),
        ),
        ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "webhooks", ("name",)),
        ("kustomize.config.k8s.io/v1beta1", "Kustomization", "configMapGenerator", ("name",)),
        ("apps/v1", "Deployment", "spec.template.spec.tolerations", None),
        ("apps/v1", "Deployment", "spec.template.spec.containers.[].args", None),
        ("apps/v1", "StatefulSet", "spec.volumeClaimTemplates", None),
        ("networking.k8s.io/v1", "Ingress", "spec.rules", None),
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease", "spec.values.env", None),
    ],
)
def test_list_merge_keys(api_version: str, kind: str, path: str, keys: tuple[str, ...] | None) -> None:
    assert list_merge_keys(api_version, kind, path.split(".")) == keys
    assert is_merge_list(api_version, kind, path.split(".")) is (keys is not None)


# ----------------------------------------------------------------------------------------------
# the fast path for single-key lists gives what the general (kyaml-faithful) path gives

_names = st.sampled_from(["a", "b", "c", "d", "e", "f"])
_elem = st.fixed_dictionaries(
    {"name": _names},
    optional={
        "value": st.sampled_from(["1", "2", None]),
        "$patch": st.sampled_from(["delete", "replace", "merge"]),
        "mountPath": st.sampled_from(["/x", "/y"]),
    },
)


def _unique(elems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for e in elems:
        seen.setdefault(e["name"], e)
    return list(seen.values())


@settings(max_examples=300, deadline=None)
@given(st.lists(_elem, max_size=6), st.one_of(st.none(), st.lists(_elem, max_size=6)))
def test_fast_path_matches_general_path(
    base_env: list[dict[str, Any]], patch_env: list[dict[str, Any]] | None
) -> None:
    base_env = [{k: v for k, v in e.items() if k != "$patch"} for e in _unique(base_env)]
    base = {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "c", "env": base_env}]}}
    container: dict[str, Any] = {"name": "c"}
    if patch_env is not None:
        container["env"] = _unique(patch_env)
    patch = {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [container]}}
    fast = strategic_merge(base, patch)
    try:
        smp._FAST_PATH = False
        general = strategic_merge(base, patch)
    finally:
        smp._FAST_PATH = True
    assert fast == general


def test_big_lists_merge_in_linear_time() -> None:
    n = 20000
    base = {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [
        {"name": "c", "env": [{"name": f"V{i}", "value": str(i)} for i in range(n)]}]}}  # fmt: skip
    patch = {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [
        {"name": "c", "env": [{"name": f"V{i}", "value": "x"} for i in range(0, n, 2)]}]}}  # fmt: skip
    start = time.perf_counter()
    out = strategic_merge(base, patch)
    assert time.perf_counter() - start < 5
    assert out is not None
    env = out["spec"]["containers"][0]["env"]
    assert len(env) == n and env[0] == {"name": "V0", "value": "x"} and env[-1]["value"] == str(n - 1)


# ----------------------------------------------------------------------------------------------
# differential: the same resource and patch through `kubectl kustomize`

DIFF_CASES: list[tuple[str, str, str]] = [
    (
        "containers merge by name, env merge",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec:
          template:
            spec:
              containers:
                - {name: init, image: busybox}
                - name: main
                  image: app:2
                  env:
                    - {name: C, value: "3"}
                    - {name: A, value: "changed"}
                    - {name: B, $patch: delete}
                  volumeMounts:
                    - {name: cache, mountPath: /cache}
                    - {name: data2, mountPath: /data}
    """,
    ),
    (
        "volumes merge, initContainers added, imagePullSecrets",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec:
          template:
            spec:
              volumes:
                - {name: config, configMap: {name: cfg2}}
                - {name: extra, secret: {secretName: s}}
              initContainers:
                - {name: wait, image: busybox, env: [{name: X, value: null}]}
              imagePullSecrets: [{name: regcred}]
    """,
    ),
    (
        "$patch: delete on a container",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec: {template: {spec: {containers: [{name: sidecar, $patch: delete}]}}}
    """,
    ),
    (
        "$patch: replace on maps, lists and elements",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: app
          labels: {$patch: replace, only: label}
        spec:
          template:
            spec:
              containers:
                - {name: main, $patch: replace, image: ignored}
              volumes:
                - $patch: replace
                - {name: only, emptyDir: {}}
    """,
    ),
    (
        "$patch: delete on a list and a map",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec:
          template:
            metadata: {$patch: delete}
            spec:
              volumes: [{$patch: delete}]
    """,
    ),
    (
        "null deletes",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app, labels: {tier: null}}
        spec:
          replicas: null
          template:
            spec:
              tolerations: null
              containers: [{name: main, env: null, image: null}]
              nodeSelector: {absent: null}
    """,
    ),
    (
        "replaced lists: tolerations, args, volumeClaimTemplates",
        """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          volumeClaimTemplates:
            - metadata: {name: data}
              spec: {accessModes: [ReadWriteOnce]}
            - metadata: {name: logs}
          template:
            spec:
              tolerations: [{key: a}, {key: b}]
              containers: [{name: db, args: [a, b]}]
    """,
        """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          volumeClaimTemplates:
            - metadata: {name: data}
              spec: {resources: {requests: {storage: 1Gi}}}
          template:
            spec:
              tolerations: [{key: c}]
              containers: [{name: db, args: [c]}]
    """,
    ),
    (
        "container ports: port and protocol as keys",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec:
          template:
            spec:
              containers:
                - name: main
                  ports:
                    - {containerPort: 80, name: renamed}
                    - {containerPort: 90, protocol: UDP}
                    - {containerPort: 100}
                    - {containerPort: 80, protocol: TCP, name: tcp80}
    """,
    ),
    (
        "Service ports",
        """
        apiVersion: v1
        kind: Service
        metadata: {name: svc}
        spec:
          selector: {app: a}
          ports:
            - {port: 80, targetPort: 8080, name: http}
            - {port: 443, protocol: TCP, name: https}
            - {port: 53, protocol: UDP, name: dns}
    """,
        """
        apiVersion: v1
        kind: Service
        metadata: {name: svc}
        spec:
          ports:
            - {port: 443, protocol: TCP, targetPort: 8443}
            - {port: 53, protocol: TCP, name: dns-tcp}
            - {port: 80, targetPort: 9090}
            - {port: 8080, name: alt}
    """,
    ),
    (
        "topologySpreadConstraints (two keys)",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec:
          template:
            spec:
              topologySpreadConstraints:
                - {topologyKey: zone, whenUnsatisfiable: DoNotSchedule, maxSkew: 1}
    """,
    ),
    (
        "CronJob containers",
        """
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: job}
        spec:
          schedule: "@daily"
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: OnFailure
                  containers: [{name: a, image: a, env: [{name: X, value: "1"}]}]
    """,
        """
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: job}
        spec:
          jobTemplate:
            spec:
              template:
                spec:
                  containers: [{name: a, env: [{name: Y, value: "2"}]}, {name: b, image: b}]
    """,
    ),
    (
        "finalizers and ownerReferences",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: c
          finalizers: [a, b, "5"]
          ownerReferences: [{uid: "1", name: x, kind: K, apiVersion: v1}]
        data: {k: v}
    """,
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: c
          finalizers: [c, b, 5]
          ownerReferences: [{uid: "2", name: y, kind: K, apiVersion: v1}]
        data: {k: null, n: "1"}
    """,
    ),
    (
        "$setElementOrder, $retainKeys and $deleteFromPrimitiveList pass through",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec:
          template:
            spec:
              $setElementOrder/containers: [{name: sidecar}, {name: main}]
              containers:
                - name: main
                  $retainKeys: [name, image]
                  image: app:3
                  $deleteFromPrimitiveList/args: [a]
    """,
    ),
    (
        "merge keys compare as text",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec:
          template:
            spec:
              containers:
                - name: main
                  ports: [{containerPort: "90", name: ninety}]
    """,
    ),
    (
        "HelmRelease values deep merge",
        HELMRELEASE,
        """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: app, namespace: apps}
        spec:
          values:
            controllers:
              main:
                containers:
                  app:
                    image: {tag: "2.0"}
                    env: {TZ: null, LOG_LEVEL: debug}
            service:
              main:
                ports:
                  http: {port: 8080}
                  metrics: {port: 9090}
            persistence:
              config: {existingClaim: app-config}
    """,
    ),
    (
        "HelmRelease list of maps without schema is replaced",
        HELMRELEASE,
        """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: app, namespace: apps}
        spec:
          values:
            env:
              - {name: B, value: "3"}
            ingress:
              main:
                hosts:
                  - host: other.example.com
    """,
    ),
    (
        "HelmRelease directives",
        HELMRELEASE,
        """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: app, namespace: apps}
        spec:
          chart:
            spec: {$patch: replace, chart: other}
          values:
            service: {$patch: delete}
            env:
              - $patch: replace
              - {name: Q}
    """,
    ),
    (
        "embedded built-in object in a custom resource",
        """
        apiVersion: example.com/v1
        kind: Wrapper
        metadata: {name: app}
        spec:
          pod:
            apiVersion: v1
            kind: Pod
            spec:
              containers: [{name: x, image: x}, {name: y, image: y}]
    """,
        """
        apiVersion: example.com/v1
        kind: Wrapper
        metadata: {name: app}
        spec:
          pod:
            spec:
              containers: [{name: y, image: y2}]
    """,
    ),
    (
        "duplicate merge keys in the resource collapse",
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: app}
        spec:
          containers:
            - name: a
              env: [{name: X, value: "1"}, {name: X, value: "2"}, {name: Y}]
    """,
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: app}
        spec:
          containers: [{name: a, env: [{name: X, value: "p"}]}]
    """,
    ),
    (
        "element without merge key in the resource",
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: app}
        spec:
          containers:
            - {name: a, image: a}
            - {image: noname}
            - {name: c, image: c}
    """,
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: app}
        spec:
          containers: [{name: c, image: c2}]
    """,
    ),
    (
        "null and empty elements in the resource",
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: app}
        spec:
          containers: [{name: a, image: a}, null, {}, {name: c, image: c}]
    """,
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: app}
        spec:
          containers: [{name: d, image: d}]
    """,
    ),
    (
        "ephemeral volume claim template: its metadata has ObjectMeta's merge lists",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec:
          template:
            spec:
              containers: [{name: main, image: app:1}]
              volumes:
                - name: scratch
                  ephemeral:
                    volumeClaimTemplate:
                      metadata: {labels: {a: "1"}, finalizers: [one]}
                      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
    """,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec:
          template:
            spec:
              volumes:
                - name: scratch
                  ephemeral:
                    volumeClaimTemplate:
                      metadata: {finalizers: [two]}
                      spec: {accessModes: [ReadWriteMany]}
    """,
    ),
    (
        "replace marker where the resource has no list",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec:
          template:
            spec:
              initContainers:
                - $patch: replace
                - {name: a, image: x}
    """,
    ),
    (
        "patch adds a subtree with nulls and directives",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec:
          strategy:
            type: Recreate
            rollingUpdate: null
            extra: {$patch: delete, a: 1}
          template:
            spec:
              initContainers:
                - {name: i, image: i, env: [{name: K, value: null}]}
                - {name: j, $patch: delete}
    """,
    ),
    (
        "the resource's nulls survive",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c, labels: null}
        data: {a: null, b: "1"}
    """,
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c}
        data: {b: "2"}
    """,
    ),
    (
        "a patched scalar keeps the quotes of the one it replaces",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c}
        data:
          a: "1"
          b: "true"
          e: ""
          f: "1.0"
          d: abc
          g: 5
          m: |
            multi
            line
        """,
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c}
        data: {a: 2, b: false, e: 9, f: 1.5, d: 6, g: "8", m: 7}
        """,
    ),
    (
        "top-level $patch: delete removes the resource",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        $patch: delete
    """,
    ),
    (
        "type change is an error",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app, labels: [a]}
    """,
    ),
    (
        "unknown directive is an error",
        DEPLOY,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec: {$patch: frob}
    """,
    ),
]


def _kubectl_smp(tmp_path: Path, base: str, patch: str) -> tuple[Any, str]:
    (tmp_path / "resource.yaml").write_text(base)
    (tmp_path / "patch.yaml").write_text(patch)
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [resource.yaml]\npatches:\n  - path: patch.yaml\n"
    )
    assert KUBECTL is not None
    proc = subprocess.run([KUBECTL, "kustomize", str(tmp_path)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None, proc.stderr.strip() or "failed"
    docs = load_all(proc.stdout)
    return (docs[0] if docs else None), ""


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.parametrize(("base", "patch"), [c[1:] for c in DIFF_CASES], ids=[c[0] for c in DIFF_CASES])
def test_differential_against_kubectl(tmp_path: Path, base: str, patch: str) -> None:
    base, patch = textwrap.dedent(base), textwrap.dedent(patch)
    expected, error = _kubectl_smp(tmp_path, base, patch)
    try:
        merged = strategic_merge(load_one(base), load_one(patch))
    except KustomizeError as exc:
        assert error, f"kubectl succeeded where we failed with: {exc}"
        return
    assert not error, f"kubectl failed where we succeeded: {error}"
    ours = None if merged is None else load_one(dump(merged))  # through our writer, as the build prints it
    assert ours == expected


# ----------------------------------------------------------------------------------------------
# differential on random resources and patches (seeded): Deployments with the quirky parts of pod
# specs (missing and repeated merge keys, ports with and without protocol, directives, nulls) and a
# custom resource with nested values


class _Random:
    NAMES = ("a", "b", "c", "d")

    def __init__(self, seed: int) -> None:
        import random

        self.r = random.Random(seed)

    def env(self, patch: bool) -> list[Any]:
        out: list[Any] = []
        for _ in range(self.r.randint(0, 4)):
            e: dict[str, Any] = {}
            if self.r.random() < 0.93:
                e["name"] = self.r.choice(self.NAMES)
            if self.r.random() < 0.7:
                e["value"] = self.r.choice(["1", "2", None] if patch else ["1", "2"])
            if patch and self.r.random() < 0.15:
                e["$patch"] = self.r.choice(["delete", "replace", "merge"])
            out.append(e)
        if patch and self.r.random() < 0.1:
            out.insert(self.r.randint(0, len(out)), {"$patch": self.r.choice(["replace", "delete"])})
        return out

    def container(self, patch: bool) -> dict[str, Any]:
        r, c = self.r, {}
        if r.random() < 0.95:
            c["name"] = r.choice(self.NAMES)
        if r.random() < 0.6:
            c["image"] = r.choice(["i1", "i2", None] if patch else ["i1", "i2"])
        if r.random() < 0.6:
            c["env"] = self.env(patch)
        if r.random() < 0.4:
            c["ports"] = [
                {"containerPort": r.choice([80, 90, "80"])}
                | ({"protocol": r.choice(["TCP", "UDP"])} if r.random() < 0.5 else {})
                | ({"name": r.choice(["p", "q"])} if r.random() < 0.5 else {})
                for _ in range(r.randint(0, 3))
            ]
        if r.random() < 0.3:
            c["args"] = [r.choice(["-a", "-b"]) for _ in range(r.randint(0, 2))]
        if patch and r.random() < 0.1:
            c["$patch"] = r.choice(["delete", "replace"])
        return c

    def podspec(self, patch: bool) -> dict[str, Any]:
        r, s = self.r, {}
        if r.random() < 0.85:
            s["containers"] = [self.container(patch) for _ in range(r.randint(0, 3))]
        if r.random() < 0.3:
            s["volumes"] = [{"name": r.choice(self.NAMES), "emptyDir": {}} for _ in range(r.randint(0, 2))]
        if r.random() < 0.2:
            s["tolerations"] = [{"key": r.choice(self.NAMES)}]
        if patch and r.random() < 0.1:
            s["$patch"] = r.choice(["replace", "delete"])
        if r.random() < 0.2:
            s["nodeSelector"] = {r.choice(self.NAMES): r.choice(["v", None] if patch else ["v"])}
        return s

    def values(self, patch: bool, depth: int = 0) -> dict[str, Any]:
        r, v = self.r, {}
        for k in r.sample(self.NAMES, r.randint(0, 3)):
            x = r.random()
            if x < 0.3 and depth < 2:
                v[k] = self.values(patch, depth + 1)
            elif x < 0.5:
                v[k] = [{"name": r.choice(self.NAMES), "v": r.choice([1, 2])} for _ in range(r.randint(0, 2))]
            elif x < 0.6 and patch:
                v[k] = None
            else:
                v[k] = r.choice(["s", 1, True])
        if patch and r.random() < 0.1:
            v["$patch"] = r.choice(["replace", "delete"])
        return v

    def case(self, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        if self.r.random() < 0.6:
            head = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}}
            return (
                head | {"spec": {"template": {"spec": self.podspec(False)}}},
                head | {"spec": {"template": {"spec": self.podspec(True)}}},
            )
        head = {"apiVersion": "example.com/v1", "kind": "Release", "metadata": {"name": name}}
        return head | {"spec": {"values": self.values(False)}}, head | {"spec": {"values": self.values(True)}}


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.parametrize("seed", [1, 2])
def test_differential_random_against_kubectl(tmp_path: Path, seed: int) -> None:
    gen = _Random(seed)
    cases = [gen.case(f"r{i}") for i in range(60)]
    ours: dict[str, Any] = {}
    for base, patch in cases:
        name = base["metadata"]["name"]
        try:
            merged = strategic_merge(base, patch)
        except KustomizeError:
            (tmp_path / name).mkdir()
            _, error = _kubectl_smp(tmp_path / name, dump(base), dump(patch))
            assert error, f"{name}: kubectl succeeded where we failed\nbase: {base}\npatch: {patch}"
            continue
        ours[name] = None if merged is None else load_one(dump(merged))
    # the cases we can merge, in one kustomization
    ok = [(b, p) for b, p in cases if b["metadata"]["name"] in ours]
    (tmp_path / "resources.yaml").write_text("---\n".join(dump(b) for b, _ in ok))
    entries = []
    for base, patch in ok:
        (tmp_path / f"{base['metadata']['name']}.yaml").write_text(dump(patch))
        entries.append(f"  - path: {base['metadata']['name']}.yaml\n")
    (tmp_path / "kustomization.yaml").write_text("resources: [resources.yaml]\npatches:\n" + "".join(entries))
    assert KUBECTL is not None
    proc = subprocess.run([KUBECTL, "kustomize", str(tmp_path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    theirs = {doc["metadata"]["name"]: doc for doc in load_all(proc.stdout)}
    for base, patch in ok:
        name = base["metadata"]["name"]
        assert ours[name] == theirs.get(name), f"{name}\nbase: {base}\npatch: {patch}"
