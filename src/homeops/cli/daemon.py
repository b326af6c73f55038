"""The start-up daemon: the library imported once, a forked worker per command line.

``homeops daemon start`` runs :func:`serve` in a detached process. It imports every module of the
package, freezes them out of the garbage collector's sight (so workers do not copy them), and
listens on a Unix socket in a directory only this user can enter (:mod:`homeops.cli.forward`, which
also holds the client). Each connection is checked to come from this user, then a forked worker
takes the client's standard streams, working directory, environment and umask, and runs the command
line exactly as ``homeops`` would in its own process (kept answers included); the client gets the
worker's process id first (to pass Ctrl-C on) and its exit code last, after the caches are written.

One daemon per code and interpreter (a lock file keeps a second one out); it stops after
``idle_seconds`` without a command, on ``homeops daemon stop`` or SIGTERM, and removes its socket.
"""

from __future__ import annotations

import _socket
import atexit
import contextlib
import fcntl
import gc
import io
import marshal
import os
import pkgutil
import select
import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from homeops.cli import forward, replay, run_here
from homeops.core.errors import HomeopsError

_CRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
_INT = struct.Struct("<i")
_MAX_REQUEST = 16 * 1024 * 1024
DEFAULT_IDLE_MINUTES = 30.0
_WORKERS_CLOSE: list[int] = []
"""File descriptors of the daemon a worker closes first (the lock)."""


class _Stop(Exception):
    """SIGTERM: leave the loop, remove the socket."""


@dataclass
class DaemonState:
    """What ``homeops daemon status`` reports."""

    pid: int = field(default_factory=os.getpid)
    started: float = field(default_factory=time.time)
    served: int = 0
    idle_seconds: float = DEFAULT_IDLE_MINUTES * 60
    socket: str = ""
    modules: int = 0
    patterns: int = 0  # lazy regular expressions compiled ahead of every worker
    preloaded: list[str] = field(default_factory=list)  # modules the library loads on demand, loaded
    spare: int = 0  # the process id of the worker forked ahead of the next command


def ensure_private_dir(directory: str) -> None:
    """Create the socket directory (0700), or refuse one that others can enter or do not own."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(directory, 0o700)
    if not forward.private(directory):
        raise HomeopsError(
            f"'{directory}' is not a directory private to this user (owned by you, mode 0700)",
            hint="remove it, or set XDG_RUNTIME_DIR to a private directory",
        )


def preload(state: DaemonState) -> None:
    """Import every module of the package (those needing an absent extra are skipped) and what it
    loads on demand, compile its lazy patterns: what each worker would otherwise do again."""
    import homeops

    for info in pkgutil.walk_packages(homeops.__path__, "homeops."):
        if info.name.rsplit(".", 1)[-1] == "__main__":
            continue
        with contextlib.suppress(Exception):
            __import__(info.name)
    for name in _LOADED_ON_DEMAND:
        with contextlib.suppress(Exception):  # an optional extra that is not installed
            __import__(name)
            state.preloaded.append(name)
    main = sys.modules.get("homeops.cli.main")  # imported just above, by name
    if main is not None:
        main.parser_once()  # the command tree every worker parses with
    regex = sys.modules.get("homeops.core.regex")
    if regex is not None:
        state.patterns = regex.compile_every_pattern()
    state.modules = sum(1 for name in sys.modules if name == "homeops" or name.startswith("homeops."))


_LOADED_ON_DEMAND = (
    "jsonschema", "referencing", "json", "pickle", "tempfile", "subprocess", "shutil", "http.client",
    "mmap", "struct", "traceback",
)  # fmt: skip
"""What the library imports inside functions, to keep a command's own start-up short (the rules'
schema validation loads jsonschema, ~40 ms): the daemon imports them once for every worker."""


def serve(path: str, idle_seconds: float) -> DaemonState:
    """Serve command lines at ``path`` until idle for ``idle_seconds`` or told to stop."""
    directory = os.path.dirname(path)
    ensure_private_dir(directory)
    lock = os.open(path[: -len(".sock")] + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        raise HomeopsError(
            "a homeops daemon for this installation is already running",
            hint="'homeops daemon status' shows it; 'homeops daemon stop' ends it",
        ) from None
    _WORKERS_CLOSE.append(lock)  # a worker outliving the daemon must not keep a new one out
    state = DaemonState(idle_seconds=idle_seconds, socket=path)
    preload(state)
    gc.collect()
    gc.freeze()  # the imported modules stay out of every worker's collections (no copy-on-write)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    staged = f"{path}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(staged)
    listener.bind(staged)
    os.chmod(staged, 0o600)
    os.rename(staged, path)  # atomically replaces a socket left by a daemon that died
    bound = os.stat(path).st_ino
    listener.listen(64)
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        raise _Stop

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the kernel
    last = time.monotonic()
    spare: _Spare | None = None
    try:
        while not stopping:
            if spare is None:
                spare = _Spare(listener)  # forked while nothing waits for it
                state.spare = spare.pid
            left = last + idle_seconds - time.monotonic()
            if left <= 0:
                break
            try:
                readable, _, _ = select.select([listener], [], [], left)
            except InterruptedError:
                continue
            if not readable:
                continue
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            last = time.monotonic()
            stopping, taken = _answer(conn, listener, state, spare)
            if taken:
                spare = None
    except _Stop:
        pass
    finally:
        if spare is not None:
            spare.channel.close()  # it sees the end of its channel and leaves
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == bound:
                os.unlink(path)
        listener.close()
        os.close(lock)
        _WORKERS_CLOSE.remove(lock)
    return state


class _Spare:
    """A worker forked ahead of its command, waiting on a channel for it (the command's connection and
    streams, passed as file descriptors): the fork is not on the command's path."""

    def __init__(self, listener: socket.socket) -> None:
        self.channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.pid = os.fork()
        if self.pid == 0:
            code = 0
            try:
                self.channel.close()
                _leave_daemon(listener)
                received, fds = _receive(theirs)  # the end of the channel: no command came, leave
                theirs.close()
                if isinstance(received, dict) and len(fds) == 4:
                    code = _work(socket.socket(fileno=fds[0]), received, fds[1:])
            finally:
                os._exit(code)
        theirs.close()

    def take(self, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> bool:
        """Hand the command to this worker; False when it is gone (then the daemon forks one)."""
        try:
            forward.send_message(self.channel, request, (conn.fileno(), *fds))
            return True
        except OSError:
            return False
        finally:
            self.channel.close()


def _leave_daemon(listener: socket.socket) -> None:
    """In a freshly forked worker: let go of what belongs to the daemon (its socket, its lock)."""
    listener.close()
    for fd in _WORKERS_CLOSE:
        os.close(fd)


def _answer(
    conn: socket.socket, listener: socket.socket, state: DaemonState, spare: _Spare | None
) -> tuple[bool, bool]:
    """Take one connection: (it asked the daemon to stop, the spare worker took it)."""
    fds: list[int] = []
    try:
        uid = _CRED.unpack(conn.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, _CRED.size))[1]
        if uid != os.getuid():
            return False, False
        received, fds = _receive(conn)
        message: dict[str, Any] = received if isinstance(received, dict) else {}
        op = message.get("op")
        if op == "stop":
            forward.send_message(conn, {"pid": state.pid})
            return True, False
        if op == "status":
            forward.send_message(conn, {**state.__dict__})
            return False, False
        if op == "run" and len(fds) == 3:
            state.served += 1
            if spare is not None and spare.take(conn, message, fds):
                return False, True
            if os.fork() == 0:
                code = 70
                try:
                    _leave_daemon(listener)
                    code = _work(conn, message, fds)
                finally:
                    os._exit(code)
            return False, spare is not None  # a spare that could not take it is gone
        return False, False
    except OSError:
        return False, False
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        conn.close()


def _receive(conn: socket.socket) -> tuple[object, list[int]]:
    """One request (from a client, or the daemon handing one to a spare worker): its message and the
    file descriptors that came with it."""
    space = _socket.CMSG_SPACE(4 * struct.calcsize("i"))  # a client's 3 streams, or those and its connection
    data, ancillary, _flags, _addr = conn.recvmsg(65536, space)
    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % struct.calcsize("i")
            fds.extend(struct.unpack(f"{usable // struct.calcsize('i')}i", payload[:usable]))
    if len(data) < 4:
        raise OSError("short request")
    size = struct.unpack("<I", data[:4])[0]
    if size > _MAX_REQUEST:
        raise OSError("request too large")
    body = data[4:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise OSError("truncated request")
        body += chunk
    return marshal.loads(body[:size]), fds


def _work(conn: socket.socket, request: dict[str, Any], fds: list[int]) -> int:
    """In the forked worker: become the client's process, run its command line, report the code."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # subprocesses of the command are waited for
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in zip((0, 1, 2), fds, strict=True):
        os.dup2(fd, target)
    argv = [str(a) for a in request["argv"]]
    replay.take_over(request.get("looked"))
    os.chdir(str(request["cwd"]))
    env = request["env"]
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in env.items()})
    os.umask(int(request["umask"]))
    time.tzset()  # local time as the client's TZ says
    (in_enc, in_err), (out_enc, out_err), (err_enc, err_err) = request["streams"]
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), in_enc, in_err)
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(1, "w", closefd=False)), out_enc, out_err, line_buffering=os.isatty(1)
    )
    sys.stderr = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(2, "w", closefd=False)), err_enc, err_err, line_buffering=True
    )
    sys.argv = ["homeops", *argv]
    conn.sendall(_INT.pack(os.getpid()))
    outcome: object = 70
    try:
        outcome = run_here(argv)
    except KeyboardInterrupt:
        outcome = 130
    code = _exit_code(outcome)
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()  # what the end of a process does: the caches are written
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    with contextlib.suppress(OSError):
        conn.sendall(_INT.pack(code))
    return code


def _exit_code(outcome: object) -> int:
    """What a process exiting with ``SystemExit(outcome)`` exits with (a message is printed, code 1)."""
    if outcome is None:
        return 0
    if isinstance(outcome, int):
        return outcome
    with contextlib.suppress(OSError, ValueError):
        print(outcome, file=sys.stderr)
    return 1


def query(op: str) -> dict[str, object] | None:
    """Ask the running daemon (``status``/``stop``); None when none is running."""
    sock = forward.connect(forward.socket_path())
    if sock is None:
        return None
    try:
        forward.send_message(sock, {"op": op})
        header = forward.receive_exactly(sock, 4)
        if header is None:
            return None
        body = forward.receive_exactly(sock, struct.unpack("<I", header)[0])
        reply = marshal.loads(body) if body is not None else None
    except (OSError, ValueError, EOFError):
        return None
    finally:
        sock.close()
    return reply if isinstance(reply, dict) else None
