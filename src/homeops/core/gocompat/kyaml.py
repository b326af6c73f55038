"""The text kyaml holds for a scalar (sigs.k8s.io/kustomize/kyaml ``yaml.Node.Value``, ``GetValue``).

kyaml keeps every scalar as text and compares, hashes and merges by that text. homeops holds the
decoded value instead (``1``, ``True``, ``None``), so these functions give back the text a node with
that value would carry. The original spelling of a scalar (``0x1F``, ``1e3``, ``~``) is not kept:
the canonical form go-yaml would write for the value is used.
"""

from __future__ import annotations

import math
from typing import Any


def scalar_value(value: Any) -> str:
    """``RNode.YNode().Value``: the text of the scalar node holding ``value`` (``null`` for null);
    "" for a mapping or a sequence, which have no scalar text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    return ""


def get_value(value: Any) -> str:
    """``yaml.GetValue``: the scalar's text, "" for a missing or null node (and for collections)."""
    return "" if value is None else scalar_value(value)
