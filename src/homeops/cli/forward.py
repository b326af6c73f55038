"""The client side of the start-up daemon (``homeops daemon``): hand a command line to a running daemon.

A Python process pays ~100 ms importing the library before it does any work; a daemon started once
(``homeops daemon start``) has imported it already and forks a worker per command. The client sends
its command line, working directory, environment, umask and its three standard streams (the file
descriptors themselves, over a Unix socket), so the worker reads and writes exactly where the
command would have; the worker sends back its process id and, at the end, the exit code.

No daemon running, ``HOMEOPS_DAEMON=0``, a stream that is closed, a socket directory that is not
private to this user: the command runs in this process as always. The daemon is found by the code
it runs (:func:`homeops.core.cache.code_fingerprint`) and the interpreter, so a changed homeops is
never served by an old one. This module imports only what start-up can afford.
"""

from __future__ import annotations

import _socket
import marshal
import os
import struct
import sys

from homeops.core import cache

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

ENV_DAEMON = "HOMEOPS_DAEMON"
"""``0`` never uses a daemon; ``auto`` starts one in the background when none is running."""
NOT_SERVED = ("daemon", "serve", "mcp")
"""Commands that always run in their own process: the daemon itself, the review page and the MCP
server (they run long)."""
EXIT_INTERNAL = 70
_HEADER = struct.Struct("<I")
_INT = struct.Struct("<i")


def runtime_dir() -> str:
    """Where daemons listen: ``$XDG_RUNTIME_DIR/homeops``, else ``/tmp/homeops-<uid>``."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and os.path.isabs(base):
        return os.path.join(base, "homeops")
    return os.path.join("/tmp", f"homeops-{os.getuid()}")


def private(directory: str) -> bool:
    """Is ``directory`` a real directory owned by this user that nobody else can enter?"""
    try:
        st = os.lstat(directory)
    except OSError:
        return False
    return (st.st_mode & 0o170000) == 0o040000 and st.st_uid == os.getuid() and not st.st_mode & 0o077


def socket_path() -> str:
    """The socket of the daemon for this code, interpreter and environment (``sys.prefix``: the
    virtual environment, whose packages the daemon has imported; :func:`import_state`)."""
    interpreter = f"{os.path.realpath(sys.executable)}\0{sys.prefix}\0{os.path.dirname(__file__)}"
    key = cache.digest(cache.code_fingerprint(), interpreter.encode(), import_state().encode()).hex()[:20]
    return os.path.join(runtime_dir(), f"{key}.sock")


def import_state() -> str:
    """Where the daemon's imports came from: the import path (but its first entry, the script's
    directory or the working directory) and the modification time of each ``site-packages``
    directory, which installing, upgrading or removing a package changes (a new ``.dist-info``). A
    daemon that imported the PyYAML of before an upgrade no longer answers."""
    parts: list[str] = []
    for entry in sys.path[1:]:
        parts.append(entry)
        if entry.endswith(("site-packages", "dist-packages")):
            try:
                parts.append(str(os.stat(entry).st_mtime_ns))
            except OSError:
                parts.append("-")
    return "\0".join(parts)


def connect(path: str) -> _socket.socket | None:
    """A connection to the daemon at ``path`` (None: none listens there, or the directory is not private)."""
    if not private(os.path.dirname(path)):
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def send_message(sock: _socket.socket, message: Any, fds: Sequence[int] = ()) -> None:
    """A length-prefixed marshalled message, the file descriptors ``fds`` riding with its first bytes."""
    data = marshal.dumps(message)
    data = _HEADER.pack(len(data)) + data
    ancillary = [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, struct.pack(f"{len(fds)}i", *fds))] if fds else []
    sent = sock.sendmsg([data], ancillary)
    if sent < len(data):
        sock.sendall(data[sent:])


def receive_exactly(sock: _socket.socket, size: int) -> bytes | None:
    """``size`` bytes, or None when the peer closed first."""
    chunks: list[bytes] = []
    while size:
        chunk = sock.recv(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def forward(argv: Sequence[str]) -> int | None:
    """Run ``argv`` in the running daemon's worker; its exit code, or None to run it here."""
    setting = os.environ.get(ENV_DAEMON, "").lower()
    if setting in ("0", "false", "no", "off") or (argv and argv[0] in NOT_SERVED):
        return None
    sock = connect(socket_path()) if private(runtime_dir()) else None  # no directory: no daemon, no hashing
    if sock is None:
        if setting == "auto":
            start_detached()
        return None
    try:
        request = _request(argv)
        if request is None:
            return None
        send_message(sock, request, (0, 1, 2))
        pid_bytes = receive_exactly(sock, _INT.size)
    except OSError:
        sock.close()
        return None  # the daemon went away before taking the command: nothing ran yet
    if pid_bytes is None:
        sock.close()
        return None
    return _wait(sock, _INT.unpack(pid_bytes)[0])


def _request(argv: Sequence[str]) -> dict[str, object] | None:
    """What the worker needs to stand in for this process (None: a stream is closed, or the working
    directory is gone: run here, where that is reported as usual)."""
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
        cwd = os.getcwd()
    except OSError:
        return None
    umask = os.umask(0)
    os.umask(umask)
    streams = [
        (getattr(s, "encoding", None) or "utf-8", getattr(s, "errors", None) or "strict")
        for s in (sys.stdin, sys.stdout, sys.stderr)
    ]
    replay = sys.modules.get("homeops.cli.replay")  # loaded when a kept answer was looked for
    return {
        "op": "run",
        "argv": list(argv),
        "cwd": cwd,
        "env": dict(os.environ),
        "umask": umask,
        "streams": streams,
        "looked": replay.handed_over() if replay is not None else None,  # the tree's state, if taken
    }


def _wait(sock: _socket.socket, pid: int) -> int:
    """The worker's exit code; Ctrl-C and termination are passed on to it."""
    import _signal  # start-up: the C module; ``signal`` would load ``enum`` (~3 ms)

    def relay(signum: int, _frame: object) -> None:
        try:  # noqa: SIM105 - start-up: contextlib is not imported for this
            os.kill(pid, signum)
        except OSError:
            pass

    for signum in (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP):
        _signal.signal(signum, relay)
    while True:
        try:
            code = receive_exactly(sock, _INT.size)
            break
        except InterruptedError:
            continue
        except OSError:
            code = None
            break
    sock.close()
    if code is None:
        sys.stderr.write(
            "homeops: error: the daemon's worker ended without an exit code "
            f"(run again with {ENV_DAEMON}=0, or 'homeops daemon stop')\n"
        )
        return EXIT_INTERNAL
    return _INT.unpack(code)[0]


def start_detached() -> None:
    """Start a daemon for the next commands, without waiting for it (``HOMEOPS_DAEMON=auto``)."""
    import subprocess  # start-up: only when a daemon is started

    try:  # noqa: SIM105 - start-up: contextlib is not imported for this
        subprocess.Popen(
            [sys.executable, "-m", "homeops", "daemon", "run"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={k: v for k, v in os.environ.items() if k != ENV_DAEMON},
        )
    except OSError:
        pass  # no daemon then: the command runs here as always
