"""Errors that reach the user as one line: ``homeops: error: <file>:<line>: <what> (<what to do>)``."""

from __future__ import annotations

EXIT_OK = 0
"""Success, nothing to report."""
EXIT_FINDINGS = 1
"""The command worked and found problems (findings, render errors of some Kustomizations, manual steps)."""
EXIT_USAGE = 2
"""Unusable input or usage: bad flag, malformed YAML that stops the run, path outside the repository."""


class HomeopsError(Exception):
    """A problem with the user's input, located at a file and line when known."""

    exit_code = EXIT_USAGE

    def __init__(self, what: str, file: str | None = None, line: int | None = None, hint: str | None = None):
        super().__init__(what)
        self.what = what
        self.file = file
        self.line = line
        self.hint = hint

    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}: " if self.line else f"{self.file}: "

    def one_line(self) -> str:
        text = f"{self.location()}{self.what}"
        if self.hint:
            text += f" ({self.hint})"
        return text.replace("\n", " ")

    def __str__(self) -> str:
        return self.one_line()


class YAMLError(HomeopsError):
    """Malformed YAML, or YAML that Kubernetes tooling would reject (duplicate keys, alias bombs)."""


class KustomizeError(HomeopsError):
    """A kustomization that kustomize itself would refuse to build."""


class UnsupportedError(KustomizeError):
    """A kustomize feature the native engine does not implement (helmCharts, remote resources, plugins)."""


class FluxError(HomeopsError):
    """A Flux object that kustomize-controller would fail to reconcile."""
