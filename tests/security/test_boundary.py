"""The filesystem boundary: no command reads, or prints, a byte of a file outside the repository.

Each test builds its own small repository in a temporary directory next to an ``outside`` directory
holding a marker, then runs the real CLI as an attacker's pull request would make it run: ``check``
must report the refusal as a finding (HO113/HO114), ``build ks`` and ``kustomize`` must exit 2 with
one line naming the reference, and the marker must appear nowhere in what they print.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from security_support import FLUX_KS, write

from homeops.core.fs import OutsideRootError
from homeops.helm.cache import Cache
from homeops.helm.dependencies import with_dependencies
from homeops.helm.sources import SourceResolver
from support import run_cli

MARKER = "OUTSIDE-MARKER-7f3a9c"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the repository: a secret file, a manifest, a kustomization, a component."""
    out = tmp_path / "outside"
    write(out, {
        "secret.txt": f"token={MARKER}\n",
        "secret.env": f"TOKEN={MARKER}\n",
        "cm.yaml": CM.format(name=MARKER.lower()),
        "patch.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  leak: {MARKER}\n",
        "base/kustomization.yaml": "resources: [cm.yaml]\n",
        "base/cm.yaml": CM.format(name=MARKER.lower()),
        "comp/kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
            f"commonLabels: {{leak: {MARKER}}}\n"
        ),
        "apps/cm.yaml": CM.format(name=MARKER.lower()),
    })  # fmt: skip
    return out


def make_repo(tmp_path: Path, kustomization: str, extra: dict[str, str] | None = None) -> Path:
    """A repository whose one Flux Kustomization builds ``apps/app`` (its kustomization given)."""
    repo = tmp_path / "repo"
    write(repo, {
        "clusters/c/flux/root.yaml": FLUX_KS.format(path="./apps/app"),
        "apps/app/kustomization.yaml": kustomization,
        "apps/app/cm.yaml": CM.format(name="app"),
        **(extra or {}),
    })  # fmt: skip
    return repo


def assert_refused(repo: Path, fragment: str, *, code: str = "HO113") -> None:
    """check: a finding (exit 1); build ks: exit 2; kustomize (both restrictors): exit 2 — one line
    each, naming the reference, and the marker nowhere."""
    check = run_cli("check", "--format", "json", "--path", str(repo))
    assert check.returncode == 1, check.stderr
    assert MARKER not in check.stdout + check.stderr
    assert f'"rule": "{code}"' in check.stdout, check.stdout
    assert fragment in check.stdout
    text = run_cli("check", "--path", str(repo))
    assert MARKER not in text.stdout + text.stderr
    build = run_cli("build", "ks", "--path", str(repo))
    assert build.returncode == 2, build.stdout + build.stderr
    assert MARKER not in build.stdout + build.stderr
    lines = build.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("homeops: error: ") and fragment in lines[0], lines
    for restrictor in ("rootOnly", "none"):
        kustomize = run_cli(
            "kustomize", str(repo / "apps/app"), "--path", str(repo), "--load-restrictor", restrictor
        )
        assert kustomize.returncode == 2, kustomize.stdout
        assert MARKER not in kustomize.stdout + kustomize.stderr
        assert len(kustomize.stderr.strip().splitlines()) == 1, kustomize.stderr
        assert "Traceback" not in kustomize.stderr


def test_resource_climbing_out_with_dotdot(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path, "resources: [../../../outside/cm.yaml]\n")
    assert_refused(repo, "resources entry '../../../outside/cm.yaml' resolves outside the repository")


def test_resource_given_as_an_absolute_path(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path, f"resources: [{outside}/cm.yaml]\n")
    assert_refused(repo, f"resolves outside the repository, to {outside}/cm.yaml")


def test_resource_through_a_symlinked_file(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path, "resources: [leak.yaml]\n")
    (repo / "apps/app/leak.yaml").symlink_to(outside / "cm.yaml")
    assert_refused(repo, "resources entry 'leak.yaml'")


def test_resource_through_a_symlinked_directory(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path, "resources: [base]\n")
    (repo / "apps/app/base").symlink_to(outside / "base")
    assert_refused(repo, "resources entry 'base'")


def test_dotdot_after_a_symlink_is_folded_first_and_never_leaves(tmp_path: Path, outside: Path) -> None:
    """``link/../x`` is folded lexically (Go's filepath.Join) before links are followed: it names the
    repository's own ``x``, never a file next to the link's target; a link to ``..`` cannot climb."""
    repo = make_repo(tmp_path, "resources: [deep/../cm.yaml]\n")
    (repo / "apps/app/deep").symlink_to(outside / "base")
    build = run_cli("build", "ks", "--path", str(repo))
    assert build.returncode == 0, build.stderr
    assert "name: app" in build.stdout and MARKER.lower() not in build.stdout
    repo2 = make_repo(tmp_path / "two", "resources: [up/outside/cm.yaml]\n")
    (repo2 / "apps/app/up").symlink_to("../../../..")  # a relative link climbing to tmp_path
    assert_refused(repo2, "resources entry 'up/outside/cm.yaml'")


def test_component_outside(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path, "resources: [cm.yaml]\ncomponents: [../../../outside/comp]\n")
    assert_refused(repo, "components entry '../../../outside/comp'")


def test_component_through_a_symlinked_directory(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path, "resources: [cm.yaml]\ncomponents: [comp]\n")
    (repo / "apps/app/comp").symlink_to(outside / "comp")
    assert_refused(repo, "components entry 'comp'")


def test_patches_path_outside(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path, f"resources: [cm.yaml]\npatches:\n  - path: {outside}/patch.yaml\n")
    assert_refused(repo, "patches entry")


def test_patches_strategic_merge_through_a_link(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path, "resources: [cm.yaml]\npatchesStrategicMerge: [patch.yaml]\n")
    (repo / "apps/app/patch.yaml").symlink_to(outside / "patch.yaml")
    assert_refused(repo, "patchesStrategicMerge entry 'patch.yaml'")


@pytest.mark.parametrize(
    "kustomization",
    [
        "resources: [cm.yaml]\npatchesStrategicMerge: [{out}/patch.yaml]\n",
        "resources: [cm.yaml]\npatchesJson6902:\n  - target: {{version: v1, kind: ConfigMap, name: app}}\n"
        "    path: {out}/patch.yaml\n",
    ],
    ids=["patchesStrategicMerge", "patchesJson6902"],
)
def test_patches_given_as_absolute_paths(tmp_path: Path, outside: Path, kustomization: str) -> None:
    repo = make_repo(tmp_path, kustomization.format(out=outside))
    assert_refused(repo, f"resolves outside the repository, to {outside}/patch.yaml")


@pytest.mark.parametrize(
    ("generator", "fragment"),
    [
        ("configMapGenerator: [{name: leak, files: [{out}/secret.txt]}]", "files entry"),
        ("configMapGenerator: [{name: leak, envs: [../../../outside/secret.env]}]", "envs entry"),
        ("configMapGenerator: [{name: leak, env: ../../../outside/secret.env}]", "env entry"),
        ("secretGenerator: [{name: leak, files: [k={out}/secret.txt]}]", "files entry"),
        ("configMapGenerator: [{name: env, files: [environ=/proc/self/environ]}]", "/proc/self/environ"),
    ],
)
def test_generator_files_outside(tmp_path: Path, outside: Path, generator: str, fragment: str) -> None:
    repo = make_repo(tmp_path, generator.replace("{out}", str(outside)) + "\n")
    assert_refused(repo, fragment)


def test_generator_file_through_a_link(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path, "secretGenerator: [{name: leak, files: [token.txt]}]\n")
    (repo / "apps/app/token.txt").symlink_to(outside / "secret.txt")
    assert_refused(repo, "files entry 'token.txt'")


def test_flux_path_through_a_symlinked_directory(tmp_path: Path, outside: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {"clusters/c/flux/root.yaml": FLUX_KS.format(path="./linked")})
    (repo / "linked").symlink_to(outside / "apps")
    check = run_cli("check", "--format", "json", "--path", str(repo))
    assert check.returncode == 1 and MARKER.lower() not in check.stdout.lower()
    assert '"rule": "HO113"' in check.stdout
    assert "path './linked' of flux-system/apps resolves outside the repository" in check.stdout
    build = run_cli("build", "ks", "--path", str(repo))
    assert build.returncode == 2 and MARKER.lower() not in (build.stdout + build.stderr).lower()


def test_a_yaml_file_linked_out_of_a_generated_kustomization(tmp_path: Path, outside: Path) -> None:
    """No kustomization file: Flux lists the YAML files below the path as source-controller archived
    them, and its archive holds no symlinks: the link is not part of the build at all."""
    repo = tmp_path / "repo"
    write(
        repo,
        {"clusters/c/flux/root.yaml": FLUX_KS.format(path="./apps"), "apps/cm.yaml": CM.format(name="a")},
    )
    (repo / "apps/leak.yaml").symlink_to(outside / "cm.yaml")
    build = run_cli("build", "ks", "--path", str(repo))
    assert build.returncode == 0, build.stderr
    assert "name: a" in build.stdout and MARKER.lower() not in (build.stdout + build.stderr).lower()


def test_profile_clusters_pointing_outside(tmp_path: Path, outside: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {".homeops.yaml": "clusters:\n  evil: ../outside/apps\n"})
    for args in (("check",), ("build", "ks"), ("get", "ks")):
        proc = run_cli(*args, "--path", str(repo))
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert MARKER.lower() not in (proc.stdout + proc.stderr).lower()
        assert "clusters entry 'evil' (../outside/apps) resolves outside the repository" in proc.stderr


def test_a_link_to_dev_zero_is_refused_at_once(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path, "resources: [zero.yaml]\n")
    (repo / "apps/app/zero.yaml").symlink_to("/dev/zero")
    started = time.monotonic()
    assert_refused(repo, "resources entry 'zero.yaml'")
    assert time.monotonic() - started < 60


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "resources: [cm.yaml, pipe.yaml]\n")
    os.mkfifo(repo / "apps/app/pipe.yaml")
    proc = subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", "build", "ks", "--path", str(repo)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "apps/app/pipe.yaml" in proc.stderr and "a FIFO is not read" in proc.stderr
    check = run_cli("check", "--format", "json", "--path", str(repo))
    assert check.returncode == 1 and '"rule": "HO114"' in check.stdout


def test_kustomize_none_restrictor_reaches_the_repository_but_not_beyond(
    tmp_path: Path, outside: Path
) -> None:
    repo = tmp_path / "repo"
    write(repo, {
        "shared/cm.yaml": CM.format(name="shared"),
        "apps/app/kustomization.yaml": "resources: [../../shared/cm.yaml]\n",
        "apps/bad/kustomization.yaml": "resources: [../../../outside/cm.yaml]\n",
    })  # fmt: skip
    root_only = run_cli("kustomize", str(repo / "apps/app"), "--path", str(repo))
    assert root_only.returncode == 2 and "is not in or below" in root_only.stderr
    none = run_cli("kustomize", str(repo / "apps/app"), "--path", str(repo), "--load-restrictor", "none")
    assert none.returncode == 0 and "name: shared" in none.stdout
    bad = run_cli("kustomize", str(repo / "apps/bad"), "--path", str(repo), "--load-restrictor", "none")
    assert bad.returncode == 2 and MARKER.lower() not in (bad.stdout + bad.stderr).lower()
    assert "resolves outside the repository" in bad.stderr


def test_kustomize_of_a_directory_outside_the_workspace_is_confined_to_its_own_tree(
    tmp_path: Path, outside: Path
) -> None:
    """Given a directory that is not in the workspace (no Git around it), that directory is the root."""
    write(tmp_path / "k", {"kustomization.yaml": "resources: [../outside/cm.yaml]\n"})
    proc = run_cli("kustomize", str(tmp_path / "k"), "--load-restrictor", "none", cwd=tmp_path / "outside")
    assert proc.returncode == 2 and MARKER.lower() not in proc.stdout.lower()


def test_env_leaking_generator_in_a_pull_request_diff(tmp_path: Path) -> None:
    """The issue's CI probe: commit an env-reading generator, diff it as the PR comment does."""
    repo = tmp_path / "repo"
    write(repo, {
        "clusters/c/flux/root.yaml": FLUX_KS.format(path="./apps/app"),
        "apps/app/kustomization.yaml": "resources: [cm.yaml]\n",
        "apps/app/cm.yaml": CM.format(name="app"),
    })  # fmt: skip
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
    }  # fmt: skip
    git = ["git", "-C", str(repo), "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True, env=env)
    subprocess.run([*git, "add", "-A"], check=True, env=env)
    subprocess.run([*git, "commit", "-qm", "base"], check=True, env=env)
    (repo / "apps/app/kustomization.yaml").write_text(
        "resources: [cm.yaml]\nconfigMapGenerator: [{name: env, files: [environ=/proc/self/environ]}]\n"
    )
    subprocess.run([*git, "commit", "-qam", "leak"], check=True, env=env)
    token = "ghp_FAKE0123456789abcdef"
    for fmt in ("markdown", "unified", "json"):
        proc = subprocess.run(
            [sys.executable, "-m", "homeops.cli.main", "diff", "--base", "HEAD~1", "--head", "HEAD",
             "--format", fmt],
            capture_output=True, text=True, cwd=repo, env={**env, "GITHUB_TOKEN": token}, check=False,
        )  # fmt: skip
        out = proc.stdout + proc.stderr
        assert token not in out and "GITHUB_TOKEN" not in out, out
        assert proc.returncode in (0, 1, 2), out
        assert "Traceback" not in out
        assert "resolves outside the repository" in out, (fmt, out)


def test_kubectl_engine_is_never_unrestricted(tmp_path: Path) -> None:
    write(tmp_path / "k", {"kustomization.yaml": "resources: []\n"})
    proc = run_cli("kustomize", str(tmp_path / "k"), "--engine", "kubectl", "--load-restrictor", "none")
    assert proc.returncode == 2
    assert "--load-restrictor none is refused with --engine kubectl" in proc.stderr


def test_a_file_dependency_of_a_repository_chart_stays_inside(tmp_path: Path, outside: Path) -> None:
    """``dependencies: [{repository: file://../../../outside/sub}]`` of a chart kept in the
    repository: never copied from outside (source-controller keeps it inside the source's root)."""
    repo = tmp_path / "repo"
    write(repo, {
        "charts/app/Chart.yaml": (
            "apiVersion: v2\nname: app\nversion: 1.0.0\n"
            "dependencies:\n  - name: sub\n    version: 1.0.0\n    repository: file://../../../outside/sub\n"
        ),
        "charts/app/templates/cm.yaml": CM.format(name="app"),
    })  # fmt: skip
    write(
        outside, {"sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 1.0.0\n", "sub/secret.txt": MARKER}
    )
    resolver = SourceResolver(cache=Cache(tmp_path / "cache"), offline=True)
    with pytest.raises(OutsideRootError, match=r"dependency sub .* resolves outside the repository"):
        with_dependencies(resolver, repo / "charts/app", what="HelmRelease x/y", root=repo)
    assert not list((tmp_path / "cache").rglob("secret.txt"))


def test_a_symlinked_directory_outside_is_never_listed(tmp_path: Path, outside: Path) -> None:
    """Refused, and not looked into either: the caches' record of what a build saw named the entries
    of a linked directory outside (a listing is a read). Every open and listing of the real command
    line is recorded by an audit hook."""
    repo = make_repo(tmp_path, "resources: [base]\ncomponents: [comp]\n")
    (repo / "apps/app/base").symlink_to(outside / "base")
    (repo / "apps/app/comp").symlink_to(outside / "comp")
    record = tmp_path / "opened.txt"
    audited = textwrap.dedent(f"""
        import os, sys
        def hook(event, args):
            if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], str):
                if os.path.realpath(args[0]).startswith({str(outside)!r}):
                    with open({str(record)!r}, "a") as out:
                        out.write(event + " " + args[0] + "\\n")
        sys.addaudithook(hook)
        from homeops.cli.main import main
        sys.argv = ["homeops", *sys.argv[1:]]
        main()
    """)
    for args in (["check"], ["build", "ks"], ["kustomize", str(repo / "apps/app")]):
        proc = subprocess.run(
            [sys.executable, "-c", audited, *args, "--path", str(repo)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode in (1, 2) and "resolves outside the repository" in proc.stdout + proc.stderr
    assert not record.exists(), record.read_text()


def test_sourceignore_linked_outside(tmp_path: Path, outside: Path) -> None:
    """A ``.sourceignore`` the boundary refuses was skipped without a word: now a finding naming it."""
    repo = make_repo(tmp_path, "resources: [cm.yaml]\n")
    (repo / ".sourceignore").symlink_to(outside / "secret.txt")
    check = run_cli("check", "--format", "json", "--path", str(repo))
    assert check.returncode == 1 and MARKER not in check.stdout + check.stderr
    assert '"rule": "HO113"' in check.stdout and '"file": ".sourceignore"' in check.stdout
    build = run_cli("build", "ks", "--path", str(repo))
    assert build.returncode == 2 and MARKER not in build.stdout + build.stderr
    assert build.stderr == (
        f"homeops: error: .sourceignore: the .sourceignore file resolves outside the repository, to "
        f"{outside}/secret.txt: its patterns are not applied (homeops reads only files inside the repository; "
        "move the file in, or remove the reference) [HO113]\n"
    )
    (repo / ".sourceignore").unlink()
    os.mkfifo(repo / ".sourceignore")
    fifo = subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", "build", "ks", "--path", str(repo)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert fifo.returncode == 2 and "a FIFO is not read" in fifo.stderr and "[HO114]" in fifo.stderr


HELM_RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: demo
  namespace: media
spec:
  interval: 1h
  chart:
    spec:
      chart: {chart}
      sourceRef: {{kind: GitRepository, name: flux-system, namespace: flux-system}}
      valuesFiles: [{values}]
"""


@pytest.mark.parametrize(
    ("chart", "values", "link", "fragment"),
    [
        ("../../outside/chart", "values.yaml", None, "chart path '../../outside/chart' is outside the repository"),
        ("./charts/demo", "values.yaml", ("charts/demo", "{out}/chart"), "chart path './charts/demo' is outside"),
        ("./charts/demo", "{out}/secret.txt", None, "secret.txt is not in the chart"),
        ("./charts/demo", "../../../../../../{out}/secret.txt", None, "secret.txt is not in the chart"),
        ("./charts/demo", "values.yaml", ("charts/demo/files/data", "{out}/secret.txt"),
         "files/data resolves outside the repository"),
        ("./charts/demo", "leak.yaml", ("charts/demo/leak.yaml", "{out}/secret.txt"), "resolves outside the repository"),
    ],
    ids=["chart-path", "chart-dir-link", "values-absolute", "values-dotdot", "chart-file-link", "values-link"],
)  # fmt: skip
def test_helm_chart_and_values_files_outside(
    tmp_path: Path, outside: Path, chart: str, values: str, link: tuple[str, str] | None, fragment: str
) -> None:
    """A chart kept in the repository, its valuesFiles and the files its templates read
    (``.Files.Get``): none is read from outside, whatever path or link leads there."""
    write(outside, {"chart/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\n",
                    "chart/templates/cm.yaml": CM.format(name=MARKER.lower())})  # fmt: skip
    repo = tmp_path / "repo"
    write(repo, {
        "clusters/c/flux/root.yaml": FLUX_KS.format(path="./apps"),
        "apps/hr.yaml": HELM_RELEASE.format(chart=chart, values=values.format(out=outside)),
    })  # fmt: skip
    if link is None or link[0] != "charts/demo":
        write(repo / "charts/demo", {
            "Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\n",
            "values.yaml": "a: 1\n",
            "templates/cm.yaml": 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n'
            '  v: {{ .Files.Get "files/data" | quote }}\n',
        })  # fmt: skip
    if link is not None:
        (repo / link[0]).parent.mkdir(parents=True, exist_ok=True)
        (repo / link[0]).symlink_to(link[1].format(out=outside))
    build = run_cli("build", "hr", "demo", "-n", "media", "--enable-helm", "--path", str(repo))
    assert build.returncode in (1, 2), build.stderr
    assert MARKER not in build.stdout + build.stderr and MARKER.lower() not in build.stdout
    errors = build.stderr.strip().splitlines()
    assert len(errors) == 1 and fragment in errors[0], errors
    check = run_cli("check", "--path", str(repo))
    assert check.returncode == 1 and MARKER not in check.stdout + check.stderr


def test_a_fifo_in_a_generated_kustomization_blocks_no_command(tmp_path: Path) -> None:
    """A FIFO named ``*.yaml`` where Flux lists the YAML files itself (no kustomization.yaml), where a
    kustomization lists it, and where nothing reads it: every command ends, exit 1 or 2."""
    repo = make_repo(tmp_path, "resources: [cm.yaml, pipe.yaml]\n")
    os.mkfifo(repo / "apps/app/pipe.yaml")
    os.mkfifo(repo / "clusters/c/flux/pipe.yaml")
    (repo / "unread").mkdir()
    os.mkfifo(repo / "unread/pipe.yaml")
    for args in (["check"], ["build", "ks"], ["get", "ks"], ["images", "list"], ["test"],
                 ["kustomize", str(repo / "apps/app")]):  # fmt: skip
        proc = subprocess.run(
            [sys.executable, "-m", "homeops.cli.main", *args, "--path", str(repo)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert proc.returncode in (1, 2), (args, proc.stderr)
        assert "Traceback" not in proc.stderr, args
        if args[0] in ("check", "build", "kustomize"):  # get, images, test summarise the errors
            assert "pipe.yaml" in proc.stdout + proc.stderr, args


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace to see what every process opens")
def test_unreferenced_links_out_are_never_opened(tmp_path: Path, outside: Path) -> None:
    """Commands that walk the repository (changed files, the report, the context document, the
    inferred profile) meet links to files and directories outside, a device and a FIFO that no
    kustomization names: no process of theirs opens any of them."""
    repo = make_repo(tmp_path, "resources: [cm.yaml]\n")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    git = [
        "git",
        "-C",
        str(repo),
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
    for link, target in (("apps/app/leak.yaml", outside / "secret.txt"), ("apps/out", outside),
                         ("zero.yaml", Path("/dev/zero")), ("env.yaml", Path("/proc/self/environ"))):  # fmt: skip
        (repo / link).symlink_to(target)
    os.mkfifo(repo / "apps/pipe.yaml")
    trace = tmp_path / "trace.txt"
    for args in (["check", "--changed"], ["diff", "--format", "json"], ["report", "-o", str(tmp_path / "site")],
                 ["docs", "--check"], ["profile", "infer"], ["get", "all"]):  # fmt: skip
        proc = subprocess.run(
            ["strace", "-f", "-qq", "-y", "-e", "trace=open,openat", "-o", str(trace),
             sys.executable, "-m", "homeops.cli.main", *args, "--path", str(repo)],
            capture_output=True, text=True, timeout=120, env=env, check=False,
        )  # fmt: skip
        assert proc.returncode in (0, 1), (args, proc.stderr)
        opened = re.findall(r"= \d+<([^>]*)>", trace.read_text())
        assert [
            p for p in opened if p.startswith(str(outside)) or p == "/dev/zero" or p.endswith("/environ")
        ] == []
