"""configMapGenerator and secretGenerator, ported from kustomize v5.5 (api v0.18, kyaml v0.18.1).

Generated names get a content hash suffix later (``hashing.content_hash``), so every byte of the
generated data must match kustomize: the order sources are read (envs, then literals, then files),
how env files are split, how quotes are stripped from literals, when a ConfigMap value goes to
``binaryData``, and how base64 is wrapped at 70 characters. Deliberately NOT done, because kustomize
does not do it either: key validation (its validator is a no-op; see :func:`invalid_data_keys` for
the API server's rule), taking a bare ``KEY`` env line from the process environment, reading a
directory given in ``files``.
"""

from __future__ import annotations

import base64
import copy
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.core import fs
from homeops.core.errors import HomeopsError, KustomizeError, UnsupportedError
from homeops.core.files import FileCache
from homeops.core.fs import Boundary, OutsideRootError
from homeops.core.gocompat import kyaml
from homeops.core.regex import lazy_pattern
from homeops.kustomize.remote import RemoteFiles

Touch = Callable[[Path], None] | None
"""Told each file a generator looks at (what the object depends on; see ``FileCache.touch``)."""

NEEDS_HASH_ANNOTATION = "kustomize.config.k8s.io/needsHashSuffix"
BEHAVIOR_ANNOTATION = "kustomize.config.k8s.io/generatorBehavior"
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"

BUILD_ANNOTATIONS = (
    "kustomize.config.k8s.io/previousKinds",
    "kustomize.config.k8s.io/previousNames",
    "kustomize.config.k8s.io/prefixes",
    "kustomize.config.k8s.io/suffixes",
    "kustomize.config.k8s.io/previousNamespaces",
    "kustomize.config.k8s.io/allowNameChange",
    "kustomize.config.k8s.io/allowKindChange",
    "kustomize.config.k8s.io/refBy",
    BEHAVIOR_ANNOTATION,
    NEEDS_HASH_ANNOTATION,
    "config.kubernetes.io/path",
    "config.kubernetes.io/index",
    "internal.config.kubernetes.io/seqindent",
    "internal.config.kubernetes.io/id",
    "internal.config.k8s.io/annotations-migration-resource-id",
    "config.k8s.io/path",
    "config.k8s.io/index",
    "config.k8s.io/id",
)
"""Internal annotations kustomize strips before output; on merge/replace they come from the old object."""

_UTF8_BOM = b"\xef\xbb\xbf"
_MAX_SCAN_TOKEN = 64 * 1024
"""Go's bufio.MaxScanTokenSize: kustomize's env-file scanner silently stops at a longer line."""

# Go's unicode.IsSpace (Python's str.isspace also counts U+001C..U+001F, Go does not).
_GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)
_CONFIGMAP_KEY = lazy_pattern(r"^[-._a-zA-Z0-9]+$")


@dataclass
class GeneratorOptions:
    """kustomize's ``types.GeneratorOptions``."""

    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    disable_name_suffix_hash: bool = False
    immutable: bool = False


@dataclass
class _Args:
    """The fields of ``types.ConfigMapArgs`` / ``types.SecretArgs`` that shape the object."""

    kind: str
    name: str
    namespace: str
    literals: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    envs: list[str] = field(default_factory=list)
    options: GeneratorOptions | None = None
    secret_type: str = ""


class _Context:
    """Where errors point: the generator entry (a YMap knows its file and lines) and its name."""

    def __init__(self, args: Mapping[str, Any], generator: str) -> None:
        self.args = args
        self.generator = generator
        self.file: str | None = getattr(args, "file", None)
        self.label = f"{generator} {args.get('name')!r}" if args.get("name") else generator

    def line(self, key: str | None = None) -> int | None:
        line_of = getattr(self.args, "line_of", None)
        if line_of is None:
            return None
        line = line_of(key) if key else getattr(self.args, "line", 0)
        return int(line) or None

    def error(self, what: str, key: str | None = None, hint: str | None = None) -> KustomizeError:
        return KustomizeError(f"{self.label}: {what}", file=self.file, line=self.line(key), hint=hint)


# ----------------------------------------------------------------------------------------------
# Arguments and options


def _string(ctx: _Context, value: Any, key: str) -> str:
    """A Go string field: null is "", anything but a string is a kustomization decoding error."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ctx.error(f"{key} must be a string, not {type(value).__name__}", key, "quote the value")
    return value


def _bool(ctx: _Context, value: Any, key: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ctx.error(f"{key} must be true or false, not {value!r}", key, "write true or false unquoted")
    return value


def _string_list(ctx: _Context, value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ctx.error(f"{key} must be a list of strings", key, f"write {key} as a YAML list")
    for item in value:
        if not isinstance(item, str):
            raise ctx.error(f"{key} entry {item!r} must be a string", key, "quote the entry")
    return list(value)


def _string_map(ctx: _Context, value: Any, key: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ctx.error(f"{key} must be a map of strings", key, f"write {key} as a YAML mapping")
    out: dict[str, str] = {}
    for k, v in value.items():
        out[str(k)] = _string(ctx, v, f"{key}.{k}")
    return out


def parse_options(value: Any, ctx: _Context | None = None, key: str = "options") -> GeneratorOptions | None:
    """A generatorOptions / options mapping as kustomize decodes it (None when absent)."""
    if value is None:
        return None
    ctx = ctx or _Context({}, "generatorOptions")
    if not isinstance(value, Mapping):
        raise ctx.error(f"{key} must be a mapping", key, "see the generatorOptions reference")
    return GeneratorOptions(
        labels=_string_map(ctx, value.get("labels"), f"{key}.labels"),
        annotations=_string_map(ctx, value.get("annotations"), f"{key}.annotations"),
        disable_name_suffix_hash=_bool(
            ctx, value.get("disableNameSuffixHash"), f"{key}.disableNameSuffixHash"
        ),
        immutable=_bool(ctx, value.get("immutable"), f"{key}.immutable"),
    )


def merge_global_options(
    local: GeneratorOptions | None, global_: GeneratorOptions | None
) -> GeneratorOptions | None:
    """``types.MergeGlobalOptionsIntoLocal``: local label/annotation values win; a global true wins."""
    if global_ is None:
        return local
    merged = copy.deepcopy(local) if local is not None else GeneratorOptions()
    for attr in ("labels", "annotations"):
        mine: dict[str, str] | None = getattr(merged, attr)
        theirs: dict[str, str] | None = getattr(global_, attr)
        if mine is None:
            if theirs is not None:
                setattr(merged, attr, dict(theirs))
            continue
        for k, v in (theirs or {}).items():
            mine.setdefault(k, v)
    merged.disable_name_suffix_hash = merged.disable_name_suffix_hash or global_.disable_name_suffix_hash
    merged.immutable = merged.immutable or global_.immutable
    return merged


def _parse_args(
    args: Mapping[str, Any], kind: str, global_options: Mapping[str, Any] | None
) -> tuple[_Args, _Context]:
    generator = "configMapGenerator" if kind == "ConfigMap" else "secretGenerator"
    if not isinstance(args, Mapping):
        raise KustomizeError(
            f"{generator} entry must be a mapping", hint="see the kustomize generator reference"
        )
    ctx = _Context(args, generator)
    envs = _string_list(ctx, args.get("envs"), "envs")
    legacy_env = _string(ctx, args.get("env"), "env")
    if legacy_env:  # kustomize's FixKustomization appends the singular form after the plural ones
        envs.append(legacy_env)
    parsed = _Args(
        kind=kind,
        name=_string(ctx, args.get("name"), "name"),
        namespace=_string(ctx, args.get("namespace"), "namespace"),
        literals=_string_list(ctx, args.get("literals"), "literals"),
        files=_string_list(ctx, args.get("files"), "files"),
        envs=envs,
        options=merge_global_options(
            parse_options(args.get("options"), ctx),
            parse_options(
                global_options, _Context(global_options or {}, "generatorOptions"), "generatorOptions"
            ),
        ),
        secret_type=_string(ctx, args.get("type"), "type") if kind == "Secret" else "",
    )
    _string(ctx, args.get("behavior"), "behavior")
    if not parsed.name:
        raise ctx.error("a configmap must have a name", None, "set name: on the generator")
    return parsed, ctx


# ----------------------------------------------------------------------------------------------
# Key/value sources


def parse_literal_source(source: str) -> tuple[str, str]:
    """``kv.parseLiteralSource``: split at the first '='; strip one pair of matching surrounding quotes."""
    if source.startswith("=") or "=" not in source:
        raise ValueError(f"invalid literal source {source}, expected key=value")
    key, value = source.split("=", 1)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return key, value


def _go_path_base(path: str) -> str:
    """Go's ``path.Base`` (slash-separated): the last element, trailing slashes ignored."""
    if path == "":
        return "."
    path = path.rstrip("/")
    if path == "":
        return "/"
    return path.rsplit("/", 1)[-1]


def parse_file_source(source: str) -> tuple[str, str]:
    """``generators.ParseFileSource``: ``path`` (key = basename) or ``key=path``; one '=' at most."""
    count = source.count("=")
    if count == 0:
        return _go_path_base(source), source
    if count == 1 and source.startswith("="):
        raise ValueError(f"missing key name for file path {source[1:]!r} in source {source!r}")
    if count == 1 and source.endswith("="):
        raise ValueError(f"missing file path for key name {source[:-1]!r} in source {source!r}")
    if count > 1:
        raise ValueError(f"source {source!r} key name or file path contains '='")
    key, path = source.split("=", 1)
    return key, path


def _scan_lines(content: bytes) -> list[bytes]:
    """Go's ``bufio.Scanner`` with ``ScanLines``: split on \\n, drop one trailing \\r per line.

    kustomize ignores the scanner's error, so a line of 64 KiB or more silently ends the file.
    """
    lines: list[bytes] = []
    start = 0
    while start < len(content):
        end = content.find(b"\n", start)
        line = content[start:] if end < 0 else content[start:end]
        if len(line) >= _MAX_SCAN_TOKEN:
            break
        lines.append(line[:-1] if line.endswith(b"\r") else line)
        if end < 0:
            break
        start = end + 1
    return lines


def parse_env_content(content: bytes, file: str | None = None) -> list[tuple[str, str]]:
    """``kv.keyValuesFromLines``: KEY=VALUE lines; # comments and blank lines skipped; no quote removal.

    Only leading whitespace is trimmed; a line without '=' is KEY with an empty value (NOT read from the
    environment); a line starting with '=' has an empty key and is skipped, like kustomize does.
    """
    pairs: list[tuple[str, str]] = []
    for number, raw in enumerate(_scan_lines(content)):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise KustomizeError(
                f"env file line {number + 1} has invalid UTF-8",
                file=file,
                line=number + 1,
                hint="save the env file as UTF-8 or use files: for binary data",
            ) from None
        if number == 0 and text.startswith("\ufeff"):
            text = text[1:]
        i = 0
        while i < len(text) and text[i] in _GO_SPACE:
            i += 1
        text = text[i:]
        if not text or text[0] == "#":
            continue
        key, _, value = text.partition("=")
        if key:
            pairs.append((key, value))
    return pairs


Remote = tuple[RemoteFiles, FileCache] | None
"""What fetches generator files named by URL, and the file cache whose recording notes them (None:
such files are refused, homeops renders offline unless ``--remote``)."""


def _load(
    ctx: _Context,
    path: str,
    key: str,
    base_dir: Path,
    root_dir: Path,
    boundary: Boundary | None,
    touch: Touch,
    remote: Remote = None,
) -> bytes:
    """The kustomize file loader with a root restriction: the real file must lie in or below root_dir,
    and inside the repository's ``boundary`` (when given) whatever the restrictor; a URL is fetched as
    kustomize's loader does (with ``remote``)."""
    if path.startswith(("http://", "https://")):
        if remote is None:
            raise UnsupportedError(
                f"{ctx.label}: remote file {path!r} is not supported offline",
                file=ctx.file,
                line=ctx.line(key),
                hint="pass --remote to fetch files by URL as Flux does, or vendor the file into the repository",
            )
        fetcher, files = remote
        return fetcher.read(path, files, f"{ctx.label}: {key} entry", ctx.file, ctx.line(key))
    real_base = os.path.realpath(base_dir)
    joined = os.path.normpath(os.path.join(real_base, path))  # filepath.Join cleans lexically first
    if touch is not None:
        touch(Path(joined))
    if not os.path.exists(joined):  # also a dangling symlink, as EvalSymlinks fails on it
        raise ctx.error(f"file {path!r} not found", key, f"paths are relative to {base_dir}")
    real = os.path.realpath(joined)
    if os.path.isdir(real):
        raise ctx.error(f"{path!r} is a directory; kustomize needs a file", key, "list the files one by one")
    real_root = os.path.realpath(root_dir)
    parent = os.path.dirname(real)
    if not (real_root == os.sep or parent == real_root or parent.startswith(real_root + os.sep)):
        raise ctx.error(
            f"file {path!r} is outside {root_dir}",
            key,
            "kustomize only loads files in or below the kustomization directory; move the file",
        )
    if boundary is not None:  # whatever the restrictor, never out of the repository
        try:
            boundary.check(joined, f"{ctx.label}: {key} entry {path!r}")
        except OutsideRootError as exc:
            exc.file, exc.line = ctx.file, ctx.line(key)
            raise
    try:
        return fs.read_regular(real, path)
    except HomeopsError as exc:  # kept as it is (a refusal stays a refusal), located at the entry
        exc.what = f"{ctx.label}: cannot read {path!r}: {exc.what}"
        exc.file, exc.line = ctx.file, ctx.line(key)
        raise


def _load_pairs(
    ctx: _Context,
    args: _Args,
    base_dir: Path,
    root_dir: Path,
    boundary: Boundary | None,
    touch: Touch,
    remote: Remote = None,
) -> list[tuple[str, bytes]]:
    """``kv.loader.Load``: envs, then literals, then files; values kept as bytes (files may be binary)."""
    pairs: list[tuple[str, bytes]] = []
    for env in args.envs:
        content = _load(
            ctx,
            env,
            "envs" if env in (ctx.args.get("envs") or []) else "env",
            base_dir,
            root_dir,
            boundary,
            touch,
            remote,
        )
        shown = env if ctx.file is None else str(Path(ctx.file).parent / env)
        pairs.extend((k, v.encode()) for k, v in parse_env_content(content, shown))
    for literal in args.literals:
        try:
            k, v = parse_literal_source(literal)
        except ValueError as exc:
            raise ctx.error(str(exc), "literals", "write literals as KEY=VALUE") from None
        pairs.append((k, v.encode()))
    for source in args.files:
        try:
            k, path = parse_file_source(source)
        except ValueError as exc:
            raise ctx.error(str(exc), "files", "write files as PATH or KEY=PATH") from None
        pairs.append((k, _load(ctx, path, "files", base_dir, root_dir, boundary, touch, remote)))
    seen: set[str] = set()
    for k, _ in pairs:
        if k in seen:
            raise ctx.error(
                f"configmap {args.name} illegally repeats the key `{k}`", None, "make every key unique"
            )
        seen.add(k)
    return pairs


# ----------------------------------------------------------------------------------------------
# Objects


def encode_base64(data: bytes) -> str:
    """kyaml's ``encodeBase64``: standard base64; if 70 chars or longer, 70-char lines each ending in \\n."""
    encoded = base64.b64encode(data).decode("ascii")
    if len(encoded) < 70:
        return encoded
    return "".join(encoded[i : i + 70] + "\n" for i in range(0, len(encoded), 70))


def _base_object(args: _Args) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": args.name}
    if args.namespace:
        metadata["namespace"] = args.namespace
    return {"apiVersion": "v1", "kind": args.kind, "metadata": metadata}


def _apply_options(obj: dict[str, Any], options: GeneratorOptions | None) -> bool:
    """Copy labels/annotations/immutable onto the object; return whether it needs a hash suffix."""
    if options is None:
        return True
    metadata = obj["metadata"]
    if options.labels:
        metadata["labels"] = {k: options.labels[k] for k in sorted(options.labels)}
    if options.annotations:
        metadata["annotations"] = {k: options.annotations[k] for k in sorted(options.annotations)}
    if options.immutable:
        obj["immutable"] = True
    return not options.disable_name_suffix_hash


def generate_configmap(
    args: Mapping[str, Any],
    *,
    base_dir: Path,
    root_dir: Path,
    global_options: Mapping[str, Any] | None,
    boundary: Boundary | None = None,
    touch: Touch = None,
    remote: Remote = None,
) -> tuple[dict[str, Any], bool]:
    """One configMapGenerator entry: (ConfigMap, needs_hash_suffix). Name has no suffix yet.

    ``root_dir`` bounds which files may be read: pass ``base_dir`` for kustomize's default load
    restrictor (rootOnly), ``/`` for none; ``boundary`` is the repository (or artifact) no file may
    leave in either case (Flux's root-bound filesystem); ``touch`` is told every file looked at (what
    the object depends on, for the build cache).
    UTF-8 values go to ``data``, the rest base64-encoded to ``binaryData``.
    """
    parsed, ctx = _parse_args(args, "ConfigMap", global_options)
    obj = _base_object(parsed)
    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    for key, raw in sorted(_load_pairs(ctx, parsed, Path(base_dir), Path(root_dir), boundary, touch, remote)):
        try:
            data[key] = raw.decode("utf-8")
        except UnicodeDecodeError:
            binary[key] = encode_base64(raw)
    if data:
        obj["data"] = data
    if binary:
        obj["binaryData"] = binary
    return obj, _apply_options(obj, parsed.options)


def generate_secret(
    args: Mapping[str, Any],
    *,
    base_dir: Path,
    root_dir: Path,
    global_options: Mapping[str, Any] | None,
    boundary: Boundary | None = None,
    touch: Touch = None,
    remote: Remote = None,
) -> tuple[dict[str, Any], bool]:
    """One secretGenerator entry: (Secret, needs_hash_suffix). Every value base64 in ``data``.

    ``type`` defaults to Opaque; ``data`` is always present, possibly empty, as kustomize emits it.
    """
    parsed, ctx = _parse_args(args, "Secret", global_options)
    obj = _base_object(parsed)
    obj["type"] = parsed.secret_type or "Opaque"
    obj["data"] = {
        k: encode_base64(v)
        for k, v in sorted(_load_pairs(ctx, parsed, Path(base_dir), Path(root_dir), boundary, touch, remote))
    }
    return obj, _apply_options(obj, parsed.options)


def invalid_data_keys(obj: Mapping[str, Any]) -> list[str]:
    """Keys the API server would reject (``[-._a-zA-Z0-9]+``, at most 253, not . or ..).

    kustomize itself accepts any key, so this is for findings, not for generation.
    """
    keys = [*(obj.get("data") or {}), *(obj.get("binaryData") or {})]
    return [
        k
        for k in keys
        if not (
            _CONFIGMAP_KEY().match(k) and len(k) <= 253 and k not in (".", "..") and not k.startswith("..")
        )
    ]


# ----------------------------------------------------------------------------------------------
# behavior: merge / replace


def _string_dict(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): kyaml.get_value(v) for k, v in value.items()}


def _set_map(parent: dict[str, Any], key: str, values: dict[str, str]) -> None:
    """kyaml's setters: the field is cleared, and written back sorted only when non-empty."""
    parent.pop(key, None)
    if values:
        parent[key] = {k: values[k] for k in sorted(values)}


def merged_needs_hash(existing_needs: bool, new_needs: bool, behavior: str) -> bool:
    """Whether the object left by merge/replace still gets a hash suffix.

    kustomize keeps its needsHashSuffix build annotation only if the OLD object carried it, and
    drops it if the new one does not: both for merge and for replace.
    """
    del behavior  # same rule for both
    return existing_needs and new_needs


def apply_behavior(
    existing: Mapping[str, Any] | None, new: Mapping[str, Any], behavior: str
) -> dict[str, Any]:
    """``resWrangler.appendReplaceOrMerge`` for one matched object: the object that takes its place.

    replace: the new object, but labels are old+new (new wins), annotations likewise, and name and
    namespace are the old ones. merge: the same, plus ``data`` and ``binaryData`` are old+new (new
    wins, values as strings). kustomize's internal build annotations come from the old object only.
    ``existing`` is None when nothing matched: create/unspecified then yields the new object.
    Unknown behaviors count as unspecified, which kustomize treats like create.
    """
    result = copy.deepcopy(dict(new))
    if behavior not in ("merge", "replace"):
        if existing is None:
            return result
        raise KustomizeError(
            f"{new.get('kind')} {_name(existing)!r} already exists; behavior must be merge or replace",
            hint="set behavior: merge or behavior: replace on the generator",
        )
    if existing is None:
        raise KustomizeError(
            f"{new.get('kind')} {_name(new)!r} does not exist; cannot {behavior}",
            hint="generate or declare it in a base first",
        )
    raw_meta = existing.get("metadata")
    old_meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, Mapping) else {}
    meta = result.get("metadata")
    if not isinstance(meta, dict):
        meta = result["metadata"] = {}
    new_annotations = _string_dict(meta.get("annotations"))
    old_annotations = _string_dict(old_meta.get("annotations"))

    _set_map(meta, "labels", {**_string_dict(old_meta.get("labels")), **_string_dict(meta.get("labels"))})
    annotations = {**old_annotations, **new_annotations}
    for key in BUILD_ANNOTATIONS:
        if key in old_annotations:
            annotations[key] = old_annotations[key]
        else:
            annotations.pop(key, None)
    if NEEDS_HASH_ANNOTATION not in new_annotations:
        annotations.pop(NEEDS_HASH_ANNOTATION, None)
    if behavior == "merge" and ORIGIN_ANNOTATION in old_annotations:
        annotations[ORIGIN_ANNOTATION] = old_annotations[ORIGIN_ANNOTATION]
    _set_map(meta, "annotations", annotations)

    meta["name"] = kyaml.get_value(old_meta.get("name"))
    old_namespace = kyaml.get_value(old_meta.get("namespace"))
    if old_namespace:
        meta["namespace"] = old_namespace
    else:
        meta.pop("namespace", None)

    if behavior == "merge":
        for key in ("data", "binaryData"):
            _set_map(result, key, {**_string_dict(existing.get(key)), **_string_dict(result.get(key))})
    return result


def _name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata")
    return kyaml.get_value(meta.get("name")) if isinstance(meta, Mapping) else ""
