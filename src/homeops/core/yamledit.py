"""Small textual YAML edits that keep every comment and the formatting of untouched lines."""

from __future__ import annotations

import re

_TOP_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w.-]*):(?P<rest>.*)$")
_ITEM = re.compile(r"^(?P<indent>\s*)- (?P<value>.*?)\s*(#.*)?$")


def _split_documents(text: str) -> list[str]:
    return re.split(r"(?m)^(?=---\s*$)", text)


def list_items(text: str, key: str) -> list[str]:
    """The plain scalar items of a top-level block or flow list (comments excluded)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _TOP_KEY.match(line)
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
            item = _ITEM.match(follow)
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
        m = _TOP_KEY.match(line.rstrip("\n"))
        if not m or m.group("key") != key:
            continue
        rest = m.group("rest")
        value_part = rest.split("#", 1)[0].strip()
        if value_part.startswith("["):
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
                if _ITEM.match(follow.lstrip("#").rstrip()) or follow.startswith(" "):
                    last = j
                    continue
                break
            item = _ITEM.match(follow)
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


def remove_list_item(text: str, key: str, value: str) -> str:
    """Remove the item ``- value`` from the top-level list ``key`` (the line and nothing else)."""
    lines = text.splitlines(keepends=True)
    in_list = False
    for i, line in enumerate(lines):
        stripped = line.rstrip("\n")
        m = _TOP_KEY.match(stripped)
        if m:
            in_list = m.group("key") == key
            continue
        if in_list:
            item = _ITEM.match(stripped)
            if item and item.group("value").strip("'\"") == value:
                return "".join(lines[:i] + lines[i + 1 :])
    return text
