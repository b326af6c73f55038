"""Values only the cluster has: given per cluster (``.homeops.yaml`` ``vars:``, ``--vars-file``,
``--var [CLUSTER:]NAME=VALUE``), placeholders, and one HO103 per (cluster, variable) saying why.

Our own fixture: two legacy clusters sharing one app tree whose Flux Kustomization paths hold
``${CLUSTER_NAME}``, which each cluster substitutes from its SOPS-encrypted Secret.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from homeops.api import ClusterVars, Workspace, load_vars_file
from homeops.core.errors import HomeopsError
from homeops.core.variables import from_assignments, parse_assignment
from support import flux_ks, run_cli, write_tree

SOPS_SECRET = """apiVersion: v1
kind: Secret
metadata:
  name: cluster-secrets
  namespace: flux-system
stringData:
  CLUSTER_NAME: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]
  DOMAIN: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]
sops:
  version: 3.8.1
"""


def _ks(name: str, path: str, extra: str = "") -> str:
    return flux_ks(name, path, extra=extra)


SUBSTITUTE = """
postBuild:
  substituteFrom:
    - kind: Secret
      name: cluster-secrets
"""


def _cm(name: str, data: str) -> str:
    return f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n{data}"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Clusters red and blue: root -> vars (the SOPS Secret) and apps (substituting from it), whose
    child Kustomization's path is ./apps/${CLUSTER_NAME}/web; red also has ./apps/${CLUSTER_NAME}/cache."""
    files: dict[str, str] = {}
    for cluster in ("red", "blue"):
        files[f"clusters/{cluster}/flux/root.yaml"] = _ks("vars", f"./clusters/{cluster}/vars") + _ks(
            "apps", "./apps/common", SUBSTITUTE
        )
        files[f"clusters/{cluster}/vars/cluster-secrets.sops.yaml"] = SOPS_SECRET
        files[f"apps/{cluster}/web/cm.yaml"] = _cm("web", "  host: web.${DOMAIN}\n  tz: ${TZ}\n")
    files["apps/common/web.yaml"] = _ks("web", "./apps/${CLUSTER_NAME}/web", SUBSTITUTE)
    # only red has a cache: with it, the paths of red admit one value of CLUSTER_NAME
    files["clusters/red/flux/root.yaml"] += _ks("extra", "./apps/red-extra", SUBSTITUTE)
    files["apps/red-extra/cache.yaml"] = _ks("cache", "./apps/${CLUSTER_NAME}/cache", SUBSTITUTE)
    files["apps/red/cache/cm.yaml"] = _cm("cache", "  size: 1Gi\n")
    return write_tree(tmp_path, files)


def _profile(root: Path, text: str) -> None:
    (root / ".homeops.yaml").write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def _web(ws: Workspace, cluster: str) -> dict:
    rendering = ws.render(cluster)
    return next(o.object for o in rendering.objects if o.kind == "ConfigMap" and o.name == "web")


def _ho103(ws: Workspace, cluster: str) -> dict[str, object]:
    return {f.extra["variable"]: f for f in ws.render(cluster).findings if f.rule == "HO103"}


# ------------------------------------------------------------------------------ giving values
def test_profile_vars_give_each_cluster_its_own_values(repo: Path) -> None:
    _profile(
        repo,
        """
        vars:
          "*":
            TZ: Etc/UTC
          red:
            CLUSTER_NAME: red
            DOMAIN: red.example
          blue:
            CLUSTER_NAME: blue
            DOMAIN: blue.example
            TZ: Europe/Paris
        """,
    )
    ws = Workspace(repo)
    assert _web(ws, "red")["data"] == {"host": "web.red.example", "tz": "Etc/UTC"}
    assert _web(ws, "blue")["data"] == {"host": "web.blue.example", "tz": "Europe/Paris"}  # own over "*"
    assert not [f for c in ("red", "blue") for f in ws.render(c).findings if f.rule == "HO103"]


def test_layers_vars_file_over_profile_and_var_over_both(repo: Path, tmp_path: Path) -> None:
    _profile(repo, "vars:\n  red: {CLUSTER_NAME: red, DOMAIN: from-profile, TZ: profile}\n")
    vars_file = tmp_path / "vars.yaml"
    vars_file.write_text('"*": {DOMAIN: from-file}\nred: {TZ: file}\n')
    layers = from_assignments(["red:TZ=cli"]).over(load_vars_file(vars_file))
    ws = Workspace(repo, vars=layers)
    assert _web(ws, "red")["data"] == {"host": "web.from-file", "tz": "cli"}
    # the old flat mapping still applies to every cluster, over the profile
    flat = Workspace(repo, vars={"CLUSTER_NAME": "red", "DOMAIN": "flat", "TZ": "x"})
    assert _web(flat, "red")["data"]["host"] == "web.flat"
    # a mapping of mappings is per cluster
    scoped = Workspace(repo, vars={"red": {"DOMAIN": "scoped"}})
    assert _web(scoped, "red")["data"]["host"] == "web.scoped"


def test_substitute_from_values_win_over_given_ones(tmp_path: Path) -> None:
    """Given values only fill what the cluster's own sources do not set."""
    write_tree(tmp_path, {
        "clusters/c/flux/root.yaml": _ks("app", "./app", "postBuild:\n  substitute: {DOMAIN: own}\n"),
        "app/cm.yaml": _cm("web", "  host: ${DOMAIN}\n"),
    })  # fmt: skip
    assert _web(Workspace(tmp_path, vars={"DOMAIN": "given"}), "c")["data"]["host"] == "own"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("=x", "an empty name is not a variable name"),
        ("red:=x", "an empty name is not a variable name"),
        ("NOVALUE", "is not NAME=VALUE"),
        ("1ABC=x", "'1ABC' is not a variable name"),
        ("bad cluster:A=x", "'bad cluster' is not a cluster name"),
    ],
)
def test_bad_assignments_are_refused(text: str, message: str) -> None:
    with pytest.raises(HomeopsError, match=message.replace("(", r"\(")):
        parse_assignment(text)


def test_assignment_forms() -> None:
    assert parse_assignment("A=b=c") == ("*", "A", "b=c")
    assert parse_assignment("red:A=x:y") == ("red", "A", "x:y")
    assert parse_assignment("A=") == ("*", "A", "")


def test_cli_scoped_var_and_errors(repo: Path, tmp_path: Path) -> None:
    ok = run_cli("build", "ks", "web", "--path", str(repo), "--cluster", "red",
                 "--var", "red:CLUSTER_NAME=red", "--var", "red:DOMAIN=x", "--var", "TZ=y")  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "host: web.x" in ok.stdout
    bad = run_cli("get", "ks", "--path", str(repo), "--var", "=x")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "empty name" in bad.stderr
    unknown = run_cli("get", "ks", "--path", str(repo), "--var", "green:CLUSTER_NAME=g")
    assert unknown.returncode == 2
    assert (
        "values given for cluster 'green'" in unknown.stderr and "known clusters: blue, red" in unknown.stderr
    )
    _profile(repo, "vars:\n  red:\n    CLUSTER_NAME: red\n  grey:\n    CLUSTER_NAME: grey\n")
    in_profile = run_cli("get", "ks", "--path", str(repo))
    assert in_profile.returncode == 2
    assert in_profile.stderr.startswith("homeops: error: .homeops.yaml:4: values given for cluster 'grey'")
    (repo / ".homeops.yaml").unlink()
    broken = tmp_path / "broken.yaml"
    broken.write_text("red:\n  1X: y\n")
    proc = run_cli("get", "ks", "--path", str(repo), "--vars-file", str(broken))
    assert proc.returncode == 2 and f"{broken}:2: '1X' is not a variable name" in proc.stderr
    missing = run_cli("get", "ks", "--path", str(repo), "--vars-file", str(tmp_path / "none.yaml"))
    assert missing.returncode == 2 and "cannot read vars file" in missing.stderr


def test_profile_vars_must_be_a_mapping_of_mappings(repo: Path) -> None:
    _profile(repo, "vars:\n  red: bitty\n")
    proc = run_cli("get", "ks", "--path", str(repo))
    assert proc.returncode == 2
    assert "homeops: error: .homeops.yaml:2: vars of 'red' must be a mapping of NAME: value" in proc.stderr


def test_placeholders_make_the_render_complete_and_stable(repo: Path) -> None:
    ws = Workspace(repo, vars={"CLUSTER_NAME": "red"}, placeholders=True)
    assert _web(ws, "red")["data"] == {"host": "web...PLACEHOLDER_DOMAIN..", "tz": "..PLACEHOLDER_TZ.."}
    findings = _ho103(ws, "red")
    assert set(findings) == {"DOMAIN", "TZ"}  # still reported: the value is not known
    assert "rendered as ..PLACEHOLDER_DOMAIN.." in findings["DOMAIN"].message
    once = run_cli("build", "ks", "--path", str(repo), "--cluster", "red", "--var", "CLUSTER_NAME=red",
                   "--placeholders")  # fmt: skip
    again = run_cli("build", "ks", "--path", str(repo), "--cluster", "red", "--var", "CLUSTER_NAME=red",
                    "--placeholders")  # fmt: skip
    assert once.stdout == again.stdout and "..PLACEHOLDER_TZ.." in once.stdout
    assert ClusterVars.of({"A": "1"}).with_placeholders().placeholders


# ------------------------------------------------------------------------------ reporting once, with why
def test_one_finding_per_cluster_and_variable_with_why(repo: Path) -> None:
    ws = Workspace(repo, vars={"red": {"CLUSTER_NAME": "red"}, "blue": {"CLUSTER_NAME": "blue"}})
    red = _ho103(ws, "red")
    assert set(red) == {"DOMAIN", "TZ"}
    domain, tz = red["DOMAIN"], red["TZ"]
    # DOMAIN is a key of the SOPS Secret: the cluster has it
    assert domain.severity == "warning"
    assert "SOPS-encrypted: only the cluster can read it" in domain.message
    assert "clusters/red/vars/cluster-secrets.sops.yaml:1" in domain.message
    assert (domain.file, domain.line) == ("apps/red/web/cm.yaml", 8)
    # TZ is not: nothing holds it, Flux would substitute an empty string
    assert tz.severity == "error"
    assert "no substituteFrom source holds it" in tz.message and "empty string" in tz.message
    assert {f.cluster for c in ("red", "blue") for f in ws.render(c).findings} == {"red", "blue"}


def test_uses_are_counted_and_the_first_is_shown(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/c/flux/root.yaml": _ks("one", "./one", "postBuild:\n  substitute: {A: a}\n")
        + _ks("two", "./two", "postBuild:\n  substitute: {A: a}\n"),
        "one/cm.yaml": _cm("one", "  x: ${ZONE}\n  y: ${ZONE}-b\n"),
        "two/cm.yaml": _cm("two", "  x: ${ZONE}\n"),
    })  # fmt: skip
    [finding] = [f for f in Workspace(tmp_path).render("c").findings if f.rule == "HO103"]
    assert finding.extra["uses"] == 2  # one place per object (file:line of its first use)
    assert (finding.file, finding.line) == ("one/cm.yaml", 8)
    assert "(2 uses in 2 Flux Kustomizations)" in finding.message


def test_external_secret_source_is_info_and_its_declared_keys_count(tmp_path: Path) -> None:
    external = """
        apiVersion: external-secrets.io/v1
        kind: ExternalSecret
        metadata: {name: app-vars, namespace: flux-system}
        spec:
          secretStoreRef: {kind: ClusterSecretStore, name: store}
          target: {name: app-vars}
          data: [{secretKey: TOKEN, remoteRef: {key: token}}]
        """
    write_tree(tmp_path, {
        "clusters/c/flux/root.yaml": _ks("secrets", "./secrets") + _ks("app", "./app", """
            dependsOn: [{name: secrets}]
            postBuild:
              substituteFrom:
                - kind: Secret
                  name: app-vars
            """),
        "secrets/es.yaml": textwrap.dedent(external).lstrip("\n"),
        "app/cm.yaml": _cm("app", "  token: ${TOKEN}\n  typo: ${TOKEM}\n"),
    })  # fmt: skip
    found = _ho103(Workspace(tmp_path), "c")
    assert found["TOKEN"].severity == "info"
    assert "made in the cluster by the ExternalSecret at secrets/es.yaml:1" in found["TOKEN"].message
    assert found["TOKEM"].severity == "error"  # the ExternalSecret declares no such key: a typo


def test_path_variable_names_the_fix_and_the_certain_value(repo: Path) -> None:
    ws = Workspace(repo)
    [finding] = [f for f in ws.render("red").findings if f.rule == "HO103"]
    assert finding.extra["variable"] == "CLUSTER_NAME" and finding.extra["certain"] == "red"
    assert (finding.file, finding.line) == ("apps/common/web.yaml", 9)
    assert "2 Flux Kustomizations with it in spec.path cannot render" in finding.message
    assert "the paths exist only with CLUSTER_NAME=red" in finding.message
    assert "add to .homeops.yaml: 'vars: {red: {CLUSTER_NAME: red}}'" in finding.message
    assert finding.severity == "warning"  # the SOPS Secret has the key: the cluster has the value
    assert [k.status for k in ws.render("red").kustomizations if k.name in ("web", "cache")] == ["error"] * 2
    # blue's only path exists for red and for blue: nothing is certain
    [blue] = [f for f in ws.render("blue").findings if f.rule == "HO103"]
    assert "certain" not in blue.extra and "'vars: {blue: {CLUSTER_NAME: <value>}}'" in blue.message
    _profile(repo, "vars:\n  blue:\n    TZ: x\n")
    [again] = [f for f in Workspace(repo).render("red").findings if f.rule == "HO103"]
    assert "add 'red: {CLUSTER_NAME: red}' to vars at .homeops.yaml:1" in again.message
    _profile(repo, "vars:\n  blue:\n    TZ: x\n  red:\n    TZ: y\n")
    [again] = [f for f in Workspace(repo).render("red").findings if f.rule == "HO103"]
    assert "add 'CLUSTER_NAME: red' under 'red:' at .homeops.yaml:4" in again.message


# ------------------------------------------------------------------------------ listing commands
def test_get_prints_its_listing_and_one_summary_line(repo: Path) -> None:
    without = run_cli("get", "ks", "-A", "--path", str(repo))
    assert without.returncode == 1  # Kustomizations not rendered: the contract's render errors
    assert without.stderr.count("\n") == 1
    assert (
        "3 Flux Kustomizations not rendered (their spec.path needs blue:CLUSTER_NAME, red:CLUSTER_NAME"
        in (without.stderr)
    )
    _profile(repo, "vars:\n  red: {CLUSTER_NAME: red}\n  blue: {CLUSTER_NAME: blue}\n")
    listed = run_cli("get", "ks", "-A", "--path", str(repo), "-o", "json")
    assert listed.returncode == 0, listed.stderr
    assert {i["status"] for i in json.loads(listed.stdout)["items"]} == {"rendered"}
    assert listed.stderr.count("\n") == 1 and listed.stderr.startswith("homeops: ")
    assert "2 errors, 2 warnings in the render (HO103 4)" in listed.stderr
    strict = run_cli("get", "ks", "-A", "--path", str(repo), "--strict")
    assert strict.returncode == 1
    assert strict.stderr.count("homeops: error:") == 2  # the two TZ findings (errors), every one
    images = run_cli("images", "list", "--path", str(repo))
    assert images.returncode == 0 and images.stderr.count("\n") == 1
    assert run_cli("images", "list", "--path", str(repo), "--strict").returncode == 1
    clean = run_cli("get", "ks", "--path", str(repo), "--var", "TZ=x", "--var", "DOMAIN=d")
    assert clean.returncode == 0 and clean.stderr == ""


def test_substitution_source_applied_outside_flux(tmp_path: Path) -> None:
    """A Secret the repository writes for the bootstrap (no Kustomization applies it) exists in the
    cluster: no HO108, and its variables are warnings that say where it is written."""
    write_tree(tmp_path, {
        "clusters/c/flux/root.yaml": _ks("app", "./app", """
            postBuild:
              substituteFrom:
                - kind: Secret
                  name: tunnel-id
            """),
        "app/cm.yaml": _cm("app", "  id: ${TUNNEL_ID}\n"),
        "bootstrap/secret.yaml": """
            apiVersion: v1
            kind: Secret
            metadata: {name: tunnel-id, namespace: flux-system}
            stringData: {TUNNEL_ID: set-at-bootstrap}
            """,
    })  # fmt: skip
    findings = Workspace(tmp_path).render("c").findings
    assert [f.rule for f in findings] == ["HO103"]
    assert findings[0].severity == "warning"
    assert "written at bootstrap/secret.yaml but applied outside Flux" in findings[0].message


def test_what_the_native_engine_does_not_do_is_a_warning(tmp_path: Path) -> None:
    """A remote resource Flux would fetch: homeops says it cannot render the Kustomization, as a
    warning (the repository is fine), and the listing still counts it as not rendered."""
    write_tree(tmp_path, {
        "clusters/c/flux/root.yaml": _ks("crds", "./crds"),
        "crds/kustomization.yaml": "resources:\n  - https://example.com/crds.yaml\n",
    })  # fmt: skip
    [finding] = Workspace(tmp_path).render("c").findings
    assert (finding.rule, finding.severity) == ("HO101", "warning")
    assert "homeops cannot render it: remote resource 'https://example.com/crds.yaml'" in finding.message
    listed = run_cli("get", "ks", "--path", str(tmp_path))
    assert listed.returncode == 1 and "1 Flux Kustomization not rendered" in listed.stderr
