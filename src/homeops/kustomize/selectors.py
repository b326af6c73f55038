"""Resource selection (patch and replacement targets) and Kubernetes label selector syntax."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from homeops.core.errors import KustomizeError
from homeops.core.gocompat import kyaml, strconv
from homeops.core.regex import lazy_pattern
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
    """Resources a kustomize ``target``/``select`` picks (kustomize's ``resWrangler.Select``).

    Namespace, name and GVK are anchored regular expressions (compiled first: a bad one fails even
    when nothing is built); name and namespace match the original or the current id. The label and
    then the annotation selector are parsed only for an object that got that far, as kustomize does.
    """
    for key in ("group", "version", "kind", "name", "namespace"):
        if selector.get(key):
            _anchored(str(selector[key]))
    label_text, ann_text = selector.get("labelSelector"), selector.get("annotationSelector")
    out = []
    for res in resources:
        if not _id_matches(res, selector):
            continue
        if label_text and not matches_selector(label_text, res.labels):
            continue
        if ann_text and not matches_selector(ann_text, res.annotations):
            continue
        out.append(res)
    return out


def _id_matches(res: Resource, selector: dict[str, Any]) -> bool:
    cur, org = res.cur_id, res.org_id
    ns = selector.get("namespace")
    if ns and not (_matches(ns, org.effective_namespace) or _matches(ns, cur.effective_namespace)):
        return False
    name = selector.get("name")
    if name and not (_matches(name, org.name) or _matches(name, cur.name)):
        return False
    gvk = res.gvk
    return (
        _matches(selector.get("group"), gvk.group)
        and _matches(selector.get("version"), gvk.version)
        and _matches(selector.get("kind"), gvk.kind)
    )


def selector_matches(res: Resource, selector: dict[str, Any]) -> bool:
    """One object against a selector (ids as regular expressions, then labels and annotations)."""
    return bool(select([res], selector))


def matches_selector(text: Any, labels: dict[str, Any]) -> bool:
    """Whether a label (or annotation) map satisfies a Kubernetes label selector; an empty one matches."""
    reqs = parse_label_selector(text)
    return not reqs or all(r.matches(labels) for r in reqs)


class Requirement:
    __slots__ = ("key", "op", "values")

    def __init__(self, key: str, op: str, values: tuple[str, ...]) -> None:
        self.key, self.op, self.values = key, op, values

    def matches(self, labels: dict[str, Any]) -> bool:
        has = self.key in labels
        value = kyaml.get_value(labels.get(self.key)) if has else None
        if self.op == "exists":
            return has
        if self.op == "!":
            return not has
        if self.op in ("=", "==", "in"):
            return has and value in self.values
        if self.op in ("!=", "notin"):
            return not has or value not in self.values
        if self.op in (">", "<"):
            number = strconv.parse_int(value, 10) if value is not None else None
            bound = strconv.parse_int(self.values[0], 10)
            if number is None or bound is None:
                return False
            return number > bound if self.op == ">" else number < bound
        return False


# --- kustomize's copy of the Kubernetes label selector parser (kyaml/yaml/internal/k8sgen/pkg/labels)

_SPECIAL = frozenset("=!(),><")
_TOKENS = {
    ")": ")",
    ",": ",",
    "!": "!",
    "==": "==",
    "=": "=",
    ">": ">",
    "in": "in",
    "<": "<",
    "!=": "!=",
    "notin": "notin",
    "(": "(",
}
_WHITESPACE = frozenset(" \t\r\n")
_IDENT, _END = "identifier", "end"
_QUALIFIED_NAME = lazy_pattern(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS1123_SUBDOMAIN = lazy_pattern(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = lazy_pattern(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _lex(text: str) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= n:
            items.append((_END, ""))
            return items
        if text[pos] in _SPECIAL:
            # every special character is a token; "==" and "!=" are the two-character ones
            last = text[pos]
            pos += 1
            if pos < n and last + text[pos] in _TOKENS:
                last += text[pos]
                pos += 1
            items.append((_TOKENS[last], last))
            continue
        start = pos
        while pos < n and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE:
            pos += 1
        word = text[start:pos]
        items.append((_TOKENS.get(word, _IDENT), word))


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.pos = 0

    def _look(self, values: bool) -> tuple[str, str]:
        tok, lit = self.items[self.pos]
        if values and tok in ("in", "notin"):
            tok = _IDENT
        return tok, lit

    def _take(self, values: bool) -> tuple[str, str]:
        item = self._look(values)
        self.pos += 1
        return item

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self._look(True)
            if tok in (_IDENT, "!"):
                try:
                    reqs.append(self._requirement())
                except _SelectorError as exc:
                    raise _SelectorError(f"unable to parse requirement: {exc}") from None
                t, lit2 = self._take(True)
                if t == _END:
                    return reqs
                if t == ",":
                    t2, l2 = self._look(True)
                    if t2 not in (_IDENT, "!"):
                        raise _SelectorError(f"found '{l2}', expected: identifier after ','")
                else:
                    raise _SelectorError(f"found '{lit2}', expected: ',' or 'end of string'")
            elif tok == _END:
                return reqs
            else:
                raise _SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def _requirement(self) -> Requirement:
        op = ""
        tok, lit = self._take(True)
        if tok == "!":
            op = "!"
            tok, lit = self._take(True)
        if tok != _IDENT:
            raise _SelectorError(f"found '{lit}', expected: identifier")
        key = lit
        _validate_key(key)
        if op == "!":
            return _new_requirement(key, op, ())  # whatever follows must be "," or the end
        if self._look(True)[0] in (_END, ","):
            return _new_requirement(key, "exists", ())
        tok, lit = self._take(False)
        if tok not in ("in", "notin", "=", "==", "!=", ">", "<"):
            raise _SelectorError(f"found '{lit}', expected: '=', '!=', '==', 'in', notin'")
        op = tok
        values = self._values() if op in ("in", "notin") else self._exact()
        return _new_requirement(key, op, tuple(sorted(values)))

    def _values(self) -> set[str]:
        tok, lit = self._take(True)
        if tok != "(":
            raise _SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self._look(True)
        if tok in (_IDENT, ","):
            values = self._identifiers()
            if self._take(True)[0] != ")":
                raise _SelectorError(f"found '{lit}', expected: ')'")
            return values
        if tok == ")":
            self._take(True)
            return {""}
        raise _SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def _identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self._take(True)
            if tok == _IDENT:
                values.add(lit)
                tok2, lit2 = self._look(True)
                if tok2 == ",":
                    continue
                if tok2 == ")":
                    return values
                raise _SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok == ",":
                if not values:
                    values.add("")
                tok2 = self._look(True)[0]
                if tok2 == ")":
                    values.add("")
                    return values
                if tok2 == ",":
                    self._take(True)
                    values.add("")
                continue
            raise _SelectorError(f"found '{lit}', expected: ',', or identifier")

    def _exact(self) -> set[str]:
        tok, lit = self._look(True)
        if tok in (_END, ","):
            return {""}
        tok, lit = self._take(True)
        if tok == _IDENT:
            return {lit}
        raise _SelectorError(f"found '{lit}', expected: identifier")


class _SelectorError(Exception):
    pass


def _validate_key(key: str) -> None:
    errors: list[str] = []
    parts = key.split("/")
    if len(parts) > 2:
        raise _SelectorError(
            f"invalid label key {key!r}: a qualified name must consist of alphanumeric characters, "
            "'-', '_' or '.', and must start and end with an alphanumeric character with an "
            "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        )
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must be non-empty")
        elif len(prefix) > 253 or not _DNS1123_SUBDOMAIN().match(prefix):
            errors.append("prefix part must be a valid DNS-1123 subdomain")
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if not _QUALIFIED_NAME().match(name):
        errors.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character"
        )
    if errors:
        raise _SelectorError(f"invalid label key {key!r}: {'; '.join(errors)}")


def _new_requirement(key: str, op: str, values: tuple[str, ...]) -> Requirement:
    if op in (">", "<") and (not values or strconv.parse_int(values[0], 10) is None):
        raise _SelectorError("for 'Gt', 'Lt' operators, the value must be an integer")
    for value in values:
        problems = []
        if len(value) > 63:
            problems.append("must be no more than 63 characters")
        if not _LABEL_VALUE().match(value):
            problems.append(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', "
                "'_' or '.', and must start and end with an alphanumeric character"
            )
        if problems:
            raise _SelectorError(f"invalid label value: {value!r}: at key: {key!r}: {'; '.join(problems)}")
    return Requirement(key, op, values)


@lru_cache(maxsize=512)
def _parse(text: str) -> tuple[Requirement, ...] | str:
    try:
        return tuple(_Parser(text).parse())
    except _SelectorError as exc:
        return str(exc)


def parse_label_selector(text: Any) -> list[Requirement] | None:
    """Parse a Kubernetes label selector (``a=b,c!=d,e in (x,y),!f,g``) as kustomize does, or fail."""
    if not text:
        return None
    parsed = _parse(str(text))
    if isinstance(parsed, str):
        raise KustomizeError(parsed, hint="fix the label or annotation selector (Kubernetes selector syntax)")
    return list(parsed)
