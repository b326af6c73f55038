"""``homeops.flux.envsubst`` as a reader of text: where each piece is, which variables are used and
whether with a default (what ``homeops migrate`` needs to write known values in place)."""

from __future__ import annotations

import pytest

from homeops.flux import envsubst

CASES = [
    "plain text",
    "a ${A} b",
    "$${A} and $$$${B}x",
    "ü${A:0:2}ü${#B}",
    "${A:=${B:-c$$d}}tail",
    "${A/x\\/y/z}${B//a/b}",
    "${A,,}${B^}${C%%.*}",
    "${A:-}",
]


def _source(text: str, node: envsubst.Node) -> str:
    start, end = node.span
    return text.encode("utf-8")[start:end].decode("utf-8")


@pytest.mark.parametrize("text", CASES)
def test_spans_tile_the_text_and_each_expression_parses_alone(text: str) -> None:
    nodes = envsubst.parse(text)
    assert "".join(_source(text, n) for n in nodes) == text
    for node in nodes:
        if isinstance(node, envsubst.Text):
            assert _source(text, node).replace("$$", "$") == node.value
            continue
        assert envsubst.parse(_source(text, node)) == [node]
        for arg in node.args:
            if isinstance(arg, envsubst.Expression):
                assert envsubst.parse(_source(text, arg)) == [arg]


def test_variables_and_defaults() -> None:
    nodes = envsubst.parse("${A} ${B:=x} ${C:-y} $${D} ${A:=z} ${E:+w} ${F:0:1} ${G:=${H}}")
    assert envsubst.variables(nodes) == {
        "A": False,
        "B": True,
        "C": True,
        "E": True,
        "F": False,
        "G": True,
        "H": False,
    }
    assert [envsubst.has_default(n) for n in nodes if isinstance(n, envsubst.Expression)] == [
        False,
        True,
        True,
        True,
        True,
        False,
        True,
    ]
