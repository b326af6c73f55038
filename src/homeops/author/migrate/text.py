"""YAML text helpers the steps share: documents written in the repository's style, documents of a
stream, and repository-relative paths."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from homeops.core import yamlemit, yamlio
from homeops.core.errors import HomeopsError

# ----------------------------------------------------------------------------------------------
# YAML text in the repository's hand-written style (core's emitter: keys in insertion order,
# sequences indented under their key)


def emit(value: Any, indent: int = 0) -> list[str]:
    """Block YAML lines of a mapping or sequence, each indented by ``indent`` spaces."""
    return yamlemit.dump_handwritten(value, indent=" " * indent).splitlines()


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
