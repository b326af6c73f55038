"""The confined reader (``homeops.core.fs``) on its own: where paths land, what is read, what is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homeops.core import fs, limits
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.fs import Boundary, NotRegularFileError, OutsideRootError


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "repo/dir").mkdir(parents=True)
    (tmp_path / "repo/dir/a.yaml").write_text("a: 1\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/secret").write_text("s3cret\n")
    return tmp_path


def test_paths_inside_are_read_and_outside_refused_naming_where_they_land(tree: Path) -> None:
    inside = Boundary.at(tree / "repo")
    assert inside.read_text(tree / "repo/dir/a.yaml") == "a: 1\n"
    assert inside.read_text(tree / "repo/dir/../dir/a.yaml") == "a: 1\n"
    for path in (tree / "repo/../outside/secret", tree / "outside/secret", Path("/etc/passwd")):
        with pytest.raises(OutsideRootError) as info:
            inside.read_bytes(path, "the reference")
        assert (
            info.value.what == f"the reference resolves outside the repository, to {os.path.realpath(path)}"
        )
        assert "s3cret" not in info.value.one_line()


def test_symlinks_are_followed_before_the_check(tree: Path) -> None:
    repo = tree / "repo"
    (repo / "file-link").symlink_to(tree / "outside/secret")
    (repo / "dir-link").symlink_to(tree / "outside")
    (repo / "inner-link").symlink_to("dir/a.yaml")
    inside = Boundary.at(repo)
    assert inside.read_text(repo / "inner-link") == "a: 1\n"
    for path in (repo / "file-link", repo / "dir-link/secret"):
        with pytest.raises(OutsideRootError):
            inside.read_bytes(path)
    assert not inside.is_file(repo / "file-link") and not inside.is_dir(repo / "dir-link")
    assert inside.is_file(repo / "inner-link") and inside.is_dir(repo / "dir")


def test_special_files_are_refused_before_reading(tree: Path) -> None:
    repo = tree / "repo"
    os.mkfifo(repo / "pipe.yaml")
    with pytest.raises(NotRegularFileError, match="a FIFO is not read"):
        Boundary.at(repo).read_bytes(repo / "pipe.yaml")
    with pytest.raises(NotRegularFileError, match="a character device is not read"):
        Boundary.at("/").read_bytes("/dev/zero")
    with pytest.raises(HomeopsError, match="expected a file, found a directory"):
        Boundary.at(repo).read_bytes(repo / "dir")
    assert not Boundary.at(repo).is_file(repo / "pipe.yaml")


def test_a_file_over_the_size_limit_is_refused_from_its_size(tree: Path) -> None:
    big = tree / "repo/big.yaml"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(limits.LimitError, match=r"over the limit of 1\.0 KiB"):
        fs.read_regular(big, "big.yaml", max_bytes=1024)
    assert fs.read_regular(big, "big.yaml", max_bytes=4096) == b"x" * 2048


def test_file_cache_reads_through_the_boundary_and_allows_its_own_layouts(tree: Path) -> None:
    cache = FileCache(tree / "repo")
    with pytest.raises(OutsideRootError):
        cache.read_text(tree / "outside/secret")
    cache.allow(tree / "outside")
    assert cache.read_text(tree / "outside/secret") == "s3cret\n"


def test_check_tree_refuses_links_out_and_special_files(tree: Path) -> None:
    repo = tree / "repo"
    chart = repo / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("name: c\n")
    (chart / "templates/ok.yaml").symlink_to(repo / "dir/a.yaml")
    (chart / "loop").symlink_to(chart)  # a link back up: checked once, no endless walk
    inside = Boundary.at(repo)
    inside.check_tree(chart, "chart c")
    (chart / "files").mkdir()
    (chart / "files/env").symlink_to("/proc/self/environ")
    with pytest.raises(OutsideRootError, match="chart c: files/env resolves outside"):
        inside.check_tree(chart, "chart c")
    (chart / "files/env").unlink()
    os.mkfifo(chart / "files/pipe")
    with pytest.raises(NotRegularFileError, match="chart c: files/pipe is a FIFO"):
        inside.check_tree(chart, "chart c")


def test_read_text_for_authoring_stays_inside(tree: Path) -> None:
    assert fs.read_text(tree / "repo", "dir/a.yaml") == "a: 1\n"
    with pytest.raises(OutsideRootError):
        fs.read_text(tree / "repo", "../outside/secret")
