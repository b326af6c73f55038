"""Go's ``strconv`` number parsing and float formatting (Go 1.22 ``strconv/atoi.go``, ``atof.go``,
``ftoa.go``).

Parsers return None where Go returns an error (syntax or range): callers only ever ask "did Go accept
it", as go-yaml does when it tries ParseInt, then ParseUint, then ParseFloat on a plain scalar.
Formatting uses the shortest decimal that reads back as the same float, as Go does for precision -1
(Python's ``repr`` finds the same digits for float64).
"""

from __future__ import annotations

import math
import re
import struct
from typing import Final

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
UINT64_MAX: Final = 2**64 - 1

_PREFIX_BASES: Final = {"b": 2, "o": 8, "x": 16}
_BASE0_CHARS: Final = re.compile(r"[0-9a-fA-F_oOxX]+")


def _lower(c: str) -> str:
    return c.lower() if c.isascii() else c


def _underscore_ok(s: str) -> bool:
    """``underscoreOK``: underscores only between digits, or between a base prefix and a digit."""
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    hexadecimal = False
    if len(s) >= 2 and s[0] == "0" and _lower(s[1]) in _PREFIX_BASES:
        i = 2
        saw = "0"
        hexadecimal = _lower(s[1]) == "x"
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9" or (hexadecimal and "a" <= _lower(c) <= "f"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
        i += 1
    return saw != "_"


_MAX_DIGITS = 64  # 64 binary digits: the longest a 64-bit value can be written


def parse_uint(s: str, base: int = 0, bits: int = 64) -> int | None:
    """``strconv.ParseUint(s, base, bits)``; base 0 reads the ``0b``/``0o``/``0x``/``0`` prefixes
    (any letter case) and allows underscores between digits."""
    if not s:
        return None
    digits = s[2:] if len(s) > 2 and s[0] == "0" and s[1] in "bBoOxX" else s
    if len(digits.replace("_", "").lstrip("0")) > _MAX_DIGITS:  # out of range in any base Go reads
        return None  # (and never handed to int(), whose own limit is 4,300 digits)
    base0 = base == 0
    if base0 and s.isdigit() and s.isascii():  # the common case: decimal, or octal after a 0
        if s[0] != "0" or len(s) == 1:
            value = int(s)
        elif "8" in s or "9" in s:
            return None
        else:
            value = int(s, 8)
        return value if value < 1 << bits else None
    if base0 and not _BASE0_CHARS.fullmatch(s):
        return None  # no digit of any base, no prefix letter: not a number
    s0 = s
    if base0:
        base = 10
        if s[0] == "0":
            if len(s) >= 3 and _lower(s[1]) in _PREFIX_BASES:
                base = _PREFIX_BASES[_lower(s[1])]
                s = s[2:]
            else:
                base = 8
                s = s[1:]
    elif not 2 <= base <= 36:
        return None
    value = 0
    underscores = False
    for c in s:
        if c == "_" and base0:
            underscores = True
            continue
        if "0" <= c <= "9":
            digit = ord(c) - 48
        elif "a" <= _lower(c) <= "z":
            digit = ord(_lower(c)) - 87
        else:
            return None
        if digit >= base:
            return None
        value = value * base + digit
    if underscores and not _underscore_ok(s0):
        return None
    return value if value < 1 << bits else None


def parse_int(s: str, base: int = 0, bits: int = 64) -> int | None:
    """``strconv.ParseInt(s, base, bits)``: an optional sign, then ParseUint's syntax."""
    if not s:
        return None
    negative = s[0] == "-"
    magnitude = parse_uint(s[1:] if s[0] in "+-" else s, base, bits)
    if magnitude is None:
        return None
    cutoff = 1 << (bits - 1)
    if negative:
        return -magnitude if magnitude <= cutoff else None
    return magnitude if magnitude < cutoff else None


def atoi(s: str) -> int | None:
    """``strconv.Atoi`` (int is 64 bits): base 10, no underscores."""
    return parse_int(s, 10, 64)


_DECIMAL_FLOAT: Final = re.compile(r"[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?")
_HEX_FLOAT: Final = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*|\.[0-9a-fA-F_]+)[pP][+-]?[0-9_]+")
_SPECIAL: Final = re.compile(r"([+-]?)(inf|infinity|nan)", re.IGNORECASE)


def parse_float(s: str) -> float | None:
    """``strconv.ParseFloat(s, 64)``: decimal and hexadecimal (``0x1p-2``) literals with Go's
    underscore rule, ``inf``/``infinity``/``nan`` in any case; None on a syntax error or an overflow
    (Go returns ±Inf with ErrRange there, which every caller treats as "not a float")."""
    decimal = _DECIMAL_FLOAT.fullmatch(s) is not None
    hexadecimal = not decimal and _HEX_FLOAT.fullmatch(s) is not None
    if not decimal and not hexadecimal:
        special = _SPECIAL.fullmatch(s)
        if not special:
            return None
        sign, word = special.groups()
        if word.lower() == "nan":
            return None if sign else math.nan
        return -math.inf if sign == "-" else math.inf
    if "_" in s and not _underscore_ok(s):
        return None
    try:
        value = float.fromhex(s.replace("_", "")) if hexadecimal else float(s.replace("_", ""))
    except (ValueError, OverflowError):
        return None
    return None if math.isinf(value) else value


# ----------------------------------------------------------------------------------------------
# FormatFloat with precision -1 (the shortest representation that reads back exactly)


def _to_float32(value: float) -> float:
    try:
        return float(struct.unpack("<f", struct.pack("<f", value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


def _shortest_digits(value: float, bits: int) -> tuple[str, int]:
    """The shortest decimal digits of ``abs(value)`` (no trailing zeros) and the decimal exponent of
    the first one, for a float64 or a float32."""
    text = repr(value)
    if bits == 32:
        for precision in range(1, 10):  # the shortest decimal that reads back as the same float32
            text = f"{value:.{precision - 1}e}"
            if _to_float32(float(text)) == value:
                break
    from decimal import Decimal  # start-up: only when a float is formatted

    _, digit_tuple, exponent = Decimal(text).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    return digits, len(digit_tuple) + exponent - 1


def _format_e(sign: str, digits: str, exp: int) -> str:
    frac = "." + digits[1:] if len(digits) > 1 else ""
    return f"{sign}{digits[0]}{frac}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"


def _format_f(sign: str, digits: str, exp: int) -> str:
    point = exp + 1
    whole = digits[:point].ljust(point, "0") if point > 0 else "0"
    decimals = max(len(digits) - point, 0)
    frac = "".join(digits[point + i] if 0 <= point + i < len(digits) else "0" for i in range(decimals))
    return f"{sign}{whole}{'.' + frac if frac else ''}"


def format_float(value: float, fmt: str = "g", bits: int = 64) -> str:
    """``strconv.FormatFloat(value, fmt, -1, bits)`` for ``fmt`` ``e``, ``f`` or ``g``."""
    if bits == 32:
        value = _to_float32(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    value = abs(value)
    digits, exp = ("0", 0) if value == 0 else _shortest_digits(value, bits)
    if fmt == "e" or (fmt == "g" and (exp < -4 or exp >= 6)):  # %g's shortest form decides with precision 6
        return _format_e(sign, digits, exp)
    return _format_f(sign, digits, exp)


def yaml_int(text: str) -> int | None:
    """How go-yaml (v2 and v3 alike) reads an integer from a plain scalar: underscores dropped, then
    ``ParseInt(s, 0, 64)``, then ``ParseUint(s, 0, 64)``; None when neither accepts it."""
    plain = text.replace("_", "")
    value = parse_int(plain)
    return value if value is not None else parse_uint(plain)
