"""Go's ``encoding/json`` (Go 1.22): what ``json.Marshal`` writes, and what a value is after the JSON
round trip kustomize and Flux put objects through (``json.Marshal``, then ``json.Unmarshal`` into
``interface{}``, where every number is a float64).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from homeops.core.gocompat import strconv

_SHORT_ESCAPES: Final = {
    '"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
}  # fmt: skip
_HTML_ESCAPES: Final = {
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029",
}  # fmt: skip
_EXACT_INTEGERS: Final = 2**53
"""Integers up to this magnitude survive float64 and print with the same digits."""


class UnsupportedValueError(ValueError):
    """``json.Marshal`` refuses NaN and infinities (``json: unsupported value: NaN``)."""

    def __init__(self, value: float) -> None:
        super().__init__(f"json: unsupported value: {strconv.format_float(value)}")
        self.value = value


def marshal_string(text: str) -> str:
    """A JSON string literal as ``json.Marshal`` writes it (HTML-safe escaping on)."""
    out = ['"']
    for ch in text:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ch in _HTML_ESCAPES:
            out.append(_HTML_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:  # a lone surrogate is invalid UTF-8 to Go
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_number(value: float) -> str:
    """A float64 as the JSON encoder writes it: shortest digits, exponent form only outside
    [1e-6, 1e21), a one-digit negative exponent without its zero (``1e-7``)."""
    if math.isnan(value) or math.isinf(value):
        raise UnsupportedValueError(value)
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = strconv.format_float(value, "e")
        if text[-4:-1] == "e-0":
            text = text[:-2] + text[-1]
        return text
    return strconv.format_float(value, "f")


def marshal(value: Any) -> str:
    """``json.Marshal`` of a value decoded from JSON: numbers are float64, object keys sorted."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return marshal_string(value)
    if isinstance(value, int | float):
        return format_number(float(value))
    if isinstance(value, Mapping):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{marshal_string(k)}:{marshal(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(marshal(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def float64_number(value: int | float) -> int | float:
    """A number after the JSON round trip: a float64, given back as the integer Go prints for it when
    it is integral (``1.0`` -> ``1``; ``2**60 + 1`` -> ``1152921504606847000``, Go's shortest digits).
    Raises UnsupportedValueError for NaN and infinities."""
    if isinstance(value, int) and -_EXACT_INTEGERS <= value <= _EXACT_INTEGERS:
        return value
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise UnsupportedValueError(number)
    if number.is_integer() and abs(number) < 1e21:
        if abs(number) <= _EXACT_INTEGERS:
            return int(number)
        from decimal import Decimal  # start-up: only for an integer beyond 2**53

        return int(Decimal(repr(number)))
    return number


def through_float64(value: Any) -> Any:
    """``value`` (plain YAML data) after the JSON round trip: every number via :func:`float64_number`.
    Raises UnsupportedValueError for NaN and infinities."""
    if isinstance(value, dict):
        return {k: through_float64(v) for k, v in value.items()}
    if isinstance(value, list):
        return [through_float64(v) for v in value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return float64_number(value)
