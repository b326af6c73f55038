"""Rules HO001-HO013: each fires at the planted violation of ``fixtures/rules-a`` and nowhere else; the
clean apps produce no finding at all; plus the other shapes each rule recognises, on modified copies."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from homeops.core.findings import Finding
from homeops.core.profile import DEFAULT, Profile, glob_match
from homeops.rules import engine
from homeops.rules.base import REGISTRY
from homeops.rules.scripts import is_shell_shebang

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "rules-a"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "home-ops"
RULES = [f"HO{n:03d}" for n in range(1, 14)]
APPS = "cluster-apps/main/default"

EXPECTED: dict[str, set[tuple[str, int | None]]] = {
    "HO001": {(f"{APPS}/chart-source/app/helmrelease.yaml", 8)},
    "HO002": {("secrets/app-credentials.sops.yaml", 7)},
    "HO003": {(f"{APPS}/substitute/ks.yaml", 20)},
    "HO004": {(f"{APPS}/volsync-copy/app/replicationsource.yaml", 3)},
    "HO005": {("hack/deploy.sh", 1), ("scripts/allowed.sh", 1)},  # the document's profile exempts no path
    "HO006": {(f"{APPS}/ingress-values/app/helmrelease.yaml", 52)},
    "HO007": {(f"{APPS}/plain-secret/app/secret.yaml", 3)},
    # one violation, two findings: the legacy tree itself, and the Flux path that deploys it
    "HO008": {("cluster-cd", None), ("clusters/main/flux/cluster/cluster.yaml", 22)},
    "HO009": {(f"{APPS}/mutable-tag/app/helmrelease.yaml", 20)},
    "HO010": {(f"{APPS}/no-limit/app/helmrelease.yaml", 21)},
    "HO011": {(f"{APPS}/raw-deploy/app/deployment.yaml", 3)},
    "HO012": {(f"{APPS}/velero-schedule/app/schedule.yaml", 3)},
    "HO013": {(f"{APPS}/external-route/app/helmrelease.yaml", 49)},
}


def check(root: Path, rules: list[str] | None = None, profile: Profile = DEFAULT) -> list[Finding]:
    findings, _ctx = engine.run_checks(root.resolve(), profile, select=rules or RULES)
    return findings


def places(findings: list[Finding], rule_id: str) -> set[tuple[str | None, int | None]]:
    return {(f.file, f.line) for f in findings if f.rule == rule_id}


@pytest.fixture(scope="module")
def fixture_findings() -> list[Finding]:
    return check(FIXTURE)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A writable copy of the fixture repository."""
    target = tmp_path / "repo"
    shutil.copytree(FIXTURE, target)
    return target


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.lstrip("\n"))


def replace_in(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new))


# ------------------------------------------------------------------ the fixture


@pytest.mark.parametrize("rule_id", RULES)
def test_each_rule_fires_exactly_at_its_violation(fixture_findings: list[Finding], rule_id: str) -> None:
    assert places(fixture_findings, rule_id) == EXPECTED[rule_id]


def test_no_render_finding_and_nothing_else(fixture_findings: list[Finding]) -> None:
    assert {f.rule for f in fixture_findings} == set(RULES)
    assert len(fixture_findings) == sum(len(v) for v in EXPECTED.values())


@pytest.mark.parametrize("app", ["clean", "public"])
def test_clean_apps_produce_no_finding_of_any_rule(app: str) -> None:
    findings, _ctx = engine.run_checks(FIXTURE, DEFAULT)
    assert [f for f in findings if (f.file or "").startswith(f"{APPS}/{app}/")] == []


def test_findings_carry_object_cluster_and_severity(fixture_findings: list[Finding]) -> None:
    by_rule = {f.rule: f for f in fixture_findings if f.rule != "HO008"}
    assert by_rule["HO009"].kind == "HelmRelease" and by_rule["HO009"].name == "mutable-tag"
    assert "ghcr.io/example/mutable-tag:v1.2.3" in by_rule["HO009"].message
    assert by_rule["HO009"].namespace == "default" and by_rule["HO009"].cluster == "main"
    assert by_rule["HO011"].severity == "info"
    assert by_rule["HO002"].cluster is None  # a repository file, not an object of a cluster
    assert not any(f.fixable for f in fixture_findings)


def test_rule_metadata() -> None:
    engine.load_rules()
    for rule_id in RULES:
        r = REGISTRY[rule_id]
        assert r.title and r.bad and r.good and r.fix is None
        assert "Anti-Patterns #" in r.rationale
        assert r.severity == ("info" if rule_id == "HO011" else "warning")


def test_suppression_comment(repo: Path) -> None:
    replace_in(
        repo,
        f"{APPS}/mutable-tag/app/helmrelease.yaml",
        "# violation: HO009",
        "# homeops: ignore[HO009] pinned by the next release",
    )
    assert places(check(repo, ["HO009"]), "HO009") == set()


# ------------------------------------------------------------------ the example and speed


def test_example_chongus_is_clean_and_bitty_is_not() -> None:
    findings = check(EXAMPLE)
    assert [f for f in findings if f.cluster == "chongus"] == []
    assert not [f for f in findings if (f.file or "").startswith("cluster-apps/")]
    assert {"HO003", "HO006", "HO009", "HO010"} <= {f.rule for f in findings if f.cluster == "bitty"}


# ------------------------------------------------------------------ HO001


def test_ho001_shared_ocirepository_and_helmrepository_objects(repo: Path) -> None:
    replace_in(repo, f"{APPS}/public/app/helmrelease.yaml", "    name: public\n", "    name: clean\n")
    write(
        repo,
        f"{APPS}/chart-source/app/helmrepository.yaml",
        """
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: bjw-s
spec:
  url: https://bjw-s-labs.github.io/helm-charts
""",
    )
    replace_in(
        repo,
        f"{APPS}/chart-source/app/kustomization.yaml",
        "  - ./helmrelease.yaml\n",
        "  - ./helmrelease.yaml\n  - ./helmrepository.yaml\n",
    )
    findings = check(repo, ["HO001"])
    assert places(findings, "HO001") == {
        (f"{APPS}/chart-source/app/helmrelease.yaml", 8),
        (f"{APPS}/chart-source/app/helmrepository.yaml", 2),
        (f"{APPS}/clean/app/ocirepository.yaml", 2),
    }
    shared = next(f for f in findings if f.file.endswith("ocirepository.yaml"))  # type: ignore[union-attr]
    assert "clean, public" in shared.message


def test_ho001_not_in_deprecated_clusters(repo: Path) -> None:
    profile = dataclasses.replace(DEFAULT, deprecated_clusters=("main",))
    assert places(check(repo, ["HO001"], profile), "HO001") == set()


# ------------------------------------------------------------------ HO002 / HO005 helpers


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("clusters/main/bootstrap/sops-age.sops.yaml", "clusters/*/bootstrap/**", True),
        ("clusters/main/talos/a/b/talsecret.sops.yaml", "clusters/*/talos/**", True),
        ("clusters/main/flux/vars/cluster-secrets.sops.yaml", "clusters/*/bootstrap/**", False),
        ("clusters/a/b/bootstrap/x.yaml", "clusters/*/bootstrap/**", False),
        (".taskfiles/sops/run.sh", ".taskfiles/**", True),
        ("x/y.sh", "**/*.sh", True),
        ("y.sh", "**/*.sh", True),
    ],
)
def test_glob_match(path: str, pattern: str, expected: bool) -> None:
    assert glob_match(path, pattern) is expected


def test_ho002_other_formats_and_profile_paths(repo: Path) -> None:
    write(repo, "secrets/app.json", '{\n  "data": "ENC[...]",\n  "sops": {\n    "mac": "ENC[...]"\n  }\n}\n')
    write(repo, "secrets/app.env", "API_KEY=ENC[...]\nsops_version=3.10.2\nsops_mac=ENC[...]\n")
    write(repo, "docs/sops-notes.yaml", "notes:\n  sops: not metadata\n")
    write(repo, "docs/sops-config.yaml", "sops:\n  binary: /usr/bin/sops\n")  # no MAC: not encrypted
    assert places(check(repo, ["HO002"]), "HO002") == {
        ("secrets/app-credentials.sops.yaml", 7),
        ("secrets/app.json", 3),
        ("secrets/app.env", 2),
    }
    profile = dataclasses.replace(DEFAULT, sops_allowed_paths=("secrets/**",))
    assert places(check(repo, ["HO002"], profile), "HO002") == {
        ("clusters/main/bootstrap/sops-age.sops.yaml", 9)
    }


def test_ho005_shebang_executables(repo: Path) -> None:
    tool = repo / "tools" / "rotate-keys"
    write(repo, "tools/rotate-keys", "#!/bin/sh\necho rotate\n")
    write(repo, "tools/not-executable", "#!/bin/bash\necho hi\n")
    write(repo, "tools/python-tool", "#!/usr/bin/env python3\nprint(1)\n")
    tool.chmod(0o755)
    (repo / "tools" / "python-tool").chmod(0o755)
    assert places(check(repo, ["HO005"]), "HO005") == {
        ("hack/deploy.sh", 1),
        ("scripts/allowed.sh", 1),
        ("tools/rotate-keys", 1),
    }
    # an allowance is the user's choice in .homeops.yaml
    allowed = dataclasses.replace(DEFAULT, script_allowed_paths=("scripts/**", "tools/**"))
    assert places(check(repo, ["HO005"], allowed), "HO005") == {("hack/deploy.sh", 1)}
    assert is_shell_shebang(b"#!/usr/bin/env -S bash -e\n") and is_shell_shebang(b"#! /bin/zsh\n")
    assert not is_shell_shebang(b"#!/usr/bin/env python3\n") and not is_shell_shebang(b"#!/bin/shellcheck\n")


# ------------------------------------------------------------------ HO003


def test_ho003_substitute_from_external_secret_target_is_fine(repo: Path) -> None:
    replace_in(
        repo,
        f"{APPS}/substitute/app/externalsecret.yaml",
        "spec:\n",
        "spec:\n  target:\n    name: substitute-sops\n",
    )
    assert places(check(repo, ["HO003"]), "HO003") == {(f"{APPS}/substitute/ks.yaml", 17)}


# ------------------------------------------------------------------ HO004


def test_ho004_namespace_copied_into_an_app(repo: Path) -> None:
    write(
        repo,
        f"{APPS}/velero-schedule/app/namespace.yaml",
        """
---
apiVersion: v1
kind: Namespace
metadata:
  name: default
""",
    )
    replace_in(
        repo,
        f"{APPS}/velero-schedule/app/kustomization.yaml",
        "  - ./schedule.yaml\n",
        "  - ./schedule.yaml\n  - ./namespace.yaml\n",
    )
    assert places(check(repo, ["HO004"]), "HO004") == {
        (f"{APPS}/volsync-copy/app/replicationsource.yaml", 3),
        (f"{APPS}/velero-schedule/app/namespace.yaml", 2),
    }


def test_ho004_components_pointing_nowhere(repo: Path) -> None:
    replace_in(
        repo,
        f"{APPS}/public/app/kustomization.yaml",
        "resources:\n",
        "components:\n  - ../../../../components/volsync\n  - '../../../../components/gone'  # removed\n"
        "resources:\n",
    )
    replace_in(
        repo,
        f"{APPS}/clean/ks.yaml",
        "    - ../../../../components/volsync\n",
        "    - ../../../../components/volsync\n    - ../../../../components/flux/alerts\n",
    )
    findings = check(repo, ["HO004"])
    assert places(findings, "HO004") == {
        (f"{APPS}/volsync-copy/app/replicationsource.yaml", 3),
        (f"{APPS}/public/app/kustomization.yaml", 6),
        (f"{APPS}/clean/ks.yaml", 13),
    }
    assert any("components/flux/alerts of Flux Kustomization default/clean" in f.message for f in findings)


def test_ho004_volsync_claim_copied_without_the_component(repo: Path) -> None:
    write(
        repo,
        f"{APPS}/public/app/pvc.yaml",
        """
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: public
spec:
  accessModes: [ReadWriteOnce]
  dataSourceRef:
    apiGroup: volsync.backube
    kind: ReplicationDestination
    name: public-bootstrap
  resources:
    requests:
      storage: 1Gi
""",
    )
    write(
        repo,
        f"{APPS}/public/app/cache.yaml",
        """
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: public-cache
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
""",
    )
    replace_in(
        repo,
        f"{APPS}/public/app/kustomization.yaml",
        "  - ./helmrelease.yaml\n",
        "  - ./helmrelease.yaml\n  - ./pvc.yaml\n  - ./cache.yaml\n",
    )
    assert places(check(repo, ["HO004"]), "HO004") == {
        (f"{APPS}/volsync-copy/app/replicationsource.yaml", 3),
        (f"{APPS}/public/app/pvc.yaml", 2),
    }


# ------------------------------------------------------------------ HO006 / HO013


def test_ho006_ingress_objects_and_value_shapes(repo: Path) -> None:
    write(
        repo,
        f"{APPS}/public/app/ingress.yaml",
        """
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: public
spec:
  ingressClassName: nginx
""",
    )
    replace_in(
        repo,
        f"{APPS}/public/app/kustomization.yaml",
        "  - ./helmrelease.yaml\n",
        "  - ./helmrelease.yaml\n  - ./ingress.yaml\n",
    )
    replace_in(
        repo,
        f"{APPS}/clean/app/helmrelease.yaml",
        "    persistence:\n",
        """    grafana:
      ingress:
        enabled: true
    alertmanager:
      enabled: false
      ingress:
        enabled: true
    prometheus:
      ingress:
        enabled: false
    ingress:
      app:
        enabled: false
        hosts: [{host: clean.example.net}]
    networkPolicy:
      ingress:
        - from: []
    persistence:
""",
    )
    assert places(check(repo, ["HO006"]), "HO006") == {
        (f"{APPS}/ingress-values/app/helmrelease.yaml", 52),
        (f"{APPS}/public/app/ingress.yaml", 2),
        (f"{APPS}/clean/app/helmrelease.yaml", 56),
    }


def test_ho013_route_objects_opt_in_and_allowlist(repo: Path) -> None:
    route = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {name}
{annotations}spec:
  parentRefs:
    - name: envoy-external
      namespace: network
      sectionName: {section}
  rules:
{rules}"""
    backend = "    - backendRefs:\n        - name: public\n          port: 8080\n"
    redirect = (
        "    - filters:\n        - type: RequestRedirect\n          requestRedirect:\n"
        "            scheme: https\n"
    )
    write(
        repo,
        f"{APPS}/public/app/route-a.yaml",
        route.format(name="a", annotations="", section="https", rules=backend),
    )
    write(
        repo,
        f"{APPS}/public/app/route-b.yaml",
        route.format(
            name="b",
            annotations='  annotations:\n    homeops.io/internet-facing: "true"\n',
            section="https",
            rules=backend,
        ),
    )
    write(
        repo,
        f"{APPS}/public/app/route-c.yaml",
        route.format(name="c", annotations="", section="http", rules=redirect),
    )
    replace_in(
        repo,
        f"{APPS}/public/app/kustomization.yaml",
        "  - ./helmrelease.yaml\n",
        "  - ./helmrelease.yaml\n  - ./route-a.yaml\n  - ./route-b.yaml\n  - ./route-c.yaml\n",
    )
    assert places(check(repo, ["HO013"]), "HO013") == {
        (f"{APPS}/external-route/app/helmrelease.yaml", 49),
        (f"{APPS}/public/app/route-a.yaml", 8),
    }
    profile = dataclasses.replace(DEFAULT, external_allowlist=("external-route", "default/a"))
    assert places(check(repo, ["HO013"], profile), "HO013") == set()


# ------------------------------------------------------------------ HO009 / HO010 / HO011 / HO012


def test_workload_images_and_limits(repo: Path) -> None:
    replace_in(
        repo,
        f"{APPS}/raw-deploy/app/deployment.yaml",
        "      containers:\n",
        """      initContainers:
        - name: init
          image: busybox:1.36
      containers:
""",
    )
    findings = check(repo, ["HO009", "HO010", "HO011"])
    assert places(findings, "HO009") == {
        (f"{APPS}/mutable-tag/app/helmrelease.yaml", 20),
        (f"{APPS}/raw-deploy/app/deployment.yaml", 25),
    }
    assert places(findings, "HO010") == {
        (f"{APPS}/no-limit/app/helmrelease.yaml", 21),
        (f"{APPS}/raw-deploy/app/deployment.yaml", 24),
    }
    assert places(findings, "HO011") == {(f"{APPS}/raw-deploy/app/deployment.yaml", 3)}


def test_disabled_parts_of_values_deploy_nothing(repo: Path) -> None:
    replace_in(
        repo,
        f"{APPS}/clean/app/helmrelease.yaml",
        "    persistence:\n",
        """    grafana:
      enabled: false
      image:
        repository: grafana/grafana
        tag: "12.0"
      route:
        main:
          parentRefs:
            - name: envoy-external
              namespace: network
    persistence:
""",
    )
    assert [f for f in check(repo, ["HO009", "HO013"]) if "clean" in (f.file or "")] == []


def test_ho010_default_container_options(repo: Path) -> None:
    replace_in(
        repo,
        f"{APPS}/no-limit/app/helmrelease.yaml",
        "    defaultPodOptions:\n",
        "    defaultContainerOptions:\n      resources:\n        limits:\n          memory: 1Gi\n"
        "    defaultContainerOptionsStrategy: merge\n    defaultPodOptions:\n",
    )
    assert places(check(repo, ["HO010"]), "HO010") == set()
    replace_in(
        repo, f"{APPS}/no-limit/app/helmrelease.yaml", "    defaultContainerOptionsStrategy: merge\n", ""
    )
    assert places(check(repo, ["HO010"]), "HO010") == {(f"{APPS}/no-limit/app/helmrelease.yaml", 21)}


def test_values_from_generated_configmap_point_into_the_values_file(repo: Path) -> None:
    write(
        repo,
        f"{APPS}/public/app/values.yaml",
        """
controllers:
  sidecar:
    containers:
      app:
        image:
          repository: ghcr.io/example/sidecar
          tag: "1.0"
""",
    )
    replace_in(
        repo,
        f"{APPS}/public/app/kustomization.yaml",
        "resources:\n",
        "configMapGenerator:\n  - name: public-values\n    files:\n      - values.yaml=./values.yaml\n"
        "    options:\n      disableNameSuffixHash: true\n"
        "resources:\n",
    )
    replace_in(
        repo,
        f"{APPS}/public/app/helmrelease.yaml",
        "  values:\n",
        "  valuesFrom:\n    - kind: ConfigMap\n      name: public-values\n  values:\n",
    )
    findings = check(repo, ["HO009", "HO010"])
    assert (f"{APPS}/public/app/values.yaml", 7) in places(findings, "HO009")
    assert (f"{APPS}/public/app/values.yaml", 4) in places(findings, "HO010")


def test_ho012_velero_helmrelease_through_its_ocirepository(repo: Path) -> None:
    replace_in(
        repo,
        f"{APPS}/public/app/ocirepository.yaml",
        "oci://ghcr.io/bjw-s-labs/helm/app-template",
        "oci://ghcr.io/vmware-tanzu/helm-charts/velero",
    )
    assert places(check(repo, ["HO012"]), "HO012") == {
        (f"{APPS}/velero-schedule/app/schedule.yaml", 3),
        (f"{APPS}/public/app/helmrelease.yaml", 10),
    }


# ------------------------------------------------------------------ chart output (check --enable-helm)

CHART_OUTPUT = """
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  labels:
    helm.toolkit.fluxcd.io/name: {app}
    helm.toolkit.fluxcd.io/namespace: default
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/example/{app}:v1.2.3
        - name: sidecar
          image: docker.io/library/busybox:1.36
---
apiVersion: v1
kind: Secret
metadata:
  name: {app}-generated
  labels:
    helm.toolkit.fluxcd.io/name: {app}
    helm.toolkit.fluxcd.io/namespace: default
stringData:
  password: random
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {app}
  labels:
    helm.toolkit.fluxcd.io/name: {app}
    helm.toolkit.fluxcd.io/namespace: default
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {app}
  labels:
    helm.toolkit.fluxcd.io/name: {app}
    helm.toolkit.fluxcd.io/namespace: default
spec:
  parentRefs:
    - name: envoy-external
      namespace: network
"""


def test_chart_output_is_not_reported_twice(repo: Path) -> None:
    """Objects a chart renders (HelmRelease origin labels) are reported only for what the HelmRelease's
    values do not already explain, and are never 'stored in Git'."""
    for app in ("ingress-values", "public"):
        write(repo, f"{APPS}/{app}/app/chart-output.yaml", CHART_OUTPUT.format(app=app))
        replace_in(
            repo,
            f"{APPS}/{app}/app/kustomization.yaml",
            "  - ./helmrelease.yaml\n",
            "  - ./helmrelease.yaml\n  - ./chart-output.yaml\n",
        )
    findings = [f for f in check(repo) if "chart-output" in (f.file or "")]
    assert {(f.rule, f.file, f.line) for f in findings} == {
        # busybox is a chart default: its values do not name it
        ("HO009", f"{APPS}/ingress-values/app/chart-output.yaml", 16),
        ("HO009", f"{APPS}/public/app/chart-output.yaml", 16),
        # the public release does not enable an Ingress in its values: the chart's own one is reported
        ("HO006", f"{APPS}/public/app/chart-output.yaml", 28),
    }
