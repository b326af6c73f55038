"""Resource selection (patch and replacement targets) and Kubernetes label selector syntax."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from homeops.errors import KustomizeError
from homeops.kustomize.resource import Resource


@lru_cache(maxsize=512)
def _anchored(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(f"^(?:{pattern})$")
    except re.error as exc:
        raise KustomizeError(f"invalid selector regex {pattern!r}: {exc}") from None


def _matches(pattern: Any, value: str) -> bool:
    if pattern is None or pattern == "":
        return True
    return bool(_anchored(str(pattern)).match(value))


def select(resources: list[Resource], selector: dict[str, Any]) -> list[Resource]:
    """Resources a kustomize ``target``/``select`` picks: original or current name and namespace."""
    out = []
    label_sel = parse_label_selector(selector.get("labelSelector"))
    ann_sel = parse_label_selector(selector.get("annotationSelector"))
    for res in resources:
        if selector_matches(res, selector, label_sel, ann_sel):
            out.append(res)
    return out


def selector_matches(res: Resource, selector: dict[str, Any], label_sel: list[Requirement] | None = None,
                     ann_sel: list[Requirement] | None = None) -> bool:
    cur, org = res.cur_id, res.org_id
    ns = selector.get("namespace")
    if ns and not (_matches(ns, org.effective_namespace) or _matches(ns, cur.effective_namespace)):
        return False
    name = selector.get("name")
    if name and not (_matches(name, org.name) or _matches(name, cur.name)):
        return False
    gvk = res.gvk
    if not (_matches(selector.get("group"), gvk.group) and _matches(selector.get("version"), gvk.version)
            and _matches(selector.get("kind"), gvk.kind)):
        return False
    if label_sel is None and selector.get("labelSelector"):
        label_sel = parse_label_selector(selector.get("labelSelector"))
    if ann_sel is None and selector.get("annotationSelector"):
        ann_sel = parse_label_selector(selector.get("annotationSelector"))
    if label_sel and not all(r.matches(res.labels) for r in label_sel):
        return False
    return not (ann_sel and not all(r.matches(res.annotations) for r in ann_sel))


class Requirement:
    __slots__ = ("key", "op", "values")

    def __init__(self, key: str, op: str, values: tuple[str, ...]) -> None:
        self.key, self.op, self.values = key, op, values

    def matches(self, labels: dict[str, Any]) -> bool:
        has = self.key in labels
        value = str(labels.get(self.key)) if has else None
        if self.op == "exists":
            return has
        if self.op == "!":
            return not has
        if self.op in ("=", "==", "in"):
            return has and value in self.values
        if self.op in ("!=", "notin"):
            return not has or value not in self.values
        return False


_SET_RE = re.compile(r"^\s*([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")


def parse_label_selector(text: Any) -> list[Requirement] | None:
    """Parse ``a=b,c!=d,e in (x,y),!f,g`` (Kubernetes label selector syntax)."""
    if not text:
        return None
    parts: list[str] = []
    depth = 0
    current = ""
    for ch in str(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    reqs = []
    for raw in parts:
        part = raw.strip()
        if not part:
            continue
        m = _SET_RE.match(part)
        if m:
            values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            reqs.append(Requirement(m.group(1), m.group(2), values))
        elif part.startswith("!"):
            reqs.append(Requirement(part[1:].strip(), "!", ()))
        elif "!=" in part:
            key, _, value = part.partition("!=")
            reqs.append(Requirement(key.strip(), "!=", (value.strip(),)))
        elif "==" in part:
            key, _, value = part.partition("==")
            reqs.append(Requirement(key.strip(), "==", (value.strip(),)))
        elif "=" in part:
            key, _, value = part.partition("=")
            reqs.append(Requirement(key.strip(), "=", (value.strip(),)))
        else:
            reqs.append(Requirement(part, "exists", ()))
    return reqs
