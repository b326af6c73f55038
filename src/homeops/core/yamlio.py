"""YAML read with Kubernetes semantics and provenance (writing: :mod:`homeops.core.yamlemit`).

Reading follows the resolver kustomize uses (go-yaml v3, YAML 1.2 flavoured): only ``true``/``false``
are booleans (``on``/``yes`` stay strings), a bare ``=`` is a string, ``1_000`` and ``0x1F`` are
integers, duplicate keys are an error. Every mapping is a :class:`YMap` that remembers the line it
starts on and the line of each of its keys, so findings can point at source lines
(:func:`key_line`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from homeops.core import limits
from homeops.core.errors import YAMLError
from homeops.core.gocompat import kyaml, strconv

try:  # the C parser: an order of magnitude faster than pure Python
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - libyaml missing
    from yaml.parser import Parser as _Parser  # type: ignore[assignment]

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
MERGE = "tag:yaml.org,2002:merge"

# Bounds (homeops.core.limits, configurable): documents per stream, nodes a document expands to once
# its aliases are followed (alias bombs), how deeply collections nest.


class YAMLLimitError(YAMLError, limits.LimitError):
    """YAML over one of the limits (documents, alias expansion, nesting)."""


class YMap(dict[str, Any]):
    """A mapping read from YAML: a dict that knows its file, its line and the line of each key."""

    __slots__ = ("file", "key_lines", "line")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 0
        self.file: str | None = None
        self.key_lines: dict[str, int] | None = None

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        """Pickled as its provenance and its items (the parse cache stores parses this way: a third
        faster to load than pickle's generic path for a dict subclass with slots)."""
        return (_ymap, (self.line, self.file, self.key_lines), None, None, iter(self.items()))

    def line_of(self, key: str) -> int:
        """Line of ``key`` in the source, else the mapping's own line (0 when generated)."""
        if self.key_lines and key in self.key_lines:
            return self.key_lines[key]
        return self.line


def _ymap(line: int, file: str | None, key_lines: dict[str, int] | None) -> YMap:
    data = YMap()
    data.line, data.file, data.key_lines = line, file, key_lines
    return data


_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_SPECIAL_FLOATS = {
    ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan,
    ".inf": math.inf, ".Inf": math.inf, ".INF": math.inf,
    "+.inf": math.inf, "+.Inf": math.inf, "+.INF": math.inf,
    "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
}  # fmt: skip
_FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_NUMERIC_START = frozenset("0123456789+-")


@lru_cache(maxsize=65536)
def resolve_plain(value: str) -> str:
    """The tag go-yaml v3 gives an unquoted scalar."""
    if value in _NULLS:
        return NULL
    if value in _BOOLS:
        return BOOL
    if value == "<<":
        return MERGE
    first = value[0]
    if first == ".":  # not a special float: maybe a plain one (ParseFloat on the text as written)
        return FLOAT if value in _SPECIAL_FLOATS or strconv.parse_float(value) is not None else STR
    if first in _NUMERIC_START:
        if value in _SPECIAL_FLOATS:
            return FLOAT
        if strconv.yaml_int(value) is not None:
            return INT
        plain = value.replace("_", "")
        if _FLOAT_RE.match(plain) and strconv.parse_float(plain) is not None:
            return FLOAT
    return STR


def plain_value(text: str) -> Any:
    """A plain (untagged, unquoted) scalar with this text, as go-yaml v3 decodes it."""
    tag = resolve_plain(text) if text else NULL
    if tag == NULL:
        return None
    if tag == BOOL:
        return _BOOLS[text]
    if tag == INT:
        return strconv.yaml_int(text)
    if tag == FLOAT:
        return _float(text)
    return text


def _float(text: str) -> float:
    special = _SPECIAL_FLOATS.get(text)
    if special is not None:
        return special
    value = strconv.parse_float(text.replace("_", ""))
    if value is None:
        raise ValueError(f"cannot decode {text!r} as a float")
    return value


class _Resolver(yaml.resolver.BaseResolver):
    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                return resolve_plain(value)
            return STR
        if kind is SequenceNode:
            return SEQ
        return MAP


class _Constructor(yaml.constructor.SafeConstructor):
    file: str | None = None
    text: str = ""  # the stream read: what a node's marks span

    def construct_yaml_map(self, node: MappingNode) -> Iterator[YMap]:  # type: ignore[override]
        data = YMap()
        data.line = node.start_mark.line + 1
        data.file = self.file
        yield data
        self.flatten_mapping(node)
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = kyaml.scalar_value(key)
            if key in lines:  # one that came in through a merge key is not in lines: explicit keys win
                raise self._duplicate(key, lines, key_node)
            lines[key] = key_node.start_mark.line + 1
            if (  # its own flow values only: this generic path (merge keys, custom tags) is rare
                node.flow_style and isinstance(value_node, ScalarNode) and value_node.tag == NULL
            ) and self._empty_in_flow(value_node):
                data[key] = ""
                continue
            data[key] = self.construct_object(value_node, deep=True)
        data.key_lines = lines

    def _duplicate(self, key: str, lines: dict[str, int], key_node: Node) -> YAMLError:
        """go-yaml's error for a key a mapping already has."""
        return YAMLError(
            f'mapping key "{key}" already defined at line {lines[key]}',
            self.file,
            key_node.start_mark.line + 1,
            "remove one of the two keys",
        )

    def flatten_mapping(self, node: MappingNode) -> None:
        """Merge keys (``<<: *anchor``) as go-yaml applies them: explicit keys win."""
        merged: list[tuple[Node, Node]] = []
        own: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, MappingNode):
                        raise YAMLError(
                            "map merge requires map or sequence of maps as the value",
                            self.file,
                            source.start_mark.line + 1,
                        )
                    self.flatten_mapping(source)
                    merged.extend(source.value)
            else:
                own.append((key_node, value_node))
        if merged:
            seen = {k.value for k, _ in own if isinstance(k, ScalarNode)}
            kept: list[tuple[Node, Node]] = []
            for key_node, value_node in reversed(merged):
                if isinstance(key_node, ScalarNode) and key_node.value in seen:
                    continue
                seen.add(key_node.value)
                kept.append((key_node, value_node))
            kept.reverse()
            node.value = kept + own

    def construct_yaml_str(self, node: ScalarNode) -> str:
        value = self.construct_scalar(node)
        if node.style == ">":
            return folded_as_kustomize_reads(value)
        return value

    def construct_yaml_int(self, node: ScalarNode) -> int:
        value = strconv.yaml_int(node.value)
        if value is None:
            shown = (
                node.value
                if len(node.value) <= 40
                else f"{node.value[:40]}... ({len(node.value)} characters)"
            )
            raise YAMLError(f"cannot decode {shown!r} as an integer", self.file, node.start_mark.line + 1)
        return value

    def construct_yaml_float(self, node: ScalarNode) -> float:
        try:
            return _float(node.value)
        except ValueError:
            raise YAMLError(
                f"cannot decode {node.value!r} as a float", self.file, node.start_mark.line + 1
            ) from None

    def construct_yaml_bool(self, node: ScalarNode) -> bool:
        if node.value not in _BOOLS:
            raise YAMLError(f"cannot decode {node.value!r} as a bool", self.file, node.start_mark.line + 1)
        return _BOOLS[node.value]

    def construct_undefined(self, node: Node) -> Any:
        """Unknown tags (``!Ref``, custom): keep the plain value, as Kubernetes decoding does."""
        if isinstance(node, ScalarNode):
            return node.value
        if isinstance(node, SequenceNode):
            return self.construct_yaml_seq_plain(node)
        steps = self.construct_yaml_map(node)  # type: ignore[arg-type]
        data = next(steps)
        for _ in steps:  # run the generator to the end: it fills the mapping after yielding it
            pass
        return data

    def construct_yaml_seq_plain(self, node: SequenceNode) -> list[Any]:
        return [self.construct_object(child, deep=True) for child in node.value]

    def construct_document(self, node: Node) -> Any:
        """The document built directly for the tags plain Kubernetes YAML uses (maps without merge
        keys, sequences, strings, numbers, booleans, nulls), PyYAML's generic path for the rest; the
        values are those the constructors above give (tests/core pin both paths)."""
        self._built: dict[Node, Any] = {}
        self.constructed_objects = self._built  # one memo for both paths: aliases share across them
        self._built_in_flow: dict[Node, Any] = {}  # what an alias inside a flow collection made
        _unfold_annotations(node)
        try:
            return self._build(node, False)
        finally:
            self._built = {}
            self._built_in_flow = {}
            self.constructed_objects = {}
            self.recursive_objects = {}
            self.state_generators = []
            self.deep_construct = False

    def _build(self, node: Node, flow: bool) -> Any:
        """``flow``: inside a flow collection (``{...}``, ``[...]``), where an empty value is an empty
        string (:meth:`_empty_in_flow`)."""
        cls = node.__class__
        if cls is ScalarNode:
            assert isinstance(node, ScalarNode)  # for mypy: ``cls is`` is the fast test
            tag = node.tag
            if tag == STR:
                return folded_as_kustomize_reads(node.value) if node.style == ">" else node.value
            if tag == NULL:
                return "" if flow and self._empty_in_flow(node) else None
            if tag == INT:
                return self.construct_yaml_int(node)
            if tag == BOOL:
                return self.construct_yaml_bool(node)
            if tag == FLOAT:
                return self.construct_yaml_float(node)
            return self.construct_object(node, deep=True)
        memo = self._built_in_flow if flow else self._built
        built = memo.get(node)  # an alias: the very object its anchor made
        if built is not None:
            return built
        other = (self._built if flow else self._built_in_flow).get(node)
        if other is not None and (node.flow_style or not _holds_block_empty(node)):  # type: ignore[attr-defined]
            return other  # an alias in the other context that reads the same there
        inner = flow or bool(node.flow_style)  # type: ignore[attr-defined]
        if cls is SequenceNode and node.tag == SEQ:
            items: list[Any] = []
            memo[node] = items
            for child in node.value:
                items.append(self._build(child, inner))
            return items
        if cls is not MappingNode or node.tag != MAP or any(k.tag == MERGE for k, _ in node.value):
            built = memo[node] = self.construct_object(node, deep=True)
            return built
        data = YMap()
        data.line = node.start_mark.line + 1
        data.file = self.file
        memo[node] = data
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == STR and key_node.style != ">":
                key = key_node.value
            else:
                key = self._build(key_node, inner)
                if not isinstance(key, str):
                    key = kyaml.scalar_value(key)
            if key in lines:
                raise self._duplicate(key, lines, key_node)
            lines[key] = key_node.start_mark.line + 1
            data[key] = self._build(value_node, inner)
        data.key_lines = lines
        return data

    def _empty_in_flow(self, node: ScalarNode) -> bool:
        """Is this null an empty value (``{a: }``, ``{a}``, ``[b: ]``, an alias of ``a:``) that a flow
        collection holds? go-yaml v3 reads it as a null, but kyaml writes each resource out and reads
        it back before kustomize converts it to JSON, and go-yaml's emitter quotes an empty scalar in
        flow style: what kustomize, hence Flux, applies is ``""``. ``~``, ``null`` and an explicit
        ``!!null`` stay null. (An alias of a collection is built once per context.)"""
        if node.value:
            return False
        written = self.text[node.start_mark.index : node.end_mark.index]  # nothing, an anchor, or a tag
        return "!" not in written


_Constructor.add_constructor(STR, _Constructor.construct_yaml_str)  # type: ignore[type-var]
_Constructor.add_constructor(MAP, _Constructor.construct_yaml_map)  # type: ignore[type-var]
_Constructor.add_constructor(INT, _Constructor.construct_yaml_int)  # type: ignore[type-var]
_Constructor.add_constructor(FLOAT, _Constructor.construct_yaml_float)  # type: ignore[type-var]
_Constructor.add_constructor(BOOL, _Constructor.construct_yaml_bool)  # type: ignore[type-var]
_Constructor.add_constructor(
    "tag:yaml.org,2002:timestamp", yaml.constructor.SafeConstructor.construct_yaml_str
)  # type: ignore[type-var]
_Constructor.add_constructor(None, _Constructor.construct_undefined)  # type: ignore[type-var]


def _go_emit_folded(value: str) -> str:
    """The body go-yaml v3's emitter writes for ``value`` in folded style (without the header).

    Its check for "is the next line blank" looks at the start of the string instead of the current
    position, so it adds an extra line break before every more-indented line (when the string does
    not start with a blank), which changes the value read back.
    """
    k = 0
    while k < len(value) and value[k] in "\r\n":
        k += 1
    extra_break = k < len(value) and value[k] not in " \t\r\n"
    out: list[str] = []
    breaks = True
    leading_spaces = True
    line = ""
    for ch in value:
        if ch == "\n":
            if not breaks and not leading_spaces and extra_break:
                out.append(line)
                line = ""
            out.append(line)
            line = ""
            breaks = True
        else:
            if breaks:
                leading_spaces = ch in " \t"
            line += ch
            breaks = False
    out.append(line)
    return "\n".join(out)


_FOLDED_CACHE: dict[str, str] = {}


def folded_as_kustomize_reads(value: str) -> str:
    """A folded (``>``) scalar as kustomize and Flux end up with it: kyaml writes the node back out with
    go-yaml v3 and reads it again, and go-yaml's folded emitter does not round-trip lines that are
    more indented (``first(c,\n  x\n)`` becomes ``first(c,\n\n  x\n)``)."""
    if "\n " not in value and "\n\t" not in value:
        return value  # no more-indented line: the round trip keeps the value
    cached = _FOLDED_CACHE.get(value)
    if cached is not None:
        return cached
    body = _go_emit_folded(value)
    stripped = value.rstrip("\n")
    trailing = len(value) - len(stripped)
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    indicator = "2" if value[:1] in (" ", "\t", "\n") else ""
    lines = body.split("\n")
    if trailing:
        lines = lines[: len(lines) - trailing] + [""] * trailing
    text = f"v: >{indicator}{chomp}\n" + "".join(f"  {line}\n" if line else "\n" for line in lines)
    try:
        result = yaml.load(text, Loader=yaml.CSafeLoader)["v"]
    except (yaml.YAMLError, KeyError, TypeError):
        result = value
    if not isinstance(result, str):
        result = value
    _FOLDED_CACHE[value] = result
    return result


def _child(node: MappingNode, key: str) -> Node | None:
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value_node
    return None


def _holds_block_empty(node: Node) -> bool:
    """Does a collection hold an empty value outside any flow collection of its own (one that reads
    differently once the collection is placed inside a flow collection)?"""
    seen: set[int] = set()
    todo = [node]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ScalarNode):
            if current.tag == NULL and not current.value:
                return True
        elif isinstance(current, SequenceNode) and not current.flow_style:
            todo.extend(current.value)
        elif isinstance(current, MappingNode) and not current.flow_style:
            for pair in current.value:
                todo.extend(pair)
    return False


def _unfold_annotations(node: Node) -> None:
    """A document's own ``metadata.annotations`` keep their folded values as written: kustomize sets
    the annotations of every resource again as new strings when it strips its build annotations, before
    it writes the resource out, so they do not go through go-yaml's folded emitter (see
    :func:`folded_as_kustomize_reads`); labels, template annotations and the rest do. (A JSON6902 patch
    on the resource writes it out earlier, annotations included: not followed.)"""
    if not isinstance(node, MappingNode):
        return
    metadata = _child(node, "metadata")
    annotations = _child(metadata, "annotations") if isinstance(metadata, MappingNode) else None
    if isinstance(annotations, MappingNode):
        for _key, value in annotations.value:
            if isinstance(value, ScalarNode) and value.style == ">":
                value.style = "|"  # read as written: the value PyYAML folded


class _Loader(_Parser, _Constructor, _Resolver):
    def __init__(self, stream: str, file: str | None) -> None:
        _Parser.__init__(self, stream)
        _Constructor.__init__(self)
        _Resolver.__init__(self)
        self.file = file
        self.text = stream


class _RedefiningComposer(yaml.composer.Composer):
    """Go's YAML libraries let an anchor be defined again, the later definition winning for the
    aliases after it; PyYAML refuses. Used only when the fast parser refused a document for that."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[attr-defined]
        anchor = getattr(event, "anchor", None)
        if anchor is not None and not isinstance(event, yaml.events.AliasEvent):
            self.anchors.pop(anchor, None)
        return super().compose_node(parent, index)


class _SlowLoader(
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _RedefiningComposer, _Constructor, _Resolver
):
    def __init__(self, stream: str, file: str | None) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _RedefiningComposer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)
        self.file = file
        self.text = stream


def _expanded_size(node: Node, memo: dict[int, int]) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # cycles count once
    size = 1
    if isinstance(node, SequenceNode):
        size += sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, MappingNode):
        size += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    memo[key] = size
    return size


def _mark_error(exc: yaml.MarkedYAMLError, file: str | None) -> YAMLError:
    mark = exc.context_mark or exc.problem_mark
    line = mark.line + 1 if mark is not None else None
    what = " ".join(str(part) for part in (exc.context, exc.problem) if part)
    return YAMLError(f"malformed YAML: {what}", file, line, "fix the YAML syntax")


def load_all(text: str, file: str | None = None) -> list[Any]:
    """Every document of a YAML stream (empty documents dropped), with provenance on mappings.

    Linear in the size of the stream: what is known of the whole text (does it use aliases, could it
    nest deeply) is found once, not per document.
    """
    shape = _Shape.of(text)
    try:
        return _load_all(_Loader(text, file), shape, file, text)
    except YAMLError as exc:
        if "found duplicate anchor" not in exc.what:
            raise
    return _load_all(_SlowLoader(text, file), shape, file, text)


class _Shape:
    """What one scan of a stream tells: whether it may use aliases, whether it may nest deeper than
    the limit (every level of nesting costs a column or a bracket, so a stream whose longest line
    plus its brackets stays under the limit cannot)."""

    __slots__ = ("aliases", "deep")

    def __init__(self, aliases: bool, deep: bool) -> None:
        self.aliases, self.deep = aliases, deep

    @classmethod
    def of(cls, text: str) -> _Shape:
        aliases = "&" in text and "*" in text
        brackets = text.count("[") + text.count("{")
        longest = max(map(len, text.splitlines()), default=0)
        return cls(aliases, longest + brackets >= limits.current().yaml_depth)


def _depth(node: Node) -> int:
    """How deeply collections nest below ``node`` (aliases counted once), without recursion."""
    deepest = 0
    seen: set[int] = set()
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, level = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        deepest = max(deepest, level)
        if isinstance(current, SequenceNode):
            stack.extend((child, level + 1) for child in current.value)
        elif isinstance(current, MappingNode):
            for key, value in current.value:
                stack.extend(((key, level + 1), (value, level + 1)))
    return deepest


def _check_node(node: Node, shape: _Shape, file: str | None) -> None:
    bounds = limits.current()
    line = node.start_mark.line + 1
    if shape.deep and _depth(node) > bounds.yaml_depth:
        raise YAMLLimitError(
            f"document nests deeper than {bounds.yaml_depth} levels",
            file,
            line,
            "flatten the document, or raise limits.yaml_depth in .homeops.yaml",
        )
    if shape.aliases and _expanded_size(node, {}) > bounds.yaml_nodes:
        raise YAMLLimitError(
            f"document contains excessive aliasing (more than {bounds.yaml_nodes} nodes once expanded)",
            file,
            line,
            "expand the anchors by hand, or raise limits.yaml_nodes in .homeops.yaml",
        )


def _load_all(loader: Any, shape: _Shape, file: str | None, text: str = "") -> list[Any]:
    docs: list[Any] = []
    most = limits.current().yaml_documents
    count = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            count += 1
            if count > most:
                raise YAMLLimitError(
                    f"more than {most} YAML documents in one file",
                    file,
                    node.start_mark.line + 1,
                    "split the file, or raise limits.yaml_documents in .homeops.yaml",
                )
            _check_node(node, shape, file)
            data = loader.construct_document(node)
            if data is not None:
                docs.append(data)
    except yaml.MarkedYAMLError as exc:
        raise _mark_error(exc, file) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a NUL byte, a control one)
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        raise YAMLError(
            f"malformed YAML: character {char!r} is not allowed",
            file,
            line,
            "remove it, or write it as an escape",
        ) from None
    except yaml.YAMLError as exc:
        raise YAMLError(f"malformed YAML: {exc}", file, None, "fix the YAML syntax") from None
    except RecursionError:
        raise YAMLError("YAML nested too deeply", file, None, "flatten the document") from None
    finally:
        loader.dispose()
    return docs


def load_one(text: str, file: str | None = None) -> Any:
    """The single document of a file (kustomization files, values files)."""
    docs = load_all(text, file)
    if not docs:
        return None
    return docs[0]


def deep_copy(value: Any) -> Any:
    """A fast deep copy of plain YAML data that keeps provenance on mappings."""
    if isinstance(value, YMap):
        copy = YMap({k: deep_copy(v) for k, v in value.items()})
        copy.line = value.line
        copy.file = value.file
        copy.key_lines = value.key_lines
        return copy
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
    return value


def key_line(node: Any, *path: str | int) -> int | None:
    """Line of the deepest key (or list item) of ``path`` that exists below ``node``: the line of
    ``node`` itself when the first key is missing, None without provenance (generated objects)."""
    line: int | None = node.line if isinstance(node, YMap) and node.line else None
    for key in path:
        if isinstance(node, dict) and isinstance(key, str) and key in node:
            if isinstance(node, YMap) and node.line:
                line = node.line_of(key)
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
            if isinstance(node, YMap) and node.line:
                line = node.line
        else:
            break
    return line


def same(a: Any, b: Any) -> bool:
    """Equality that, unlike ``==``, tells ``true`` from ``1`` and ``1`` from ``"1"``."""
    if a is b:
        return True
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
