"""Helm's engine (helm-python-sdk) in a worker process with a memory cap and a deadline.

A chart is code from outside the repository, and Go's runtime ends the whole process when a template
exhausts memory. :class:`SdkEngine` therefore renders in one long-lived child process
(:mod:`homeops.helm.worker`, started on first use and reused, so charts stay loaded between
releases) whose address space is capped with ``RLIMIT_AS`` (``limits.template_memory_bytes``) and
which is killed when a render exceeds ``limits.template_seconds``. Either way the render is one
:class:`RenderError` line and the next render gets a fresh worker.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import resource
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from homeops.core import limits
from homeops.helm.engine import RenderedDoc, RenderError, split_stream
from homeops.helm.worker import short


class TemplateLimitError(RenderError, limits.LimitError):
    """A chart's templates went over the engine's memory cap, its deadline or its output bound."""


MAX_ANSWER = 512 * 1024 * 1024
"""The most a worker may send back for one render (the output is also bounded by its memory cap)."""


class _Worker:
    """One worker process; ``call`` sends a request and waits for its answer until a deadline."""

    def __init__(self, memory: int) -> None:
        self.memory = memory
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])  # the directory holding homeops/
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        env["GOMEMLIMIT"] = str(memory * 3 // 4)  # Go collects harder before it reaches the cap
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "homeops.helm.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,
            preexec_fn=self._cap,
            close_fds=True,
        )

    def _cap(self) -> None:
        resource.setrlimit(resource.RLIMIT_AS, (self.memory, self.memory))

    def call(self, request: Mapping[str, Any], seconds: float) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        deadline = time.monotonic() + seconds
        try:
            self.proc.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
            self.proc.stdin.flush()
        except OSError:
            raise self._died() from None
        line = self._read_line(self.proc.stdout, deadline)
        try:
            answer = json.loads(line)
        except ValueError:
            raise self._died() from None
        if not isinstance(answer, dict):
            raise self._died()
        return answer

    def _read_line(self, stream: IO[bytes], deadline: float) -> bytes:
        fd = stream.fileno()
        chunks: list[bytes] = []
        size = 0
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    self.close()
                    raise TemplateLimitError(
                        f"the chart's templates ran longer than {limits.current().template_seconds:g} s",
                        None,
                        None,
                        "a template loops (range until ...?); raise limits.template_seconds if it is only slow",
                    )
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise self._died()
                size += len(chunk)
                if size > MAX_ANSWER:
                    self.close()
                    raise TemplateLimitError(f"the chart renders more than {MAX_ANSWER} bytes")
                chunks.append(chunk)
                if chunk.endswith(b"\n"):
                    return b"".join(chunks)

    def _died(self) -> RenderError:
        """What ended the worker, as one line: Go's fatal error, or how it exited."""
        code = self.proc.wait()
        self.stderr.seek(0)
        lines = self.stderr.read(64 * 1024).decode("utf-8", "replace").splitlines()
        fatal = next((ln for ln in lines if ln.startswith(("fatal error:", "runtime:", "panic:"))), None)
        self.close()
        text = "\n".join(lines)
        if "out of memory" in text or "MemoryError" in text or code in (-9, 137):
            return TemplateLimitError(
                f"the chart's templates exhausted the engine's memory ({self.memory // (1024 * 1024)} MiB)",
                None,
                None,
                "a template grows without end; raise limits.template_memory_bytes if the chart is only big",
            )
        return RenderError(f"the Helm engine stopped: {short(fatal or f'exit status {code}')}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self.stderr.close()


class SdkEngine:
    """Helm's engine through ``helm_python`` (libhelm_c), in a capped worker process."""

    name = "helm-python-sdk"

    def __init__(self) -> None:
        import helm_python  # the native library loads here too: a broken install is found early

        self.version = f"helm-python-sdk (Helm {helm_python.helm_sdk_version()})"
        self._worker: _Worker | None = None
        self._lock = threading.Lock()
        atexit.register(self.close)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def render(
        self,
        chart: Path,
        *,
        release_name: str,
        namespace: str,
        values: Mapping[str, Any],
        kube_version: str,
        api_versions: Sequence[str],
        include_crds: bool,
        skip_tests: bool,
    ) -> list[RenderedDoc]:
        options: dict[str, Any] = {"name": release_name, "namespace": namespace, "kube_version": kube_version}
        if api_versions:
            options["api_versions"] = list(api_versions)
        request = {"chart": str(chart), "values": dict(values), "options": options, "crds": include_crds}
        bounds = limits.current()
        with self._lock:
            if (
                self._worker is None
                or not self._worker.alive()
                or self._worker.memory != bounds.template_memory_bytes
            ):
                self.close()
                self._worker = _Worker(bounds.template_memory_bytes)
            try:
                answer = self._worker.call(request, bounds.template_seconds)
            except RenderError as exc:
                self._worker = None
                exc.file = exc.file or str(chart)
                raise
        if "error" in answer:
            hint = (
                "check Chart.yaml and the templates"
                if answer.get("stage") == "load"
                else "fix the values or the chart"
            )
            raise RenderError(str(answer["error"]), str(chart), None, hint)
        docs: list[RenderedDoc] = []
        for source, text in answer.get("crds") or []:
            docs.extend(split_stream(str(text), str(source)))
        rendered: dict[str, str] = answer.get("rendered") or {}
        for path in sorted(rendered):
            base = path.rsplit("/", 1)[-1]
            if base == "NOTES.txt" or base.startswith("_"):
                continue
            docs.extend(split_stream(rendered[path], path))
        return docs
