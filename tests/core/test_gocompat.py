"""The Go-compatibility helpers against values Go's own functions give."""

from __future__ import annotations

import math

import pytest

from homeops.core.gocompat import gojson, goyaml_v2, kyaml, pathmatch, strconv


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0X1F", 31),  # the base prefix is read in any letter case
        ("0b101", 5),
        ("0o17", 15),
        ("017", 15),  # a leading zero is octal
        ("08", None),
        ("1_000", 1000),  # base 0 allows underscores between digits
        ("0x_1F", 31),  # ... and after a base prefix
        ("1__0", None),
        ("_1", None),
        ("-9223372036854775808", -(2**63)),
        ("9223372036854775808", None),  # out of int64 range
        ("+5", 5),
        ("0x", None),
        ("", None),
    ],
)
def test_parse_int(text: str, expected: int | None) -> None:
    assert strconv.parse_int(text) == expected


def test_parse_uint_and_atoi() -> None:
    assert strconv.parse_uint("18446744073709551615") == 2**64 - 1
    assert strconv.parse_uint("18446744073709551616") is None
    assert strconv.parse_uint("+1") is None  # no sign at all
    assert strconv.atoi("1_000") is None  # base 10: no underscores
    assert strconv.atoi("-12") == -12
    assert strconv.yaml_int("+18446744073709551615") is None  # ParseInt overflows, ParseUint refuses "+"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5", 1.5),
        (".5", 0.5),
        ("1.", 1.0),
        (".", None),
        ("1_000.5", 1000.5),
        ("1e_5", None),
        ("0x1p-2", 0.25),
        ("1e400", None),  # ErrRange
        ("1e-400", 0.0),  # underflow is no error
        ("-Infinity", -math.inf),
        ("+nan", None),
    ],
)
def test_parse_float(text: str, expected: float | None) -> None:
    assert strconv.parse_float(text) == expected


@pytest.mark.parametrize(
    ("value", "fmt", "bits", "expected"),
    [
        (1e20, "g", 64, "1e+20"),
        (1e6, "g", 64, "1e+06"),
        (100000.0, "g", 64, "100000"),
        (0.0001, "g", 64, "0.0001"),
        (0.00001, "g", 64, "1e-05"),
        (-0.0, "g", 64, "-0"),
        (2.0**60, "f", 64, "1152921504606847000"),
        (1.2345678, "g", 32, "1.2345678"),
        (0.1, "g", 32, "0.1"),
        (math.nan, "g", 64, "NaN"),
        (-math.inf, "g", 64, "-Inf"),
    ],
)
def test_format_float(value: float, fmt: str, bits: int, expected: str) -> None:
    assert strconv.format_float(value, fmt, bits) == expected


def test_kyaml_scalar_text() -> None:
    assert [kyaml.scalar_value(v) for v in ("a", True, None, 3, 1.5, math.nan, -math.inf, {}, [])] == [
        "a", "true", "null", "3", "1.5", ".nan", "-.inf", "", "",
    ]  # fmt: skip
    assert kyaml.get_value(None) == ""
    assert kyaml.get_value(False) == "false"


def test_go_json_escaping() -> None:
    assert gojson.marshal("<a & b>") == '"\\u003ca \\u0026 b\\u003e"'
    assert gojson.marshal("\u2028\u2029") == '"\\u2028\\u2029"'
    assert gojson.marshal("\b\f\n\r\t\x01\x1f\x7f") == '"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f"'
    assert gojson.marshal('q"\\') == '"q\\"\\\\"'
    assert gojson.marshal("é😀") == '"é😀"'
    assert (
        gojson.marshal({"b": 1, "a": [True, None, 0.5, 1e21, 1.5e-7]})
        == '{"a":[true,null,0.5,1e+21,1.5e-7],"b":1}'
    )
    with pytest.raises(gojson.UnsupportedValueError, match="json: unsupported value: NaN"):
        gojson.marshal(math.nan)


def test_json_round_trip_numbers() -> None:
    assert gojson.through_float64({"a": [1.0, 2**60 + 1, 1.5, True]}) == {
        "a": [1, 1152921504606847000, 1.5, True]
    }
    assert type(gojson.float64_number(3.0)) is int


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("*.yaml", "a.yaml", True),
        ("*.yaml", "d/a.yaml", False),  # * stops at the separator
        ("a?c", "abc", True),
        ("[a-c]x", "bx", True),
        ("[^a-c]x", "dx", True),
        ("[^a-c]x", "bx", False),
        ("[z-a]", "m", False),  # a backwards range is valid and matches nothing
        ("[\\]]", "]", True),
        ("\\*", "*", True),
        ("\\*", "a", False),
    ],
)
def test_path_match(pattern: str, name: str, expected: bool) -> None:
    regex = pathmatch.compile_match(pattern)
    assert regex is not None
    assert (regex.fullmatch(name) is not None) == expected


@pytest.mark.parametrize("pattern", ["[", "[a", "[]a]", "[-a]", "[a-]", "a\\", "[^"])
def test_path_match_bad_patterns(pattern: str) -> None:
    assert pathmatch.translate(pattern) is None


def test_path_match_options() -> None:
    envsubst = pathmatch.compile_match("a*z", separator=None)
    assert envsubst is not None and envsubst.fullmatch("a/b\nz")
    doublestar = pathmatch.compile_match("[!a]", bang_negates=True)
    assert doublestar is not None and doublestar.fullmatch("b") and not doublestar.fullmatch("a")
    plain = pathmatch.compile_match("[!a]")
    assert plain is not None and plain.fullmatch("!") and not plain.fullmatch("b")


def test_goyaml_v2_yaml_to_json() -> None:
    text = "a: yes\nb: 0777\nc: 1_000\nd: 2001-12-14\n1.5: x\ntrue: z\ne: !!float 3\nf: 1e400\n"
    assert goyaml_v2.yaml_to_json(text) == {
        "a": True, "b": 511, "c": 1000, "d": "2001-12-14", "1.5": "x", "true": "z", "e": 3, "f": "1e400",
    }  # fmt: skip
    with pytest.raises(goyaml_v2.GoYAMLError, match="unsupported value: NaN"):
        goyaml_v2.yaml_to_json("a: .nan\n")
