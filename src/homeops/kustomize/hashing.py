"""The content hash kustomize appends to generated ConfigMap and Secret names (``<name>-<hash>``).

Ported from kustomize v5.5 (``api/hasher``): the object is reduced to a small map, encoded the way Go's
``json.Marshal`` does it (keys sorted, no spaces, ``<``/``>``/``&`` and U+2028/U+2029 escaped), hashed
with SHA-256, and the first ten hex digits are made vowel- and ambiguity-free by a fixed substitution.
The suffix must match kustomize byte for byte, otherwise references to the generated name break.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from homeops.core.errors import KustomizeError, UnsupportedError

_ENCODE = str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"})
"""kustomize's ``encode``: digits and letters that could spell words or look alike are swapped."""

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def encode_hex(hex_digest: str) -> str:
    """kustomize's ``encode``: the first ten hex digits with 0,1,3,a,e replaced by g,h,k,m,t."""
    if len(hex_digest) < 10:
        raise ValueError("input length must be at least 10")
    return hex_digest[:10].translate(_ENCODE)


def go_json_string(text: str) -> str:
    """A JSON string literal as Go 1.22+ ``json.Marshal`` writes it (HTML-safe escaping on)."""
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


def _go_float(value: float) -> str:
    """A float64 as Go's JSON encoder formats it (shortest digits; exponent only outside [1e-6, 1e21))."""
    if math.isnan(value) or math.isinf(value):
        raise KustomizeError(f"json: unsupported value: {value!r}", hint="NaN and infinity cannot be hashed")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        # Python's repr already uses exponent form here, with Go's shortest mantissa; Go's JSON
        # encoder then shortens a two-digit negative exponent such as e-07 to e-7.
        return re.sub(r"e-0(\d)$", r"e-\1", repr(value))
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def go_json(value: Any) -> str:
    """``json.Marshal`` of a value decoded from YAML then JSON: numbers are float64, maps sorted by key."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return go_json_string(value)
    if isinstance(value, int):
        return _go_float(float(value))  # the JSON round trip in kustomize turns every number into float64
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, Mapping):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{go_json_string(k)}:{go_json(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _scalar_text(value: Any) -> str:
    """The text of a YAML scalar as kyaml reads it (``node.Value``), for fields hashed as strings."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _hashed_fields(obj: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """kustomize's ``getNodeValues``: absent fields become "", maps stay maps, scalars become their text.

    kustomize looks each name up as ONE top-level field, so ``metadata/name`` is never found and the
    name always hashes as "": the suffix depends on kind, type and data only, not on the name.
    """
    values: dict[str, Any] = {}
    for field in fields:
        node = obj.get(field)
        if isinstance(node, Mapping):
            values[field] = node
        elif isinstance(node, list):
            values[field] = None  # a non-map that is not a scalar decodes to a nil map, marshalled as null
        else:
            values[field] = _scalar_text(node)
    return values


def encode_for_hash(obj: Mapping[str, Any]) -> str:
    """The exact JSON text kustomize hashes for a ConfigMap or Secret."""
    kind = obj.get("kind")
    if kind == "ConfigMap":
        values = _hashed_fields(obj, ("metadata/name", "data", "binaryData"))
        reduced: dict[str, Any] = {
            "kind": "ConfigMap",
            "name": values["metadata/name"],
            "data": values["data"],
        }
        if not isinstance(values["binaryData"], str):  # only a (possibly empty) map is included
            reduced["binaryData"] = values["binaryData"]
    elif kind == "Secret":
        values = _hashed_fields(obj, ("type", "metadata/name", "data", "stringData"))
        reduced = {
            "kind": "Secret",
            "type": values["type"],
            "name": values["metadata/name"],
            "data": values["data"],
        }
        if not isinstance(values["stringData"], str):
            reduced["stringData"] = values["stringData"]
    else:
        raise UnsupportedError(
            f"cannot compute a name suffix hash for kind {kind!r}",
            hint="only ConfigMap and Secret name hashes are implemented",
        )
    return go_json(reduced)


def content_hash(obj: Mapping[str, Any]) -> str:
    """The 10-character suffix kustomize appends to a generated ConfigMap's or Secret's name.

    kustomize hashes after every transformer of the top-level kustomization has run, so patches to
    ``data`` count; the name (and so namePrefix/nameSuffix) does not (see ``_hashed_fields``).
    """
    digest = hashlib.sha256(encode_for_hash(obj).encode("utf-8")).hexdigest()
    return encode_hex(digest)
