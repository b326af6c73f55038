"""Flux postBuild substitution: envsubst operators and quirks, strict mode, and the object round trip.

Expected values were checked against the Go code itself (fluxcd/pkg envsubst, sigs.k8s.io/yaml with
goyaml.v2) run over the same inputs, so the quirks asserted here are Flux's, not ours.
"""

from __future__ import annotations

import copy

import pytest

from homeops.core.yamlemit import dump as as_yaml
from homeops.flux.envsubst import find_unresolved, substitute
from homeops.flux.varsub import (
    VAR_NAME_PATTERN,
    VAR_NAME_RE,
    SubstitutionError,
    is_substitution_disabled,
    reparse,
    resolve_plain_scalar,
    substitute_object,
    validate_var_name,
)

# ----------------------------------------------------------------------------------------------
# Plain references and escapes


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("pre-${A}-post", {"A": "x"}, "pre-x-post"),
        ("${A}${B}", {"A": "1", "B": "2"}, "12"),
        ("${_a1}/${A_B_2}", {"_a1": "u", "A_B_2": "d"}, "u/d"),
        ("${1A}", {"1A": "digit-first"}, "digit-first"),  # parses; Flux never accepts the name
        ("${é}", {"é": "unicode"}, "unicode"),
        ("$A and $B", {"A": "x", "B": "y"}, "$A and $B"),  # bare $VAR is not a reference
        ("cost: 5$", {}, "cost: 5$"),
        ("$ {A}", {"A": "x"}, "$ {A}"),
        ("{A} }", {"A": "x"}, "{A} }"),
        ("$", {}, "$"),
        ("", {}, ""),
    ],
)
def test_references(text: str, variables: dict[str, str], expected: str) -> None:
    assert substitute(text, variables) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$${A}", "${A}"),
        ("$$A", "$A"),  # $$ is one $ everywhere in plain text, not only before {
        ("echo $$HOME $$$$", "echo $HOME $$"),
        ("$$${A}", "$x"),  # the first two make a $, the third starts a reference
        ("$$$${A}", "$${A}"),
        ("a$$", "a$"),
        ("text ${A}$${B$${A}$A${A}", "text x${B${A}$Ax"),
        ("$${A:-${A}}", "${A:-x}"),  # the escaped one is text, the inner reference is not escaped
        ("\\${A} \\\\", "\\x \\\\"),  # backslash escapes nothing outside an expression
    ],
)
def test_dollar_escapes(text: str, expected: str) -> None:
    assert substitute(text, {"A": "x"}) == expected


def test_multiline_text() -> None:
    text = "spec:\n  host: ${HOST}\n  script: |\n    echo $${USER}\n    echo ${GREETING:-hello there}\n"
    assert substitute(text, {"HOST": "example.org"}) == (
        "spec:\n  host: example.org\n  script: |\n    echo ${USER}\n    echo hello there\n"
    )


def test_default_may_span_lines() -> None:
    assert substitute("${A:-one\ntwo}!", {}) == "one\ntwo!"


def test_nul_ends_the_text() -> None:
    """envsubst's scanner reads NUL as end of input: what follows is dropped."""
    assert substitute("a${A}\0b${A}", {"A": "x"}) == "ax"


# ----------------------------------------------------------------------------------------------
# Operators


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("${#V}", "hello", "5"),
        ("${#V}", "héllo", "6"),  # bytes, as Go's len
        ("${#V}", "", "0"),
        ("${V^}", "hello world", "Hello world"),
        ("${V^^}", "hello world", "HELLO WORLD"),
        ("${V,}", "HELLO", "hELLO"),
        ("${V,,}", "HeLLo", "hello"),
        ("${V^^}", "straße", "STRAßE"),  # Go maps rune by rune: ß has no single-rune upper case
        ("${V,,}", "İSTANBUL", "istanbul"),
        ("${V^}", "", ""),
        ("${V,^}", "MiXed", "MiXed"),  # an operator mix that parses and does nothing
    ],
)
def test_length_and_case(text: str, value: str, expected: str) -> None:
    assert substitute(text, {"V": value}) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${P:11}", "ideas/thoughts.for.today"),
        ("${P:11:5}", "ideas"),
        ("${P:0:1}", "/"),
        ("${P:1:0}", ""),
        ("${P:30:100}", "today"),
        ("${P:100}", ""),
        ("${P:100:2}", ""),
        ("${P:x}", "/home/bozo/ideas/thoughts.for.today"),  # unparsable offset: the whole value
        ("${P: 1}", "/home/bozo/ideas/thoughts.for.today"),
        ("${P:1:y}", "/home/bozo/ideas/thoughts.for.today"),
        ("${P:+1:+4}", "/home/bozo/ideas/thoughts.for.today"),  # ":+" is a default operator, not an offset
        ("${P:${N}:3}", "tod"),  # negative offsets only through a nested value
        ("${P:${FAR}:3}", "/ho"),
    ],
)
def test_substring(text: str, expected: str) -> None:
    variables = {"P": "/home/bozo/ideas/thoughts.for.today", "N": "-5", "FAR": "-500"}
    assert substitute(text, variables) == expected


def test_substring_counts_bytes() -> None:
    assert substitute("${V:1}", {"V": "aé"}) == "é"
    assert substitute("${V:0:2}", {"V": "éa"}) == "é"


def test_substring_negative_length_fails() -> None:
    """kustomize-controller slices out of range and panics; we raise instead."""
    with pytest.raises(SubstitutionError, match="out of range"):
        substitute("${V:0:-1}", {"V": "abc"})
    assert substitute("${V:1:-1}", {"V": ""}) == ""  # offset past the end returns before slicing


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("${F#*.}", "bash.string.txt", "string.txt"),
        ("${F##*.}", "bash.string.txt", "txt"),
        ("${F%.*}", "bash.string.txt", "bash.string"),
        ("${F%%.*}", "bash.string.txt", "bash"),
        ("${F##*/}", "/path/to/file", "file"),  # * also matches /
        ("${F#*/}", "/path/to/file", "path/to/file"),
        ("${F#?}", "abc", "bc"),
        ("${F#[a-b]}", "abc", "bc"),
        ("${F#[^a]}", "abc", "abc"),
        ("${F#x}", "abc", "abc"),
        ("${F#*}", "abc", "bc"),  # the empty prefix is never tried: shortest match is one byte
        ("${F##*}", "abc", ""),
        ("${F%c}", "abc", "ab"),
        ("${F#\\*}", "*abc", "abc"),
        ("${F#[}", "[abc", "[abc"),  # a bad pattern leaves the value alone
        ("${F#${P}}", "prefix-rest", "rest"),
    ],
)
def test_pattern_removal(text: str, value: str, expected: str) -> None:
    assert substitute(text, {"F": value, "P": "prefix-"}) == expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("${S/abc/xyz}", "abcABC123ABCabc", "xyzABC123ABCabc"),
        ("${S//abc/xyz}", "abcABC123ABCabc", "xyzABC123ABCxyz"),
        ("${S/#abc/XYZ}", "abcABC123ABCabc", "XYZABC123ABCabc"),
        ("${S/%abc/XYZ}", "abcABC123ABCabc", "abcABC123ABCXYZ"),
        ("${S/#ABC/XYZ}", "abcABC123ABCabc", "abcABC123ABCabc"),
        ("${S/./}", "foo.bar.baz", "foobar.baz"),  # empty replacement deletes
        ("${S//./}", "foo.bar.baz", "foobarbaz"),
        ("${S/#foo/}", "foo.bar", "foo.bar"),  # prefix/suffix forms need a replacement
        ("${S/*/x}", "a*b", "axb"),  # literal text, not a glob
        ("${S/\\//-}", "foo/bar/baz", "foo-bar/baz"),  # \/ is a slash inside the pattern
        ("${S//\\//-}", "foo/bar/baz", "foo-bar-baz"),
        ("${S/a/\\/}", "cat", "c/t"),
        ("${S/a/$$}", "cat", "c$t"),  # $$ is an escape inside replacement arguments too
        ("${S/a//b}", "cat", "cbt"),  # the separator is any run of slashes
        ("${S/a/${R}}", "cat", "cRRt"),
    ],
)
def test_replacement(text: str, value: str, expected: str) -> None:
    assert substitute(text, {"S": value, "R": "RR"}) == expected


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ("${A:-d}", {}, "d"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A:-d}", {"A": "v"}, "v"),
        ("${A=d}", {}, "d"),
        ("${A=d}", {"A": ""}, "d"),  # like := : empty counts as unset
        ("${A:=d}", {"A": "v"}, "v"),
        ("${A:=d}/${A}", {}, "d/"),  # nothing is assigned
        ("${A:+alt}", {"A": "v"}, "v"),  # not bash: the value when set
        ("${A:+alt}", {}, "alt"),
        ("${A:?message}", {}, "message"),  # not bash: no error, the word is the default
        ("${A:-}", {}, ""),
        ("${A:-a b c}", {}, "a b c"),
        ("${A:-http://host:80/p}", {}, "http://host:80/p"),  # ':' in a default
        ("${A:-a}b}", {}, "ab}"),  # a default ends at the first '}'
        ("${A:-{x}", {}, "{x"),
        ("${A:-$5}", {}, "$5"),
        ("${A:-${B}}", {"B": "b"}, "b"),
        ("${A:=${B}}", {"B": "b"}, "b"),
        ("${A:-pre-${B}-post}", {"B": "b"}, "pre-b-post"),
        ("${A:-${B:-${C:-deep}}}", {}, "deep"),
        ("${A:-${B^^}}", {"B": "up"}, "UP"),
        ("${A:-$${B}}", {"B": "b"}, "$b"),  # $$ is no escape inside a default
        ("${A:==x}", {}, "=x"),
        ("${A==x}", {}, "=x"),
    ],
)
def test_defaults(text: str, variables: dict[str, str], expected: str) -> None:
    assert substitute(text, variables) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${", "unable to parse variable name"),
        ("${}", "unable to parse variable name"),
        ("${ A}", "unable to parse variable name"),
        ("${-A}", "unable to parse variable name"),
        ("${A", "missing closing brace"),
        ("${A B}", "missing closing brace"),
        ("${A-d}", "missing closing brace"),  # listed in the README, not in the parser
        ("${A+d}", "missing closing brace"),
        ("${A?d}", "missing closing brace"),
        ("${A.b}", "missing closing brace"),
        ("${A:-x", "unable to parse substitution within function"),
        ("${A#}", "unable to parse substitution within function"),
        ("${A::2}", "unable to parse substitution within function"),
        ("${A:}", "unable to parse substitution within function"),
        ("${A:", "bad substitution"),
        ("${A/x}", "bad substitution"),
        ("${A#x${B}}", "bad substitution"),
        ("${A^^^}", "bad substitution"),
        ("${#}", "bad substitution"),
        ("${#A:-x}", "bad substitution"),
        ("${A:é}", "bad substitution"),  # Go steps back by the width of the wrong rune
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    for strict in (False, True):
        with pytest.raises(SubstitutionError) as info:
            substitute(text, {"A": "a"}, strict=strict)
        assert info.value.message == message
        assert info.value.variable is None


# ----------------------------------------------------------------------------------------------
# Strict mode


def test_non_strict_blanks_undefined() -> None:
    assert substitute("host: ${HOST}.${DOMAIN}", {"DOMAIN": "lan"}) == "host: .lan"


@pytest.mark.parametrize(
    "text",
    [
        "${MISSING}",
        "x ${MISSING} y",
        "${#MISSING}",
        "${MISSING^^}",
        "${MISSING:0:1}",
        "${MISSING/a/b}",
        "${MISSING#a}",
        "${MISSING%%a}",
    ],
)
def test_strict_names_the_variable(text: str) -> None:
    with pytest.raises(SubstitutionError) as info:
        substitute(text, {"OTHER": "x"}, strict=True)
    assert info.value.variable == "MISSING"
    assert str(info.value) == 'variable not set (strict mode): "MISSING"'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${MISSING:-d}", "d"),
        ("${MISSING:=d}", "d"),
        ("${MISSING=d}", "d"),
        ("${MISSING:+d}", "d"),
        ("${MISSING:?d}", "d"),
        ("${EMPTY}", ""),
        ("${EMPTY:-d}", "d"),
        ("$${MISSING}", "${MISSING}"),
    ],
)
def test_strict_accepts_defaults_and_empty_values(text: str, expected: str) -> None:
    assert substitute(text, {"EMPTY": ""}, strict=True) == expected


def test_strict_evaluates_defaults_eagerly() -> None:
    """A default naming an unset variable fails even when the default is not used."""
    with pytest.raises(SubstitutionError) as info:
        substitute("${SET:-${MISSING}}", {"SET": "v"}, strict=True)
    assert info.value.variable == "MISSING"
    assert substitute("${SET:-${MISSING}}", {"SET": "v"}) == "v"


def test_find_unresolved() -> None:
    text = "${A} ${B:-x} ${C:=${D}} ${#E} ${A} ${F:-${G:-y}} $${H} ${SET} ${EMPTY}"
    assert find_unresolved(text, {"SET": "1", "EMPTY": ""}) == ["A", "D", "E"]
    assert find_unresolved("plain text $X", {}) == []
    with pytest.raises(SubstitutionError):
        find_unresolved("${", {})


# ----------------------------------------------------------------------------------------------
# Variable names


@pytest.mark.parametrize("name", ["A", "_", "_a", "a1_B", "CLUSTER_DOMAIN", "x" * 300])
def test_valid_names(name: str) -> None:
    assert validate_var_name(name)
    assert VAR_NAME_RE.match(name)


@pytest.mark.parametrize("name", ["", "1a", "a-b", "a.b", "a b", "é", "a\n", "$A", "a=b"])
def test_invalid_names(name: str) -> None:
    assert not validate_var_name(name)


def test_pattern_text_is_fluxs() -> None:
    assert VAR_NAME_PATTERN == "^[_[:alpha:]][_[:alpha:][:digit:]]*$"


# ----------------------------------------------------------------------------------------------
# The serialised text


def _cm(data: dict[str, object], **metadata: object) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", **metadata}, "data": data}


def test_as_yaml_drops_source_quotes_and_quotes_like_goyaml() -> None:
    text = as_yaml(
        _cm(
            {
                "replicas": "${N}",
                "port": "8080",
                "flag": "yes",
                "y": "y",
                "when": "2001-12-14",
                "time": "1:20",
                "empty": "",
                "multi": "a\nb\n",
            }
        )
    )
    assert "  replicas: ${N}\n" in text
    assert '  port: "8080"\n' in text
    assert '  flag: "yes"\n' in text
    assert '  "y": "y"\n' in text
    assert '  when: "2001-12-14"\n' in text
    assert '  time: "1:20"\n' in text
    assert '  empty: ""\n' in text
    assert "  multi: |\n    a\n    b\n" in text


def test_as_yaml_key_order_is_goyamls() -> None:
    text = as_yaml({"x": {"b": 1, "a10": 1, "a9": 1, "_x": 1, "A": 1, "a09": 1, "1": 1}})
    assert text == 'x:\n  _x: 1\n  "1": 1\n  A: 1\n  a9: 1\n  a09: 1\n  a10: 1\n  b: 1\n'


def test_as_yaml_numbers() -> None:
    assert as_yaml({"a": 3.0, "b": 1.5, "c": 1e-07, "d": 2**63 - 1, "e": True, "f": None}) == (
        "a: 3\nb: 1.5\nc: 1e-07\nd: 9223372036854775807\ne: true\nf: null\n"
    )


def test_as_yaml_folds_at_80_columns() -> None:
    value = "a" * 69 + " ${A} end"
    assert as_yaml({"data": {"msg": value}}) == "data:\n  msg: " + "a" * 69 + " ${A}\n    end\n"


# ----------------------------------------------------------------------------------------------
# Re-parse with goyaml.v2 rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", True),
        ("Yes", True),
        ("on", True),
        ("ON", True),
        ("y", True),
        ("Y", True),
        ("true", True),
        ("no", False),
        ("off", False),
        ("n", False),
        ("N", False),
        ("False", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("8080", 8080),
        ("-5", -5),
        ("+7", 7),
        ("0777", 511),
        ("0o17", 15),
        ("0x1F", 31),
        ("-0x1F", -31),
        ("0b101", 5),
        ("1_000", 1000),
        ("1_", 1),
        ("08", 8),
        ("09", 9),
        ("1e3", 1000),
        ("1.0", 1),
        ("1.5", 1.5),
        (".5", 0.5),
        ("-.5", -0.5),
        (".5_5", 0.55),
        ("1.", 1),
        ("9007199254740993", 9007199254740992),  # float64 on the way through kyaml
        ("18446744073709551615", 18446744073709552000),  # uint64, then float64 printed by Go
        ("1e21", 1e21),
        ("1:20", "1:20"),
        ("2001-12-14", "2001-12-14"),
        ("0x", "0x"),
        ("1e400", "1e400"),
        ("._5", "._5"),
        ("<<", "<<"),
        ("=", "="),
        ("1,000", "1,000"),
        ("Yes please", "Yes please"),
        ("yES", "yES"),
    ],
)
def test_resolve_plain_scalar(text: str, expected: object) -> None:
    value = resolve_plain_scalar(text)
    assert value == expected
    assert type(value) is type(expected)


def test_reparse_keys_become_json_strings() -> None:
    assert reparse("y: 1\nn: 2\n0777: 3\n1.20: 4\n1e6: 5\n-0.0: 6\nplain: 7\n") == {
        "true": 1,
        "false": 2,
        "511": 3,
        "1.2": 4,
        "1e+06": 5,
        "-0": 6,
        "plain": 7,
    }


@pytest.mark.parametrize(
    "text",
    [
        "~: 1\n",
        "18446744073709551615: 1\n",
        "? [a]\n: 1\n",
        "a: .nan\n",
        "a: [.inf]\n",
        "- 1\n- 2\n",
        "just text\n",
        "a: [1\n",
        "a: !!int x\n",
        "a: !!timestamp nope\n",
        "a: !!binary '!!!'\n",
        "m:\n  <<: 5\n",
        "a: *nope\n",
    ],
)
def test_reparse_errors(text: str) -> None:
    with pytest.raises(SubstitutionError):
        reparse(text)


def test_reparse_tags_and_styles() -> None:
    text = (
        "a: !!str 5\nb: !!int '7'\nc: ! 12\nd: '12'\ne: !!float 3\nf: !custom yes\ng: !!binary aGVsbG8=\n"
        'h: !!timestamp 2001-12-14\ni: "yes"\nj: |\n  yes\n'
    )
    assert reparse(text) == {
        "a": "5",
        "b": 7,
        "c": "12",
        "d": "12",
        "e": 3,
        "f": "yes",
        "g": "hello",
        "h": "2001-12-14",
        "i": "yes",
        "j": "yes\n",
    }


def test_reparse_merge_keys_apply_in_place() -> None:
    text = "base: &b {a: 1, c: 1}\nm:\n  a: 0\n  <<: *b\n  c: 3\nseq:\n  <<: [{a: 1}, {a: 2, d: 2}]\n"
    assert reparse(text) == {"base": {"a": 1, "c": 1}, "m": {"a": 1, "c": 3}, "seq": {"a": 1, "d": 2}}


def test_reparse_first_document_only_and_empty() -> None:
    assert reparse("a: 1\n---\nb: [unclosed\n") == {"a": 1}
    assert reparse("# nothing\n") == {}


# ----------------------------------------------------------------------------------------------
# One object end to end


def test_substitute_object_retypes_values() -> None:
    obj = _cm(
        {
            "enabled": "${ON}",
            "port": "${PORT}",
            "mode": "${MODE}",
            "perm": "${PERM}",
            "ratio": "${R}",
            "name": "${NAME}",
            "quoted": '${Q:="3"}',
            "fallback": "${MISSING:=8080}",
            "keep": "yes",
            "big": "${BIG}",
            "sep": "${SEP}",
        }
    )
    variables = {
        "ON": "yes",
        "PORT": "8080",
        "MODE": "y",
        "PERM": "0644",
        "R": "1.5",
        "NAME": "web",
        "BIG": "9007199254740993",
        "SEP": "1_000",
    }
    out = substitute_object(obj, variables, strict=True)
    assert out["data"] == {
        "enabled": True,
        "port": 8080,
        "mode": True,
        "perm": 420,
        "ratio": 1.5,
        "name": "web",
        "quoted": "3",
        "fallback": 8080,
        "keep": "yes",
        "big": 9007199254740992,
        "sep": 1000,
    }


def test_substitute_object_quoted_value_keeps_a_string() -> None:
    out = substitute_object(_cm({"port": "${PORT}"}), {"PORT": '"8080"'}, strict=False)
    assert out["data"] == {"port": "8080"}


def test_substitute_object_keys_and_metadata() -> None:
    obj = _cm({"${KEY}": "v", "${FLAG}": "w"}, namespace="${NS}", labels={"env": "${ENV}"})
    out = substitute_object(obj, {"KEY": "host", "FLAG": "y", "NS": "apps", "ENV": "prod"}, strict=True)
    assert out["metadata"] == {"name": "cm", "namespace": "apps", "labels": {"env": "prod"}}
    assert out["data"] == {"host": "v", "true": "w"}


def test_substitute_object_block_scalar_and_escape() -> None:
    obj = _cm({"script": "#!/bin/sh\necho ${GREETING}\necho $${HOME} $$PATH\n"})
    out = substitute_object(obj, {"GREETING": "hi"}, strict=True)
    assert out["data"] == {"script": "#!/bin/sh\necho hi\necho ${HOME} $PATH\n"}


def test_substitute_object_strips_newlines_from_values() -> None:
    out = substitute_object(_cm({"a": "x${V}y"}), {"V": "line1\nline2\n"}, strict=True)
    assert out["data"] == {"a": "xline1line2y"}


def test_substitute_object_folded_text_loses_a_space_like_flux() -> None:
    value = "a" * 69 + " ${A} end"
    out = substitute_object({"data": {"msg": value}}, {"A": "pad "}, strict=True)
    assert out == {"data": {"msg": "a" * 69 + " pad end"}}
    assert substitute(value, {"A": "pad "}) == "a" * 69 + " pad  end"


def test_substitute_object_strict_and_non_strict() -> None:
    obj = _cm({"host": "${HOST}", "port": "${PORT}"})
    with pytest.raises(SubstitutionError) as info:
        substitute_object(obj, {"PORT": "80"}, strict=True)
    assert info.value.variable == "HOST"
    assert substitute_object(obj, {"PORT": "80"}, strict=False)["data"] == {"host": None, "port": 80}


@pytest.mark.parametrize("where", ["labels", "annotations"])
def test_substitute_object_disabled(where: str) -> None:
    obj = _cm({"a": "${A}", "b": 3.0}, **{where: {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}})
    assert is_substitution_disabled(obj)
    out = substitute_object(obj, {"A": "yes"}, strict=True)
    assert out == obj
    assert out is not obj


def test_substitute_object_other_disable_values_do_not_count() -> None:
    obj = _cm({"a": "${A}"}, annotations={"kustomize.toolkit.fluxcd.io/substitute": "Disabled"})
    assert not is_substitution_disabled(obj)
    assert substitute_object(obj, {"A": "yes"}, strict=True)["data"] == {"a": True}


def test_substitute_object_without_variables() -> None:
    obj = _cm({"a": "${A:=on}", "b": "${B}"})
    assert substitute_object(obj, {}, strict=True) == obj  # nothing runs, not even strict mode
    with pytest.raises(SubstitutionError):
        substitute_object(obj, {}, strict=True, always=True)
    assert substitute_object(obj, {}, strict=False, always=True)["data"] == {"a": True, "b": None}


def test_substitute_object_reparses_unchanged_text() -> None:
    obj = _cm({"n": 3.0, "s": "yes", "big": 2**60 + 1})
    out = substitute_object(obj, {"UNUSED": "x"}, strict=True)
    assert out["data"] == {"n": 3, "s": "yes", "big": 1152921504606847000}  # float64, printed by Go
    assert type(out["data"]["n"]) is int


def test_substitute_object_rejects_bad_names() -> None:
    with pytest.raises(SubstitutionError) as info:
        substitute_object(_cm({"a": "${A}"}), {"A": "1", "bad-name": "2"}, strict=False)
    assert info.value.variable == "bad-name"
    assert "must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'" in info.value.message


def test_substitute_object_breaking_yaml_fails() -> None:
    with pytest.raises(SubstitutionError):
        substitute_object(_cm({"a": "${A}"}), {"A": "[unclosed"}, strict=True)
    with pytest.raises(SubstitutionError):
        substitute_object(_cm({"a": "${A}"}), {"A": ".nan"}, strict=True)


def test_substitute_object_leaves_input_alone() -> None:
    obj = _cm({"a": "${A}", "list": ["${A}", {"k": "${A}"}]})
    before = copy.deepcopy(obj)
    out = substitute_object(obj, {"A": "1"}, strict=True)
    assert obj == before
    assert out["data"] == {"a": 1, "list": [1, {"k": 1}]}
