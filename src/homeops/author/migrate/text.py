"""YAML text helpers the steps share: a small emitter in the repository's style, documents of a
stream, node positions for editing one entry in place, and repository-relative paths."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from homeops.core import yamlio
from homeops.core.errors import HomeopsError

# ----------------------------------------------------------------------------------------------
# Small YAML emitter (the repository's style: two-space indent, indented sequences)

_PLAIN = re.compile(r"[A-Za-z0-9_./+$-][A-Za-z0-9_./@:+ ${}-]*")


def scalar(value: Any) -> str:
    """A YAML scalar that every reader reads back as ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if (
        text
        and _PLAIN.fullmatch(text)
        and not text.endswith((":", " "))
        and ": " not in text
        and " #" not in text
        and _safe_load(text) == text
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def _safe_load(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def emit(value: Any, indent: int = 0) -> list[str]:
    """Block YAML lines for a mapping or sequence."""
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{pad}{scalar(str(key))}:"
            if isinstance(item, (dict, list)) and item:
                out.append(head)
                out += emit(item, indent + 2)
            elif isinstance(item, dict):
                out.append(f"{head} {{}}")
            elif isinstance(item, list):
                out.append(f"{head} []")
            elif isinstance(item, str) and "\n" in item.rstrip("\n") and not item.startswith(" "):
                out.append(f"{head} |" + ("" if item.endswith("\n") else "-"))
                out += [f"{pad}  {line}" if line else "" for line in item.rstrip("\n").split("\n")]
            else:
                out.append(f"{head} {scalar(item)}")
        return out
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                inner = emit(item, indent + 2)
                out.append(f"{pad}- {inner[0][indent + 2 :]}")
                out += inner[1:]
            elif isinstance(item, list) and item:
                out.append(f"{pad}-")
                out += emit(item, indent + 2)
            elif isinstance(item, (dict, list)):
                out.append(f"{pad}- {'{}' if isinstance(item, dict) else '[]'}")
            else:
                out.append(f"{pad}- {scalar(item)}")
        return out
    return [f"{pad}{scalar(value)}"]


def document(obj: dict[str, Any], schema: str | None = None, comments: Iterable[str] = ()) -> str:
    """One YAML document with its marker and editor schema comment."""
    lines = ["---"]
    if schema:
        lines.append(f"# yaml-language-server: $schema={schema}")
    lines += [f"# {c}" for c in comments]
    lines += emit(obj)
    return "\n".join(lines) + "\n"


def plain(value: Any) -> Any:
    """Plain dicts and lists (no provenance) for emitting."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


# ----------------------------------------------------------------------------------------------
# Paths


def norm(path: str) -> str:
    out = posixpath.normpath(path) if path else "."
    return "" if out == "." else out


def join_path(directory: str, entry: str) -> str:
    return norm(posixpath.join(directory, entry))


def under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def rel_path(target: str, start: str, dot: bool) -> str:
    rel = posixpath.relpath(target or ".", start or ".")
    if dot and not rel.startswith("."):
        rel = f"./{rel}"
    return rel


def all_files(root: Path, directory: str) -> list[str]:
    base = root / directory
    if not base.is_dir():
        return []
    return sorted(
        p.relative_to(root).as_posix()
        for p in base.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(base).parts
    )


def split_docs(text: str) -> list[str]:
    """A YAML stream cut at its ``---`` markers, each chunk keeping its marker and comments."""
    return [c for c in re.split(r"(?m)^(?=---[ \t]*(?:#.*)?$)", text) if c]


def load_docs(text: str, file: str) -> list[Any]:
    try:
        return yamlio.load_all(text, file)
    except HomeopsError:
        return []


def is_yaml(path: str) -> bool:
    return path.endswith((".yaml", ".yml"))


# ----------------------------------------------------------------------------------------------
# Text edits on YAML by node position


def compose(text: str) -> list[Node]:
    try:
        return [n for n in yaml.compose_all(text, Loader=yaml.SafeLoader) if n is not None]
    except yaml.YAMLError:
        return []


def _child(node: Node | None, key: str) -> tuple[ScalarNode, Node] | None:
    if not isinstance(node, MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return k, v
    return None


def find_entry(node: Node | None, *path: str) -> tuple[ScalarNode, Node] | None:
    found: tuple[ScalarNode, Node] | None = None
    for key in path:
        found = _child(node, key)
        if found is None:
            return None
        node = found[1]
    return found


def replace_entry(text: str, key: ScalarNode, value: Node, new_lines: list[str]) -> str:
    """Replace the lines of one mapping entry (key and value) by ``new_lines`` at the key's column."""
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
