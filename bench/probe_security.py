"""Every probe of issue 17 ("Hostile input"), run as the issue describes it, on our own small
repositories built in a temporary directory, through the real command line.

Prints one line per probe: ``probe | exit | time | leaked | verdict`` (exit codes of the probe's
commands, in order, ``-`` for one killed at its deadline; leaked: a host file's line, the token of
the environment, the marker of the directory next to the repository or a Secret value printed, a
file outside opened by any process of the run — traced by ``strace`` — or anything written outside).
Exits 1 when a probe fails its expectation, or names a regression test that does not exist.

    python bench/probe_security.py                 # everything (about 5 minutes on 2 cores)
    python bench/probe_security.py --only boundary # probes whose name holds the text
    python bench/probe_security.py --no-trace      # without strace (faster; output checks only)
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from probe_support import (
    ROOT,
    TOKEN,
    Run,
    Runner,
    Secrets,
    changed,
    commit_all,
    git,
    write,
)

sys.path.insert(0, str(ROOT / "tests" / "security"))
sys.path.insert(0, str(ROOT / "tests" / "fuzz"))
sys.path.insert(0, str(ROOT / "tests"))
import minimal_repo
from lying_registry import LyingRegistry, digest
from probe_charts import archive, bomb, chart_repo, registry_repo
from security_support import FLUX_KS

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


@dataclass
class Row:
    name: str
    runs: list[Run] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)
    seconds: float = 0.0
    codes: str = ""

    def line(self) -> str:
        codes = self.codes or "/".join("-" if r.code is None else str(r.code) for r in self.runs) or "n/a"
        leaked = "; ".join(self.leaked) if self.leaked else "no"
        verdict = "ok" if not (self.problems or self.leaked) else "FAIL: " + "; ".join(self.problems)[:300]
        return f"{self.name} | {codes} | {self.seconds:.1f}s | {leaked} | {verdict}"


@dataclass
class Probe:
    name: str
    run: Callable[[Runner, Row], None]
    tests: tuple[str, ...]  # regression tests pinning it: "file::function"


PROBES: list[Probe] = []


def probe(name: str, *tests: str) -> Callable[[Callable[[Runner, Row], None]], Callable[[Runner, Row], None]]:
    def register(fn: Callable[[Runner, Row], None]) -> Callable[[Runner, Row], None]:
        PROBES.append(Probe(name, fn, tests))
        return fn

    return register


def expect(row: Row, run: Run, codes: tuple[int, ...], *, fragment: str = "", one_error: bool = False) -> Run:
    """Record ``run`` in ``row`` and what it did wrong."""
    row.runs.append(run)
    label = " ".join(a for a in run.argv[3:5])
    row.problems += [f"{label}: {p}" for p in run.sane(codes)]
    if fragment and fragment not in run.output:
        row.problems.append(f"{label}: {fragment!r} not in the output: {run.stderr.strip()[-200:]!r}")
    if one_error and (len(run.errors()) != 1 or len(run.stderr.strip().splitlines()) != 1):
        row.problems.append(f"{label}: not one error line: {run.stderr.strip()[-300:]!r}")
    return run


def new_dir(runner: Runner, name: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=runner.base))
    return path / "repo"


# ------------------------------------------------------------------------------------ boundary
def app_repo(runner: Runner, name: str, kustomization: str, links: dict[str, str] | None = None) -> Path:
    """A repository whose one Flux Kustomization builds ``apps/app``; ``links``: name -> target."""
    repo = write(new_dir(runner, name), {
        "clusters/c/flux/root.yaml": FLUX_KS.format(path="./apps/app"),
        "apps/app/kustomization.yaml": kustomization.format(outside=runner.outside),
        "apps/app/cm.yaml": CM.format(name="app"),
    })  # fmt: skip
    for link, target in (links or {}).items():
        (repo / "apps/app" / link).symlink_to(target.format(outside=runner.outside))
    return repo


def refused(
    runner: Runner, row: Row, repo: Path, fragment: str, codes: tuple[str, ...] = ("HO113", "HO114")
) -> None:
    """check: a finding (exit 1); build ks and kustomize: exit 2 and one error line; no leak."""
    check = expect(row, runner.homeops("check", "--format", "json", "--path", str(repo)), (1,))
    if not any(f'"rule": "{c}"' in check.stdout for c in codes):
        row.problems.append(f"check: no {'/'.join(codes)} finding")
    expect(row, runner.homeops("build", "ks", "--path", str(repo)), (2,), fragment=fragment, one_error=True)
    expect(
        row, runner.homeops("kustomize", str(repo / "apps/app"), "--path", str(repo)), (2,), one_error=True
    )


BOUNDARY = [
    # (name, kustomization, links, fragment in the error, regression test)
    ("boundary: resources ../../../../../../etc/passwd", "resources: [../../../../../../etc/passwd]\n", None,
     "resolves outside the repository", "test_boundary.py::test_resource_climbing_out_with_dotdot"),
    ("boundary: resources /etc/passwd (absolute)", "resources: [/etc/passwd]\n", None,
     "to /etc/passwd", "test_boundary.py::test_resource_given_as_an_absolute_path"),
    ("boundary: configMapGenerator files [/etc/passwd]", "configMapGenerator: [{{name: leak, files: [/etc/passwd]}}]\n",
     None, "files entry '/etc/passwd'", "test_boundary.py::test_generator_files_outside"),
    ("boundary: configMapGenerator files [environ=/proc/self/environ]",
     "configMapGenerator: [{{name: env, files: [environ=/proc/self/environ]}}]\n", None,
     "resolves outside the repository", "test_boundary.py::test_generator_files_outside"),
    ("boundary: configMapGenerator envs [/proc/self/environ]",
     "configMapGenerator: [{{name: env, envs: [/proc/self/environ]}}]\n", None,
     "resolves outside the repository", "test_boundary.py::test_generator_files_outside"),
    ("boundary: secretGenerator files [/etc/shadow]", "secretGenerator: [{{name: s, files: [/etc/shadow]}}]\n", None,
     "files entry '/etc/shadow'", "test_boundary.py::test_generator_files_outside"),
    ("boundary: patches path ../ outside", "resources: [cm.yaml]\npatches: [{{path: ../../../outside/patch.yaml}}]\n",
     None, "resolves outside the repository", "test_boundary.py::test_patches_path_outside"),
    ("boundary: patches path /etc/passwd (absolute)", "resources: [cm.yaml]\npatches: [{{path: /etc/passwd}}]\n",
     None, "to /etc/passwd", "test_boundary.py::test_patches_path_outside"),
    ("boundary: patchesStrategicMerge /etc/passwd", "resources: [cm.yaml]\npatchesStrategicMerge: [/etc/passwd]\n",
     None, "resolves outside the repository", "test_boundary.py::test_patches_given_as_absolute_paths"),
    ("boundary: patchesJson6902 path outside",
     "resources: [cm.yaml]\npatchesJson6902: [{{target: {{version: v1, kind: ConfigMap, name: app}}, path: /etc/passwd}}]\n",
     None, "resolves outside the repository", "test_boundary.py::test_patches_given_as_absolute_paths"),
    ("boundary: components ../ outside", "resources: [cm.yaml]\ncomponents: [../../../outside/comp]\n", None,
     "resolves outside the repository", "test_boundary.py::test_component_outside"),
    ("boundary: symlink leak.yaml -> /etc/passwd", "resources: [leak.yaml]\n", {"leak.yaml": "/etc/passwd"},
     "resources entry 'leak.yaml'", "test_boundary.py::test_resource_through_a_symlinked_file"),
    ("boundary: symlinked directory -> outside", "resources: [base]\n", {"base": "{outside}/base"},
     "resources entry 'base'", "test_boundary.py::test_resource_through_a_symlinked_directory"),
    ("boundary: symlinked component directory", "resources: [cm.yaml]\ncomponents: [comp]\n", {"comp": "{outside}/comp"},
     "resolves outside the repository", "test_boundary.py::test_component_through_a_symlinked_directory"),
    ("boundary: generator file symlinked -> /etc/shadow", "secretGenerator: [{{name: s, files: [token.txt]}}]\n",
     {"token.txt": "/etc/shadow"}, "files entry 'token.txt'", "test_boundary.py::test_generator_file_through_a_link"),
    ("boundary: .. after a symlink climbing out", "resources: [up/outside/cm.yaml]\n", {"up": "../../../.."},
     "resources entry 'up/outside/cm.yaml'", "test_boundary.py::test_dotdot_after_a_symlink_is_folded_first_and_never_leaves"),
    ("boundary: symlink zero.yaml -> /dev/zero", "resources: [zero.yaml]\n", {"zero.yaml": "/dev/zero"},
     "resources entry 'zero.yaml'", "test_boundary.py::test_a_link_to_dev_zero_is_refused_at_once"),
]  # fmt: skip


def _boundary(
    kustomization: str, links: dict[str, str] | None, fragment: str
) -> Callable[[Runner, Row], None]:
    def run(runner: Runner, row: Row) -> None:
        refused(runner, row, app_repo(runner, "boundary", kustomization, links), fragment)

    return run


for _name, _kust, _links, _fragment, _test in BOUNDARY:
    PROBES.append(Probe(_name, _boundary(_kust, _links, _fragment), (f"tests/security/{_test}",)))


@probe(
    "boundary: spec.path through a symlinked dir",
    "tests/security/test_boundary.py::test_flux_path_through_a_symlinked_directory",
)
def _flux_path(runner: Runner, row: Row) -> None:
    repo = write(new_dir(runner, "fluxpath"), {"clusters/c/flux/root.yaml": FLUX_KS.format(path="./linked")})
    (repo / "linked").symlink_to(runner.outside / "apps")
    check = expect(row, runner.homeops("check", "--format", "json", "--path", str(repo)), (1,))
    if '"rule": "HO113"' not in check.stdout:
        row.problems.append("check: no HO113 finding")
    expect(
        row,
        runner.homeops("build", "ks", "--path", str(repo)),
        (2,),
        fragment="resolves outside",
        one_error=True,
    )


@probe(
    "boundary: .homeops.yaml clusters pointing outside",
    "tests/security/test_boundary.py::test_profile_clusters_pointing_outside",
)
def _profile_clusters(runner: Runner, row: Row) -> None:
    for target in ("../outside/apps", "../../../../etc", f"{runner.outside}/apps", "/etc"):
        repo = write(new_dir(runner, "clusters"), {".homeops.yaml": f"clusters:\n  evil: {target}\n"})
        # an absolute path names a directory of the repository (as Flux reads spec.path): not found there
        fragment = "no root Flux Kustomization found in" if target.startswith("/") else "resolves outside"
        for args in (("check",), ("build", "ks"), ("get", "ks")):
            expect(
                row,
                runner.homeops(*args, "--path", str(repo)),
                (2,),
                fragment=fragment,
                one_error=True,
            )


@probe(
    "boundary: kustomize --load-restrictor none, ../ outside",
    "tests/security/test_boundary.py::test_kustomize_none_restrictor_reaches_the_repository_but_not_beyond",
)
def _restrictor_none(runner: Runner, row: Row) -> None:
    repo = app_repo(runner, "none", "resources: [../../../outside/cm.yaml]\n")
    expect(row, runner.homeops("kustomize", str(repo / "apps/app"), "--path", str(repo), "--load-restrictor", "none"),
           (2,), fragment="resolves outside", one_error=True)  # fmt: skip


@probe(
    "boundary: .sourceignore symlinked -> /etc/passwd",
    "tests/security/test_boundary.py::test_sourceignore_linked_outside",
)
def _sourceignore(runner: Runner, row: Row) -> None:
    repo = app_repo(runner, "sourceignore", "resources: [cm.yaml]\n")
    (repo / ".sourceignore").symlink_to("/etc/passwd")
    check = expect(row, runner.homeops("check", "--format", "json", "--path", str(repo)), (1,))
    if '"rule": "HO113"' not in check.stdout:
        row.problems.append("check: no HO113 finding for the .sourceignore")
    fragment = ".sourceignore file resolves outside"
    expect(row, runner.homeops("build", "ks", "--path", str(repo)), (2,), fragment=fragment, one_error=True)


@probe(
    "boundary: HelmRelease chart dir / valuesFiles outside",
    "tests/security/test_boundary.py::test_helm_chart_and_values_files_outside",
)
def _helm_boundary(runner: Runner, row: Row) -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("chart path ../outside", {"chart": "../../outside/chart"}),
        ("chart dir symlinked", {"link_chart": str(runner.outside / "chart")}),
        ("valuesFiles /etc/passwd", {"values_files": ["/etc/passwd"]}),
        ("valuesFiles ../ climbing", {"values_files": ["../../../../../../etc/passwd"]}),
        ("a chart file linked to /etc/passwd read by .Files.Get", {"files_link": "/etc/passwd"}),
    ]
    for _label, options in cases:
        repo = chart_repo(
            new_dir(runner, "helmfs"), FLUX_KS, '{{ .Files.Get "files/data" | quote }}', **options
        )
        expect(
            row,
            runner.homeops("build", "hr", "demo", "-n", "media", "--enable-helm", "--path", str(repo)),
            (1, 2),
        )
        expect(row, runner.homeops("check", "--path", str(repo)), (1,))


# ------------------------------------------------------------------------------- CI and diffs
def committed(runner: Runner, name: str, files: dict[str, str]) -> Path:
    repo = write(new_dir(runner, name), files)
    commit_all(repo, "base")
    return repo


@probe("CI: environ=/proc/self/environ, GITHUB_TOKEN=ghp_FAKE diff --format markdown|unified|json|html",
       "tests/security/test_boundary.py::test_env_leaking_generator_in_a_pull_request_diff")  # fmt: skip
def _ci_exfiltration(runner: Runner, row: Row) -> None:
    repo = committed(runner, "ci", {
        "clusters/c/flux/root.yaml": FLUX_KS.format(path="./apps/app"),
        "apps/app/kustomization.yaml": "resources: [cm.yaml]\n",
        "apps/app/cm.yaml": CM.format(name="app"),
    })  # fmt: skip
    (repo / "apps/app/kustomization.yaml").write_text(
        "resources: [cm.yaml]\nconfigMapGenerator: [{name: env, files: [environ=/proc/self/environ]}]\n"
        "secretGenerator: [{name: shadow, files: [/etc/shadow]}]\n"
    )
    commit_all(repo, "leak")
    page = repo.parent / "review.html"
    for fmt in ("markdown", "unified", "json", "html"):
        extra = ("-o", str(page)) if fmt == "html" else ()
        run = runner.homeops("diff", "--base", "HEAD~1", "--head", "HEAD", "--format", fmt, *extra, cwd=repo,
                             env={"GITHUB_TOKEN": TOKEN, "CI": "true"})  # fmt: skip
        expect(row, run, (0, 1, 2))
        text = run.output + (page.read_text(errors="replace") if fmt == "html" and page.exists() else "")
        if "resolves outside the repository" not in text:
            row.problems.append(f"diff {fmt}: the refusal is not shown")
        row.leaked += [x for x in runner.leaks([], texts=(text,)) if x not in row.leaked]


@probe("git: crafted tree zz -> dir + zz/FILE, diff --base HEAD --head evil",
       "tests/security/test_git_materialise.py::test_diff_of_a_commit_writing_through_its_own_symlink")  # fmt: skip
def _crafted_tree(runner: Runner, row: Row) -> None:
    repo = committed(runner, "crafted", {"clusters/c/flux/root.yaml": FLUX_KS.format(path="./apps")})
    blob = git(repo, "hash-object", "-w", "--stdin", input="pwned\n")
    link = git(repo, "hash-object", "-w", "--stdin", input=str(runner.victim))
    sub = git(repo, "mktree", input=f"100644 blob {blob}\tFILE\n")
    clusters = git(repo, "rev-parse", "HEAD:clusters")
    tree = git(repo, "mktree", "--missing",
               input=f"040000 tree {clusters}\tclusters\n120000 blob {link}\tzz\n040000 tree {sub}\tzz\n")  # fmt: skip
    git(repo, "branch", "evil", git(repo, "commit-tree", tree, "-p", "HEAD", "-m", "evil"))
    for base, head in (("HEAD", "evil"), ("evil", "HEAD")):
        for fmt in ("unified", "markdown"):
            expect(row, runner.homeops("diff", "--base", base, "--head", head, "--format", fmt, cwd=repo), (0, 1, 2),
                   fragment="below the symlink 'zz'")  # fmt: skip


SECRET_OLD = {"password": "Old-pw-7f3kQ9zLmX2v", "token": "Old-tok-Wq8Rj4nT6yBc"}
SECRET_NEW = {"password": "New-pw-P0oIuYtReW3q", "token": "New-tok-Zx7Cv5Bn3MlK"}
PEM_BODY = {side: base64.b64encode(random.Random(side).randbytes(96)).decode() for side in ("old", "new")}


def _secret_files(values: dict[str, str], side: str) -> dict[str, str]:
    data = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
    pem = f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY[side][:64]}\n{PEM_BODY[side][64:]}\n-----END PRIVATE KEY-----\n"
    indented = pem.replace("\n", "\n    ")
    return {
        "apps/app/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: default\n"
        f"stringData:\n  password: {values['password']}\n  tls.key: |\n    {indented}\n"
        f"data:\n  token: {data['token']}\n",
        "apps/app/kustomization.yaml": "resources: [secret.yaml]\n",
    }


@probe("redaction: Secret rotation diff unified|markdown|json|html, build/kustomize --redact, check, report, --show-secrets in CI",
       "tests/diff/test_redaction.py::test_diff_shows_no_secret_in_any_format",
       "tests/diff/test_redaction.py::test_build_redact", "tests/diff/test_redaction.py::test_kustomize_redact",
       "tests/diff/test_redaction.py::test_show_secrets_shows_values_locally_and_is_refused_in_ci",
       "tests/web/test_review_page.py::test_secret_values_never_reach_the_page",
       "tests/mcp_server/test_mcp.py::test_secret_values_never_reach_the_assistant")  # fmt: skip
def _redaction(runner: Runner, row: Row) -> None:
    repo = committed(runner, "rotate", {"clusters/c/flux/root.yaml": FLUX_KS.format(path="./apps/app"),
                                        **_secret_files(SECRET_OLD, "old")})  # fmt: skip
    write(repo, _secret_files(SECRET_NEW, "new"))
    commit_all(repo, "rotate")
    secrets = Secrets()
    for value in [*SECRET_OLD.values(), *SECRET_NEW.values()]:
        secrets.add(f"Secret value {value[:3]}...", value, prefix=8)
    for side, body in PEM_BODY.items():
        secrets.needles[f"PEM body ({side})"] = [body[:40], body[64:100]]
    page = repo.parent / "review.html"
    for fmt in ("unified", "markdown", "json", "html"):
        extra = ("-o", str(page)) if fmt == "html" else ()
        run = expect(row, runner.homeops("diff", "--base", "HEAD~1", "--head", "HEAD", "--format", fmt, *extra,
                                         cwd=repo), (0, 1))  # fmt: skip
        text = run.output + (page.read_text() if fmt == "html" else "")
        if "redacted" not in text:
            row.problems.append(f"diff {fmt}: no placeholder shown")
        row.leaked += [f"diff {fmt}: printed {x}" for x in secrets.leaked(text)]
    redacted: list[tuple[str, ...]] = [("build", "ks", "--redact"), ("build", "ks", "--redact", "-o", "json"),
                                       ("kustomize", str(repo / "apps/app"), "--redact")]  # fmt: skip
    for args in redacted:
        run = expect(row, runner.homeops(*args, "--path", str(repo)), (0,))
        row.leaked += [f"{' '.join(args[:2])}: printed {x}" for x in secrets.leaked(run.output)]
    site = repo.parent / "site"
    shown: list[tuple[str, ...]] = [
        ("check", "--format", "github"), ("check", "--format", "markdown"), ("check", "--format", "sarif"),
        ("diff", "ks", "--base", "HEAD~1"), ("diff", "all", "--base", "HEAD~1"),
        ("diff", "--base", "HEAD~1", "--findings", "--format", "markdown"), ("report", "-o", str(site)),
    ]  # fmt: skip
    for args in shown:
        run = expect(row, runner.homeops(*args, cwd=repo), (0, 1))
        pages = (
            "".join(p.read_text(errors="replace") for p in site.rglob("*") if p.is_file())
            if args[0] == "report"
            else ""
        )
        row.leaked += [f"{' '.join(args[:3])}: printed {x}" for x in secrets.leaked(run.output + pages)]
    ci = runner.homeops("diff", "--base", "HEAD~1", "--show-secrets", cwd=repo, env={"CI": "true"})
    expect(row, ci, (2,), fragment="--show-secrets", one_error=True)
    row.leaked += [f"--show-secrets in CI: printed {x}" for x in secrets.leaked(ci.output)]


# ------------------------------------------------------------------------- injection, crashes
INJECTION = "x\\n::error file=x,line=1::INJECTED\\nhomeops: error: fake"
FORGED = ("::error file=x", "homeops: error: fake")


@probe("injection: resource entry with newlines in build ks|get ks|images list|diff|check github",
       "tests/fuzz/test_injection.py::test_no_forged_line")  # fmt: skip
def _injection(runner: Runner, row: Row) -> None:
    repo = minimal_repo.write(new_dir(runner, "inject"), {})
    commit_all(repo, "base")
    minimal_repo.write(repo, {"demo/kustomization.yaml": f'resources: [cm.yaml, "{INJECTION}"]\n'})
    for args in (("build", "ks"), ("get", "ks"), ("images", "list"), ("diff",), ("diff", "--format", "markdown"),
                 ("check", "--format", "github")):  # fmt: skip
        run = expect(row, runner.homeops(*args, "--path", str(repo)), (0, 1, 2))
        forged = [line for line in run.output.splitlines() if line.startswith(FORGED)]
        if forged:
            row.problems.append(f"{' '.join(args)}: forged line {forged[0][:80]!r}")
        if args[0] in ("build", "diff", "check") and "INJECTED" not in run.output:
            row.problems.append(f"{' '.join(args)}: the entry is not shown at all")


BASE_DEMO = minimal_repo.BASE["apps/demo.yaml"]
LONG = "n" * 300
CRASHES: list[tuple[str, dict[str, str], tuple[int, ...]]] = [
    ("kind: [ConfigMap]", {"demo/cm.yaml": "apiVersion: v1\nkind: [ConfigMap]\nmetadata: {name: greeting}\n"}, (1,)),
    ("OCIRepository spec: [1]", {"apps/source.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\n"
                                 "metadata: {name: chart, namespace: flux-system}\nspec: [1]\n"}, (1,)),
    ("commonMetadata labels: x", {"apps/demo.yaml": BASE_DEMO + "  commonMetadata:\n    labels: x\n"}, (1,)),
    ("sourceRef: x", {"apps/demo.yaml": minimal_repo.DEMO_KS + "spec:\n  path: ./demo\n  sourceRef: x\n"}, (1,)),
    ("postBuild.substituteFrom: [1]", {"apps/demo.yaml": BASE_DEMO + "    substituteFrom: [1]\n"}, (1,)),
    ("postBuild.substitute: x", {"apps/demo.yaml": minimal_repo.DEMO_KS + "spec:\n  path: ./demo\n"
                                 + minimal_repo.SOURCE_REF + "  postBuild:\n    substitute: x\n"}, (1,)),
    ("resources: 1.5", {"demo/kustomization.yaml": "resources: 1.5\n"}, (1,)),
    ("dependsOn: 1.5", {"apps/demo.yaml": BASE_DEMO + "  dependsOn: 1.5\n"}, (1,)),
    ('components: ["a\\0b"]', {"demo/kustomization.yaml": 'resources: [cm.yaml]\ncomponents: ["a\\0b"]\n'}, (1,)),
    ("resource name over 255 bytes", {"demo/kustomization.yaml": f"resources: [cm.yaml, {LONG}.yaml]\n"}, (1,)),
    ("spec.path over 255 bytes", {"apps/demo.yaml": BASE_DEMO.replace("path: ./demo", f"path: ./{LONG}/x")}, (1,)),
    (".homeops.yaml domain: {a: b}", {".homeops.yaml": "domain: {a: b}\n"}, (2,)),
    ("generatorOptions: [a]", {"demo/kustomization.yaml": "resources: [cm.yaml]\ngeneratorOptions: [a]\n"}, (1,)),
    ("replicas: [x]", {"demo/kustomization.yaml": "resources: [cm.yaml]\nreplicas: [x]\n"}, (1,)),
    ("commonLabels: x", {"demo/kustomization.yaml": "resources: [cm.yaml]\ncommonLabels: x\n"}, (1,)),
    ("sortOptions: [x]", {"demo/kustomization.yaml": "resources: [cm.yaml]\nsortOptions: [x]\n"}, (1,)),
    ("an integer of 4,301+ digits", {"demo/cm.yaml": minimal_repo.BASE["demo/cm.yaml"].replace("${GREETING}", "9" * 5000)}, (0,)),
    ("a mapping nested 350 deep", {"demo/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n"
                                   + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(350)) + "  " * 351 + "v: 1\n"}, (1, 2)),
]  # fmt: skip


def _crash(changes: dict[str, str], codes: tuple[int, ...]) -> Callable[[Runner, Row], None]:
    def run(runner: Runner, row: Row) -> None:
        repo = minimal_repo.write(new_dir(runner, "crash"), changes)
        build = expect(row, runner.homeops("build", "ks", "--path", str(repo), trace=False), codes)
        if codes != (0,) and len(build.errors()) != 1:
            row.problems.append(f"build ks: {len(build.errors())} error lines")
        check_codes = (2,) if codes == (2,) else (0, 1)
        expect(row, runner.homeops("check", "--path", str(repo), trace=False), check_codes)
        expect(row, runner.homeops("get", "ks", "--path", str(repo), trace=False), codes)

    return run


CRASH_TESTS = {
    "spec.path over 255 bytes": "tests/fuzz/test_regressions.py::test_a_flux_path_over_255_bytes",
    ".homeops.yaml domain: {a: b}": "tests/fuzz/test_regressions.py::test_profile_values_of_the_wrong_type",
    "an integer of 4,301+ digits": "tests/security/test_limits.py::test_an_integer_of_thousands_of_digits_is_a_string_as_go_reads_it",
    "a mapping nested 350 deep": "tests/fuzz/test_regressions.py::test_a_deeply_nested_mapping_is_checked",
}
for _shape, _changes, _codes in CRASHES:
    _test = CRASH_TESTS.get(
        _shape, "tests/fuzz/test_regressions.py::test_one_broken_field_is_one_located_error"
    )
    PROBES.append(Probe(f"crash: {_shape} (build ks, check, get ks)", _crash(_changes, _codes), (_test,)))


@probe("silently wrong: kustomization.yaml a list / a scalar",
       "tests/fuzz/test_regressions.py::test_a_kustomization_file_that_is_not_a_mapping_is_an_error_not_zero_objects")  # fmt: skip
def _not_a_mapping(runner: Runner, row: Row) -> None:
    for text in ("- cm.yaml\n", "cm.yaml\n"):
        repo = minimal_repo.write(new_dir(runner, "kust"), {"demo/kustomization.yaml": text})
        run = expect(row, runner.homeops("get", "ks", "-o", "json", "--path", str(repo)), (1,))
        if re.search(r'"name": "demo",[^}]*"status": "rendered"', run.stdout):
            row.problems.append("get ks: demo 'rendered'")
        expect(row, runner.homeops("build", "ks", "--path", str(repo)), (1,), fragment="must be a mapping")
        expect(row, runner.homeops("check", "--path", str(repo)), (1,))


@probe("silently wrong: a FIFO named *.yaml (check, build ks, get ks, images list, test, kustomize, diff)",
       "tests/security/test_boundary.py::test_a_fifo_is_refused_without_blocking",
       "tests/security/test_boundary.py::test_a_fifo_in_a_generated_kustomization_blocks_no_command")  # fmt: skip
def _fifo(runner: Runner, row: Row) -> None:
    repo = minimal_repo.write(new_dir(runner, "fifo"), {"apps/kustomization.yaml": "resources: [demo.yaml, source.yaml, pipe.yaml]\n"})  # fmt: skip
    (repo / "gen").mkdir()
    commit_all(repo, "base")
    os.mkfifo(repo / "apps/pipe.yaml")
    os.mkfifo(repo / "demo/pipe.yaml")  # a directory with a kustomization: not listed, never read
    os.mkfifo(repo / "clusters/c/flux/pipe.yaml")  # a generated kustomization lists every *.yaml
    for args in (("check",), ("build", "ks"), ("get", "ks"), ("images", "list"), ("test",),
                 ("kustomize", str(repo / "apps")), ("diff",)):  # fmt: skip
        expect(row, runner.homeops(*args, "--path", str(repo), timeout=60), (1, 2))


@probe("walks: unreferenced links to /etc/passwd, /dev/zero, environ, a dir outside, a FIFO (13 commands)",
       "tests/security/test_boundary.py::test_unreferenced_links_out_are_never_opened",
       "tests/fuzz/test_regressions.py::test_diff_never_reads_an_untracked_symlink")  # fmt: skip
def _walks(runner: Runner, row: Row) -> None:
    repo = minimal_repo.write(new_dir(runner, "walk"), {})
    commit_all(repo, "base")
    for link, target in (("demo/leak.yaml", "/etc/passwd"), ("apps/out", str(runner.outside)),
                         ("zero.yaml", "/dev/zero"), ("env.yaml", "/proc/self/environ")):  # fmt: skip
        (repo / link).symlink_to(target)
    os.mkfifo(repo / "demo/pipe.yaml")
    for args in (("check",), ("check", "--changed"), ("check", "--changed-from", "HEAD"), ("diff",),
                 ("diff", "--format", "json"), ("report", "-o", str(repo.parent / "site")), ("docs", "--check"),
                 ("images", "list"), ("get", "all"), ("test",), ("build", "all"), ("profile", "infer"),
                 ("images", "pin")):  # fmt: skip
        expect(row, runner.homeops(*args, "--path", str(repo), timeout=60), (0, 1))


@probe(
    "silently wrong: a NUL byte in a manifest",
    "tests/fuzz/test_regressions.py::test_one_broken_field_is_one_located_error",
)
def _nul(runner: Runner, row: Row) -> None:
    repo = minimal_repo.write(
        new_dir(runner, "nul"), {"demo/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a\0b}\n"}
    )
    expect(
        row,
        runner.homeops("build", "ks", "--path", str(repo)),
        (1,),
        fragment="character '\\x00'",
        one_error=True,
    )


# ---------------------------------------------------------------------------------- bounded work
def _documents(count: int) -> str:
    return "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n" for i in range(count))


def _docs_repo(runner: Runner, count: int, profile: str = "") -> Path:
    files = {"clusters/c/flux/root.yaml": FLUX_KS.format(path="./apps"), "apps/many.yaml": _documents(count)}
    if profile:
        files[".homeops.yaml"] = profile
    return write(new_dir(runner, f"docs{count}"), files)


TIMES: dict[int, float] = {}


@probe(
    "unbounded: 100k documents in one file (get ks)",
    "tests/security/test_limits.py::test_documents_parse_in_linear_time",
)
def _docs_100k(runner: Runner, row: Row) -> None:
    run = expect(
        row,
        runner.homeops(
            "get", "ks", "--no-cache", "--path", str(_docs_repo(runner, 100_000)), trace=False, timeout=300
        ),
        (0,),
    )
    TIMES[100_000] = run.seconds
    if run.seconds > 60:
        row.problems.append(f"{run.seconds:.0f} s (was 21 s; quadratic?)")


@probe(
    "unbounded: 200k documents, limits.yaml_documents raised (linear time)",
    "tests/security/test_limits.py::test_documents_parse_in_linear_time",
)
def _docs_200k_raised(runner: Runner, row: Row) -> None:
    repo = _docs_repo(runner, 200_000, "limits: {yaml_documents: 2000000}\n")
    run = expect(
        row, runner.homeops("get", "ks", "--no-cache", "--path", str(repo), trace=False, timeout=600), (0,)
    )
    if 100_000 in TIMES and run.seconds > 3 * TIMES[100_000]:
        row.problems.append(f"{run.seconds:.0f} s, over 3x the 100k run ({TIMES[100_000]:.0f} s): not linear")


@probe(
    "unbounded: 200k / 1M documents at the default limits (refused)",
    "tests/security/test_limits.py::test_yaml_over_a_limit",
)
def _docs_refused(runner: Runner, row: Row) -> None:
    for count in (200_000, 1_000_000):
        repo = _docs_repo(runner, count)
        run = expect(row, runner.homeops("build", "ks", "--path", str(repo), trace=False, timeout=300), (2,),
                     fragment="[HO114]", one_error=True)  # fmt: skip
        if run.seconds > 60:
            row.problems.append(f"{count}: refused only after {run.seconds:.0f} s")


TEMPLATES = [
    ("range until 1000000000", "{{ range until 1000000000 }}x{{ end }}", (2,), "exhausted the engine's memory"),
    ("string doubling", '{{- $s := "xxxxxxxx" }}{{- range until 40 }}{{- $s = print $s $s }}{{- end }}{{ len $s }}',
     (2,), "exhausted the engine's memory"),
    ("range until 100000000", "{{ range until 100000000 }}x{{ end }}", (0, 1, 2), ""),
    ("recursion through include", '{{- define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}', (1,), "characters)"),
]  # fmt: skip


def _template(template: str, codes: tuple[int, ...], fragment: str) -> Callable[[Runner, Row], None]:
    def run(runner: Runner, row: Row) -> None:
        repo = chart_repo(new_dir(runner, "tpl"), FLUX_KS, template)
        proc = expect(row, runner.homeops("build", "hr", "demo", "-n", "media", "--enable-helm", "--path", str(repo),
                                          trace=False, timeout=300), codes, fragment=fragment)  # fmt: skip
        if any(len(line) > 1000 for line in proc.stderr.splitlines()):
            row.problems.append(f"an error line of {max(map(len, proc.stderr.splitlines()))} characters")
        if proc.seconds > 150:
            row.problems.append(f"{proc.seconds:.0f} s, over the template deadline")

    return run


for _label, _tpl, _codes, _fragment in TEMPLATES:
    PROBES.append(Probe(f"helm: template {_label} (chart dir)", _template(_tpl, _codes, _fragment),
                        ("tests/security/test_limits.py::test_runaway_templates_are_stopped"
                         if "include" not in _label else
                         "tests/security/test_limits.py::test_recursion_through_include_is_one_short_line",)))  # fmt: skip


def _blobs(runner: Runner) -> set[str]:
    return {p.name for p in runner.cache.rglob("blobs/sha256/*")}


@probe("helm: registry lies (500 MB chart by descriptor, 12-byte descriptor streaming 512 MB, manifest types)",
       "tests/security/test_limits.py::test_a_chart_larger_than_the_limit_is_refused_before_downloading",
       "tests/security/test_limits.py::test_a_blob_longer_than_its_descriptor_is_cut_off_and_not_cached",
       "tests/security/test_limits.py::test_wrong_typed_manifest_json_is_one_error")  # fmt: skip
def _lying(runner: Runner, row: Row) -> None:
    plain = archive([])
    cases: list[tuple[str, dict[str, Any], tuple[int, ...], str]] = [
        ("500 MB", {"declared_size": 500 * 1024 * 1024}, (2,), "over the limit of"),
        ("12-byte descriptor", {"declared_size": 12, "served": plain + bytes(512 * 1024 * 1024)}, (2,), "over the limit of 12"),
        ("layers: {}", {"manifest": {"schemaVersion": 2, "layers": {}}}, (1, 2), "layers must be a list"),
        ('size: "huge"', {"manifest": {"schemaVersion": 2, "layers": [
            {"mediaType": "x", "digest": "sha256:" + "0" * 64, "size": "huge"}]}}, (1, 2), "size must be"),
    ]  # fmt: skip
    for label, options, codes, fragment in cases:
        with LyingRegistry() as registry:
            registry.add_chart("charts/demo", "1.0.0", plain, **options)
            repo = registry_repo(new_dir(runner, "lying"), FLUX_KS, f"oci://{registry.host}/charts/demo")
            expect(row, runner.homeops("build", "hr", "demo", "-n", "media", "--enable-helm", "--path", str(repo),
                                       timeout=300), codes, fragment=fragment)  # fmt: skip
            if label == "500 MB" and any("/blobs/" in r for r in registry.requests):
                row.problems.append("500 MB: downloaded before refusing")
        if digest(plain).split(":")[1] in _blobs(runner) and label != "layers: {}":
            row.problems.append(f"{label}: the refused blob stayed in the cache")


@probe("helm: a registry sending one byte every 5 s / never answering (build hr, images pin; request_seconds: 15)",
       "tests/security/test_limits.py::test_a_stalling_registry_meets_its_deadline",
       "tests/security/test_limits.py::test_a_silent_registry_meets_its_deadline")  # fmt: skip
def _stalling(runner: Runner, row: Row) -> None:
    profile = "limits:\n  request_seconds: 15\n"
    with LyingRegistry() as registry:
        registry.add_chart("charts/demo", "1.0.0", archive([]))
        registry.add_chart("apps/web", "1.0", archive([]))
        registry.byte_delay = 5
        repo = registry_repo(new_dir(runner, "stall"), FLUX_KS, f"oci://{registry.host}/charts/demo",
                             profile=profile, image=f"{registry.host}/apps/web:1.0")  # fmt: skip
        for args in (("build", "hr", "demo", "-n", "media", "--enable-helm"), ("images", "pin")):
            run = expect(row, runner.homeops(*args, "--path", str(repo), timeout=120), (2,),
                         fragment="within 15 s", one_error=True)  # fmt: skip
            if run.seconds > 45:
                row.problems.append(f"{args[0]}: {run.seconds:.0f} s for a 15 s deadline")
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        host = f"127.0.0.1:{silent.getsockname()[1]}"
        repo = registry_repo(new_dir(runner, "silent"), FLUX_KS, f"oci://{host}/charts/demo", profile=profile,
                             image=f"{host}/apps/web:1.0")  # fmt: skip
        for args in (("build", "hr", "demo", "-n", "media", "--enable-helm"), ("images", "pin")):
            run = expect(row, runner.homeops(*args, "--path", str(repo), timeout=120), (2,), one_error=True)
            if run.seconds > 45:
                row.problems.append(f"silent {args[0]}: {run.seconds:.0f} s for a 15 s deadline")


def _device() -> tarfile.TarInfo:
    info = tarfile.TarInfo("demo/templates/dev.yaml")
    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 5
    return info


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@probe("helm: hostile chart archives (.., absolute, links, device, 20,001 entries, gzip bomb)",
       "tests/security/test_limits.py::test_a_refused_archive_leaves_nothing_in_the_cache",
       "tests/helm/test_helm_sources.py::test_unsafe_archives_are_refused",
       "tests/helm/test_helm_sources.py::test_archive_size_limits")  # fmt: skip
def _archives(runner: Runner, row: Row) -> None:
    evil = {
        "member ../../escape.yaml": archive([("../../escape.yaml", b"x: 1\n")]),
        "absolute member": archive([(f"{runner.victim}/abs.yaml", b"x: 1\n")]),
        "symlink member -> /etc/passwd": archive([_link("demo/templates/leak.yaml", "/etc/passwd")]),
        "hard link -> /etc/passwd": archive(
            [_link("demo/templates/hard.yaml", "/etc/passwd", tarfile.LNKTYPE)]
        ),
        "device member": archive([_device()]),
        "20,001 entries": archive([(f"demo/files/f{i}", b"") for i in range(20_001)]),
        "gzip bomb (600 MiB)": bomb(600),
    }
    for label, data in evil.items():
        with LyingRegistry() as registry:
            registry.add_chart("charts/demo", "1.0.0", data)
            repo = registry_repo(new_dir(runner, "archive"), FLUX_KS, f"oci://{registry.host}/charts/demo")
            run = expect(row, runner.homeops("build", "hr", "demo", "-n", "media", "--enable-helm", "--path",
                                             str(repo), timeout=300), (1, 2))  # fmt: skip
            if not run.errors():
                row.problems.append(f"{label}: not refused")
        if digest(data).split(":")[1] in _blobs(runner):
            row.problems.append(f"{label}: stayed in the cache")
    if list(runner.base.rglob("escape.yaml")):
        row.problems.append("escape.yaml written")


# ------------------------------------------------------------------------------------------ writes
WHOAMI = (
    "ghcr.io/traefik/whoami:v1.10.4@sha256:1699d99cb4b9acc17f74ca670b3d8d0b7ba27c948b3445f0593b58ebece92f04"
)
KILLS = 8
PAIRS = 30


def _new_app(app: str, repo: Path) -> list[str]:
    return ["new", "app", f"default/{app}", "--image", WHOAMI, "--port", "80", "--path", str(repo)]


def _base_repo(runner: Runner) -> Path:
    base = runner.base / "init-base" / "repo"
    if not base.exists():
        run = runner.homeops(
            "init", str(base), "--cluster", "alpha", "--domain", "home.example.net", trace=False
        )
        if run.code != 0:
            raise RuntimeError(run.stderr)
        commit_all(base, "init")
    return base


def _fresh(runner: Runner, source: Path, name: str) -> Path:
    repo = new_dir(runner, name)
    shutil.copytree(source, repo, symlinks=True)
    return repo


def _settled(runner: Runner, repo: Path) -> set[str]:
    """The working tree once the next homeops run has rolled back an interrupted write."""
    runner.homeops("get", "clusters", "--path", str(repo), trace=False)
    return changed(repo)


def _stray(repo: Path) -> list[str]:
    return [str(p.relative_to(repo)) for p in repo.rglob("*")
            if ".git" not in p.parts and ((".homeops" in p.name and p.name != ".homeops.yaml") or p.name.endswith(".tmp"))]  # fmt: skip


def _kill_probe(
    runner: Runner, row: Row, source: Path, argv: Callable[[Path], list[str]], ok: tuple[int, ...]
) -> None:
    reference = _fresh(runner, source, "whole")
    took = expect(row, runner.homeops(*argv(reference), trace=False), ok).seconds
    whole = changed(reference)
    rng = random.Random(17)
    outcomes = {"nothing": 0, "whole": 0}
    for attempt in range(KILLS):
        sig = (signal.SIGKILL, signal.SIGINT)[attempt % 2]
        repo = _fresh(runner, source, "killed")
        proc = subprocess.Popen(
            [sys.executable, "-m", "homeops.cli.main", *argv(repo)], env=runner.env,
            stdout=-1, stderr=-1, text=True, start_new_session=True)  # fmt: skip
        time.sleep(rng.uniform(0.3 * took, 1.1 * took))  # around the end, where the files are written
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=120)
        if "Traceback" in err:
            row.problems.append(f"{sig.name}: traceback")
        after = _settled(runner, repo)
        if after not in (set(), whole):
            row.problems.append(f"{sig.name} #{attempt}: partial change {sorted(after - whole or after)[:3]}")
        if _stray(repo):
            row.problems.append(f"{sig.name} #{attempt}: stray files {_stray(repo)[:3]}")
        outcomes["whole" if after == whole and after else "nothing"] += 1
        if after == set():
            again = runner.homeops(*argv(repo), trace=False)
            if again.code not in ok or changed(repo) != whole:
                row.problems.append(
                    f"{sig.name} #{attempt}: the re-run did not complete the change: {again.stderr[-200:]!r}"
                )
    row.codes = f"{KILLS} kills: {outcomes['nothing']} nothing, {outcomes['whole']} whole"


@probe("writes: new app killed mid-way (SIGKILL/SIGINT at random moments)",
       "tests/security/test_writes.py::test_killed_at_random_moments_leaves_nothing_or_the_whole_change")  # fmt: skip
def _kill_new_app(runner: Runner, row: Row) -> None:
    _kill_probe(runner, row, _base_repo(runner), lambda repo: _new_app("whoami", repo), (0,))


@probe("writes: migrate --write killed mid-way (SIGKILL/SIGINT at random moments)",
       "tests/security/test_writes.py::test_migrate_killed_at_random_moments_leaves_nothing_or_the_whole_change")  # fmt: skip
def _kill_migrate(runner: Runner, row: Row) -> None:
    source = runner.base / "example" / "repo"
    if not source.exists():
        shutil.copytree(ROOT / "examples" / "home-ops", source)
        commit_all(source, "example")
    argv = ["migrate", "media/jellyseerr", "--from", "bitty", "--to", "chongus", "--write", "--path"]
    _kill_probe(runner, row, source, lambda repo: [*argv, str(repo)], (0, 1))


@probe(
    "writes: two new app in parallel",
    "tests/security/test_writes.py::test_two_new_apps_at_once_are_both_registered",
)
def _parallel(runner: Runner, row: Row) -> None:
    lost = 0
    for attempt in range(PAIRS):
        repo = _fresh(runner, _base_repo(runner), "pair")
        procs = [subprocess.Popen([sys.executable, "-m", "homeops.cli.main", *_new_app(app, repo)], env=runner.env,
                                  stdout=-1, stderr=-1, text=True) for app in ("one", "two")]  # fmt: skip
        for proc in procs:
            _out, err = proc.communicate(timeout=180)
            if proc.returncode != 0:
                row.problems.append(f"#{attempt}: exit {proc.returncode}: {err.strip()[-200:]!r}")
        registered = (repo / "cluster-apps/alpha/default/kustomization.yaml").read_text()
        if "./one/ks.yaml" not in registered or "./two/ks.yaml" not in registered:
            lost += 1
    row.codes = f"{PAIRS} pairs, {lost} lost"
    if lost:
        row.problems.append(f"{lost} of {PAIRS} lost a registration")


def _fsize(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@probe("writes: disk full / read-only directory",
       "tests/security/test_writes.py::test_a_full_disk_is_one_line_exit_2_and_nothing_left",
       "tests/security/test_writes.py::test_a_real_full_or_read_only_filesystem",
       "tests/security/test_writes.py::test_a_read_only_directory_is_one_line_exit_2")  # fmt: skip
def _disk(runner: Runner, row: Row) -> None:
    repo = _fresh(runner, _base_repo(runner), "fsize")
    expect(row, runner.homeops(*_new_app("whoami", repo), trace=False, preexec=_fsize(600)), (2,),
           fragment="nothing was changed", one_error=True)  # fmt: skip
    if changed(repo) or _stray(repo):
        row.problems.append("RLIMIT_FSIZE: something left")
    if os.geteuid() != 0:
        repo = _fresh(runner, _base_repo(runner), "ro")
        target = repo / "cluster-apps/alpha"
        modes = [(p, p.stat().st_mode) for p in [target, *target.rglob("*")] if p.is_dir()]
        for p, mode in modes:
            p.chmod(mode & ~0o222)
        expect(row, runner.homeops(*_new_app("whoami", repo), trace=False), (2,), one_error=True)
        for p, mode in modes:
            p.chmod(mode)
        if changed(repo) or _stray(repo):
            row.problems.append("read-only directory: something left")
        return
    for kind in ("full", "read-only"):
        mount = Path(tempfile.mkdtemp(prefix="mnt-", dir=runner.base))
        if subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], check=False
        ).returncode:
            row.problems.append("cannot mount a tmpfs (run as root, or as a user for the chmod variant)")
            return
        try:
            repo = mount / "repo"
            shutil.copytree(_base_repo(runner), repo, symlinks=True)
            if kind == "full":
                with open(mount / "filler", "wb", buffering=0) as handle:
                    try:
                        while True:
                            handle.write(bytes(4096))
                    except OSError:
                        pass
            else:
                subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
            expect(row, runner.homeops(*_new_app("whoami", repo), trace=False), (2,), one_error=True)
            if kind == "full":
                (mount / "filler").unlink()
            if changed(repo) or _stray(repo):
                row.problems.append(f"{kind}: something left")
        finally:
            subprocess.run(["umount", "-l", str(mount)], check=False)


@probe("writes: new app into a flow-style resources list with a comment",
       "tests/security/test_writes.py::test_new_app_keeps_a_flow_list_and_its_comment")  # fmt: skip
def _flow(runner: Runner, row: Row) -> None:
    repo = _fresh(runner, _base_repo(runner), "flow")
    target = repo / "cluster-apps/alpha/default/kustomization.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                      "resources: [./existing/ks.yaml]  # apps of default, keep sorted\n")  # fmt: skip
    expect(row, runner.homeops(*_new_app("whoami", repo), trace=False), (0,))
    if (
        "resources: [./existing/ks.yaml, ./whoami/ks.yaml]  # apps of default, keep sorted"
        not in target.read_text()
    ):
        row.problems.append(f"comment or style lost: {target.read_text()[-120:]!r}")


# ------------------------------------------------------------------------------ never executed
@probe("never executed: sops/age/gpg/helm/kubectl/flux/kustomize on PATH (check, build, diff, test, images)",
       "tests/security/test_never_executed.py::test_no_program_of_the_repository_is_executed")  # fmt: skip
def _never_executed(runner: Runner, row: Row) -> None:
    bin_dir, marks = runner.base / "fakebin", runner.base / "executed"
    marks.mkdir(exist_ok=True)
    for name in ("sops", "age", "gpg", "helm", "kubectl", "flux", "kustomize", "kubeconform"):
        (bin_dir / name).parent.mkdir(exist_ok=True)
        (bin_dir / name).write_text(f"#!/bin/sh\ntouch {marks}/{name}\nexit 1\n")
        (bin_dir / name).chmod(0o755)
    repo = chart_repo(new_dir(runner, "exec"), FLUX_KS, "{{ .Values.a }}")
    write(repo, {
        "apps/secret.sops.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: media}\n"
        "stringData: {k: 'ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]'}\n"
        "sops: {mac: 'ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]', version: 3.9.0}\n",
        "gen/kustomization.yaml": "resources: []\ngenerators: [plugin.yaml]\n",
        "gen/plugin.yaml": "apiVersion: someteam.example.com/v1\nkind: ChartInflator\nmetadata: {name: x}\n",
    })  # fmt: skip
    commit_all(repo, "base")
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    for args in (("check",), ("build", "ks"), ("build", "hr", "demo", "-n", "media", "--enable-helm"), ("test",),
                 ("diff",), ("images", "list"), ("kustomize", str(repo / "gen"))):  # fmt: skip
        expect(row, runner.homeops(*args, "--path", str(repo), env=env, trace=False), (0, 1, 2))
    if any(marks.iterdir()):
        row.problems.append(f"executed: {sorted(p.name for p in marks.iterdir())}")


# -------------------------------------------------------------------------------------------- main
def _test_exists(test: str) -> bool:
    path, _, name = test.partition("::")
    file = (ROOT / path).resolve()
    return (
        file.is_file()
        and re.search(rf"^(async )?def {re.escape(name)}\(", file.read_text(), re.M) is not None
    )


def main() -> int:
    global KILLS, PAIRS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", action="append", default=[], help="run the probes whose name holds this text"
    )
    parser.add_argument("--no-trace", action="store_true", help="do not trace file opens with strace")
    parser.add_argument(
        "--kills", type=int, default=KILLS, help="kills per write probe (default %(default)s)"
    )
    parser.add_argument(
        "--pairs", type=int, default=PAIRS, help="parallel new app pairs (default %(default)s)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    KILLS, PAIRS = args.kills, args.pairs
    base = Path(tempfile.mkdtemp(prefix="homeops-probe-"))
    runner = Runner(base, trace=not args.no_trace)
    selected = [p for p in PROBES if not args.only or any(o in p.name for o in args.only)]
    print(
        f"# {len(selected)} probes, temporary directory {base}, file opens traced: {runner.trace}", flush=True
    )
    print("probe | exit | time | leaked | verdict", flush=True)
    failed = 0
    try:
        for item in selected:
            row = Row(item.name)
            started = time.monotonic()
            try:
                item.run(runner, row)
            except Exception as exc:  # a probe that could not run is a failure, reported, not hidden
                row.problems.append(f"the probe itself failed: {type(exc).__name__}: {exc}")
            row.seconds = time.monotonic() - started
            row.leaked = list(dict.fromkeys(row.leaked + runner.leaks(row.runs)))
            missing = [t for t in item.tests if not _test_exists(t)]
            if not item.tests or missing:
                row.problems.append(f"no regression test {missing or ''}")
            failed += bool(row.problems or row.leaked)
            print(row.line(), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print(f"# {len(selected) - failed} of {len(selected)} probes met their expectation", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
