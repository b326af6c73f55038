"""Bounded outputs: long lists come in pages, long texts in chunks, so no answer floods a context."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from homeops.core.errors import HomeopsError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
TEXT_CHUNK = 60_000  # characters of one diff chunk

PAGE_PROPERTIES: dict[str, Any] = {
    "page": {"type": "integer", "minimum": 1, "default": 1, "description": "Page to return (1-based)."},
    "page_size": {
        "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE,
        "description": f"Items per page (at most {MAX_PAGE_SIZE}).",
    },
}  # fmt: skip

CHUNK_PROPERTY: dict[str, Any] = {
    "diff_page": {
        "type": "integer", "minimum": 1, "default": 1,
        "description": f"Chunk of a long diff to return ({TEXT_CHUNK} characters each, split at lines).",
    },
}  # fmt: skip


def page(items: Sequence[Any], args: dict[str, Any], key: str = "items") -> dict[str, Any]:
    """``{key: items of the page, "page", "pages", "total"}``; a page past the end is an error."""
    size = int(args.get("page_size") or DEFAULT_PAGE_SIZE)
    number = int(args.get("page") or 1)
    pages = max(1, math.ceil(len(items) / size))
    if number > pages:
        raise HomeopsError(f"page {number} does not exist", hint=f"there are {pages} page(s) of {size}")
    start = (number - 1) * size
    return {key: list(items[start : start + size]), "page": number, "pages": pages, "total": len(items)}


def chunks(text: str) -> list[str]:
    """``text`` cut at line ends into pieces of at most :data:`TEXT_CHUNK` characters (a longer line is
    cut where it must)."""
    out: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > TEXT_CHUNK:
            if current:
                out.append(current)
                current = ""
            out.append(line[:TEXT_CHUNK])
            line = line[TEXT_CHUNK:]
        if len(current) + len(line) > TEXT_CHUNK:
            out.append(current)
            current = ""
        current += line
    if current or not out:
        out.append(current)
    return out


def text_chunk(text: str, args: dict[str, Any], field: str = "diff") -> dict[str, Any]:
    """``{field: chunk, "diff_page", "diff_pages"}`` of a long text."""
    parts = chunks(text)
    number = int(args.get("diff_page") or 1)
    if number > len(parts):
        raise HomeopsError(f"diff_page {number} does not exist", hint=f"the diff has {len(parts)} chunk(s)")
    return {field: parts[number - 1], "diff_page": number, "diff_pages": len(parts)}
