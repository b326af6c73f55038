"""The loader's direct construction (``_Constructor.construct_document``) against PyYAML's generic
path through the same constructors: the same values, types, sharing and provenance, on edge cases
written here and on every YAML file of the example and the corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from homeops.core import yamlio
from homeops.core.errors import YAMLError
from support import CORPUS, EXAMPLE


def generic(text: str, file: str = "f.yaml") -> list[Any]:
    """Every document built by PyYAML's ``construct_document`` (the path before the direct one)."""
    loader = yamlio._Loader(text, file)
    docs = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                data = yaml.constructor.BaseConstructor.construct_document(loader, node)
                if data is not None:
                    docs.append(data)
    finally:
        loader.dispose()
    return docs


def shape(value: Any, seen: dict[int, int] | None = None) -> Any:
    """``value`` with every type, mapping provenance and alias sharing made comparable."""
    seen = {} if seen is None else seen
    if isinstance(value, dict | list):
        if id(value) in seen:
            return ("alias", seen[id(value)])
        seen[id(value)] = len(seen)
    if isinstance(value, yamlio.YMap):
        return (
            "map",
            value.file,
            value.line,
            dict(value.key_lines or {}),
            [(k, shape(v, seen)) for k, v in value.items()],
        )
    if isinstance(value, dict):
        return ("dict", [(k, shape(v, seen)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [shape(v, seen) for v in value])
    return (type(value).__name__, repr(value))


EDGE_CASES = {
    "scalars": """
        a: 1
        b: 0x1F
        c: 1.5e3
        d: .inf
        e: true
        f: ~
        g: "quoted: 1"
        h: '08'
        i: 2024-01-01
        j: 1_000
        k: !!str 12
        l: !!int "12"
        m: !!float "1"
        n: ""
        o:
    """,
    "block scalars": """
        folded: >
          first(c,
            x
          )
        kept: |+
          a

        literal: |
          x
    """,
    "keys": """
        1: int key
        true: bool key
        ~: null key
        ? [a, b]
        : sequence key
        "quoted": q
        ? >
          folded key
        : f
    """,
    "aliases": """
        base: &base {x: 1, y: [1, 2]}
        again: *base
        list: &l [a, b]
        lists: [*l, *l]
        scalar: &s text
        same: *s
    """,
    "merge keys": """
        defaults: &d {a: 1, b: 2}
        merged:
          <<: *d
          b: 3
        several:
          <<: [*d, {c: 4}]
        nested:
          inner:
            <<: *d
    """,
    "tags": """
        ref: !Ref name
        seq: !Seq [a, 1]
        map: !Map {k: v, n: 2}
        set: !!set {a, b}
        ts: !!timestamp 2024-01-01
        binary: !!binary aGVsbG8=
        omap: !!omap [{a: 1}]
    """,
    "documents": """
        ---
        kind: A
        ---
        ---
        - 1
        - [2, {x: y}]
        ---
        plain
    """,
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_direct_construction_matches_the_generic_path(name: str) -> None:
    text = _dedent(EDGE_CASES[name])
    assert shape(yamlio.load_all(text, "f.yaml")) == shape(generic(text))


def test_an_alias_is_the_object_its_anchor_made() -> None:
    [doc] = yamlio.load_all(_dedent(EDGE_CASES["aliases"]), "f.yaml")
    assert doc["again"] is doc["base"]
    assert doc["lists"][0] is doc["lists"][1] is doc["list"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", 'mapping key "a" already defined at line 1'),
        ("x:\n  1: a\n  '1': b\n", 'mapping key "1" already defined at line 2'),
        ("a: !!int nope\n", "cannot decode 'nope' as an integer"),
        ("a: !!bool maybe\n", "cannot decode 'maybe' as a bool"),
        ("a: !!float x\n", "cannot decode 'x' as a float"),
    ],
)
def test_direct_construction_refuses_what_the_generic_path_refuses(text: str, message: str) -> None:
    with pytest.raises(YAMLError, match=message.replace("(", r"\(")):
        yamlio.load_all(text, "f.yaml")
    with pytest.raises(YAMLError, match=message.replace("(", r"\(")):
        generic(text)


def _files(base: Path) -> list[Path]:
    return [p for p in sorted(base.rglob("*")) if p.suffix in (".yaml", ".yml") and p.is_file()]


@pytest.mark.parametrize(("base", "least"), [(EXAMPLE, 80), (CORPUS, 700)], ids=["example", "corpus"])
def test_every_file_of_the_example_and_the_corpus_constructs_the_same(base: Path, least: int) -> None:
    if not base.is_dir():
        pytest.skip(f"{base} is absent (../shared is not here): its files cannot be compared")
    compared = 0
    for path in _files(base):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        try:
            expected = shape(generic(text, path.name))
        except (yaml.YAMLError, YAMLError):
            continue  # a file the loader refuses: the refusals are compared above
        assert shape(yamlio.load_all(text, path.name)) == expected, path
        compared += 1
    assert compared > least


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).lstrip("\n")
