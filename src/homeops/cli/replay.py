"""Answers of unchanged repositories: a read-only command run again on the same tree prints what it
printed before, without loading the library.

A command line is replayable when it only reads the repository (``build ks``, ``get``, ``check``
without ``--fix``/``--diff``) and uses nothing but the repository: no ``--var`` (values from the
cluster's Secrets are never stored; nor ``--vars-file``, nor any abbreviation argparse would take
for these), no ``--enable-helm`` (charts come from registries), no
``--no-cache``. Its answer (stdout, stderr, exit code) is kept under the XDG cache dir, keyed by
the code (:func:`homeops.core.cache.code_fingerprint`), the working directory, the arguments, the
environment variables homeops reads and whether the streams are terminals, and checksummed (a damaged
answer is no answer); it is given again only
while the repository's tree is the same (:mod:`homeops.core.snapshot`: every name, kind, size, time
and link target, content for files changed too recently to trust their times, and the Git config
holding the remotes).
"""

from __future__ import annotations

import marshal
import os
import sys

from homeops.core import cache, snapshot

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence
    from typing import Any, TextIO

_COMMANDS = ("build", "get", "check")
_REFUSED_OPTIONS = (
    "--var", "--vars-file", "--enable-helm", "--fix", "--diff", "--no-cache", "--offline", "--debug",
    "--help", "--changed", "--changed-from", "--registry-config", "--remote",
)  # fmt: skip
_REFUSED_WORDS = ("-h", "hr", "helmrelease", "helmreleases")
_ENVIRONMENT = ("NO_COLOR", "CI", "COLUMNS", "TERM", "XDG_CACHE_HOME")
MAX_ANSWER_BYTES = 64 * 1024 * 1024
_FORMAT = 2
_CHECK_BYTES = 16
"""An answer file is the digest of its content (:func:`homeops.core.cache.digest`), then the content."""


def replayable(argv: Sequence[str]) -> bool:
    """Does this command line only read the repository (and nothing else)?"""
    if not argv or argv[0] not in _COMMANDS or not cache.enabled():
        return False
    for arg in argv:
        if arg in _REFUSED_WORDS:
            return False
        if arg.startswith("--"):  # argparse takes any unambiguous prefix of an option: refuse those too
            name = arg.split("=", 1)[0]
            if any(option.startswith(name) for option in _REFUSED_OPTIONS):
                return False
    return True


def _key(argv: Sequence[str]) -> bytes:
    env = sorted((k, v) for k, v in os.environ.items() if k in _ENVIRONMENT or k.startswith("HOMEOPS_"))
    ttys = f"{_isatty(sys.stdout)}{_isatty(sys.stderr)}{sys.stdout.encoding}{sys.stderr.encoding}"
    return cache.digest(
        b"replay",
        cache.code_fingerprint(),
        os.getcwd().encode("utf-8", "surrogateescape"),
        "\0".join(argv).encode("utf-8", "surrogateescape"),
        repr(env).encode("utf-8", "surrogateescape"),
        ttys.encode(),
    )


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _path(key: bytes) -> str:
    return os.path.join(cache.area("replay"), f"{key.hex()}.answer")


def answer(argv: Sequence[str]) -> int | None:
    """Print the kept answer of this command line and return its exit code, if the tree is unchanged."""
    try:
        key = _key(argv)
    except OSError:  # the working directory is gone
        return None
    data = cache.read_file(_path(key))
    if data is None or len(data) < _CHECK_BYTES or cache.digest(data[_CHECK_BYTES:]) != data[:_CHECK_BYTES]:
        return None  # absent, or damaged (a bad disk, a crash): the command runs and writes it again
    try:
        kept = marshal.loads(data[_CHECK_BYTES:])
        if kept.get("format") != _FORMAT:
            return None
        root: str = kept["root"]
        if snapshot.interrupted_write(root):
            return None  # the run rolls the write back and says so
        state = snapshot.tree_state(root)
        global _looked
        _looked = (root, state)
        digest, racy = state
        if digest != kept["tree"]:
            return None
        if racy:
            if any(rel not in kept["racy"] for rel in racy):
                return None
            if snapshot.racy_digests(root, racy) != {rel: kept["racy"][rel] for rel in racy}:
                return None
        out: bytes = kept["stdout"]
        err: bytes = kept["stderr"]
        code: int = kept["code"]
    except (ValueError, EOFError, TypeError, KeyError, AttributeError):
        return None  # a damaged answer is no answer: the command runs and writes it again
    sys.stdout.flush()
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    sys.stderr.buffer.write(err)
    sys.stderr.flush()
    return code


class _Tee:
    """A text stream that writes through to ``stream`` and keeps a copy."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.passthrough = stream  # what a progress line writes to: drawn, never kept
        self.parts: list[str] = []
        self.size = 0
        self.bypassed = False

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.size += len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        if name in ("buffer", "fileno"):
            self.bypassed = True  # bytes written past the copy: the answer would be incomplete
        return getattr(self._stream, name)

    def encoded(self) -> bytes | None:
        try:
            return "".join(self.parts).encode(self._stream.encoding or "utf-8", "surrogateescape")
        except (UnicodeError, LookupError):
            return None


class Recorder:
    """Keeps the answer of the running command, if the repository did not change while it ran."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)
        self.key = _key(argv)
        self.root: str | None = None
        self.before: tuple[bytes, list[str]] | None = None
        self.out, self.err = _Tee(sys.stdout), _Tee(sys.stderr)
        sys.stdout, sys.stderr = self.out, self.err

    def saw_root(self, root: str) -> None:
        """The command reads this repository: its state now, before anything of it is read."""
        if self.root is None:
            self.root = root
            self.before = _state_now(root)
        elif self.root != root:
            self.before = None  # two repositories: not replayable

    def finish(self, code: int) -> None:
        sys.stdout, sys.stderr = self.out._stream, self.err._stream
        global _recorder
        _recorder = None
        if self.root is None or self.before is None or not cache.enabled():
            return
        if snapshot.interrupted_write(self.root):
            return  # the next run rolls it back and says so: it must run
        if self.out.size + self.err.size > MAX_ANSWER_BYTES or self.out.bypassed or self.err.bypassed:
            return
        out, err = self.out.encoded(), self.err.encoded()
        if out is None or err is None:
            return
        after = snapshot.tree_state(self.root)
        if after[0] != self.before[0]:
            return  # the repository changed while the command read it
        racy = snapshot.racy_digests(self.root, sorted(set(self.before[1]) | set(after[1])))
        if racy is None:
            return
        kept = {
            "format": _FORMAT,
            "root": self.root,
            "tree": after[0],
            "racy": racy,
            "stdout": out,
            "stderr": err,
            "code": code,
        }
        data = marshal.dumps(kept)
        if cache.write_atomic(_path(self.key), cache.digest(data) + data):
            cache.enforce_bound()


_recorder: Recorder | None = None
_looked: tuple[str, tuple[bytes, list[str]]] | None = None
"""The state of the tree :func:`answer` found differing from its kept answer's, in this process."""


def handed_over() -> tuple[str, tuple[bytes, list[str]]] | None:
    """The tree state :func:`answer` took in this process and found changed: a daemon's worker running
    this command line takes it as its own (:func:`take_over`) instead of walking the tree again."""
    return _looked


def take_over(looked: object) -> None:
    """In a daemon's worker: the state its client took moments ago (nothing of the repository was read
    since), as if :func:`answer` had taken it in this process. Anything malformed is ignored."""
    global _looked
    if (
        isinstance(looked, tuple | list)
        and len(looked) == 2
        and isinstance(looked[0], str)
        and isinstance(looked[1], tuple | list)
        and len(looked[1]) == 2
        and isinstance(looked[1][0], bytes)
        and isinstance(looked[1][1], list)
    ):
        _looked = (looked[0], (looked[1][0], [str(rel) for rel in looked[1][1]]))


def _state_now(root: str) -> tuple[bytes, list[str]]:
    """The tree's state before the command reads anything of it: the one :func:`answer` took moments
    ago when it looked at this same tree (nothing of the repository was read since), else a walk."""
    global _looked
    looked, _looked = _looked, None
    if looked is not None and looked[0] == root:
        return looked[1]
    return snapshot.tree_state(root)


def start(argv: Sequence[str]) -> Recorder:
    global _recorder
    _recorder = Recorder(argv)
    return _recorder


def saw_root(root: str) -> None:
    """Told by the command which repository it reads (nothing happens unless an answer is recorded)."""
    if _recorder is not None:
        _recorder.saw_root(root)
