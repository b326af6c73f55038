"""The run's one listing of the repository (core/listing.py): the walkers that read it answer as the
``os.walk`` walks they replace, and each run (each file cache) sees the tree as it is then."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from homeops.api import Workspace
from homeops.core.files import FileCache
from homeops.core.listing import Listing
from homeops.flux.repo_index import RepoIndex
from homeops.flux.sourceignore import load_sourceignore_files
from homeops.rules.base import repo_files
from homeops.rules.scripts import shell_scripts


def _walked_files(root: Path) -> list[str]:
    """What ``repo_files`` answered before the listing: its ``os.walk`` (the reference)."""
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in (".git", ".venv", "node_modules"))
        for name in sorted(filenames):
            out.append(Path(dirpath, name).relative_to(root).as_posix())
    return out


def _tree(root: Path, outside: Path) -> None:
    """Files, hidden and skipped directories, links to directories inside and outside, to a file, a
    dangling link, a FIFO, and names that sort differently as files and directories."""
    for rel in (
        "a.yaml", "b/c.yaml", "b/d/e.yml", "b-x/f.txt", "b.txt", ".github/w.yaml", ".hidden/h.yaml",
        ".git/config", "sub/.git/HEAD", "node_modules/m/p.json", "x/node_modules/q.yaml", ".venv/v.py",
        "deep/1/2/3/4.yaml",
    ):  # fmt: skip
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("k: v\n")
    outside.mkdir()
    (outside / "secret.yaml").write_text("s: 1\n")
    (root / "link-dir").symlink_to("b")
    (root / "b" / "link-out").symlink_to(outside)
    (root / "link-file.yaml").symlink_to("a.yaml")
    (root / "dangling.yaml").symlink_to("nowhere.yaml")
    os.mkfifo(root / "pipe")


def test_repository_files_are_what_the_walk_listed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    _tree(root, tmp_path / "outside")
    listed = repo_files(FileCache(root))
    assert listed == _walked_files(root)
    assert "link-file.yaml" in listed and "dangling.yaml" in listed and "pipe" in listed
    assert not any(
        p.startswith(("link-dir/", "b/link-out/", "node_modules/", ".git/", ".venv/")) for p in listed
    )
    assert "x/node_modules/q.yaml" not in listed and "sub/.git/HEAD" not in listed
    assert ".github/w.yaml" in listed and ".hidden/h.yaml" in listed


def test_the_walk_is_os_walk(tmp_path: Path) -> None:
    """Top down, directories (links to directories among them, not followed) and other entries."""
    root = tmp_path / "repo"
    root.mkdir()
    _tree(root, tmp_path / "outside")
    listing = Listing(str(root))
    mine = [(d, [e.name for e in dirs], [e.name for e in others]) for d, dirs, others in listing.walk()]
    theirs = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = Path(dirpath).relative_to(root).as_posix()
        theirs.append(("" if rel == "." else rel, list(dirnames), sorted(filenames)))
    assert mine == theirs
    skipped = [d for d, _, _ in listing.walk(skip=lambda parent, name: name.startswith("."))]
    assert skipped and not any(part.startswith(".") for d in skipped for part in d.split("/"))


def test_each_directory_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a run has walked the tree, its other walkers and link tests read no directory again."""
    root = tmp_path / "repo"
    root.mkdir()
    _tree(root, tmp_path / "outside")
    files = FileCache(root)
    listing = files.listing
    first = list(listing.walk())
    walked = _walked_files(root)
    reads: list[str] = []
    real_scandir = os.scandir

    def counting(path: str) -> object:
        reads.append(path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", counting)
    assert list(listing.walk()) == first
    assert repo_files(files) == walked
    assert shell_scripts(files, repo_files(files), ()) == []
    index = RepoIndex(root, files)
    assert index.syncs == [] and index.ignore_files == []
    assert listing.is_link(str(files.root / "link-dir")) and not listing.is_link(
        str(files.root / "b" / "c.yaml")
    )
    assert reads == []


def test_links_as_the_system_says(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    _tree(root, tmp_path / "outside")
    listing = Listing(str(root))
    for rel in ("link-dir", "link-file.yaml", "dangling.yaml", "a.yaml", "b", "b/link-out", "missing", "a.yaml/x",
                "link-dir/c.yaml", "b/link-out/secret.yaml", "pipe"):  # fmt: skip
        path = str(root / rel)
        assert listing.is_link(path) == os.path.islink(path), rel
    assert listing.is_link(str(tmp_path)) == os.path.islink(tmp_path)


def test_a_change_between_two_runs_in_one_process_is_seen(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "apps" / "one.yaml").write_text("k: v\n")
    (root / "apps" / "two.yaml").write_text("k: v\n")
    first = FileCache(root)
    assert repo_files(first) == ["apps/one.yaml", "apps/two.yaml"]
    (root / "apps" / "three.yaml").write_text("k: v\n")  # added
    (root / "apps" / "one.yaml").unlink()  # removed
    (root / "apps" / "two.yaml").rename(root / "apps" / "renamed.yaml")  # renamed
    (root / "new").mkdir()
    (root / "new" / "run.sh").write_text("echo\n")
    second = FileCache(root)
    assert repo_files(second) == ["apps/renamed.yaml", "apps/three.yaml", "new/run.sh"]
    assert [p for p, _ in shell_scripts(second, repo_files(second), ())] == ["new/run.sh"]
    assert second.signature(root / "apps") != first.signature(root / "apps")
    assert repo_files(first) == ["apps/one.yaml", "apps/two.yaml"]  # a run sees its own tree


def test_a_workspace_each_run_sees_the_tree_of_its_run(tmp_path: Path) -> None:
    """The shell-script rule (HO005) reads the listing: a script added, renamed, then removed between
    runs in one process is found, followed, then gone."""
    root = Path(__file__).resolve().parents[2] / "examples" / "home-ops"
    repo = tmp_path / "repo"
    shutil.copytree(root, repo, symlinks=True)

    def scripts() -> list[str]:
        found = Workspace(repo).check(select=["HO005"]).findings
        return sorted(f.file or "" for f in found)

    before = scripts()
    (repo / "tools").mkdir()
    (repo / "tools" / "setup.sh").write_text("#!/bin/sh\necho\n")
    assert scripts() == sorted([*before, "tools/setup.sh"])
    (repo / "tools" / "setup.sh").rename(repo / "tools" / "install.sh")
    assert scripts() == sorted([*before, "tools/install.sh"])
    (repo / "tools" / "install.sh").unlink()
    assert scripts() == before


def test_executable_scripts_by_mode_and_never_through_a_link_out(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "bin").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil").write_text("#!/bin/sh\necho\n")
    (outside / "evil").chmod(0o755)
    (root / "bin" / "run").write_text("#!/bin/bash\necho\n")
    (root / "bin" / "run").chmod(0o755)
    (root / "bin" / "plain").write_text("#!/bin/bash\necho\n")  # not executable
    (root / "bin" / "out").symlink_to(outside / "evil")
    (root / "bin" / "in").symlink_to("run")
    files = FileCache(root)
    found = shell_scripts(files, repo_files(files), ())
    assert [p for p, _ in found] == ["bin/in", "bin/run"]


def _index_walk(root: Path) -> tuple[list[Path], list[tuple[Path, tuple[str, ...]]]]:
    """What ``RepoIndex`` walked before the listing (the reference): real directories only, by name."""
    yaml_files: list[Path] = []
    ignore_files: list[tuple[Path, tuple[str, ...]]] = []
    stack: list[tuple[str, tuple[str, ...]]] = [(str(root), ())]
    while stack:
        directory, parts = stack.pop()
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
        subdirs = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in {".git", ".github", "node_modules", ".venv", "vendor"}:
                    subdirs.append((entry.path, (*parts, entry.name)))
            elif entry.name.endswith((".yaml", ".yml")):
                yaml_files.append(Path(entry.path))
            elif entry.name == ".sourceignore":
                ignore_files.append((Path(entry.path), parts))
        stack.extend(reversed(subdirs))
    return yaml_files, ignore_files


def test_the_repository_index_lists_what_its_walk_did(tmp_path: Path) -> None:
    """The Flux index's YAML and ``.sourceignore`` files, from the listing: real directories walked, a
    link to a directory named like a YAML file counted as a file, as before."""
    root = tmp_path / "repo"
    root.mkdir()
    _tree(root, tmp_path / "outside")
    for rel in (".sourceignore", "b/.sourceignore", "b/d/.sourceignore", "vendor/v.yaml", "z/.sourceignore"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("*.txt\n")
    (root / "dir-link.yaml").symlink_to("b")
    files = FileCache(root)
    skipped = frozenset({".git", ".github", "node_modules", ".venv", "vendor"})
    below = [(parts, Path(entry.path)) for parts, entry in files.listing.below(skipped)]
    yaml_files = [path for _, path in below if path.name.endswith((".yaml", ".yml"))]
    ignore_files = [(path, parts) for parts, path in below if path.name == ".sourceignore"]
    expected = _index_walk(root.resolve())
    assert (yaml_files, ignore_files) == expected
    assert root.resolve() / "dir-link.yaml" in yaml_files
    assert RepoIndex(root, files).ignore_files == expected[1]
    assert RepoIndex(root).ignore_files == expected[1]  # its own file cache


def test_sourceignore_files_found_as_the_walk_found_them(tmp_path: Path) -> None:
    """``.sourceignore`` files of every directory but ``.git``'s, none through a link to a directory."""
    root = tmp_path / "repo"
    root.mkdir()
    _tree(root, tmp_path / "outside")
    for rel, pattern in ((".sourceignore", "*.txt"), ("b/.sourceignore", "c.yaml"), ("b/d/.sourceignore", "*.yml"),
                         (".git/.sourceignore", "a.yaml"), ("node_modules/.sourceignore", "x")):  # fmt: skip
        (root / rel).write_text(pattern + "\n")
    (tmp_path / "outside" / ".sourceignore").write_text("a.yaml\n")  # below b/link-out: not read
    expected: list[tuple[Path, tuple[str, ...]]] = []
    for dirpath, dirnames, filenames in os.walk(root.resolve()):  # the walk it did before the listing
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        if ".sourceignore" in filenames:
            directory = Path(dirpath)
            expected.append((directory / ".sourceignore", directory.relative_to(root.resolve()).parts))
    found = load_sourceignore_files(root)
    assert found == load_sourceignore_files(root, found=expected)
    assert [(p.text, p.domain) for p in found] == [
        ("*.txt", ()), ("c.yaml", ("b",)), ("*.yml", ("b", "d")), ("x", ("node_modules",)),
    ]  # fmt: skip
    assert found == load_sourceignore_files(root, FileCache(root))
