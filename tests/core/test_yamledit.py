"""``homeops.core.yamledit``: edits that change the lines they must and keep every other byte."""

from __future__ import annotations

from homeops.core.yamledit import replace_entry, replace_scalars

RELEASE = """\
---
# a HelmRelease
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app
spec:
  chart:
    spec:
      chart: app  # the chart
      sourceRef: {kind: HelmRepository, name: charts}

  # values follow
  values:
    - name: x
"""


def test_replace_entry_keeps_what_follows_the_entry() -> None:
    new = replace_entry(RELEASE, ("spec", "chart"), ["chartRef:", "  kind: OCIRepository", "  name: app"])
    assert new == RELEASE.replace(
        "  chart:\n    spec:\n      chart: app  # the chart\n"
        "      sourceRef: {kind: HelmRepository, name: charts}\n",
        "  chartRef:\n    kind: OCIRepository\n    name: app\n",
    )


def test_replace_entry_in_a_list_item_and_refusals() -> None:
    text = "items:\n  - name: a\n    value: 1\n  - name: b\n"
    assert replace_entry("- name: a\n  value: 1\n", ("name",), ["title: b"]) is None  # not a mapping
    assert replace_entry(text, ("items", "name"), ["x: 1"]) is None  # no such entry
    assert replace_entry("a: [1\n", ("a",), ["a: 2"]) is None  # not YAML
    assert replace_entry("a: 1\n---\na: 2\n", ("a",), ["a: 3"]) is None  # two documents
    assert (
        replace_entry("a:\n  b: 1\nc: 2\n", ("a", "b"), ["b:", "  - 1", ""]) == "a:\n  b:\n    - 1\n\nc: 2\n"
    )


def test_replace_scalars() -> None:
    text = 'resources:\n  - ./app  # the app\n  - "../shared/x"\n  - ./gone\npath: ./app\nname: keep\n'
    new = replace_scalars(text, {"./app": "./moved", "../shared/x": "./x", "./gone": None})
    assert new == 'resources:\n  - ./moved  # the app\n  - "./x"\npath: ./moved\nname: keep\n'
    assert replace_scalars("path: ./gone\n", {"./gone": None}) == "path: ./gone\n"  # only list items go
    assert replace_scalars(text, {}) is text
