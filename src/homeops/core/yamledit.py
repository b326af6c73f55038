"""Small textual YAML edits that keep every comment and the formatting of untouched lines."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from homeops.core import yamlio
from homeops.core.errors import HomeopsError
from homeops.core.regex import lazy_pattern
from homeops.core.yamlio import YMap

_TOP_KEY = lazy_pattern(r"^(?P<key>[A-Za-z_][\w.-]*):(?P<rest>.*)$")
_ITEM = lazy_pattern(r"^(?P<indent>\s*)- (?P<value>.*?)\s*(#.*)?$")


def _split_documents(text: str) -> list[str]:
    return re.split(r"(?m)^(?=---\s*$)", text)


def list_items(text: str, key: str) -> list[str]:
    """The plain scalar items of a top-level block or flow list (comments excluded)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _TOP_KEY().match(line)
        if not m or m.group("key") != key:
            continue
        rest = m.group("rest").split("#", 1)[0].strip()
        if rest.startswith("["):
            inner = rest.strip("[]")
            return [v.strip().strip("'\"") for v in inner.split(",") if v.strip()]
        items = []
        for follow in lines[i + 1 :]:
            if not follow.strip() or follow.lstrip().startswith("#"):
                continue
            item = _ITEM().match(follow)
            if item and (follow.startswith((" ", "-"))):
                items.append(item.group("value").strip("'\""))
                continue
            break
        return items
    return []


def append_list_item(text: str, key: str, value: str) -> str:
    """Append ``- value`` to the top-level list ``key`` of the first document, creating the key."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        m = _TOP_KEY().match(line.rstrip("\n"))
        if not m or m.group("key") != key:
            continue
        rest = m.group("rest")
        value_part = rest.split("#", 1)[0].strip()
        if value_part.startswith("["):
            flow = _append_to_flow(text, key, value)
            if flow is not None:
                return flow
            existing = [v.strip() for v in value_part.strip("[]").split(",") if v.strip()]
            block = [f"{key}:\n"] + [f"  - {v}\n" for v in [*existing, value]]
            return "".join(lines[:i] + block + lines[i + 1 :])
        indent = "  "
        last = i
        for j in range(i + 1, len(lines)):
            follow = lines[j].rstrip("\n")
            if not follow.strip():
                continue
            if follow.lstrip().startswith("#"):
                # a commented-out item belongs to the list; a top-level comment after it does not
                if _ITEM().match(follow.lstrip("#").rstrip()) or follow.startswith(" "):
                    last = j
                    continue
                break
            item = _ITEM().match(follow)
            if item and follow.startswith((" ", "-")):
                indent = item.group("indent")
                last = j
                continue
            break
        new_line = f"{indent}- {value}\n"
        if not lines[last].endswith("\n"):
            lines[last] += "\n"
        return "".join([*lines[: last + 1], new_line, *lines[last + 1 :]])
    suffix = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{suffix}{key}:\n  - {value}\n"


def _append_to_flow(text: str, key: str, value: str) -> str | None:
    """``value`` added to the flow list ``key: [...]`` where it is written: after its last item (or
    inside ``[]``), so the list keeps its style, its lines and the comments around it."""
    try:
        root = next(iter(yaml.compose_all(text)), None)
    except yaml.YAMLError:
        return None
    if not isinstance(root, MappingNode):
        return None
    node = next((v for k, v in root.value if isinstance(k, ScalarNode) and k.value == key), None)
    if not isinstance(node, SequenceNode) or not node.flow_style:
        return None
    if node.value:
        at = node.value[-1].end_mark.index
        return f"{text[:at]}, {value}{text[at:]}"
    at = node.start_mark.index + 1
    return f"{text[:at]}{value}{text[at:]}"


def remove_list_item(text: str, key: str, value: str) -> str:
    """Remove the item ``- value`` from the top-level list ``key`` (the line and nothing else)."""
    lines = text.splitlines(keepends=True)
    in_list = False
    for i, line in enumerate(lines):
        stripped = line.rstrip("\n")
        m = _TOP_KEY().match(stripped)
        if m:
            in_list = m.group("key") == key
            continue
        if in_list:
            item = _ITEM().match(stripped)
            if item and item.group("value").strip("'\"") == value:
                return "".join(lines[:i] + lines[i + 1 :])
    return text


def replace_scalars(text: str, changes: Mapping[str, str | None]) -> str:
    """Each line holding just one of the scalars given (a list item, a ``key: value`` or the value
    alone, quoted or not, with a trailing comment or not) gets the new scalar in the same quotes; for
    None, a list item holding it is deleted. Every other line is kept as it is."""
    if not changes:
        return text
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        replaced = False
        for old, new in changes.items():
            m = re.match(
                r"^(?P<pre>\s*(?:-\s+)?(?:[\w.-]+:\s+)?)(?P<q>['\"]?)"
                + re.escape(old)
                + r"(?P=q)(?P<post>\s*(?:#.*)?)$",
                body,
            )
            if not m:
                continue
            if new is None:
                if m.group("pre").strip().startswith("-"):
                    replaced = True
                    break
                continue
            out.append(
                f"{m.group('pre')}{m.group('q')}{new}{m.group('q')}{m.group('post')}"
                + ("\n" if line.endswith("\n") else "")
            )
            replaced = True
            break
        if not replaced:
            out.append(line)
    return "".join(out)


def replace_entry(text: str, path: Sequence[str], new_lines: Sequence[str]) -> str | None:
    """The one-document ``text`` with the mapping entry at ``path`` (from its key's line through its
    value's last line; blank and comment lines after it are kept) replaced by ``new_lines`` written at
    the key's column. None when the text is not one YAML document or has no such entry."""
    try:
        nodes = [n for n in yaml.compose_all(text, Loader=yaml.SafeLoader) if n is not None]
    except yaml.YAMLError:
        return None
    found = _entry(nodes[0], path) if len(nodes) == 1 else None
    if found is None:
        return None
    key, value = found
    lines = text.splitlines(keepends=True)
    start = key.start_mark.line
    end_mark = value.end_mark
    end = (
        end_mark.line
        if end_mark.column == 0 or not text[end_mark.index - end_mark.column : end_mark.index].strip()
        else end_mark.line + 1
    )
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    pad = " " * key.start_mark.column
    prefix = lines[start][: key.start_mark.column]
    block = [f"{pad}{line}\n" if line else "\n" for line in new_lines]
    if prefix.strip():  # the key follows "- " on its line
        block[0] = prefix + block[0][len(pad) :]
    return "".join(lines[:start] + block + lines[end:])


def _entry(node: Node, path: Sequence[str]) -> tuple[ScalarNode, Node] | None:
    """The (key, value) nodes of the mapping entry at ``path`` below ``node``."""
    found: tuple[ScalarNode, Node] | None = None
    for key in path:
        if not isinstance(node, MappingNode):
            return None
        found = next(((k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == key), None)
        if found is None:
            return None
        node = found[1]
    return found


# ----------------------------------------------------------------------------------------------
# Insertion into a mapping located by structure (document index and key path), not by line, so that
# one edit does not invalidate the next


@dataclass(frozen=True)
class MappingRef:
    """Where a mapping lives: file, index of the YAML document, key path inside it."""

    file: str
    doc: int
    path: tuple[str | int, ...]


def _walk(node: Any, path: Iterable[str | int]) -> Any:
    for key in path:
        if isinstance(node, dict) and isinstance(key, str):
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            return None
    return node


_KEY_AT = "(?:^|(?<=[\\s-]))({key})\\s*:(?:\\s|$)"


def _key_column(line: str, key: str) -> int | None:
    for quoted in (re.escape(key), f'"{re.escape(key)}"', f"'{re.escape(key)}'"):
        m = re.search(_KEY_AT.format(key=quoted), line)
        if m:
            return m.start(1)
    return None


def insert_into_mapping(
    text: str, file: str, ref: MappingRef, entry: list[str], *, present: str | None = None
) -> str | None:
    """``text`` with ``entry`` (lines indented relative to the mapping's keys) appended to the mapping
    ``ref`` points at; None when the mapping cannot be edited safely (flow style, not found) or already
    holds the key ``present``."""
    try:
        docs = yamlio.load_all(text, file)
    except HomeopsError:
        return None
    if ref.doc >= len(docs):
        return None
    mapping = _walk(docs[ref.doc], ref.path)
    if not isinstance(mapping, YMap) or not mapping.key_lines:
        return None
    if present is not None and present in mapping:
        return None
    lines = text.splitlines(keepends=True)
    columns: list[int] = []
    for key, line_no in mapping.key_lines.items():
        if not 1 <= line_no <= len(lines):
            return None
        col = _key_column(lines[line_no - 1], key)
        if col is None:
            return None
        prefix = lines[line_no - 1][:col]
        if "{" in prefix or "[" in prefix:
            return None  # flow style: leave it to a human
        columns.append(col)
    col = columns[0]
    if any(c != col for c in columns):
        return None
    last_key_line = max(mapping.key_lines.values())
    end = last_key_line  # 1-based line number of the last line of the mapping's content
    for j in range(last_key_line, len(lines)):
        follow = lines[j].rstrip("\r\n")
        stripped = follow.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(follow) - len(follow.lstrip(" "))
        # deeper lines, and a compact block list (``key:\n- item``) at the keys' column, belong to it
        if indent > col or (indent == col and stripped.startswith("- ")):
            end = j + 1
            continue
        break
    newline = "\r\n" if lines[end - 1].endswith("\r\n") else "\n"
    if not lines[end - 1].endswith(("\n", "\r\n")):
        lines[end - 1] += newline
    new = [" " * col + e + newline for e in entry]
    return "".join(lines[:end] + new + lines[end:])
