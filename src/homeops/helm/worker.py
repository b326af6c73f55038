"""The Helm engine's own process: ``python -m homeops.helm.worker``.

Helm's template engine is Go code (helm-python-sdk's libhelm_c). A chart's templates are a program:
``range until 1000000000`` or string doubling runs until the Go runtime dies with "fatal error: out
of memory", which no Python code can catch. So homeops never runs it in its own process: this
worker does, under an address-space limit (``RLIMIT_AS``, set by the parent) and a deadline kept by
the parent (see :mod:`homeops.helm.sdk`), which kills it and starts another when either is exceeded.

Protocol: one JSON request per line on stdin, one JSON answer per line on stdout.
Request: ``{"chart": path, "values": {...}, "options": {...}, "crds": bool}``.
Answer: ``{"rendered": {template path: text}, "crds": [[source, text], ...]}`` or
``{"error": message, "stage": "load" | "render" | "internal"}``. Loaded charts are kept while their
files are unchanged, so warm renders skip parsing.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

MAX_ERROR = 600
"""A Helm error is cut to this many characters (recursion through ``include`` makes 100 KB ones)."""


def short(text: str) -> str:
    """An error message of the engine, one line, cut short."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR else f"{text[:MAX_ERROR]}... ({len(text)} characters)"


def signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    """What identifies a chart's files on disk: names, mtimes and sizes."""
    if path.is_file():
        st = path.stat()
        return ((path.name, st.st_mtime_ns, st.st_size),)
    entries = []
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            st = os.stat(full)
            entries.append((os.path.relpath(full, path), st.st_mtime_ns, st.st_size))
    return tuple(sorted(entries))


class _Charts:
    def __init__(self) -> None:
        import helm_python
        from helm_python import _native

        self.helm = helm_python
        self.native = _native
        self.loaded: dict[tuple[str, tuple[tuple[str, int, int], ...]], Any] = {}

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        chart = Path(request["chart"])
        key = (str(chart.resolve()), signature(chart))
        handle = self.loaded.get(key)
        if handle is None:
            try:
                handle = self.helm.Chart.load(chart)
            except self.helm.HelmError as exc:
                return {"error": short(f"cannot load chart: {exc}"), "stage": "load"}
            if len(self.loaded) > 256:
                for old in self.loaded.values():
                    old.close()
                self.loaded.clear()
            self.loaded[key] = handle
        try:
            raw = self.native.call_string(
                "helm_render", handle._raw(), json.dumps(request["values"]), json.dumps(request["options"])
            )
        except self.helm.HelmError as exc:
            detail = str(getattr(exc, "detail", "") or exc)
            return {"error": short(f"helm template failed: {detail}"), "stage": "render"}
        crds = []
        if request.get("crds"):
            for crd in handle.crds:
                crds.append([str(crd.get("filename") or crd.get("name")), str(crd.get("data", ""))])
        return {"rendered": json.loads(raw), "crds": crds}


def main() -> int:
    charts = _Charts()
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        try:
            answer = charts.answer(json.loads(line))
        except Exception as exc:  # the worker answers every request; the parent decides what to do
            answer = {"error": short(f"{type(exc).__name__}: {exc}"), "stage": "internal"}
        out.write(json.dumps(answer).encode("utf-8") + b"\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
