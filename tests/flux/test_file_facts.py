"""What the repository index knows of each YAML file, kept across runs (flux/file_facts.py): a file is
read again only when nothing vouches for its content (Git's blob ids, or in the working tree its stat,
times too recent not trusted), and the index answers as it does without the cache whatever changed.

Real files in real Git repositories. A stat is trusted only once a file is older than the racy window
(2 s), so the repositories of the change tests are made, warmed, changed and aged together (two waits
for the whole module)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_build_cache import KS

from homeops.core import cache
from homeops.core.files import FileCache
from homeops.core.git.caches import ContentFileCache
from homeops.core.profile import DEFAULT
from homeops.core.snapshot import RACY_NS
from homeops.flux.cluster import resolve_cluster
from homeops.flux.file_facts import FactStore, facts_of
from homeops.flux.render import ClusterRenderer
from homeops.flux.render_memo import RenderMemo
from homeops.flux.repo_index import RepoIndex

AGE = RACY_NS / 1e9 + 0.2

INSTANCE = """apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: {namespace}
spec:
  sync:
    kind: GitRepository
    url: https://example.com/{name}.git
    path: {path}
"""
SOURCE = """apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: {name}
  namespace: flux-system
spec:
  url: https://example.com/{name}.git
"""
GENERATOR = """apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: {name}
  namespace: flux-system
spec:
  sources: [{{alias: repo, kind: GitRepository, name: flux-system}}]
  artifacts: [{{name: apps, copy: [{{from: "@repo/apps/**", to: "@artifact/"}}]}}]
"""
SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: flux-system\nstringData:\n  {key}: x\n"
SUBSTITUTE = "  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: boot\n"


def _ks_from(source: str, path: str) -> str:
    """A Flux Kustomization applying ``path`` of another GitRepository (its source)."""
    written = KS.format(name=source, path=path)
    assert written.endswith("name: flux-system\n")
    return written[: -len("flux-system\n")] + source + "\n"


def _cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: '1'\n"


LINKS = 1  # links/src.yaml: a link is always read


def make_repo(root: Path) -> Path:
    files = {
        "clusters/c/flux/apps.yaml": KS.format(name="apps", path="apps")
        + SUBSTITUTE
        + _ks_from("infra", "apps/sub"),
        "clusters/c/flux/instance.yaml": INSTANCE.format(
            namespace="flux-system", name="home", path="clusters/c/flux"
        ),
        "infra/sources.yaml": SOURCE.format(name="infra"),
        "infra/a-src.yaml": SOURCE.format(name="a"),
        "infra/b-src.yaml": SOURCE.format(name="b"),
        "infra/gen.yaml": GENERATOR.format(name="gen"),
        "boot/secret.yaml": SECRET.format(name="boot", key="LEVEL"),
        "boot/other.yaml": SECRET.format(name="other", key="KEY"),  # a Secret, not the one asked for
        **{f"apps/cm{i}.yaml": _cm(f"cm{i}") for i in range(8)},
        "apps/sub/one.yaml": _cm("one"),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "links").mkdir()
    (root / "links/src.yaml").symlink_to("../infra/a-src.yaml")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for args in (["init", "-q"], ["add", "-A"], ["-c", "commit.gpgsign=false", "commit", "-qm", "base"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)
    return root


def answers(root: Path, files: FileCache | None = None) -> tuple[list[Any], int]:
    """One run as a new process makes it: every answer of the index, the signature of every YAML file
    (what a kept render's facts are checked against), and how many texts were read for the facts."""
    files = files or FileCache(root)
    index = RepoIndex(root, files)
    out: list[Any] = [[(s.kind, s.path, s.url, s.namespace, s.file, s.line) for s in index.syncs]]
    for name in ("infra", "a", "b", "new"):
        found = index.source("GitRepository", name, "flux-system")
        out.append(None if found is None else (found.name, found.file, found.line, dict(found.spec)))
    out.append([(g.namespace, g.file) for g in index.generators])
    written = index.defined("Secret", "boot", "flux-system")
    out.append(None if written is None else (written[0], sorted(written[1]["stringData"])))
    out.append(index.defined("ConfigMap", "cm3", "flux-system") is not None)
    out.append([(p.relative_to(root).as_posix(), files.signature(p)) for p in sorted(root.rglob("*.yaml"))])
    read = index.texts_read
    cache.flush()
    cache.reset()
    return out, read


def uncached(root: Path) -> list[Any]:
    with pytest.MonkeyPatch.context() as m:
        m.setenv(cache.ENV_DISABLE, "1")
        out, read = answers(root)
    assert read == yaml_count(root)  # nothing vouched for: every text read
    return out


def yaml_count(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.yaml"))


def _edit(root: Path) -> None:
    (root / "infra/sources.yaml").write_text(SOURCE.format(name="infra-two"))


def _same_size_times_kept(root: Path) -> None:  # only the change time (and the content) says it
    path = root / "infra/sources.yaml"
    before = path.stat()
    path.write_text(SOURCE.format(name="infrb"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size


def _rename(root: Path) -> None:
    (root / "infra/sources.yaml").rename(root / "infra/renamed.yaml")


def _delete(root: Path) -> None:
    (root / "boot/secret.yaml").unlink()


def _new_file(root: Path) -> None:
    (root / "infra/new.yaml").write_text(SOURCE.format(name="new"))


def _starts_mentioning_sync(root: Path) -> None:
    (root / "apps/cm2.yaml").write_text(INSTANCE.format(namespace="other", name="two", path="apps"))


def _stops_mentioning_sync(root: Path) -> None:
    (root / "clusters/c/flux/instance.yaml").write_text(_cm("instance"))


def _symlink_retargeted(root: Path) -> None:
    (root / "links/src.yaml").unlink()
    (root / "links/src.yaml").symlink_to("../infra/b-src.yaml")


def _link_target_edited(root: Path) -> None:  # the link itself is as it was
    (root / "infra/a-src.yaml").write_text(SOURCE.format(name="a-two"))


def _file_becomes_symlink(root: Path) -> None:
    (root / "apps/cm1.yaml").unlink()
    (root / "apps/cm1.yaml").symlink_to("../boot/secret.yaml")


def _generator_gone(root: Path) -> None:
    (root / "infra/gen.yaml").write_text(_cm("gen"))


CHANGES: dict[str, tuple[Callable[[Path], None], int]] = {  # the change, texts read again for it
    "edit": (_edit, 1),
    "same size, times kept": (_same_size_times_kept, 1),
    "rename": (_rename, 1),
    "delete": (_delete, 0),
    "new file": (_new_file, 1),
    "starts mentioning sync": (_starts_mentioning_sync, 1),
    "stops mentioning sync": (_stops_mentioning_sync, 1),
    "symlink retargeted": (_symlink_retargeted, 0),
    "link target edited": (_link_target_edited, 1),
    "file becomes a symlink": (_file_becomes_symlink, 1),
    "generator gone": (_generator_gone, 1),
}


@contextlib.contextmanager
def in_cache(xdg: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as m:
        m.setenv("XDG_CACHE_HOME", str(xdg))
        m.delenv(cache.ENV_DISABLE, raising=False)
        cache.reset()
        yield
        cache.reset()


@dataclass
class Changed:
    root: Path
    before: list[Any]
    after: list[Any]
    reads: list[int]  # texts read by the cold, the warm (unchanged) and the changed runs


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Changed], Path]:
    """Per change, its repository warmed, changed and run again (files aged past the racy window
    before each run that should trust them); and one more repository, aged, left as it is."""
    base = tmp_path_factory.mktemp("facts")
    made = {name: make_repo(base / f"repo{i}") for i, name in enumerate(CHANGES)}
    aged = make_repo(base / "aged")
    time.sleep(AGE)
    out: dict[str, Changed] = {}
    for i, (name, root) in enumerate(made.items()):
        with in_cache(base / f"xdg{i}"):
            before, cold = answers(root)
            again, warm = answers(root)
        assert again == before
        out[name] = Changed(root, before, [], [cold, warm])
        CHANGES[name][0](root)
    time.sleep(AGE)
    for i, changed in enumerate(out.values()):
        with in_cache(base / f"xdg{i}"):
            changed.after, read = answers(changed.root)
        changed.reads.append(read)
    return out, aged


@pytest.mark.parametrize("name", CHANGES)
def test_a_change_is_seen_and_only_what_changed_is_read(
    name: str, repos: tuple[dict[str, Changed], Path]
) -> None:
    changed = repos[0][name]
    cold, warm, read = changed.reads
    assert cold == yaml_count(changed.root) - (name == "new file") + (name == "delete")  # every text
    assert warm == LINKS  # every regular file vouched for by its stat
    assert changed.after == uncached(changed.root)
    assert changed.after != changed.before  # the change matters to the index
    assert read == LINKS + CHANGES[name][1]


def test_files_changed_within_the_racy_window_are_read_again(tmp_path: Path) -> None:
    """A stat whose times are too recent (here: in the future) does not vouch for the content."""
    root = make_repo(tmp_path / "repo")
    future = time.time_ns() + 60 * 10**9
    for path in root.rglob("*.yaml"):
        if not path.is_symlink():
            os.utime(path, ns=(future, future))
    with in_cache(tmp_path / "xdg"):
        first, read = answers(root)
        assert read == yaml_count(root)
        again, read = answers(root)
    assert again == first
    assert read == yaml_count(root)  # their facts are kept, but which content is there is not known


def test_a_corrupted_cache_is_ignored_and_rebuilt(
    tmp_path: Path, repos: tuple[dict[str, Changed], Path]
) -> None:
    root = repos[1]
    xdg = tmp_path / "xdg"
    with in_cache(xdg):
        expected, _read = answers(root)
        packs = list((xdg / "homeops" / "index").iterdir())
        assert packs
        for path in packs:
            data = path.read_bytes()
            path.write_bytes(data[:60] + b"\xff" * 64 + data[124:])
        again, read = answers(root)
        assert again == expected and read == yaml_count(root)
        warm, read = answers(root)
    assert warm == expected and read == LINKS


def test_nothing_is_kept_without_the_cache(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    xdg = tmp_path / "xdg"
    with in_cache(xdg), pytest.MonkeyPatch.context() as m:
        m.setenv(cache.ENV_DISABLE, "1")
        answers(root)
    assert not (xdg / "homeops").exists()


def test_a_checkout_shares_facts_by_blob_id(tmp_path: Path, repos: tuple[dict[str, Changed], Path]) -> None:
    """A checkout of a revision (Git's ids known, as a diff's base side) reads only what is new to the
    cache of the repository it stands for, and keeps no stat of its own files."""
    root = repos[1]
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", str(root), str(checkout)], check=True, capture_output=True)
    (checkout / "apps/cm5.yaml").write_text(_cm("changed"))
    listed = git_out(checkout, "ls-files", "-s")
    known = {
        line.split("\t", 1)[1]: line.split()[1] for line in listed.splitlines() if line.startswith("100644")
    }
    known["apps/cm5.yaml"] = git_out(checkout, "hash-object", "apps/cm5.yaml").strip()
    with in_cache(tmp_path / "xdg"):
        answers(root)
        shared, read = answers(checkout, ContentFileCache(checkout, None, known, scope=root))
        store = FactStore.of(root)
        assert store is not None
        assert store.stat_ids(str(root.resolve())) and not store.stat_ids(str(checkout.resolve()))
    assert read == LINKS + 1  # the changed file
    assert shared == uncached(checkout)


def git_out(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def test_a_render_records_what_it_recorded_when_every_text_was_read(
    tmp_path: Path, repos: tuple[dict[str, Changed], Path]
) -> None:
    """What each Flux Kustomization's render looked at (what a kept render is checked against) is the
    same whether the index read every text or took what it knew."""
    root = repos[1]

    def recorded() -> tuple[dict[str, Any], int]:
        files = FileCache(root)
        renderer = ClusterRenderer(
            root, resolve_cluster(root, DEFAULT, "c"), files=files, memo=RenderMemo(None, share=False)
        )
        renderer.render()
        cache.flush()
        cache.reset()
        return dict(renderer.facts), renderer.index.texts_read

    with pytest.MonkeyPatch.context() as m:
        m.setenv(cache.ENV_DISABLE, "1")
        expected, read = recorded()
    assert read == yaml_count(root)
    with in_cache(tmp_path / "xdg"):
        recorded()
        facts, read = recorded()
    assert read == LINKS
    assert facts == expected
    # what the renders look at (as before the facts were kept; infra's source is another repository):
    # the scan's reads are no looks, nor are the texts read to find the Secret written at bootstrap
    assert (
        {ks: [rel for rel, _sig in facts] for ks, facts in expected.items()}
        == {
            "flux-system/flux-system": [
                "clusters/c/flux",
                "clusters/c/flux/apps.yaml",
                "clusters/c/flux/instance.yaml",
            ],
            "flux-system/apps": [
                "apps",
                *(f"apps/cm{i}.yaml" for i in range(8)),
                "apps/sub",
                "apps/sub/one.yaml",
                "boot/secret.yaml",  # the substituteFrom Secret written in the repository (boot/other.yaml: not it)
            ],
        }
    )


def test_facts_of_a_text() -> None:
    facts = facts_of(INSTANCE.format(namespace="n", name="x", path="p") + "---\n" + SOURCE.format(name="s"))
    assert facts.mentions_sync and facts.may_hold_source and not facts.may_hold_generator
    assert facts.may_hold("GitRepository") and not facts.may_hold("OCIRepository")
    quoted = facts_of(SOURCE.format(name="o").replace("kind: GitRepository", 'kind: "OCIRepository"'))
    assert quoted.may_hold("OCIRepository") and not quoted.may_hold("GitRepository")
    assert not facts_of("kind: GitRepository\n").may_hold("GitRepository")  # not of the source API group
    assert facts.may_write("GitRepository") and facts.may_write("Git") and not facts.may_write("Secret")
    assert facts_of(GENERATOR.format(name="g")).may_hold_generator
    long_kind = "K" * 200
    assert facts_of(f"kind: {long_kind}\n").may_write(long_kind + "x")  # cut: the text decides
    assert not facts_of(f"kind: {long_kind[:10]}\n").may_write(long_kind)
    assert facts_of("kind: a\n").may_write("a\nb")  # a kind across lines: the text decides


def test_a_scan_inside_a_recording_is_a_look_at_every_file(
    tmp_path: Path, repos: tuple[dict[str, Changed], Path]
) -> None:
    """A computation that first asks the index while it records depends on every YAML file (as when
    the scan read every text through the file cache), whether or not the texts are read."""
    root = repos[1]
    every = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.yaml"))
    reads = []
    for disabled in ("1", "", ""):  # no cache, a cold one, a warm one
        with in_cache(tmp_path / "xdg"), pytest.MonkeyPatch.context() as m:
            m.setenv(cache.ENV_DISABLE, disabled)
            files = FileCache(root)
            index = RepoIndex(root, files)
            syncs, facts = files.record(lambda index=index: index.syncs)  # type: ignore[misc]
            cache.flush()
        assert syncs
        assert sorted(rel for rel, _sig in facts) == every
        reads.append(index.texts_read)
    assert reads == [yaml_count(root), yaml_count(root), LINKS]


def test_a_lookup_of_a_git_repository_reads_no_file_holding_only_other_sources(tmp_path: Path) -> None:
    """A render asks for its GitRepositories; the files holding an app's OCIRepository (one per app in
    the document's layout) are not read for it."""
    oci = SOURCE.replace("GitRepository", "OCIRepository")
    for i in range(3):
        (tmp_path / f"apps/a{i}").mkdir(parents=True)
        (tmp_path / f"apps/a{i}/ocirepository.yaml").write_text(oci.format(name=f"a{i}"))
    (tmp_path / "flux").mkdir()
    (tmp_path / "flux/source.yaml").write_text(SOURCE.format(name="flux-system"))
    files = FileCache(tmp_path)
    parsed: list[str] = []
    real_load = files.load_all
    files.load_all = lambda path, what=None: parsed.append(files.rel(path)) or real_load(path, what)  # type: ignore[method-assign]
    index = RepoIndex(tmp_path, files)
    found = index.source("GitRepository", "flux-system", "flux-system")
    assert found is not None and found.file == "flux/source.yaml"
    assert parsed == ["flux/source.yaml"]  # the OCIRepository files are not parsed for it
    oci_found = index.source("OCIRepository", "a1", "flux-system")
    assert oci_found is not None and oci_found.file == "apps/a1/ocirepository.yaml"
    assert index.source("GitRepository", "a1", "flux-system") is None  # a source of another kind
