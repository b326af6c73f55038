"""Divergences from ``kubectl kustomize`` found on public home-ops repositories (bench/field_kustomize.py).

Each test builds a small fixture written here, asserts the concrete value kustomize v5.5 produces (or
that the build fails), then, when kubectl is on PATH, that the native engine equals kubectl on it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from homeops.core import yamlemit, yamlio
from homeops.core.errors import HomeopsError
from homeops.kustomize.build import Builder, BuildOptions
from support import write_tree as write


def native(directory: Path, root: Path | None = None, restrictor: str = "rootOnly") -> list[dict[str, Any]]:
    resources = Builder(root or directory, options=BuildOptions(load_restrictor=restrictor)).build(directory)
    return list(yamlio.load_all(yamlemit.dump_all(r.obj for r in resources)))


def native_error(directory: Path, root: Path | None = None, restrictor: str = "rootOnly") -> str:
    with pytest.raises(HomeopsError) as info:
        native(directory, root, restrictor)
    text = info.value.one_line()
    assert "\n" not in text
    return text


def kubectl_build(directory: Path, restrictor: str = "rootOnly") -> tuple[list[Any] | None, str]:
    text, error = kubectl_text(directory, restrictor)
    return (None, error) if text is None else (yamlio.load_all(text), "")


def kubectl_text(directory: Path, restrictor: str = "rootOnly") -> tuple[str | None, str]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not on PATH: the comparison with the reference kustomize is skipped")
    flag = "LoadRestrictionsRootOnly" if restrictor == "rootOnly" else "LoadRestrictionsNone"
    proc = subprocess.run(
        ["kubectl", "kustomize", "--load-restrictor", flag, str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return None, proc.stderr
    return proc.stdout, ""


def same_as_kubectl(directory: Path, actual: list[dict[str, Any]], restrictor: str = "rootOnly") -> None:
    """The same objects as kubectl, and the same bytes when printed."""
    expected, error = kubectl_text(directory, restrictor)
    assert expected is not None, f"kubectl fails: {error}"
    assert actual == yamlio.load_all(expected)
    assert yamlemit.dump_all(actual) == expected


def kubectl_fails(directory: Path, fragment: str = "", restrictor: str = "rootOnly") -> None:
    expected, error = kubectl_build(directory, restrictor)
    assert expected is None, "kubectl builds this directory"
    assert fragment in error


def by_name(objs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [o for o in objs if o["metadata"]["name"] == name]
    assert len(found) == 1, [o["metadata"]["name"] for o in objs]
    return found[0]


CM = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
"""


# ------------------------------------------------------------------------------------------ kustomization file


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "---\n",
        "kind: Kustomization\n",
        "resources:\n",
        "namespace: ''\n",
        "bases: []\n",
    ],
)
def test_empty_kustomization_is_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "kustomization.yaml").write_text(text)
    assert "kustomization.yaml is empty" in native_error(tmp_path)
    kubectl_fails(tmp_path, "kustomization.yaml is empty")


@pytest.mark.parametrize("text", ["resources: []\n", "commonLabels: {}\n", "generatorOptions: {}\n"])
def test_empty_lists_and_maps_are_not_empty(tmp_path: Path, text: str) -> None:
    (tmp_path / "kustomization.yaml").write_text(text)
    assert native(tmp_path) == []
    same_as_kubectl(tmp_path, [])


@pytest.mark.parametrize(("text", "fragment"), [
    ("apiVersion: kustomize.config.k8s.io/v1\nresources: [cm.yaml]\n", "apiVersion for Kustomization should be"),
    ("kind: Kustomisation\nresources: [cm.yaml]\n", "kind should be Kustomization or Component"),
    ("kind: Component\napiVersion: kustomize.config.k8s.io/v1beta1\nresources: [cm.yaml]\n",
     "apiVersion for Component should be"),
])  # fmt: skip
def test_kind_and_api_version_are_enforced(tmp_path: Path, text: str, fragment: str) -> None:
    write(tmp_path, {"kustomization.yaml": text, "cm.yaml": CM})
    assert fragment in native_error(tmp_path)
    kubectl_fails(tmp_path, fragment)


@pytest.mark.parametrize(("text", "fragment"), [
    ("patches:\n- pathc: p.yaml\n", "unknown field 'pathc'"),
    ("configMapGenerator:\n- name: x\n  literals: [a=b]\n  foo: bar\n", "unknown field 'foo'"),
    ("labels:\n- pairs: {a: b}\n  includeVolumeClaimTemplates: true\n", "unknown field 'includeVolumeClaimTemplates'"),
    ("commonLabels: {a: 1}\n", "cannot unmarshal number into Go struct field"),
    ("namespace: 5\n", "cannot unmarshal number"),
    ("replicas:\n- name: cm\n  count: '2'\n", "cannot unmarshal string"),
    ("labels:\n- pairs: {a: b}\n  includeSelectors: 'yes'\n", "cannot unmarshal string"),
    ("commonLabels: {enabled: on}\n", "cannot unmarshal bool"),
    ("commonAnnotations: {a: Y}\n", "cannot unmarshal bool"),
    ("configMapGenerator:\n- name: x\n  literals: [yes]\n", "cannot unmarshal bool"),
])  # fmt: skip
def test_kustomization_is_decoded_strictly(tmp_path: Path, text: str, fragment: str) -> None:
    write(tmp_path, {"kustomization.yaml": "resources: [cm.yaml]\n" + text, "cm.yaml": CM})
    assert fragment in native_error(tmp_path)
    kubectl_fails(tmp_path)


def test_field_names_match_case_insensitively_and_yaml11_booleans(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": """
        Resources: [cm.yaml]
        nameprefix: p-
        images:
        - name: nginx
          newtag: "2"
        configMapGenerator:
        - name: gen
          literals: [a=b]
          options:
            disableNameSuffixHash: yes
        """,
            "cm.yaml": CM + "data:\n  image: nginx:1\n",
        },
    )
    objs = native(tmp_path)
    assert [o["metadata"]["name"] for o in objs] == ["p-cm", "p-gen"]
    same_as_kubectl(tmp_path, objs)


# ------------------------------------------------------------------------------------------ builtin plugins


def test_builtin_transformers_inline_file_and_directory(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/kustomization.yaml": """
            resources: [cm.yaml]
            transformers:
            - ./ns
            - annotate.yaml
            - |-
              apiVersion: builtin
              kind: LabelTransformer
              metadata:
                name: label
              labels:
                team: a
              fieldSpecs:
              - path: metadata/labels
                create: true
            """,
        "app/cm.yaml": CM + "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: old\n",
        "app/annotate.yaml": """
            apiVersion: builtin
            kind: AnnotationsTransformer
            metadata:
              name: annotate
            annotations:
              only: namespaces
            fieldSpecs:
            - path: metadata/annotations
              kind: Namespace
              create: true
            """,
        # a directory of configurations is built first: its namespace: sets the transformer's target
        "app/ns/kustomization.yaml": "namespace: target\nresources: [../../shared]\n",
        "shared/kustomization.yaml": "resources: [ns.yaml]\n",
        "shared/ns.yaml": """
            apiVersion: builtin
            kind: NamespaceTransformer
            metadata:
              name: set-ns
              namespace: placeholder
            fieldSpecs:
            - path: metadata/name
              kind: Namespace
              create: true
            """,
    })  # fmt: skip
    objs = native(tmp_path / "app", tmp_path)
    ns, cm = by_name(objs, "target"), by_name(objs, "cm")
    assert ns["metadata"] == {
        "name": "target",
        "labels": {"team": "a"},
        "annotations": {"only": "namespaces"},
    }
    assert cm["metadata"] == {"name": "cm", "namespace": "target", "labels": {"team": "a"}}
    same_as_kubectl(tmp_path / "app", objs)


def test_builtin_generator_and_patch_transformer(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": """
            generators:
            - |-
              apiVersion: builtin
              kind: ConfigMapGenerator
              metadata:
                name: generated
                namespace: ns
              literals: [k=v]
              options:
                disableNameSuffixHash: true
            transformers:
            - |-
              apiVersion: builtin
              kind: PatchTransformer
              metadata:
                name: patch
              target:
                kind: ConfigMap
              patch: |-
                - op: add
                  path: /data/added
                  value: "1"
            - |-
              apiVersion: builtin
              kind: PrefixSuffixTransformer
              metadata:
                name: affix
              prefix: p-
              fieldSpecs:
              - path: metadata/name
            """,
    })  # fmt: skip
    objs = native(tmp_path)
    assert objs == [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "p-generated", "namespace": "ns"},
            "data": {"k": "v", "added": "1"},
        }
    ]
    same_as_kubectl(tmp_path, objs)


def test_non_builtin_plugin_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": """
        resources: [cm.yaml]
        transformers:
        - |-
          apiVersion: example.com/v1
          kind: MyTransformer
          metadata:
            name: mine
        """,
            "cm.yaml": CM,
        },
    )
    assert "not a builtin" in native_error(tmp_path)
    kubectl_fails(tmp_path)


# ------------------------------------------------------------------------------------------ transformers


def test_replicas_entry_matching_nothing_fails(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"kustomization.yaml": "resources: [cm.yaml]\nreplicas:\n- name: nope\n  count: 2\n", "cm.yaml": CM},
    )
    assert "resource with name nope does not match" in native_error(tmp_path)
    kubectl_fails(tmp_path, "does not match a config")


def test_namespace_ignores_helm_generated_annotation_and_keeps_subjects_spec(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": """
        resources: [r.yaml]
        transformers:
        - |-
          apiVersion: builtin
          kind: NamespaceTransformer
          metadata:
            name: ns
            namespace: foo
          setRoleBindingSubjects: none
          fieldSpecs:
          - path: subjects/namespace
            kind: RoleBinding
        """,
            "r.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: a
          annotations:
            kustomize.config.k8s.io/helm-generated: "true"
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata:
          name: rb
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
        subjects:
        - {kind: ServiceAccount, name: default}
        """,
        },
    )
    objs = native(tmp_path)
    assert by_name(objs, "a")["metadata"]["namespace"] == "foo"
    assert by_name(objs, "rb")["subjects"] == [{"kind": "ServiceAccount", "name": "default"}]
    same_as_kubectl(tmp_path, objs)


DEPLOY = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: app
        image: nginx:1.0
        envFrom:
        - configMapRef: {name: cfg}
"""


def test_legacy_json6902_rename_does_not_move_references(tmp_path: Path) -> None:
    patch = "  patch: |\n    - op: replace\n      path: /metadata/name\n      value: renamed\n"
    for key, expected in (("patchesJson6902", "cfg"), ("patches", "renamed")):
        d = write(tmp_path / key, {
            "kustomization.yaml": f"resources: [d.yaml, cm.yaml]\n{key}:\n- target: {{kind: ConfigMap, name: cfg}}\n"
                                  + patch,
            "d.yaml": DEPLOY, "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n"})  # fmt: skip
        objs = native(d)
        ref = by_name(objs, "app")["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["configMapRef"][
            "name"
        ]
        assert ref == expected, key
        same_as_kubectl(d, objs)


def test_include_templates_labels_volume_claim_templates(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [s.yaml]\nlabels:\n- pairs: {team: a}\n  includeTemplates: true\n",
            "s.yaml": """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: s}
        spec:
          selector: {matchLabels: {a: b}}
          template:
            metadata: {labels: {a: b}}
            spec: {containers: [{name: c, image: x}]}
          volumeClaimTemplates:
          - metadata: {name: data}
        """,
        },
    )
    objs = native(tmp_path)
    assert objs[0]["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"] == {"team": "a"}
    same_as_kubectl(tmp_path, objs)


def test_annotations_are_rewritten_as_strings_and_empty_ones_dropped(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [r.yaml]\n",
            "r.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: a, annotations: {i: 1, b: true, n: null, s: x}, labels: {i: 1}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: b, annotations: {}, labels: {}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c, annotations: null}
        """,
        },
    )
    objs = native(tmp_path)
    assert by_name(objs, "a")["metadata"] == {
        "name": "a",
        "annotations": {"i": "1", "b": "true", "n": "null", "s": "x"},
        "labels": {"i": 1},
    }
    assert by_name(objs, "b")["metadata"] == {"name": "b", "labels": {}}
    assert by_name(objs, "c")["metadata"] == {"name": "c"}
    same_as_kubectl(tmp_path, objs)


@pytest.mark.parametrize(("entry", "before", "after"), [
    ('{name: "*", newTag: x}', ["ghcr.io/o/app:v1", "busybox"], ["ghcr.io/o/app:x", "busybox:x"]),
    # v5.5 matches a digest only when it is sha256
    ('{name: busybox, newTag: "2"}', ["busybox@sha256:abc", "busybox@sha512:abc"], ["busybox:2", "busybox@sha512:abc"]),
])  # fmt: skip
def test_image_name_star_and_sha256_digests(
    tmp_path: Path, entry: str, before: list[str], after: list[str]
) -> None:
    containers = "".join(
        f'              - {{name: c{i}, image: "{image}"}}\n' for i, image in enumerate(before)
    )
    write(
        tmp_path,
        {
            "kustomization.yaml": f"resources: [d.yaml]\nimages:\n- {entry}\n",
            "d.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d}
        spec:
          selector: {matchLabels: {a: b}}
          template:
            metadata: {labels: {a: b}}
            spec:
              containers:
"""
            + containers,
        },
    )
    objs = native(tmp_path)
    assert [c["image"] for c in objs[0]["spec"]["template"]["spec"]["containers"]] == after
    same_as_kubectl(tmp_path, objs)


# ------------------------------------------------------------------------------------------ replacements

WIDGET = """
apiVersion: v1
kind: ConfigMap
metadata: {name: src}
data: {num: "3", word: hello}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  count: 1
  text: x
  list:
  - {name: app, v: old}
  - {name: myapp-2, v: old}
  - {name: other, v: old}
  prims: [a, b1, c]
"""


def test_replacement_targets_keep_type_and_match_by_regex(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": """
        resources: [r.yaml]
        replacements:
        - source: {kind: ConfigMap, name: src, fieldPath: data.num}
          targets:
          - select: {kind: Widget}
            fieldPaths: ["spec.count", "spec.text", "spec.list.[name=app].v", "spec.prims.[=b.*]", "spec.created"]
            options: {create: true}
        """,
            "r.yaml": WIDGET,
        },
    )
    spec = by_name(native(tmp_path), "w")["spec"]
    assert spec["count"] == 3  # an integer field stays an integer
    assert spec["text"] == "3"
    assert spec["created"] == 3  # a created field has no type: plain "3" is an integer
    assert [e["v"] for e in spec["list"]] == ["3", "3", "old"]  # [name=app] is an unanchored regex
    assert spec["prims"] == ["a", "3", "c"]
    same_as_kubectl(tmp_path, native(tmp_path))


def test_replacement_text_into_integer_field_fails(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": """
        resources: [r.yaml]
        replacements:
        - source: {kind: ConfigMap, name: src, fieldPath: data.word}
          targets:
          - select: {kind: Widget}
            fieldPaths: [spec.count]
        """,
            "r.yaml": WIDGET,
        },
    )
    assert "cannot decode !!str `hello` as a !!int" in native_error(tmp_path)
    kubectl_fails(tmp_path, "cannot decode")


def test_replacement_missing_target_field_fails_without_create(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": """
        resources: [r.yaml]
        replacements:
        - source: {kind: ConfigMap, name: src, fieldPath: data.num}
          targets:
          - select: {kind: Widget}
            fieldPaths: [spec.nothere.deep]
        """,
            "r.yaml": WIDGET,
        },
    )
    assert "unable to find field 'spec.nothere.deep'" in native_error(tmp_path)
    kubectl_fails(tmp_path, "unable to find field")


def test_replacement_path_file_reads_first_document_only(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [r.yaml]\nreplacements:\n- path: repl.yaml\n",
            "r.yaml": WIDGET,
            "repl.yaml": """
        source: {kind: ConfigMap, name: src, fieldPath: data.word}
        targets:
        - select: {kind: Widget}
          fieldPaths: [metadata.annotations.first]
          options: {create: true}
        ---
        source: {kind: ConfigMap, name: src, fieldPath: data.word}
        targets:
        - select: {kind: Widget}
          fieldPaths: [metadata.annotations.second]
          options: {create: true}
        """,
        },
    )
    objs = native(tmp_path)
    assert by_name(objs, "w")["metadata"]["annotations"] == {"first": "hello"}
    same_as_kubectl(tmp_path, objs)


# ------------------------------------------------------------------------------------------ strategic merge


def test_patch_drops_empty_nulls_of_the_resource_but_keeps_written_ones(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": """
        resources: [d.yaml]
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d}
            spec: {replicas: 2}
        """,
            "d.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: d
        spec:
          paused: null
          strategy:
            rollingUpdate: ~
          selector: {matchLabels: {a: b}}
          template:
            metadata: {labels: {a: b}}
            spec:
              affinity:
                nodeAffinity:
                  preferredDuringSchedulingIgnoredDuringExecution:
                  requiredDuringSchedulingIgnoredDuringExecution:   # nothing here
              containers:
              - name: c
                image: x
                env:
                - name: E
                  value:
        """,
        },
    )
    spec = native(tmp_path)[0]["spec"]
    assert spec["paused"] is None and spec["strategy"] == {"rollingUpdate": None}
    assert spec["template"]["spec"]["affinity"] == {"nodeAffinity": {}}
    assert spec["template"]["spec"]["containers"][0]["env"] == [{"name": "E"}]
    same_as_kubectl(tmp_path, native(tmp_path))


# ------------------------------------------------------------------------------------------ top-level options


def test_build_metadata_managed_by_label_and_origin_annotations(tmp_path: Path) -> None:
    write(tmp_path, {
        "base/kustomization.yaml": "resources: [cm.yaml]\nconfigMapGenerator:\n- name: gen\n  literals: [a=b]\n",
        "base/cm.yaml": CM,
        "top/kustomization.yaml": """
            resources: [../base, local.yaml]
            buildMetadata: [managedByLabel, originAnnotations]
            generators:
            - |-
              apiVersion: builtin
              kind: SecretGenerator
              metadata:
                name: plug
              literals: [p=q]
            """,
        "top/local.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n",
    })  # fmt: skip
    objs = native(tmp_path / "top", tmp_path)
    origin = "config.kubernetes.io/origin"
    assert all(o["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "kustomize-(devel)"} for o in objs)
    assert by_name(objs, "cm")["metadata"]["annotations"][origin] == "path: ../base/cm.yaml\n"
    assert by_name(objs, "svc")["metadata"]["annotations"][origin] == "path: local.yaml\n"
    gen = next(o for o in objs if o["metadata"]["name"].startswith("gen-"))
    assert gen["metadata"]["annotations"][origin] == (
        "configuredIn: ../base/kustomization.yaml\nconfiguredBy:\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n"
    )
    plug = next(o for o in objs if o["metadata"]["name"].startswith("plug-"))
    assert plug["metadata"]["annotations"][origin] == (
        "configuredIn: kustomization.yaml\nconfiguredBy:\n  apiVersion: builtin\n  kind: SecretGenerator\n"
        "  name: plug\n"
    )
    same_as_kubectl(tmp_path / "top", objs)


def test_openapi_version_other_than_the_builtin_one_fails(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "ok/kustomization.yaml": "resources: [cm.yaml]\nopenapi:\n  version: v1.21.2\n",
            "ok/cm.yaml": CM,
            "bad/kustomization.yaml": "resources: [cm.yaml]\nopenapi:\n  version: v1.20.4\n",
            "bad/cm.yaml": CM,
        },
    )
    objs = native(tmp_path / "ok")
    assert [o["metadata"]["name"] for o in objs] == ["cm"]
    same_as_kubectl(tmp_path / "ok", objs)
    assert "OpenAPI version is not built in" in native_error(tmp_path / "bad")
    kubectl_fails(tmp_path / "bad", "not built in")


# ------------------------------------------------------------------------------------------ symlinks


def test_symlinks_resolve_as_kustomize_loader_does(tmp_path: Path) -> None:
    write(tmp_path, {
        "real/app/kustomization.yaml": "resources: [../shared]\n",
        "real/shared/kustomization.yaml": "resources: [cm.yaml]\n",
        "real/shared/cm.yaml": CM,
        "top/kustomization.yaml": "resources: [../elsewhere/link]\n",
        "outside/o.yaml": CM.replace("name: cm", "name: out"),
        "linked/kustomization.yaml": "resources: [o.yaml]\n",
    })  # fmt: skip
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "link").symlink_to(tmp_path / "real" / "app")
    (tmp_path / "linked" / "o.yaml").symlink_to(tmp_path / "outside" / "o.yaml")
    # a symlinked kustomization directory resolves its own entries from where it really is
    objs = native(tmp_path / "top", tmp_path)
    assert [o["metadata"]["name"] for o in objs] == ["cm"]
    same_as_kubectl(tmp_path / "top", objs)
    # rootOnly looks through a symlinked file: its target lies outside the kustomization
    assert "security; file 'o.yaml' is not in or below" in native_error(tmp_path / "linked", tmp_path)
    kubectl_fails(tmp_path / "linked", "security")
    objs = native(tmp_path / "linked", tmp_path, "none")
    assert [o["metadata"]["name"] for o in objs] == ["out"]
    same_as_kubectl(tmp_path / "linked", objs, "none")


def test_replacement_into_null_field_and_into_a_field_created_earlier(tmp_path: Path) -> None:
    repl = """
        resources: [r.yaml]
        replacements:
        - source: {kind: ConfigMap, name: src, fieldPath: data.num}
          targets:
          - select: {kind: Widget}
            fieldPaths: [spec.created]
            options: {create: true}
        - source: {kind: ConfigMap, name: src, fieldPath: data}
          targets:
          - select: {kind: Widget}
            fieldPaths: [spec.created]
        """
    d = write(tmp_path / "created", {"kustomization.yaml": repl, "r.yaml": WIDGET})
    # the field the first replacement created has no type yet: a map's (empty) text makes it null
    assert by_name(native(d), "w")["spec"]["created"] is None
    same_as_kubectl(d, native(d))
    d = write(
        tmp_path / "null",
        {
            "r.yaml": WIDGET + "  nothing: null\n",
            "kustomization.yaml": """
        resources: [r.yaml]
        replacements:
        - source: {kind: ConfigMap, name: src, fieldPath: data.word}
          targets:
          - select: {kind: Widget}
            fieldPaths: [spec.nothing]
        """,
        },
    )
    assert "cannot decode !!str `hello` as a !!null" in native_error(d)
    kubectl_fails(d, "as a !!null")


def test_objects_left_with_one_id_or_no_name_fail(tmp_path: Path) -> None:
    d = write(
        tmp_path / "same",
        {
            "r.yaml": WIDGET + "---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w2\n",
            "kustomization.yaml": """
        resources: [r.yaml]
        replacements:
        - source: {kind: ConfigMap, name: src, fieldPath: data.word}
          targets:
          - select: {kind: Widget}
            fieldPaths: [metadata.name]
        """,
        },
    )
    assert "may not add resource with an already registered id: Widget hello" in native_error(d)
    kubectl_fails(d, "already registered id")
    d = write(
        tmp_path / "generate",
        {
            "kustomization.yaml": "resources: [r.yaml]\n",
            "r.yaml": """
        apiVersion: batch/v1
        kind: Job
        metadata:
          generateName: job-
        """,
        },
    )
    assert "missing metadata.name" in native_error(d)
    kubectl_fails(d, "missing metadata.name")


# ------------------------------------------------------------------------------------------ selectors

THREE = """
apiVersion: v1
kind: ConfigMap
metadata: {name: a, labels: {tier: web, n: "7"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, labels: {tier: db}}
---
apiVersion: v1
kind: Secret
metadata: {name: c}
"""
ADD_HIT = "  patch: |-\n    - {op: add, path: /metadata/annotations, value: {hit: 'yes'}}\n"


@pytest.mark.parametrize(("target", "hits"), [
    ("{}", ["a", "b", "c"]),  # an empty target selects everything
    ("{labelSelector: 'tier notin (db), !missing'}", ["a", "c"]),
    ("{labelSelector: 'tier in (web,,db)'}", ["a", "b"]),
    ("{labelSelector: 'n>5'}", ["a"]),
    # the selector is parsed only for objects whose kind matched: no Deployment, no error
    ("{kind: Deployment, labelSelector: 'a in x'}", []),
])  # fmt: skip
def test_patch_target_selectors(tmp_path: Path, target: str, hits: list[str]) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": f"resources: [r.yaml]\npatches:\n- target: {target}\n" + ADD_HIT,
            "r.yaml": THREE,
        },
    )
    objs = native(tmp_path)
    assert sorted(o["metadata"]["name"] for o in objs if o["metadata"].get("annotations")) == hits
    same_as_kubectl(tmp_path, objs)


@pytest.mark.parametrize(("selector", "fragment"), [
    ("a in x", "expected: '('"),
    ("a/b/c=d", "invalid label key"),
    ("tier=" + "x" * 64, "must be no more than 63 characters"),
    ("tier,", "expected: identifier after ','"),
    ("!tier=web", "expected: ',' or 'end of string'"),
])  # fmt: skip
def test_invalid_label_selectors_fail(tmp_path: Path, selector: str, fragment: str) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": f"resources: [r.yaml]\npatches:\n- target: {{labelSelector: '{selector}'}}\n"
            + ADD_HIT,
            "r.yaml": THREE,
        },
    )
    assert fragment in native_error(tmp_path)
    kubectl_fails(tmp_path, fragment.split("'")[0])


def test_json_patch_sees_an_annotations_map_on_every_object(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": """
        resources: [r.yaml]
        configMapGenerator:
        - name: gen
          literals: [a=b]
          options: {disableNameSuffixHash: true}
        patches:
        - target: {kind: ConfigMap}
          patch: |-
            - {op: add, path: /metadata/annotations/x, value: "1"}
        - target: {kind: Secret}
          patch: |-
            - {op: remove, path: /metadata/annotations}
        """,
            "r.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n---\n"
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n",
        },
    )
    objs = native(tmp_path)
    assert by_name(objs, "gen")["metadata"]["annotations"] == {"x": "1"}
    assert by_name(objs, "plain")["metadata"]["annotations"] == {"x": "1"}
    assert by_name(objs, "s")["metadata"] == {"name": "s"}
    same_as_kubectl(tmp_path, objs)


def test_build_annotations_exist_only_once_kustomize_stored_a_previous_id(tmp_path: Path) -> None:
    legacy = (
        "patchesJson6902:\n- target: {version: v1, kind: ConfigMap, name: plain}\n  patch: |-\n"
        "    - {op: add, path: /metadata/annotations/x, value: '1'}\n"
    )
    plain = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n"
    # the legacy JSON patch stores no previous id: on an untouched object there is no annotations map
    d = write(tmp_path / "plain", {"kustomization.yaml": "resources: [r.yaml]\n" + legacy, "r.yaml": plain})
    assert "missing path '/metadata/annotations/x'" in native_error(d)
    kubectl_fails(d, "missing path")
    # a namespace set below stored one: now the map exists
    d = write(
        tmp_path / "ns",
        {
            "base/kustomization.yaml": "resources: [r.yaml]\nnamespace: ns\n",
            "base/r.yaml": plain,
            "top/kustomization.yaml": "resources: [../base]\n" + legacy,
        },
    )
    objs = native(d / "top", d)
    assert objs[0]["metadata"]["annotations"] == {"x": "1"}
    same_as_kubectl(d / "top", objs)


def test_numbers_read_and_round_tripped_as_go_does(tmp_path: Path) -> None:
    """go-yaml's ParseInt takes ``0X`` like ``0x``; an overflowing float stays a string; ``+`` then a
    uint64 is a float; the JSON round trip prints an integral float64 with Go's shortest digits."""
    write(
        tmp_path,
        {
            "kustomization.yaml": """
                resources: [cm.yaml]
                patches:
                - target: {kind: ConfigMap}
                  patch: |
                    - op: add
                      path: /spec
                      value: {a: 1152921504606846977, c: 0X1F, e: 1e400, g: 12345678901234567890}
            """,
            "cm.yaml": """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: x}
                data: {q: "0X1F", r: 0X1F, s: 1e400, v: +18446744073709551615}
            """,
        },
    )
    actual = native(tmp_path)
    assert actual[0]["data"] == {"q": "0X1F", "r": 31, "s": "1e400", "v": 1.8446744073709552e19}
    assert actual[0]["spec"] == {"a": 1152921504606847000, "c": 31, "e": "1e400", "g": 12345678901234567000}
    same_as_kubectl(tmp_path, actual)


def test_a_resources_own_folded_annotations_are_not_broken_before_more_indented_lines(tmp_path: Path) -> None:
    """go-yaml's folded emitter adds a break before a more-indented line of a folded value; kustomize
    sets a resource's own annotations again as new strings before it writes the resource out, so they
    keep the value as written, while its labels and nested annotations take the break."""
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [route.yaml]\n",
            "route.yaml": """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                  annotations:
                    example.com/expr: >-
                      first(
                        indented
                      )
                  labels:
                    plain: value
                spec:
                  template:
                    metadata:
                      annotations:
                        example.com/nested: >-
                          first(
                            indented
                          )
            """,
        },
    )
    actual = native(tmp_path)
    assert actual[0]["metadata"]["annotations"]["example.com/expr"] == "first(\n  indented\n)"
    nested = actual[0]["spec"]["template"]["metadata"]["annotations"]["example.com/nested"]
    assert nested == "first(\n\n  indented\n)"
    same_as_kubectl(tmp_path, actual)


def test_an_empty_value_inside_a_flow_collection_is_an_empty_string(tmp_path: Path) -> None:
    """``{a: }``, ``{a}`` and ``[b: ]`` hold an empty string once kustomize has written the resource
    out (go-yaml's emitter quotes an empty scalar in flow style), a null in block style; an alias takes
    the style of where it is used; ``~`` and an explicit ``!!null`` stay null (a JSON-style HelmRelease
    with ``key: ,`` in its values diverged from kubectl kustomize)."""
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [cm.yaml]\n",
            "cm.yaml": """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: x}
                spec:
                  block:
                  flow: {a: , b: 1, c, d: ~, e: !!null , f: &empty }
                  pairs: [g: , {h: }]
                  inBlock: *empty
                  held: &held
                    i:
                  inFlow: [*held, *empty]
                  again: *held
            """,
        },
    )
    actual = native(tmp_path)
    assert actual[0]["spec"] == {
        "block": None,
        "flow": {"a": "", "b": 1, "c": "", "d": None, "e": None, "f": ""},
        "pairs": [{"g": ""}, {"h": ""}],
        "inBlock": None,
        "held": {"i": None},
        "inFlow": [{"i": ""}, ""],
        "again": {"i": None},
    }
    same_as_kubectl(tmp_path, actual)
