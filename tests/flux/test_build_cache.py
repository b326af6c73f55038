"""Parses and builds kept across runs (core/files.py, flux/buildcache.py): a kept result is used only
while everything it read is unchanged, so a render with the caches is the render without them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from homeops.core import cache, yamlemit
from homeops.core.files import FileCache
from homeops.core.profile import DEFAULT
from homeops.flux.cluster import resolve_cluster
from homeops.flux.render import ClusterRenderer
from homeops.flux.render_memo import RenderMemo

KS = """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 1h
  path: ./{path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def _cm(name: str, value: str = "1") -> str:
    return f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: '{value}'\n"


def make_repo(root: Path) -> Path:
    files = {
        "clusters/c/flux/apps.yaml": KS.format(name="apps", path="apps") + KS.format(name="gen", path="gen"),
        "apps/kustomization.yaml": (
            "resources:\n  - ./a.yaml\n  - ./sub\ncomponents:\n  - ../components/x\n"
            "configMapGenerator:\n  - name: cfg\n    files:\n      - conf.txt\n"
        ),
        "apps/a.yaml": _cm("a"),
        "apps/conf.txt": "level=info\n",
        "apps/sub/kustomization.yaml": "resources:\n  - ./b.yaml\n",
        "apps/sub/b.yaml": _cm("b"),
        "components/x/kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - ./c.yaml\n"
        ),
        "components/x/c.yaml": _cm("c"),
        "gen/one.yaml": _cm("one"),
        "gen/deeper/two.yaml": _cm("two"),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(cache.ENV_DISABLE, raising=False)
    cache.reset()
    yield tmp_path / "xdg"
    cache.reset()


def render(root: Path, layer: str = "build", **kwargs: Any) -> tuple[list[str], tuple[int, int]]:
    """One run as a new process makes it: what it prints (objects with their provenance, findings,
    unresolved variables) and the (hits, misses) of one cache ``layer``: ``build`` (whole renders not
    reused, a memo that keeps nothing: what is measured is the build layer below them) or ``render``
    (the renders kept, :mod:`homeops.flux.render_memo`); the caches are written back at the end."""
    if layer == "build":
        kwargs["memo"] = RenderMemo(None, share=False)
    renderer = ClusterRenderer(root, resolve_cluster(root, DEFAULT, "c"), files=FileCache(root), **kwargs)
    result = renderer.render()
    out = [
        f"{rk.ks.key} {res.file}:{res.line}\n{yamlemit.dump(res.obj)}"
        for rk in result.rendered.values()
        for res in rk.resources
    ]
    out += [f"{f.rule} {f.file}:{f.line} {f.message}" for f in result.findings]
    out += [f"{u.name} {u.file}:{u.line} {u.why}" for rk in result.rendered.values() for u in rk.unresolved]
    if layer == "build":
        counts = (renderer.builds.hits, renderer.builds.misses)
    else:
        counts = (renderer.memo.hits, renderer.memo.misses)
    cache.flush()
    cache.reset()
    return out, counts


def uncached(root: Path, monkeypatch: pytest.MonkeyPatch, layer: str = "build", **kwargs: Any) -> list[str]:
    with monkeypatch.context() as m:
        m.setenv(cache.ENV_DISABLE, "1")
        out, counts = render(root, layer, **kwargs)
    assert counts[0] == 0
    return out


LAYERS = ["build", "render"]


@pytest.mark.parametrize("layer", LAYERS)
def test_a_warm_render_builds_nothing_and_prints_the_same(
    layer: str, tmp_path: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(tmp_path / "repo")
    cold, counts = render(root, layer)
    assert counts == (0, 2)  # apps and gen
    warm, counts = render(root, layer)
    assert counts == (2, 0)
    assert warm == cold == uncached(root, monkeypatch, layer)
    assert all(Path(xdg, "homeops", area).iterdir() for area in ("parse", "build", layer))


def _edit(root: Path) -> None:
    (root / "apps/a.yaml").write_text(_cm("a", "2"))


def _edit_component(root: Path) -> None:
    (root / "components/x/c.yaml").write_text(_cm("c", "changed"))


def _edit_generator_file(root: Path) -> None:
    (root / "apps/conf.txt").write_text("level=debug\n")


def _edit_base(root: Path) -> None:
    (root / "apps/sub/b.yaml").write_text(_cm("b", "3"))


def _rename(root: Path) -> None:  # same content, new name: the provenance changes
    (root / "gen/one.yaml").rename(root / "gen/renamed.yaml")


def _add(root: Path) -> None:  # a generated kustomization lists every YAML file below its path
    (root / "gen/deeper/three.yaml").write_text(_cm("three"))


def _delete(root: Path) -> None:
    (root / "gen/deeper/two.yaml").unlink()


def _delete_referenced(root: Path) -> None:
    (root / "apps/sub/b.yaml").unlink()


def _add_kustomization(root: Path) -> None:  # from generated to written: only one.yaml now
    (root / "gen/kustomization.yaml").write_text("resources:\n  - one.yaml\n")


def _swap_for_symlink(root: Path) -> None:
    (root / "data").mkdir()
    (root / "data/a.yaml").write_text(_cm("a", "from-link"))
    (root / "apps/a.yaml").unlink()
    (root / "apps/a.yaml").symlink_to("../data/a.yaml")


def _symlink_out(root: Path) -> None:  # out of the repository: refused, as without the cache
    outside = root.parent / "outside.yaml"
    outside.write_text(_cm("a", "secret"))
    (root / "apps/a.yaml").unlink()
    (root / "apps/a.yaml").symlink_to(outside)


def _component_dir_symlink(root: Path) -> None:
    shutil.copytree(root / "components/x", root / "components/y")
    (root / "components/y/c.yaml").write_text(_cm("c", "from-y"))
    shutil.rmtree(root / "components/x")
    (root / "components/x").symlink_to("y")


def _same_size_same_second(root: Path) -> None:  # times may not move: the content says it
    path = root / "apps/a.yaml"
    before = path.stat()
    path.write_text(_cm("a", "9"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


EDITS: dict[str, Callable[[Path], None]] = {
    "edit": _edit,
    "edit component": _edit_component,
    "edit generator file": _edit_generator_file,
    "edit base": _edit_base,
    "rename": _rename,
    "add file": _add,
    "delete file": _delete,
    "delete referenced file": _delete_referenced,
    "add kustomization file": _add_kustomization,
    "symlink": _swap_for_symlink,
    "symlink out of the repository": _symlink_out,
    "component directory becomes a symlink": _component_dir_symlink,
    "same size, times kept": _same_size_same_second,
}


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_what_a_build_read_changing_makes_it_miss(
    edit: Callable[[Path], None], layer: str, tmp_path: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(tmp_path / "repo")
    before, _ = render(root, layer)
    render(root, layer)
    edit(root)
    after, counts = render(root, layer)
    assert after == uncached(root, monkeypatch, layer)
    assert after != before
    assert counts[1] >= 1  # the build (render) that read it ran again
    assert counts[0] >= 1  # the other one read nothing that changed


def test_symlink_retargeted_within_the_repository(
    tmp_path: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(tmp_path / "repo")
    _swap_for_symlink(root)
    (root / "data/other.yaml").write_text(_cm("a", "other"))
    render(root)
    (root / "apps/a.yaml").unlink()
    (root / "apps/a.yaml").symlink_to("../data/other.yaml")
    after, _counts = render(root)
    assert after == uncached(root, monkeypatch)
    assert any("other" in text for text in after)


@pytest.mark.parametrize("layer", LAYERS)
def test_a_corrupted_cache_is_ignored_and_rebuilt(
    layer: str, tmp_path: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(tmp_path / "repo")
    expected, _ = render(root, layer)
    packs = [p for area in ("parse", "build", layer) for p in (xdg / "homeops" / area).iterdir()]
    assert packs
    for path in packs:
        data = path.read_bytes()
        path.write_bytes(data[:100] + b"\xff" * 64 + data[164:])
    again, counts = render(root, layer)
    assert again == expected
    assert counts == (0, 2)
    warm, counts = render(root, layer)
    assert warm == expected and counts == (2, 0)


def test_one_build_of_the_same_inputs_per_run(tmp_path: Path, xdg: Path) -> None:
    """Two Flux Kustomizations building the same directory the same way build it once."""
    root = make_repo(tmp_path / "repo")
    (root / "clusters/c/flux/apps.yaml").write_text(
        KS.format(name="apps", path="apps") + KS.format(name="twin", path="apps")
    )
    _out, counts = render(root)
    assert counts == (1, 1)


_CLI = "from homeops.cli.main import main; main()"


def test_concurrent_runs_agree_with_an_uncached_run(tmp_path: Path) -> None:
    """Several processes rendering, and writing the same packs, at once."""
    root = make_repo(tmp_path / "repo")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    args = [sys.executable, "-c", _CLI, "build", "ks", "--cluster", "c", "--path", str(root)]
    expected = subprocess.run([*args, "--no-cache"], capture_output=True, text=True, env=env, check=False)
    for _round in range(2):
        procs = [
            subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(4)
        ]
        for proc in procs:
            out, err = proc.communicate()
            assert (out, err, proc.returncode) == (expected.stdout, expected.stderr, expected.returncode)
        _edit(root)
        expected = subprocess.run([*args, "--no-cache"], capture_output=True, text=True, env=env, check=False)
