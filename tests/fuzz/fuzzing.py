"""Mutation fuzzing of the example repository: hostile YAML in, one clear outcome out.

A mutation changes the example's files the way a careless or hostile commit could: a field of the
wrong type, a key removed or added, a document that is a list or a scalar, a NUL byte, a cut file,
a name over 255 bytes, a reference outside the repository, a string with newlines and workflow
commands. Each mutated repository is run through the real command line in this process
(:func:`homeops.cli.main.run`), and :func:`check_outcome` states what must hold whatever the input:

* the exit code is 0, 1 or 2 (70 is an uncaught exception: a bug);
* stderr is ``homeops: ...`` lines only (no traceback), and no output line is forged by the input
  (no line starting with a ``::error`` workflow command or ``homeops: error: fake`` taken from
  repository data; an indented one is a block scalar of an object printed as YAML);
* nothing outside the repository is read (an audit hook records every ``open``/``listdir``/
  ``scandir``), and the canary file placed next to the repository never shows in the output.

Randomness comes from a :class:`Source`: Hypothesis in ``test_fuzz.py`` (bounded, shrinks what it
finds), :mod:`random` in ``fuzz_long.py`` (a long run that collects distinct crashes).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from homeops.cli.main import RECURSION_LIMIT
from homeops.cli.main import run as cli_run
from homeops.core.cache import cache_dir

sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))  # what each run sets, once

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "home-ops"
CANARY = "CANARY-7a1e0c1f-outside-the-repository"
INJECTION = "x\n::error file=x,line=1::INJECTED\nhomeops: error: fake"
FORGED = ("::error file=x,line=1::INJECTED", "homeops: error: fake")
DEEP = "__HOMEOPS_FUZZ_DEEP__"
LONG_NAME = "n" * 300


class Source(Protocol):
    """Where a mutation's choices come from."""

    def integer(self, low: int, high: int) -> int: ...


def pick(source: Source, items: list[Any] | tuple[Any, ...]) -> Any:
    return items[source.integer(0, len(items) - 1)]


# Fields the render reads, for mutations that add a key where it does not exist yet.
FIELDS = (
    "apiVersion", "kind", "metadata", "name", "namespace", "labels", "annotations", "spec",
    "resources", "components", "patches", "patchesStrategicMerge", "patchesJson6902",
    "configMapGenerator", "secretGenerator", "generatorOptions", "commonLabels", "labels",
    "commonAnnotations", "namePrefix", "nameSuffix", "images", "replicas", "replacements",
    "sortOptions", "transformers", "generators", "helmCharts", "crds", "openapi", "buildMetadata",
    "path", "sourceRef", "dependsOn", "postBuild", "substitute", "substituteFrom", "targetNamespace",
    "commonMetadata", "prune", "suspend", "interval", "timeout", "chartRef", "chart", "values",
    "valuesFrom", "ref", "url", "layerSelector", "data", "stringData", "target", "patch", "options",
    "literals", "files", "envs", "behavior", "containers", "image", "template", "selector", "ignore",
    "include", "decryption", "kubeConfig", "healthChecks", "wait", "force", "releaseName", "install",
    "upgrade", "postRenderers", "kustomize", "domain", "clusters", "rules", "ignore_paths",
    # .homeops.yaml settings
    "apps_dir", "clusters_dir", "components_dir", "cluster_root_dirs", "app_name_pattern",
    "namespace_name_pattern", "variable_name_pattern", "gateway_internal", "backup",
    "chart_repository_oci", "vars", "limits", "insecure_registries", "storage_class", "secret_store",
)  # fmt: skip


def hostile_values(outside: str) -> list[Any]:
    """Values that a field should not hold (or that should not leave the repository)."""
    return [
        None, True, False, 0, -1, 7, 1.5, 10**30, float("inf"), "", "x", "a\0b", "a\x1b[31mred", INJECTION,
        "../" * 12 + "etc/passwd", "/etc/passwd", outside, "../" * 3 + "outside/canary.txt",
        LONG_NAME, "dir/" + LONG_NAME, "${VAR}", "${VAR:=x}", "${", "$(x)", "{{ .x }}", "*", "~",
        "ENC[AES256_GCM,data:eA==,type:str]", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        [], [1], [1.5], ["a"], [None], [{}], [[]], ["a\0b"], [INJECTION], [LONG_NAME], [outside],
        {}, {"a": "b"}, {"a": [1]}, {"name": 1}, {"name": [1]}, {"kind": {}}, {"name": "x", "kind": 1},
        {"path": outside}, {"name": INJECTION}, DEEP, {1: "a"}, {True: "x"}, {None: "x"}, {"a": {"b": None}},
        "(", "[a-", "{{", "0x1F", "1e309", "-.inf", ".nan", "2001-01-01", "yes", "~/x", "./", ".", "..",
    ]  # fmt: skip


@dataclass
class Mutation:
    """What was done, for a reproducer."""

    steps: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(self.steps)


def yaml_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml") and ".git" not in p.parts
    )


def kustomization_dirs(root: Path) -> list[Path]:
    return sorted({p.parent for p in root.rglob("kustomization.yaml") if ".git" not in p.parts})


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def _deep_text(depth: int) -> str:
    return "{a: " * depth + "b" + "}" * depth


def _dump(docs: list[Any]) -> str:
    text = yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True, width=1000)
    return text.replace(DEEP, _deep_text(400)).replace(f"'{_deep_text(400)}'", _deep_text(400))


def mutate_document(source: Source, docs: list[Any], outside: str, log: Mutation, rel: str) -> list[Any]:
    """One structural change somewhere in ``docs`` (parsed documents of one file)."""
    if not docs:
        return [pick(source, hostile_values(outside))]
    index = source.integer(0, len(docs) - 1)
    doc = docs[index]
    paths = list(_paths(doc))
    path = pick(source, paths)
    op = pick(source, ("replace", "replace", "replace", "delete", "insert", "insert", "wrap", "document"))
    value = pick(source, hostile_values(outside))
    if op == "document" or not path:
        log.steps.append(f"{rel}#{index}: document := {value!r}")
        docs[index] = value
        return docs
    parent, key = _get(doc, path[:-1]), path[-1]
    if op == "replace":
        parent[key] = value
        log.steps.append(f"{rel}#{index}: {'.'.join(map(str, path))} := {value!r}")
    elif op == "delete":
        del parent[key]
        log.steps.append(f"{rel}#{index}: delete {'.'.join(map(str, path))}")
    elif op == "wrap":
        parent[key] = pick(source, ([parent[key]], {"x": parent[key]}, str(parent[key])))
        log.steps.append(f"{rel}#{index}: {'.'.join(map(str, path))} wrapped: {parent[key]!r}"[:300])
    else:
        target = _get(doc, path)
        if isinstance(target, dict):
            name = pick(source, FIELDS)
            target[name] = value
            log.steps.append(f"{rel}#{index}: {'.'.join(map(str, path))}.{name} := {value!r}")
        else:
            parent[key] = value
            log.steps.append(f"{rel}#{index}: {'.'.join(map(str, path))} := {value!r}")
    return docs


def mutate_text(source: Source, text: str, log: Mutation, rel: str) -> str:
    """One change to the bytes of a file: a NUL, a cut, a tab, a stray character, a duplicate."""
    at = source.integer(0, len(text))
    op = pick(source, ("nul", "cut", "tab", "char", "double", "empty"))
    log.steps.append(f"{rel}: {op} at {at}")
    if op == "nul":
        return text[:at] + "\0" + text[at:]
    if op == "cut":
        return text[:at]
    if op == "tab":
        return text[:at] + "\t" + text[at:]
    if op == "char":
        return (
            text[:at] + pick(source, ("&", "*", "!", "%", "@", "`", "|", ">", "{", "[", "'", '"')) + text[at:]
        )
    if op == "double":
        return text + "\n---\n" + text
    return ""


def add_file(source: Source, root: Path, log: Mutation, outside: str) -> None:
    """A file the example does not have: an odd kustomization, a long name, a link outside."""
    directory = pick(source, kustomization_dirs(root))
    rel = directory.relative_to(root).as_posix()
    op = pick(source, ("list", "scalar", "long", "symlink", "dir-as-file", "empty-ks"))
    log.steps.append(f"{rel}: add {op}")
    if op == "list":
        (directory / "kustomization.yaml").write_text("- resources\n- a\n", encoding="utf-8")
    elif op == "scalar":
        (directory / "kustomization.yaml").write_text("just a string\n", encoding="utf-8")
    elif op == "empty-ks":
        (directory / "kustomization.yaml").write_text("", encoding="utf-8")
    elif op == "long":
        with contextlib.suppress(OSError):
            (directory / (LONG_NAME[:200] + ".yaml")).write_text("kind: ConfigMap\n", encoding="utf-8")
        _add_resource(directory, LONG_NAME + ".yaml")
    elif op == "symlink":
        with contextlib.suppress(OSError):
            (directory / "leak.yaml").symlink_to(outside)
        _add_resource(directory, "leak.yaml")
    else:
        (directory / "sub.yaml").mkdir(exist_ok=True)
        _add_resource(directory, "sub.yaml")


def _add_resource(directory: Path, name: str) -> None:
    path = directory / "kustomization.yaml"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return
    if isinstance(doc, dict) and isinstance(doc.get("resources"), list):
        doc["resources"].append(name)
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def mutate(source: Source, root: Path, outside: str) -> Mutation:
    """One to three mutations of the repository at ``root``."""
    log = Mutation()
    files = yaml_files(root)
    for _ in range(source.integer(1, 3)):
        kind = pick(source, ("document", "document", "document", "document", "text", "file"))
        if kind == "file":
            add_file(source, root, log, outside)
            continue
        path = pick(source, files)
        rel = path.relative_to(root).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if kind == "text":
            path.write_text(mutate_text(source, text, log, rel), encoding="utf-8")
            continue
        try:
            docs = [d for d in yaml.safe_load_all(text)]
        except yaml.YAMLError:
            continue
        path.write_text(_dump(mutate_document(source, docs, outside, log, rel)), encoding="utf-8")
    return log


# ------------------------------------------------------------------------------------ running
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("check", "--format", "github"),
    ("check",),
    ("build", "ks", "--cluster", "chongus"),
    ("build", "ks", "--cluster", "bitty", "-o", "json"),
    ("build", "all", "--cluster", "chongus"),
    ("get", "ks", "-o", "wide"),
    ("get", "hr"),
    ("get", "sources", "-o", "json"),
    ("get", "all", "-o", "yaml"),
    ("get", "images", "-o", "name"),
    ("images", "list"),
    ("test",),
    ("kustomize",),
    ("diff", "--format", "markdown"),
    ("diff", "--format", "json", "--findings"),
    ("diff",),
    ("diff", "images"),
)


@dataclass
class Outcome:
    argv: list[str]
    code: int
    stdout: str
    stderr: str
    outside_reads: list[str]

    def problems(self) -> list[str]:
        return check_outcome(self)


def check_outcome(outcome: Outcome) -> list[str]:
    """What went wrong, whatever the input: an empty list when the run behaved."""
    out = []
    if outcome.code not in (0, 1, 2):
        out.append(f"exit {outcome.code}: {outcome.stderr.strip()[-800:]}")
    for line in outcome.stderr.splitlines():
        if not line.startswith("homeops"):
            out.append(f"stderr line not from homeops: {line[:200]!r}")
            break
    for text in (outcome.stdout, outcome.stderr):
        for line in text.splitlines():
            if line.startswith(FORGED):  # indented, it is a block scalar of an object printed as YAML
                out.append(f"forged line: {line[:200]!r}")
    if CANARY in outcome.stdout or CANARY in outcome.stderr:
        out.append("the canary outside the repository was printed")
    if outcome.outside_reads:
        out.append(f"read outside the repository: {sorted(set(outcome.outside_reads))[:3]}")
    return out


class ReadAudit:
    """Records each file or directory opened outside the allowed places while ``active``."""

    def __init__(self) -> None:
        self.root: str | None = None
        self.extra: tuple[str, ...] = ()
        self.reads: list[str] = []
        paths = sysconfig.get_paths()
        self.allowed = tuple(
            {
                str(Path(p).resolve())
                for p in (sys.prefix, sys.base_prefix, paths["stdlib"], paths["purelib"], paths["platlib"])
            }
            | {str(ROOT / "src"), str(ROOT / "tests"), "/dev/null", "/dev/shm/homeops-diff-", "/proc/self"}
            | {"/etc/localtime"}
            | {"/usr/lib", "/usr/share", "/usr/local/lib"}
        )
        self.active = False
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active or event not in ("open", "os.listdir", "os.scandir"):
            return
        target = args[0] if args else None
        if isinstance(target, int) or target is None:
            return
        if isinstance(target, bytes):
            target = os.fsdecode(target)
        path = os.path.realpath(os.fspath(target))
        assert self.root is not None
        if path == self.root or path.startswith(self.root + os.sep):
            return
        if path.startswith(self.allowed) or path.startswith(self.extra):
            return
        if event != "open" and path in {os.path.realpath(p or ".") for p in sys.path}:
            return  # the import system listing a directory of sys.path (the current one for "")
        self.reads.append(path)

    @contextlib.contextmanager
    def watching(self, root: Path, extra: tuple[str, ...] = ()) -> Iterator[None]:
        # homeops' own cache (parses, builds, findings keyed by content) is not repository input
        own_cache = os.path.realpath(cache_dir())
        self.root, self.extra, self.reads, self.active = str(root.resolve()), (*extra, own_cache), [], True
        try:
            yield
        finally:
            self.active = False


_AUDIT: ReadAudit | None = None


def audit() -> ReadAudit:
    global _AUDIT
    if _AUDIT is None:
        _AUDIT = ReadAudit()
    return _AUDIT


class Timeout(BaseException):
    """A run over its time (a BaseException, so the command line's own handler does not catch it)."""


def run(argv: list[str], root: Path, seconds: int = 60) -> Outcome:
    """The command line in this process, with its exit code, output and reads outside ``root``."""
    stdout, stderr = io.StringIO(), io.StringIO()
    watcher = audit()

    def expire(_signum: int, _frame: Any) -> None:
        raise Timeout(f"{' '.join(argv)} took over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        with (
            watcher.watching(root, (_git_dir(),)),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            code = cli_run(argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return Outcome(argv, code, stdout.getvalue(), stderr.getvalue(), list(watcher.reads))


def _git_dir() -> str:
    """Scratch directories of ``diff`` (HOMEOPS_TMPDIR when the fuzz sets it)."""
    return os.environ.get("HOMEOPS_TMPDIR", "/dev/shm/homeops-diff-")


def argv_for(command: tuple[str, ...], root: Path, source: Source) -> list[str]:
    if command == ("kustomize",):
        directory = pick(source, kustomization_dirs(root) or [root])
        return ["kustomize", str(directory), "--path", str(root)]
    return [*command, "--path", str(root)]


# ------------------------------------------------------------------------------------ workspace
GIT_ENV = {
    "GIT_AUTHOR_NAME": "fuzz", "GIT_AUTHOR_EMAIL": "fuzz@example.com", "GIT_COMMITTER_NAME": "fuzz",
    "GIT_COMMITTER_EMAIL": "fuzz@example.com", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}  # fmt: skip


class Workspace:
    """A Git copy of the example (committed once) and a canary outside it; ``reset`` undoes mutations."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "repo"
        outside = base / "outside"
        outside.mkdir(parents=True, exist_ok=True)
        (outside / "canary.txt").write_text(f"{CANARY}\n", encoding="utf-8")
        self.outside = str(outside / "canary.txt")
        shutil.copytree(EXAMPLE, self.root)
        self._git("init", "-q", "-b", "main")
        self._git("add", "-A")
        self._git("-c", "commit.gpgsign=false", "commit", "-q", "-m", "example")

    def _git(self, *args: str) -> None:
        subprocess.run(
            ["git", "-C", str(self.root), *args],
            check=True,
            capture_output=True,
            env={**os.environ, **GIT_ENV},
        )

    def reset(self) -> None:
        self._git("checkout", "-q", "--", ".")
        self._git("clean", "-q", "-f", "-d", "-x")


def run_example(
    source: Source, ws: Workspace, commands: tuple[tuple[str, ...], ...] = COMMANDS, seconds: int = 60
) -> tuple[Mutation, list[tuple[Outcome, list[str]]]]:
    """Mutate the workspace, run one or two commands on it; each outcome with its problems."""
    ws.reset()
    log = mutate(source, ws.root, ws.outside)
    results = []
    for _ in range(source.integer(1, 2)):
        command = pick(source, commands)
        argv = argv_for(command, ws.root, source)
        try:
            outcome = run(argv, ws.root, seconds)
        except Timeout as exc:
            outcome = Outcome(argv, -1, "", str(exc), [])
        results.append((outcome, check_outcome(outcome) if outcome.code != -1 else [str(outcome.stderr)]))
    return log, results
