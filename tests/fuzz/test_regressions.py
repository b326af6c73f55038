"""Malformed input found by fuzzing (issue 17): each is one located error, never an internal error.

Every case is our own minimal repository (one cluster, a root Flux Kustomization ``apps`` applying
``./apps``, which holds the Flux Kustomization ``demo`` of ``./demo`` and an OCIRepository) with one
field broken. Before the fix each of these stopped the whole run with exit 70; now the object or the
Kustomization it belongs to fails with one line saying what was expected, at the field's line, and
the other Kustomizations still render.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from minimal_repo import BASE, DEMO_KS, LONG, SOURCE_REF, TYPE_HINT, write

from support import EXAMPLE, run_cli

# (case, files changed, the one error line `build ks` prints)
BUILD_CASES = [
    (
        "kind is a list",
        {"demo/cm.yaml": "apiVersion: v1\nkind: [ConfigMap]\nmetadata: {name: greeting}\n"},
        "demo/cm.yaml:2: flux-system/demo: missing kind in object (every resource needs apiVersion and kind)",
    ),
    (
        "commonMetadata labels is a string",
        {"apps/demo.yaml": BASE["apps/demo.yaml"] + "  commonMetadata:\n    labels: x\n"},
        "apps/demo.yaml:17: flux-system/apps: Kustomization flux-system/demo: spec.commonMetadata.labels "
        f"must be a mapping, not a string {TYPE_HINT}",
    ),
    (
        "sourceRef is a string",
        {"apps/demo.yaml": DEMO_KS + "spec:\n  path: ./demo\n  sourceRef: x\n"},
        "apps/demo.yaml:6: flux-system/apps: Kustomization flux-system/demo: spec.sourceRef must be a "
        f"mapping, not a string {TYPE_HINT}",
    ),
    (
        "substituteFrom holds a number",
        {"apps/demo.yaml": BASE["apps/demo.yaml"] + "    substituteFrom: [1]\n"},
        "apps/demo.yaml:16: flux-system/apps: Kustomization flux-system/demo: "
        f"spec.postBuild.substituteFrom[0] must be a mapping, not the number 1 {TYPE_HINT}",
    ),
    (
        "substitute is a string",
        {
            "apps/demo.yaml": DEMO_KS
            + "spec:\n  path: ./demo\n"
            + SOURCE_REF
            + "  postBuild:\n    substitute: x\n"
        },
        "apps/demo.yaml:8: flux-system/apps: Kustomization flux-system/demo: spec.postBuild.substitute must "
        f"be a mapping, not a string {TYPE_HINT}",
    ),
    (
        "dependsOn is a number",
        {"apps/demo.yaml": BASE["apps/demo.yaml"] + "  dependsOn: 1.5\n"},
        "apps/demo.yaml:16: flux-system/apps: Kustomization flux-system/demo: spec.dependsOn must be a list, "
        f"not the number 1.5 {TYPE_HINT}",
    ),
    (
        "OCIRepository spec is a list",
        {
            "apps/source.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\n"
            "metadata: {name: chart, namespace: flux-system}\nspec: [1]\n"
        },
        "apps/source.yaml:4: flux-system/apps: OCIRepository flux-system/chart: spec must be a mapping, "
        f"not a list {TYPE_HINT}",
    ),
    (
        "resources is a number",
        {"demo/kustomization.yaml": "resources: 1.5\n"},
        "demo/kustomization.yaml:1: flux-system/demo: invalid Kustomization: cannot unmarshal number into Go "
        "struct field Kustomization.resources of type []string (fix the field's type)",
    ),
    (
        "component with a NUL byte",
        {"demo/kustomization.yaml": 'resources: [cm.yaml]\ncomponents: ["a\\0b"]\n'},
        "demo/kustomization.yaml:2: flux-system/demo: component path 'a\\x00b' is not a directory (fix the path)",
    ),
    (
        "resource name over 255 bytes",
        {"demo/kustomization.yaml": f"resources: [cm.yaml, {LONG}.yaml]\n"},
        f"demo/kustomization.yaml:1: flux-system/demo: accumulating resources: '{LONG}.yaml' does not exist "
        "(fix the path or remove the entry)",
    ),
    (
        "kustomization.yaml is a list",
        {"demo/kustomization.yaml": "- cm.yaml\n"},
        "demo/kustomization.yaml:1: flux-system/demo: failed to decode kustomization.yaml: a kustomization "
        "must be a mapping, not a list (write it as a mapping (apiVersion, kind, resources, ...))",
    ),
    (
        "kustomization.yaml is a string",
        {"demo/kustomization.yaml": "cm.yaml\n"},
        "demo/kustomization.yaml:1: flux-system/demo: failed to decode kustomization.yaml: a kustomization "
        "must be a mapping, not a string (write it as a mapping (apiVersion, kind, resources, ...))",
    ),
    (
        "NUL byte in a manifest",
        {"demo/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a\0b}\n"},
        "demo/cm.yaml:3: flux-system/demo: malformed YAML: character '\\x00' is not allowed "
        "(remove it, or write it as an escape)",
    ),
    (
        "resource entry with newlines and workflow commands",
        {
            "demo/kustomization.yaml": 'resources: ["x\\n::error file=x,line=1::INJECTED\\nhomeops: error: fake"]\n'
        },
        "demo/kustomization.yaml:1: flux-system/demo: accumulating resources: "
        "'x\\n::error file=x,line=1::INJECTED\\nhomeops: error: fake' does not exist (fix the path or remove the entry)",
    ),
] + [
    (
        f"{field} of the wrong type (kustomize refuses it)",
        {"demo/kustomization.yaml": f"resources: [cm.yaml]\n{field}: {value}\n"},
        f"demo/kustomization.yaml:2: flux-system/demo: invalid Kustomization: cannot unmarshal {json_kind} into "
        f"Go struct field Kustomization.{field} of type {go_type} (fix the field's type)",
    )
    for field, value, json_kind, go_type in [
        ("generatorOptions", "[a]", "array", "GeneratorOptions"),
        ("replicas", "[x]", "string", "Replica"),
        ("commonLabels", "x", "string", "map[string]string"),
        ("sortOptions", "[x]", "array", "SortOptions"),
    ]
]


@pytest.mark.parametrize(("case", "changes", "error"), BUILD_CASES, ids=[c[0] for c in BUILD_CASES])
def test_one_broken_field_is_one_located_error(
    tmp_path: Path, case: str, changes: dict[str, str], error: str
) -> None:
    root = write(tmp_path, changes)
    proc = run_cli("build", "ks", "--path", str(root), "-o", "json")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == f"homeops: error: {error} [HO101]\n"
    json.loads(proc.stdout)  # the rest still renders and prints


def test_a_flux_path_over_255_bytes(tmp_path: Path) -> None:
    """A path component over 255 bytes (ENAMETOOLONG) is a path that does not exist, for that
    Kustomization only."""
    root = write(
        tmp_path, {"apps/demo.yaml": BASE["apps/demo.yaml"].replace("path: ./demo", f"path: ./{LONG}/x")}
    )
    for argv in (["build", "ks"], ["check"], ["get", "ks"]):
        proc = run_cli(*argv, "--path", str(root))
        assert proc.returncode == 1 and "internal error" not in proc.stderr, (argv, proc.stderr)
    build = run_cli("build", "ks", "--path", str(root))
    assert (
        build.stderr
        == f"homeops: error: apps/demo.yaml:8: path './{LONG}/x' of flux-system/demo does not exist [HO102]\n"
    )


def test_the_other_kustomizations_still_render(tmp_path: Path) -> None:
    root = write(tmp_path, {"demo/kustomization.yaml": "resources: 1.5\n"})
    proc = run_cli("get", "ks", "--path", str(root), "-o", "json")
    status = {item["name"]: (item["status"], item["objects"]) for item in json.loads(proc.stdout)["items"]}
    assert status == {"apps": ("rendered", 2), "demo": ("error", 0)}


@pytest.mark.parametrize("text", ["- cm.yaml\n", "cm.yaml\n"], ids=["list", "scalar"])
def test_a_kustomization_file_that_is_not_a_mapping_is_an_error_not_zero_objects(
    tmp_path: Path, text: str
) -> None:
    root = write(tmp_path, {"demo/kustomization.yaml": text})
    proc = run_cli("get", "ks", "--path", str(root), "-o", "json")
    status = {item["name"]: item["status"] for item in json.loads(proc.stdout)["items"]}
    assert status["demo"] == "error"
    assert proc.returncode == 1


def test_a_root_kustomization_with_a_broken_field(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {"clusters/c/flux/ks.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
         "metadata: {name: apps, namespace: flux-system}\nspec:\n  path: ./apps\n  sourceRef: x\n"},
    )  # fmt: skip
    proc = run_cli("check", "--path", str(root), "--format", "json")
    findings = [(f["rule"], f["file"], f["line"], f["message"]) for f in json.loads(proc.stdout)["findings"]]
    assert (
        "HO101",
        "clusters/c/flux/ks.yaml",
        6,
        f"flux-system/apps: Kustomization flux-system/apps: spec.sourceRef must be a mapping, not a string {TYPE_HINT}",
    ) in findings
    assert proc.returncode == 1


@pytest.mark.parametrize(
    ("profile", "error"),
    [
        ("domain: {a: b}\n", ".homeops.yaml:1: domain must be a string, not a mapping"),
        ("domain: [x]\n", ".homeops.yaml:1: domain must be a string, not a list"),
        ("app_name_pattern: '('\n", ".homeops.yaml:1: app_name_pattern is not a valid regular expression: "
         "missing ), unterminated subpattern at position 0"),
        ("backup: {b2_keep_daily: x}\n", ".homeops.yaml:1: backup.b2_keep_daily must be an integer, not a string"),
        ("ignore_paths: {HO005: 1}\n", ".homeops.yaml:1: ignore_paths must map rule ids to lists of globs "
         '(write HO005: ["hack/**"])'),
        ("rules: {HO011: [x]}\n", None),
    ],
)  # fmt: skip
def test_profile_values_of_the_wrong_type(tmp_path: Path, profile: str, error: str | None) -> None:
    root = write(tmp_path, {".homeops.yaml": profile})
    proc = run_cli("check", "--path", str(root))
    assert proc.returncode == 2
    assert "internal error" not in proc.stderr and len(proc.stderr.splitlines()) == 1
    if error is not None:
        assert proc.stderr == f"homeops: error: {error}\n"


def _deep_manifest(depth: int) -> str:
    lines = ["apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: deep", "spec:", "  template:"]
    lines += ["    " + "  " * i + "a:" for i in range(depth)]
    return "\n".join(lines) + " b\n"


@pytest.mark.parametrize("depth", [350, 990])
def test_a_deeply_nested_mapping_is_checked(tmp_path: Path, depth: int) -> None:
    """A 350-deep mapping made the schema rule and the substitution walk raise RecursionError. With the
    nesting limit raised to its ceiling (1,000), documents as deep as YAML allows walk through."""
    root = write(
        tmp_path, {"demo/cm.yaml": _deep_manifest(depth), ".homeops.yaml": "limits: {yaml_depth: 1000}\n"}
    )
    for argv in (["check"], ["build", "ks"], ["images", "list"]):
        proc = run_cli(*argv, "--path", str(root))
        assert proc.returncode in (0, 1), proc.stderr
        assert "internal error" not in proc.stderr


def test_a_mapping_deeper_than_the_limit_is_one_error(tmp_path: Path) -> None:
    root = write(tmp_path, {"demo/cm.yaml": _deep_manifest(350)})
    proc = run_cli("check", "--path", str(root), "--format", "json")
    assert proc.returncode == 1 and "internal error" not in proc.stderr
    messages = [f["message"] for f in json.loads(proc.stdout)["findings"]]
    assert any("document nests deeper than 200 levels" in m for m in messages)


def test_kustomize_refuses_the_wrong_types_as_kubectl_kustomize_does(tmp_path: Path, kubectl: str) -> None:
    for field, value in [
        ("generatorOptions", "[a]"),
        ("replicas", "[x]"),
        ("commonLabels", "x"),
        ("sortOptions", "[x]"),
    ]:
        root = write(
            tmp_path / field, {"demo/kustomization.yaml": f"resources: [cm.yaml]\n{field}: {value}\n"}
        )
        ours = run_cli("kustomize", str(root / "demo"), "--path", str(root))
        theirs = subprocess.run([kubectl, "kustomize", str(root / "demo")], capture_output=True, text=True)
        assert ours.returncode == 2 and theirs.returncode != 0
        reason = ours.stderr.split("invalid Kustomization: ")[1].split(" (")[0]
        assert reason.replace("of type ", "of type types.").replace("types.map", "map") in theirs.stderr


def test_transformer_configuration_of_the_wrong_shape(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "demo/kustomization.yaml": "resources: [cm.yaml]\nconfigurations: [config.yaml]\n",
            "demo/config.yaml": "nameReference:\n  - kind: ConfigMap\n    fieldSpecs: -1\n",
        },
    )
    proc = run_cli("build", "ks", "--path", str(root))
    assert proc.returncode == 1
    assert proc.stderr == (
        "homeops: error: demo/config.yaml:1: flux-system/demo: fieldSpecs of a nameReference entry must be a "
        "list of field specs [HO101]\n"
    )


def test_namespace_kustomization_with_resources_of_the_wrong_type_in_check(tmp_path: Path) -> None:
    """The layout rules read the namespace kustomization themselves (found by tests/fuzz/fuzz_long.py)."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    (root / "cluster-apps/chongus/media/kustomization.yaml").write_text("resources: 7\n", encoding="utf-8")
    proc = run_cli("check", "--path", str(root), "--format", "json")
    assert proc.returncode == 1 and "internal error" not in proc.stderr
    messages = [f["message"] for f in json.loads(proc.stdout)["findings"] if f["rule"] == "HO101"]
    assert any("Kustomization.resources of type []string" in m for m in messages)


def test_configmap_data_that_is_not_a_mapping(tmp_path: Path) -> None:
    """Read by postBuild substituteFrom (found by tests/fuzz/fuzz_long.py)."""
    root = write(
        tmp_path,
        {
            "apps/kustomization.yaml": "resources: [demo.yaml, source.yaml, vars.yaml]\n",
            "apps/vars.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: vars, namespace: flux-system}\n"
            "data: \"{'A': 'b'}\"\n",
        },
    )
    proc = run_cli("build", "ks", "--path", str(root))
    assert proc.returncode == 1
    assert proc.stderr == (
        "homeops: error: apps/vars.yaml:4: flux-system/apps: ConfigMap flux-system/vars: data must be a mapping, "
        f"not a string {TYPE_HINT} [HO101]\n"
    )


def test_diff_never_reads_an_untracked_symlink(tmp_path: Path) -> None:
    """The changed-files count read untracked files through symlinks: one to /dev/zero never ended,
    one to a file outside the repository was read (found by tests/fuzz/fuzz_long.py)."""
    root = write(tmp_path / "repo", {})
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    git = [
        "git",
        "-C",
        str(root),
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "-c",
        "commit.gpgsign=false",
    ]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True, env=env)
    subprocess.run([*git, "add", "-A"], check=True, env=env)
    subprocess.run([*git, "commit", "-qm", "base"], check=True, env=env)
    (root / "demo" / "zero.yaml").symlink_to("/dev/zero")
    proc = subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", "diff", "--format", "json", "--path", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
