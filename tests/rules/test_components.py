"""``rules.helpers.Components``: which directories hold a kustomize Component, the outermost one a
rendered file comes from, and when the kept facts of a kustomization's text spare reading it."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeops.core import cache
from homeops.core.files import FileCache
from homeops.flux import file_facts
from homeops.rules.helpers import Components
from support import write_tree

COMPONENT = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [a.yaml]\n"
PLAIN = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "repo",
        {
            "components/volsync/kustomization.yaml": COMPONENT,
            "components/volsync/restic/kustomization.yaml": COMPONENT,
            "components/volsync/restic/a.yaml": "kind: ConfigMap\n",
            "components/quoted/kustomization.yaml": COMPONENT.replace("kind: Component", 'kind: "Component"'),
            "components/mentioned/kustomization.yaml": "# not a Component\n" + PLAIN,
            "apps/web/app/kustomization.yaml": PLAIN,
            "apps/web/app/a.yaml": "kind: ConfigMap\n",
        },
    )


def test_the_outermost_component_of_a_file_and_what_is_not_one(tree: Path) -> None:
    components = Components(tree, FileCache(tree))
    assert components.outermost("components/volsync/restic/a.yaml") == "components/volsync"
    assert components.outermost("components/volsync/restic/other.yaml") == "components/volsync"  # memo
    assert components.outermost("apps/web/app/a.yaml") is None
    assert components.holds("components/quoted")  # however its kind is written
    assert not components.holds("components/mentioned")  # the word alone is not a Component
    assert not components.holds("components/absent")


def test_one_per_file_cache_and_kept_facts_spare_the_reads(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(cache.ENV_DISABLE, raising=False)
    monkeypatch.setattr(file_facts, "RACY_NS", 0)  # stats trusted at once
    cache.reset()
    first = FileCache(tree)
    entries = [e for _d, e in first.listing.below() if e.name.endswith(".yaml")]
    file_facts.scan(first, entries)  # what a run's repository index does: facts kept by content
    cache.flush()
    cache.reset()
    files = FileCache(tree)
    file_facts.scan(files, entries)  # the stats vouch: nothing read
    assert Components.of(tree, files) is Components.of(tree, files)
    read: list[str] = []
    real_load = files.load_one
    monkeypatch.setattr(files, "load_one", lambda path: read.append(files.rel(path)) or real_load(path))
    components = Components.of(tree, files)
    assert components.outermost("apps/web/app/a.yaml") is None
    assert components.holds("components/volsync") and not components.holds("components/mentioned")
    assert read == ["components/volsync/kustomization.yaml", "components/mentioned/kustomization.yaml"]
    cache.reset()
