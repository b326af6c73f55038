"""The content hash kustomize appends to generated ConfigMap and Secret names (``<name>-<hash>``).

Ported from kustomize v5.5 (``api/hasher``): the object is reduced to a small map, encoded the way Go's
``json.Marshal`` does it (keys sorted, no spaces, ``<``/``>``/``&`` and U+2028/U+2029 escaped), hashed
with SHA-256, and the first ten hex digits are made vowel- and ambiguity-free by a fixed substitution.
The suffix must match kustomize byte for byte, otherwise references to the generated name break.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from homeops.core.errors import KustomizeError, UnsupportedError
from homeops.core.gocompat import gojson, kyaml

_ENCODE = str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"})
"""kustomize's ``encode``: digits and letters that could spell words or look alike are swapped."""


def encode_hex(hex_digest: str) -> str:
    """kustomize's ``encode``: the first ten hex digits with 0,1,3,a,e replaced by g,h,k,m,t."""
    if len(hex_digest) < 10:
        raise ValueError("input length must be at least 10")
    return hex_digest[:10].translate(_ENCODE)


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
            values[field] = kyaml.get_value(node)
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
    try:
        return gojson.marshal(reduced)
    except gojson.UnsupportedValueError as exc:
        raise KustomizeError(
            f"json: unsupported value: {exc.value!r}", hint="NaN and infinity cannot be hashed"
        ) from None


def content_hash(obj: Mapping[str, Any]) -> str:
    """The 10-character suffix kustomize appends to a generated ConfigMap's or Secret's name.

    kustomize hashes after every transformer of the top-level kustomization has run, so patches to
    ``data`` count; the name (and so namePrefix/nameSuffix) does not (see ``_hashed_fields``).
    """
    digest = hashlib.sha256(encode_for_hash(obj).encode("utf-8")).hexdigest()
    return encode_hex(digest)
