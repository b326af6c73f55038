"""What a reviewer may see of a rendered object: Secret values and key material are redacted.

Every surface that shows rendered objects to a person (``diff`` in all its formats, ``build
--redact``, the API behind the review page and the MCP server) passes them through here first,
the way konflate redacts before presenting and flux-local masked Secrets:

* a ``Secret``'s ``data`` and ``stringData`` values become :data:`PLACEHOLDER` (a field that is not
  a mapping becomes the placeholder as a whole); keys stay, so a reviewer sees which keys exist.
  Redacting the two sides of a change together (:func:`redact_pair`) keeps the change visible per
  key: an added or removed key shows as such, and a key whose value differs reads
  :data:`CHANGED` on the new side. Nothing derived from a value (length, hash, prefix) is shown;
* a Secret's ``kubectl.kubernetes.io/last-applied-configuration`` annotation (a copy of its
  values) is replaced the same way;
* a PEM block (``-----BEGIN <TYPE>-----`` ... ``-----END <TYPE>-----``, or to the end of the
  string when the end line is missing) anywhere in any string of any object collapses to
  ``<PEM <TYPE> sha256:<12 hex digits>>``: the type and a fingerprint of the decoded block (for a
  certificate, the start of its usual SHA-256 fingerprint), so a rotation still shows;
* SOPS ``ENC[...]`` values are never decoded: homeops runs no ``sops``, and in a Secret they are
  replaced like any value; elsewhere they are the ciphertext the repository already holds.

Redaction works on copies: the objects given are never changed, and parts with nothing to redact
are shared with the original.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from homeops.core.regex import lazy_pattern
from homeops.core.yamlio import same

PLACEHOLDER = "<redacted>"
"""What every Secret value shows."""
CHANGED = "<redacted (changed)>"
"""The new side of a Secret value that differs from the old one (only from :func:`redact_pair`)."""
SECRET_FIELDS = ("data", "stringData")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_PEM = lazy_pattern(r"-----BEGIN ([A-Z0-9][A-Z0-9 ]{0,60})-----(.*?)(?:-----END \1-----|\Z)", re.S)
_MISSING = object()


def is_secret(obj: Any) -> bool:
    """A Kubernetes Secret (any apiVersion: a misspelt one is still someone's secret)."""
    return isinstance(obj, Mapping) and obj.get("kind") == "Secret"


def redact(obj: Any) -> Any:
    """A copy of one object safe to show: Secret values replaced, PEM blocks collapsed."""
    return _redact(obj, _MISSING, paired=False)


def redact_pair(before: Any, after: Any) -> tuple[Any, Any]:
    """The two sides of a change redacted together: a Secret value that differs reads :data:`CHANGED`
    on the ``after`` side, so the change of each key survives redaction. Either side may be None."""
    if before is None or after is None:
        return (None if before is None else redact(before)), (None if after is None else redact(after))
    return _redact(before, _MISSING, paired=False), _redact(after, before, paired=True)


def redact_text(text: str) -> str:
    """``text`` with each PEM block collapsed to its type and fingerprint."""
    if "-----BEGIN " not in text:
        return text
    return _PEM().sub(_collapse, text)


def _collapse(match: re.Match[str]) -> str:
    kind, body = match.group(1), match.group(2)
    return f"<PEM {kind} sha256:{fingerprint(body)}>"


def fingerprint(body: str) -> str:
    """The first 12 hex digits of the SHA-256 of a PEM body (decoded when it is base64, else as text)."""
    lines = [line.strip() for line in body.replace("\\n", "\n").splitlines()]
    encoded = "".join(line for line in lines if line and ":" not in line)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raw = body.encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()[:12]


def _redact(obj: Any, old: Any, *, paired: bool) -> Any:
    if not is_secret(obj):
        return _collapse_pem(obj)
    old_map = old if isinstance(old, Mapping) else {}
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key not in SECRET_FIELDS:
            out[key] = _collapse_pem(value)
            continue
        previous = old_map.get(key, _MISSING)
        if isinstance(value, Mapping):
            prev = previous if isinstance(previous, Mapping) else {}
            out[key] = {k: _mask(v, prev.get(k, _MISSING), paired) for k, v in value.items()}
        else:
            out[key] = _mask(value, previous, paired)
    meta = out.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    if isinstance(meta, Mapping) and isinstance(annotations, Mapping) and LAST_APPLIED in annotations:
        old_meta = old_map.get("metadata")
        old_ann = old_meta.get("annotations") if isinstance(old_meta, Mapping) else None
        previous = old_ann.get(LAST_APPLIED, _MISSING) if isinstance(old_ann, Mapping) else _MISSING
        out["metadata"] = {
            **meta,
            "annotations": {**annotations, LAST_APPLIED: _mask(annotations[LAST_APPLIED], previous, paired)},
        }
    return out


def _mask(value: Any, previous: Any, paired: bool) -> Any:
    """The placeholder for one value (None stays None: an empty key shows as empty)."""
    if value is None:
        return None
    if paired and previous is not _MISSING and not same(value, previous):
        return CHANGED
    return PLACEHOLDER


def _collapse_pem(node: Any) -> Any:
    """``node`` with PEM blocks collapsed in every string; unchanged parts are the same objects."""
    if isinstance(node, str):
        return redact_text(node)
    if isinstance(node, Mapping):
        items = {key: _collapse_pem(value) for key, value in node.items()}
        if all(items[key] is value for key, value in node.items()):
            return node
        return items
    if isinstance(node, list):
        values = [_collapse_pem(value) for value in node]
        if all(a is b for a, b in zip(values, node, strict=True)):
            return node
        return values
    return node
