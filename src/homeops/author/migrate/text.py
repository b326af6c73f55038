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
