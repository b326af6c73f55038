"""configMapGenerator / secretGenerator and the name hash, unit-tested and compared with `kubectl kustomize`."""

from __future__ import annotations

import base64
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from homeops.core.errors import KustomizeError, UnsupportedError
from homeops.core.gocompat import gojson
from homeops.core.yamlio import load_all, load_one
from homeops.kustomize import generators as gen
from homeops.kustomize.hashing import content_hash, encode_for_hash, encode_hex

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl not on PATH: differential tests against `kubectl kustomize` skipped"
)


def cm(
    args: dict[str, Any], base: Path, root: Path | None = None, global_options: Any = None
) -> dict[str, Any]:
    return gen.generate_configmap(args, base_dir=base, root_dir=root or base, global_options=global_options)[
        0
    ]


# ----------------------------------------------------------------------------------------------
# hashing


@pytest.mark.parametrize(
    ("doc", "expected"),
    [  # the vectors of kustomize's own api/hasher/hasher_test.go
        ("kind: ConfigMap", "6ct58987ht"),
        ('kind: ConfigMap\ndata:\n  one: ""', "9g67k2htb6"),
        ('kind: ConfigMap\ndata:\n  two: 2\n  one: ""\n  three: 3', "7757f9kkct"),
        ('kind: ConfigMap\nbinaryData:\n  one: ""', "6mtk2m274t"),
        ('kind: ConfigMap\nbinaryData:\n  two: 2\n  one: ""\n  three: 3', "9th7kc28dg"),
        ('kind: ConfigMap\ndata:\n  one: ""\nbinaryData:\n  two: ""', "698h7c7t9m"),
        ("kind: Secret\ntype: my-type", "5gmgkf8578"),
        ('kind: Secret\ntype: my-type\ndata:\n  one: ""', "74bd68bm66"),
        ('kind: Secret\ntype: my-type\ndata:\n  two: 2\n  one: ""\n  three: 3', "4gf75c7476"),
        ('kind: Secret\ntype: my-type\ndata:\n  one: ""\nstringData:\n  two: 2', "c4h4264gdb"),
    ],
)
def test_hash_matches_kustomize_vectors(doc: str, expected: str) -> None:
    assert content_hash(load_one("apiVersion: v1\n" + doc)) == expected


def test_encoding_matches_kustomize_vectors() -> None:
    obj = load_one('kind: Secret\ntype: my-type\ndata:\n  two: 2\n  one: ""\n  three: 3')
    assert (
        encode_for_hash(obj)
        == '{"data":{"one":"","three":3,"two":2},"kind":"Secret","name":"","type":"my-type"}'
    )
    assert encode_for_hash({"kind": "ConfigMap"}) == '{"data":"","kind":"ConfigMap","name":""}'


def test_name_is_not_part_of_the_hash() -> None:
    # kustomize looks up the single field "metadata/name", which never exists
    a = {"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}}
    b = {"kind": "ConfigMap", "metadata": {"name": "prefix-b"}, "data": {"k": "v"}}
    assert content_hash(a) == content_hash(b)


def test_encode_hex_alphabet() -> None:
    assert encode_hex("0123456789abcdef") == "gh2k456789"
    assert encode_hex("abcdeabcde") == "mbcdtmbcdt"
    with pytest.raises(ValueError):
        encode_hex("abc")


def test_hash_other_kind_unsupported() -> None:
    with pytest.raises(UnsupportedError):
        content_hash({"kind": "Deployment"})


# ----------------------------------------------------------------------------------------------
# sources


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a=b", ("a", "b")),
        ("a=b=c", ("a", "b=c")),
        ('a="quoted"', ("a", "quoted")),
        ("a='single'", ("a", "single")),
        ("a=\"mixed'", ("a", "\"mixed'")),
        ('a="', ("a", '"')),
        ('a=""', ("a", "")),
        ("a=", ("a", "")),
        ("a b= x ", ("a b", " x ")),
    ],
)
def test_parse_literal_source(source: str, expected: tuple[str, str]) -> None:
    assert gen.parse_literal_source(source) == expected


@pytest.mark.parametrize("source", ["=x", "novalue", ""])
def test_parse_literal_source_errors(source: str) -> None:
    with pytest.raises(ValueError, match="expected key=value"):
        gen.parse_literal_source(source)


def test_parse_file_source() -> None:
    assert gen.parse_file_source("dir/app.conf") == ("app.conf", "dir/app.conf")
    assert gen.parse_file_source("dir/") == ("dir", "dir/")
    assert gen.parse_file_source("key=dir/app.conf") == ("key", "dir/app.conf")
    for bad, msg in [("=p", "missing key name"), ("k=", "missing file path"), ("a=b=c", "contains '='")]:
        with pytest.raises(ValueError, match=msg):
            gen.parse_file_source(bad)


def test_parse_env_content() -> None:
    content = (
        b"\xef\xbb\xbfA=1\r\n# comment\n\n  \tB = 2 \nC\nexport D=x=y\n=skipped\nE='q'\n\xef\xbb\xbfF=bom"
    )
    assert gen.parse_env_content(content) == [
        ("A", "1"),
        ("B ", " 2 "),
        ("C", ""),
        ("export D", "x=y"),
        ("E", "'q'"),
        ("\ufeffF", "bom"),
    ]


def test_parse_env_content_unicode_space_and_long_lines() -> None:
    # Go's unicode.IsSpace trims U+00A0 but not U+001C; a 64 KiB line silently ends the scan
    assert gen.parse_env_content("\u00a0A=1\n\x1cB=2".encode()) == [("A", "1"), ("\x1cB", "2")]
    long = b"L=" + b"x" * 70000
    assert gen.parse_env_content(b"A=1\n" + long + b"\nB=2\n") == [("A", "1")]
    fits = b"L=" + b"x" * (65535 - 2)
    assert gen.parse_env_content(fits + b"\nB=2") == [("L", "x" * 65533), ("B", "2")]


def test_parse_env_content_invalid_utf8() -> None:
    with pytest.raises(KustomizeError, match="line 2 has invalid UTF-8") as info:
        gen.parse_env_content(b"A=1\n#\xff\n", "app.env")
    assert info.value.file == "app.env"
    assert info.value.line == 2


def test_encode_base64_wraps_at_70() -> None:
    assert gen.encode_base64(b"") == ""
    assert gen.encode_base64(b"abc") == "YWJj"
    short = gen.encode_base64(b"x" * 51)  # 68 chars: not wrapped
    assert "\n" not in short
    wrapped = gen.encode_base64(b"x" * 60)
    assert wrapped.split("\n") == [base64.b64encode(b"x" * 60).decode()[:70], "h4eHh4eHh4", ""]
    exact = gen.encode_base64(b"y" * 51 + b"yy")  # 72 chars
    assert exact.endswith("\n")
    assert base64.b64decode(exact.replace("\n", "")) == b"y" * 53


# ----------------------------------------------------------------------------------------------
# generation


def test_configmap_sources_order_and_binary(tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("E=1\n")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "a.txt").write_text("line1\nline2\n")
    (tmp_path / "blob.bin").write_bytes(b"\xff\xfe\x00")
    obj, needs_hash = gen.generate_configmap(
        {
            "name": "app",
            "namespace": "ns",
            "envs": ["app.env"],
            "literals": ["L=2"],
            "files": ["conf/a.txt", "bin=blob.bin"],
        },
        base_dir=tmp_path,
        root_dir=tmp_path,
        global_options=None,
    )
    assert needs_hash
    assert obj == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "app", "namespace": "ns"},
        "data": {"E": "1", "L": "2", "a.txt": "line1\nline2\n"},
        "binaryData": {"bin": "//4A"},
    }


def test_empty_generators(tmp_path: Path) -> None:
    assert cm({"name": "x"}, tmp_path) == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    secret, _ = gen.generate_secret({"name": "s"}, base_dir=tmp_path, root_dir=tmp_path, global_options=None)
    assert secret["data"] == {}
    assert secret["type"] == "Opaque"


def test_secret_type_and_base64(tmp_path: Path) -> None:
    secret, _ = gen.generate_secret(
        {"name": "s", "type": "kubernetes.io/tls", "literals": ["tls.crt=abc", "tls.key=é"]},
        base_dir=tmp_path,
        root_dir=tmp_path,
        global_options=None,
    )
    assert secret["type"] == "kubernetes.io/tls"
    assert secret["data"] == {"tls.crt": "YWJj", "tls.key": base64.b64encode("é".encode()).decode()}


def test_legacy_env_is_read_after_envs(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("A=1\n")
    (tmp_path / "b.env").write_text("A=2\n")
    with pytest.raises(KustomizeError, match="illegally repeats the key `A`"):
        cm({"name": "x", "envs": ["a.env"], "env": "b.env"}, tmp_path)
    assert cm({"name": "x", "env": "b.env"}, tmp_path)["data"] == {"A": "2"}


def test_options_merge(tmp_path: Path) -> None:
    obj, needs_hash = gen.generate_configmap(
        {"name": "x", "options": {"labels": {"a": "local"}, "annotations": {"n": "1"}}},
        base_dir=tmp_path,
        root_dir=tmp_path,
        global_options={
            "labels": {"a": "global", "b": "g"},
            "disableNameSuffixHash": True,
            "immutable": True,
        },
    )
    assert obj["metadata"]["labels"] == {"a": "local", "b": "g"}
    assert obj["metadata"]["annotations"] == {"n": "1"}
    assert obj["immutable"] is True
    assert needs_hash is False
    # a local false cannot override a global true, a local true survives a global false
    local = gen.GeneratorOptions(disable_name_suffix_hash=True)
    merged = gen.merge_global_options(local, gen.GeneratorOptions())
    assert merged is not None
    assert merged.disable_name_suffix_hash
    assert gen.merge_global_options(None, None) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"literals": ["a=1"]}, "must have a name"),
        ({"name": "x", "literals": ["a=1", "a=2"]}, "illegally repeats the key `a`"),
        ({"name": "x", "literals": ["=1"]}, "invalid literal source"),
        ({"name": "x", "files": ["missing.txt"]}, "'missing.txt' not found"),
        ({"name": "x", "files": ["sub"]}, "is a directory"),
        ({"name": "x", "files": ["../outside.txt"]}, "is outside"),
        ({"name": "x", "files": ["a=b=c"]}, "contains '='"),
        ({"name": "x", "literals": "a=1"}, "must be a list"),
        ({"name": "x", "literals": [1]}, "must be a string"),
        ({"name": "x", "options": {"labels": {"a": 1}}}, "must be a string"),
        ({"name": "x", "options": {"disableNameSuffixHash": "true"}}, "must be true or false"),
    ],
)
def test_errors(tmp_path: Path, args: dict[str, Any], message: str) -> None:
    base = tmp_path / "k"
    (base / "sub").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("x")
    with pytest.raises(KustomizeError, match=message) as info:
        cm(args, base)
    assert "\n" not in str(info.value)


def test_error_points_at_generator_entry(tmp_path: Path) -> None:
    kust = load_one("configMapGenerator:\n- name: x\n  files:\n  - nope.txt\n", "k/kustomization.yaml")
    with pytest.raises(KustomizeError) as info:
        cm(kust["configMapGenerator"][0], tmp_path)
    assert (info.value.file, info.value.line) == ("k/kustomization.yaml", 3)
    assert "configMapGenerator 'x'" in str(info.value)


def test_remote_file_unsupported(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedError):
        cm({"name": "x", "files": ["https://example.com/a.txt"]}, tmp_path)


def test_root_dir_and_symlinks(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "shared.txt").write_text("shared")
    (repo / "app" / "link.txt").symlink_to(repo / "shared.txt")
    # rootOnly: the symlink target lies outside the kustomization directory
    with pytest.raises(KustomizeError, match="is outside"):
        cm({"name": "x", "files": ["link.txt"]}, repo / "app")
    # a wider root (Flux: the repository) allows it, and ../ paths as well
    assert cm({"name": "x", "files": ["link.txt", "../shared.txt"]}, repo / "app", repo)["data"] == {
        "link.txt": "shared",
        "shared.txt": "shared",
    }


def test_invalid_data_keys_is_advisory() -> None:
    obj = {"data": {"ok.key_-1": "", "a b": "", ".": ""}, "binaryData": {"..x": ""}}
    assert gen.invalid_data_keys(obj) == ["a b", ".", "..x"]


# ----------------------------------------------------------------------------------------------
# behavior


def _generated(name: str, data: dict[str, str], **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}, "data": data}


def test_apply_behavior_merge() -> None:
    old = _generated(
        "base-cm",
        {"a": "1", "b": "2"},
        namespace="ns",
        labels={"x": "old", "keep": "y"},
        annotations={gen.BEHAVIOR_ANNOTATION: "create", gen.NEEDS_HASH_ANNOTATION: "enabled", "o": "1"},
    )
    new = _generated(
        "cm",
        {"b": "two", "c": "3"},
        labels={"x": "new"},
        annotations={gen.BEHAVIOR_ANNOTATION: "merge", "o": "2"},
    )
    out = gen.apply_behavior(old, new, "merge")
    assert out["metadata"] == {
        "name": "base-cm",
        "namespace": "ns",
        "labels": {"keep": "y", "x": "new"},
        "annotations": {gen.BEHAVIOR_ANNOTATION: "create", "o": "2"},
    }
    assert out["data"] == {"a": "1", "b": "two", "c": "3"}
    assert new["metadata"]["name"] == "cm"  # inputs untouched


def test_apply_behavior_replace_keeps_new_data_and_stringifies_merge() -> None:
    old = {"kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"n": 1, "t": True, "z": None}}
    new = _generated("cm", {"only": "new"})
    assert gen.apply_behavior(old, new, "replace")["data"] == {"only": "new"}
    assert gen.apply_behavior(old, new, "merge")["data"] == {"n": "1", "only": "new", "t": "true", "z": ""}
    emptied = gen.apply_behavior(
        {"kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {}}, dict(new, data={}), "merge"
    )
    assert "data" not in emptied


def test_apply_behavior_create_and_missing() -> None:
    new = _generated("cm", {})
    assert gen.apply_behavior(None, new, "create") == new
    assert gen.apply_behavior(None, new, "bogus") == new  # kustomize: unknown means unspecified, i.e. create
    with pytest.raises(KustomizeError, match="behavior must be merge or replace"):
        gen.apply_behavior(new, new, "create")
    with pytest.raises(KustomizeError, match="cannot merge"):
        gen.apply_behavior(None, new, "merge")


def test_merged_needs_hash() -> None:
    assert gen.merged_needs_hash(True, True, "merge")
    assert not gen.merged_needs_hash(False, True, "merge")
    assert not gen.merged_needs_hash(True, False, "replace")


# ----------------------------------------------------------------------------------------------
# differential: our objects and hashed names against `kubectl kustomize`


def kustomize(directory: Path) -> list[dict[str, Any]]:
    assert KUBECTL is not None
    proc = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"kubectl kustomize failed: {proc.stderr}")
    return load_all(proc.stdout)


def kustomize_fails(directory: Path) -> str:
    assert KUBECTL is not None
    proc = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, check=False)
    assert proc.returncode != 0, f"kubectl kustomize unexpectedly succeeded:\n{proc.stdout}"
    return proc.stderr


def ours(directory: Path, root: Path | None = None) -> list[dict[str, Any]]:
    """Generate every generator of the kustomization and add hash suffixes, as kustomize build would."""
    kust = load_one((directory / "kustomization.yaml").read_text(), "kustomization.yaml")
    out = []
    for key, fn in (("configMapGenerator", gen.generate_configmap), ("secretGenerator", gen.generate_secret)):
        for args in kust.get(key) or []:
            obj, needs_hash = fn(
                args,
                base_dir=directory,
                root_dir=root or directory,
                global_options=kust.get("generatorOptions"),
            )
            if needs_hash:
                obj["metadata"]["name"] += "-" + content_hash(obj)
            out.append(obj)
    return out


def by_id(objs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objs}


def assert_same(directory: Path) -> None:
    expected = by_id(kustomize(directory))
    actual = by_id(ours(directory))
    assert sorted(actual) == sorted(expected)
    for key, obj in expected.items():
        assert actual[key] == obj, key


def write(directory: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return directory


DIFFERENTIAL_CASES: dict[str, dict[str, str | bytes]] = {
    "literals": {
        "kustomization.yaml": """
configMapGenerator:
- name: lit
  literals:
  - plain=value
  - eq=a=b=c
  - dq="double quoted"
  - sq='single quoted'
  - mixed="half'
  - lone="
  - empty=
  - "spaced key= spaced value "
  - num=1
  - bool=true
""",
    },
    "files": {
        "kustomization.yaml": """
configMapGenerator:
- name: files
  files:
  - app.conf
  - conf/nested.ini
  - renamed=conf/other.txt
  - nonl.txt
  - empty.txt
  - blanklines.txt
""",
        "app.conf": "server {\n  listen 80;\n}\n",
        "conf/nested.ini": "[section]\nkey = value\n",
        "conf/other.txt": "other",
        "nonl.txt": "no trailing newline\nsecond",
        "empty.txt": "",
        "blanklines.txt": "x\n\n\n",
    },
    "envs": {
        "kustomization.yaml": """
configMapGenerator:
- name: envs
  envs: [a.env, b.env, c.env]
  env: legacy.env
""",
        "a.env": b'\xef\xbb\xbf# comment\nA=1\r\n\n   # indented comment\n  B = spaced \nC\nexport D=x=y\n=ignored\nQ="kept quotes"\n',
        "b.env": "URL=https://example.com/?a=1&b=<2>\nUNI=héllo wörld ✓\n",
        "legacy.env": "LEGACY=yes",
        # Go's unicode.IsSpace, lone and doubled CRs, a separator control that is not trimmed
        "c.env": b"\xc2\xa0NB=1\n\x1cFS=2\nCR=a\rb=c\nDCR=x\r\r\n\xe3\x80\x80IDEO=3\n\t\v\fWS=4",
    },
    "envs-long-line": {
        "kustomization.yaml": "configMapGenerator:\n- name: long\n  envs: [ok.env, long.env]\n",
        "ok.env": b"A=1\nL=" + b"x" * 65533 + b"\nB=2\n",  # a 65535-byte line still fits Go's scanner
        "long.env": b"C=1\nM=" + b"x" * 65534 + b"\nD=2\n",  # 65536 bytes: the scan silently stops
    },
    "binary": {
        "kustomization.yaml": """
configMapGenerator:
- name: bin
  files: [small.bin, big.bin, text.txt]
""",
        "small.bin": b"\x00\xff\x10",
        "big.bin": bytes(range(256)) * 2,
        "text.txt": "text\n",
    },
    "secrets": {
        "kustomization.yaml": """
secretGenerator:
- name: opaque
  literals: [user=admin, password=s3cr<e>t&]
  files: [long.txt, cert.pem]
  envs: [s.env]
- name: tls
  type: kubernetes.io/tls
  files: [tls.crt=cert.pem, tls.key=key.pem]
- name: empty
""",
        "long.txt": "x" * 60,
        "cert.pem": "-----BEGIN CERTIFICATE-----\n"
        + "A" * 64
        + "\n"
        + "B" * 30
        + "\n-----END CERTIFICATE-----\n",
        "key.pem": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n",
        "s.env": "TOKEN=abc=\n",
    },
    "options": {
        "kustomization.yaml": """
generatorOptions:
  labels: {team: platform, tier: global}
  annotations: {note: from-global}
configMapGenerator:
- name: labelled
  namespace: apps
  literals: [a=1]
  options:
    labels: {tier: local}
    annotations: {extra: "x"}
- name: nohash
  literals: [a=1]
  options:
    disableNameSuffixHash: true
- name: frozen
  literals: [a=1]
  options:
    immutable: true
secretGenerator:
- name: s
  namespace: apps
  literals: [a=1]
  options:
    disableNameSuffixHash: true
    immutable: true
""",
    },
    "global-disable": {
        "kustomization.yaml": """
generatorOptions:
  disableNameSuffixHash: true
  immutable: true
configMapGenerator:
- name: cm
  literals: [a=1]
  options:
    disableNameSuffixHash: false
""",
    },
    "special": {
        "kustomization.yaml": """
configMapGenerator:
- name: special
  literals:
  - html=<script>alert("x & y")</script>
  - unicode=héllo 世界 😀
  - "tab=a\\tb"
  - "ls=a\\u2028b"
  - "esc=\\u001b[0m"
  files: [multi.txt, crlf.txt, lead.txt, trail.txt, ctl.txt]
""",
        "multi.txt": "first line\n  indented <b>&amp;</b>\n\ttabbed\nlast line\n",
        "crlf.txt": b"a\r\nb\r\n",
        "lead.txt": "  leading spaces\nx",
        "trail.txt": "trailing  \nspaces \n",
        "ctl.txt": b"bell\x07 esc\x1b nul\x00",
    },
}


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.parametrize("case", sorted(DIFFERENTIAL_CASES))
def test_differential(tmp_path: Path, case: str) -> None:
    assert_same(write(tmp_path, DIFFERENTIAL_CASES[case]))


@needs_kubectl
@pytest.mark.kubectl
def test_differential_random_values(tmp_path: Path) -> None:
    """Random text (quotes, HTML, unicode, whitespace, newlines) through literals, files and secrets."""
    rng = random.Random(20240611)
    alphabet = [*"abcXYZ019 =#'\"<>&\\/:-_.,{}[]|*!%@`~", "\n", "\t", "é", "ß", "世", "😀", "\u00a0"]
    files: dict[str, str | bytes] = {}
    literals, secrets = [], []
    for i in range(40):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90)))
        files[f"f{i}.txt"] = value
        if "\n" not in value:
            literals.append(f"l{i}={value}")
        secrets.append(f"s{i}=f{i}.txt")
    yaml_list = "\n".join(f"  - {gojson.marshal(item)}" for item in literals)
    files["kustomization.yaml"] = (
        "configMapGenerator:\n- name: rnd\n  files: [" + ", ".join(f"f{i}.txt" for i in range(40)) + "]\n"
        f"- name: lit\n  literals:\n{yaml_list}\n"
        "secretGenerator:\n- name: rnd\n  files: [" + ", ".join(secrets) + "]\n"
    )
    write(tmp_path, files)
    assert_same(tmp_path)


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"kustomization.yaml": "configMapGenerator:\n- name: x\n  literals: [a=1, a=2]\n"},
            "illegally repeats",
        ),
        ({"kustomization.yaml": "configMapGenerator:\n- name: x\n  files: [nope.txt]\n"}, "not found"),
        ({"kustomization.yaml": "configMapGenerator:\n- name: x\n  files: [../out.txt]\n"}, "is outside"),
        (
            {"kustomization.yaml": "configMapGenerator:\n- name: x\n  files: [d]\n", "d/f": "x"},
            "is a directory",
        ),
        (
            {"kustomization.yaml": "configMapGenerator:\n- name: x\n  literals: [novalue]\n"},
            "invalid literal",
        ),
        ({"kustomization.yaml": "configMapGenerator:\n- literals: [a=1]\n"}, "must have a name"),
        (
            {"kustomization.yaml": "configMapGenerator:\n- name: x\n  envs: [e.env]\n", "e.env": b"A=\xff\n"},
            "UTF-8",
        ),
    ],
)
def test_differential_errors(tmp_path: Path, files: dict[str, str | bytes], message: str) -> None:
    (tmp_path / "out.txt").write_text("x")
    base = write(tmp_path / "k", files)
    kustomize_fails(base)
    with pytest.raises(KustomizeError, match=message):
        ours(base)


@needs_kubectl
@pytest.mark.kubectl
def test_differential_keys_are_not_validated(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"kustomization.yaml": "configMapGenerator:\n- name: x\n  literals: ['a b=1', 'c/d=2', '.=3']\n"},
    )
    assert_same(tmp_path)


BEHAVIOR_CASES: dict[str, tuple[str, str, str]] = {
    # name: (extra base option line, extra overlay option line, behavior)
    "merge": ("", "", "merge"),
    "replace": ("", "", "replace"),
    "merge-overlay-nohash": ("", "disableNameSuffixHash: true", "merge"),
    "merge-base-nohash": ("disableNameSuffixHash: true", "", "merge"),
    "replace-base-nohash": ("disableNameSuffixHash: true", "", "replace"),
    "replace-overlay-nohash": ("", "disableNameSuffixHash: true", "replace"),
}


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.parametrize("case", sorted(BEHAVIOR_CASES))
def test_differential_behavior(tmp_path: Path, case: str) -> None:
    base_option, overlay_option, behavior = BEHAVIOR_CASES[case]
    base = write(
        tmp_path / "base",
        {
            "kustomization.yaml": "configMapGenerator:\n- name: cfg\n  namespace: ns\n  literals: [a=1, b=2]\n"
            "  options:\n    labels: {from: base, keep: 'yes'}\n    annotations: {note: base}\n"
            f"    {base_option}\n",
        },
    )
    overlay = write(
        tmp_path / "overlay",
        {
            "kustomization.yaml": "resources: [../base]\nconfigMapGenerator:\n- name: cfg\n  namespace: ns\n"
            f"  behavior: {behavior}\n  literals: [b=two, c=3]\n"
            f"  options:\n    labels: {{from: overlay}}\n    {overlay_option}\n",
        },
    )
    base_kust = load_one((base / "kustomization.yaml").read_text())
    overlay_kust = load_one((overlay / "kustomization.yaml").read_text())
    old, old_hash = gen.generate_configmap(
        base_kust["configMapGenerator"][0], base_dir=base, root_dir=base, global_options=None
    )
    new, new_hash = gen.generate_configmap(
        overlay_kust["configMapGenerator"][0], base_dir=overlay, root_dir=overlay, global_options=None
    )
    obj = gen.apply_behavior(old, new, behavior)
    if gen.merged_needs_hash(old_hash, new_hash, behavior):
        obj["metadata"]["name"] += "-" + content_hash(obj)
    assert [obj] == kustomize(overlay)


@needs_kubectl
@pytest.mark.kubectl
def test_differential_merge_into_plain_resource(tmp_path: Path) -> None:
    base = write(
        tmp_path / "base",
        {
            "kustomization.yaml": "resources: [cm.yaml]\n",
            "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n  labels: {a: b}\ndata:\n  x: '1'\n  n: 5\n",
        },
    )
    overlay = write(
        tmp_path / "overlay",
        {
            "kustomization.yaml": "resources: [../base]\nconfigMapGenerator:\n- name: plain\n  behavior: merge\n  literals: [y=2]\n"
        },
    )
    old = load_one((base / "cm.yaml").read_text())
    new, new_hash = gen.generate_configmap(
        load_one((overlay / "kustomization.yaml").read_text())["configMapGenerator"][0],
        base_dir=overlay,
        root_dir=overlay,
        global_options=None,
    )
    obj = gen.apply_behavior(old, new, "merge")
    assert not gen.merged_needs_hash(False, new_hash, "merge")
    assert [obj] == kustomize(overlay)


@needs_kubectl
@pytest.mark.kubectl
def test_differential_hash_after_name_prefix(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "namePrefix: pre-\nnameSuffix: -suf\nconfigMapGenerator:\n- name: cm\n  literals: [a=1]\n"
        },
    )
    [out] = kustomize(tmp_path)
    obj = cm({"name": "cm", "literals": ["a=1"]}, tmp_path)
    assert out["metadata"]["name"] == f"pre-cm-suf-{content_hash(obj)}"


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_broken_symlink_is_missing(tmp_path: Path) -> None:
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(KustomizeError, match="not found"):
        cm({"name": "x", "files": ["dangling"]}, tmp_path)
