"""The persistent cache store (core/cache.py): packs, their bounds, damage, concurrent writers."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from homeops.core import cache
from homeops.core.cache import blake2b


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(cache.ENV_DISABLE, raising=False)
    cache.reset()
    yield tmp_path / "xdg"
    cache.reset()


def test_pack_round_trip_and_location(xdg: Path) -> None:
    pack = cache.pack("parse", "t")
    assert pack is not None
    assert pack.path == str(xdg / "homeops" / "parse" / "t.pack")
    pack.put(b"k1", b"one")
    pack.put(b"k2", b"two" * 1000)
    assert pack.get(b"k1") == b"one"  # new entries answer before any flush
    cache.flush()
    assert (os.stat(pack.path).st_mode & 0o777) == 0o600
    assert (os.stat(os.path.dirname(pack.path)).st_mode & 0o777) == 0o700
    cache.reset()
    again = cache.pack("parse", "t")
    assert again is not None and again is not pack
    assert again.get(b"k1") == b"one"
    assert again.get(b"k2") == b"two" * 1000
    assert again.get(b"k3") is None
    assert (again.hits, again.misses) == (2, 1)


def test_disabled_by_environment_and_switch(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV_DISABLE, "1")
    assert cache.pack("parse", "t") is None
    monkeypatch.delenv(cache.ENV_DISABLE)
    cache.disable()
    assert cache.pack("parse", "t") is None
    cache.reset()
    assert cache.pack("parse", "t") is not None


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"garbage" + data[7:],  # the magic
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: b"",  # empty
        lambda data: data[:40] + bytes(b ^ 0xFF for b in data[40:60]) + data[60:],  # the index
    ],
)
def test_a_damaged_pack_reads_as_empty_and_is_rewritten(xdg: Path, damage: object) -> None:
    pack = cache.pack("build", "t")
    assert pack is not None
    pack.put(b"key", b"value" * 100)
    cache.flush()
    path = Path(pack.path)
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    cache.reset()
    damaged = cache.pack("build", "t")
    assert damaged is not None
    assert damaged.get(b"key") is None  # ignored, never an error
    damaged.put(b"key", b"rebuilt")
    cache.flush()
    assert _parsed(path) and not Path(damaged.journal_path).exists()  # rewritten, not appended to
    cache.reset()
    rebuilt = cache.pack("build", "t")
    assert rebuilt is not None and rebuilt.get(b"key") == b"rebuilt"


def _parsed(path: Path) -> bool:
    return cache._parse(path.read_bytes()) is not None


def test_a_journal_damaged_in_its_middle_is_merged_away_by_the_next_run_that_writes(xdg: Path) -> None:
    first = _run_with("d", {b"base": b"b" * 100})
    _run_with("d", {b"one": b"1" * 100})
    _run_with("d", {b"two": b"2" * 100})
    journal = Path(first.journal_path)
    data = bytearray(journal.read_bytes())
    data[2] ^= 0xFF  # the first record's magic: the second cannot be found either
    journal.write_bytes(bytes(data))
    assert _read_back("d", [b"one", b"two", b"base"]) == [None, None, b"b" * 100]
    _run_with("d", {b"three": b"3"})
    assert not journal.exists()  # appending after the damage would be lost: merged instead
    assert _read_back("d", [b"three", b"base"]) == [b"3", b"b" * 100]


def test_a_damaged_entry_fails_its_checksum(xdg: Path) -> None:
    pack = cache.pack("build", "t")
    assert pack is not None
    pack.put(b"a", b"A" * 64)
    pack.put(b"b", b"B" * 64)
    cache.flush()
    path = Path(pack.path)
    data = bytearray(path.read_bytes())
    where = data.find(b"A" * 64)
    data[where + 10] ^= 0x01
    path.write_bytes(bytes(data))
    cache.reset()
    damaged = cache.pack("build", "t")
    assert damaged is not None
    assert damaged.get(b"a") is None
    assert damaged.get(b"b") == b"B" * 64


def test_entries_of_other_code_are_not_read(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = cache.pack("parse", "t")
    assert pack is not None
    pack.put(b"k", b"v")
    cache.flush()
    cache.reset()
    monkeypatch.setattr(cache, "_fingerprint", b"\0" * 16)  # as if homeops had changed
    other = cache.pack("parse", "t")
    assert other is not None and other.get(b"k") is None


def test_a_pack_keeps_within_its_bound_dropping_the_least_recently_used(xdg: Path) -> None:
    first = cache.pack("build", "lru", max_bytes=3000)
    assert first is not None
    first.put(b"old", b"o" * 1000)
    first.put(b"kept", b"k" * 1000)
    cache.flush()
    cache.reset()
    second = cache.pack("build", "lru", max_bytes=3000)
    assert second is not None
    assert second.get(b"kept") == b"k" * 1000  # used in this run: newer than "old"
    second.put(b"new", b"n" * 1500)
    cache.flush()
    cache.reset()
    third = cache.pack("build", "lru", max_bytes=3000)
    assert third is not None
    assert third.get(b"new") is not None and third.get(b"kept") is not None
    assert third.get(b"old") is None
    assert os.path.getsize(third.path) < 3000 + 1000


def test_the_areas_keep_within_the_global_bound(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    older = xdg / "homeops" / "replay" / "older.answer"
    newer = xdg / "homeops" / "build" / "newer.pack"
    for path in (older, newer):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 600_000)
    os.utime(older, (1_000_000, 1_000_000))
    charts = xdg / "homeops" / "blobs" / "sha256" / "chart"  # the chart cache is not this cache's
    charts.parent.mkdir(parents=True)
    charts.write_bytes(b"c" * 600_000)
    monkeypatch.setenv(cache.ENV_MAX_MB, "1")
    cache.enforce_bound()
    assert not older.exists()
    assert newer.exists() and charts.exists()


_WRITER = """
import sys
from homeops.core import cache
from homeops.core.cache import blake2b
me = int(sys.argv[1])
for round in range(15):
    pack = cache.pack("build", "shared")
    for i in range(20):
        pack.put(f"{me}-{round}-{i}".encode(), (f"{me}:{round}:{i};" * 50).encode())
    cache.flush()
    cache.reset()
"""


def test_concurrent_writers_always_leave_a_whole_pack(xdg: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(xdg)}
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(n)], env=env) for n in range(4)]
    assert [w.wait() for w in writers] == [0, 0, 0, 0]
    cache.reset()
    pack = cache.pack("build", "shared")
    assert pack is not None
    pack._load()
    keys = {*pack._index, *pack._journal_index}
    assert len(keys) > 20 * 15, "the pack and its journal are readable, most runs' entries in them"
    for key in keys:
        me, round_, i = key.decode().split("-")
        assert pack.get(key) == (f"{me}:{round_}:{i};" * 50).encode()  # every entry whole and right
    leftovers = [
        p.name
        for p in (xdg / "homeops" / "build").iterdir()
        if p.name not in ("shared.pack", "shared.pack.log")
    ]
    assert leftovers == []  # no temporary file, no journal taken for a merge left behind


def _run_with(pack_name: str, entries: dict[bytes, bytes], max_bytes: int = 128 * 1024 * 1024) -> cache.Pack:
    """A run: the pack as a new process opens it, ``entries`` put, the cache written back."""
    cache.reset()
    pack = cache.pack("build", pack_name, max_bytes=max_bytes)
    assert pack is not None
    for key, value in entries.items():
        pack.put(key, value)
    cache.flush()
    return pack


def _read_back(pack_name: str, keys: list[bytes]) -> list[bytes | None]:
    cache.reset()
    pack = cache.pack("build", pack_name)
    assert pack is not None
    return [pack.get(k) for k in keys]


def test_a_run_that_learnt_a_little_appends_it_to_the_journal(xdg: Path) -> None:
    first = _run_with("j", {f"k{i}".encode(): b"v" * 1000 for i in range(50)})
    pack_file = Path(first.path)
    before = (pack_file.read_bytes(), pack_file.stat().st_ino)
    assert not Path(first.journal_path).exists()  # the first run writes the pack itself
    _run_with("j", {b"k3": b"changed", b"new": b"n" * 10})
    assert (pack_file.read_bytes(), pack_file.stat().st_ino) == before  # the pack is not rewritten
    journal = Path(first.journal_path)
    assert 0 < journal.stat().st_size < 200 and (journal.stat().st_mode & 0o777) == 0o600
    assert _read_back("j", [b"k3", b"new", b"k4", b"absent"]) == [b"changed", b"n" * 10, b"v" * 1000, None]


def test_the_journal_is_merged_into_the_pack_once_it_outgrows_its_share(
    xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "JOURNAL_MIN_BYTES", 3000)
    first = _run_with("m", {f"k{i}".encode(): b"v" * 100 for i in range(40)})  # a pack of ~4 KB
    journal = Path(first.journal_path)
    _run_with("m", {b"a": b"A" * 1500, b"k0": b"newer"})
    assert journal.exists()
    _run_with("m", {b"b": b"B" * 1500})  # journal + these > max(3000, half the pack): merged
    assert not journal.exists()
    assert _read_back("m", [b"a", b"b", b"k0", b"k39"]) == [b"A" * 1500, b"B" * 1500, b"newer", b"v" * 100]
    assert [p.name for p in journal.parent.iterdir()] == ["m.pack"]


def test_a_torn_journal_record_is_ignored_and_what_came_before_it_is_read(xdg: Path) -> None:
    first = _run_with("t", {b"base": b"b" * 100})
    _run_with("t", {b"one": b"1" * 100})
    journal = Path(first.journal_path)
    whole = journal.read_bytes()
    _run_with("t", {b"two": b"2" * 100})
    journal.write_bytes(journal.read_bytes()[: len(whole) + 50])  # the second record cut (a killed run)
    assert _read_back("t", [b"base", b"one", b"two"]) == [b"b" * 100, b"1" * 100, None]
    damaged = bytearray(journal.read_bytes())
    damaged[len(whole) - 3] ^= 0xFF  # a byte of the first record's value
    journal.write_bytes(bytes(damaged[: len(whole)]))
    assert _read_back("t", [b"base", b"one"]) == [b"b" * 100, None]  # its checksum fails: a miss


def _record(key: bytes, value: bytes, fingerprint: bytes) -> bytes:
    check = blake2b(value, digest_size=8).digest()
    return (
        struct.pack(cache._RECORD_FORMAT, cache._RECORD_MAGIC, fingerprint, len(key), len(value), check)
        + key
        + value
    )


def test_journal_records_of_other_code_are_skipped(xdg: Path) -> None:
    first = _run_with("o", {b"base": b"b"})
    with open(first.journal_path, "ab") as journal:  # an older homeops appended, then this one
        journal.write(_record(b"old", b"by other code", b"\1" * 16))
        journal.write(_record(b"new", b"by this code", cache.code_fingerprint()))
    assert _read_back("o", [b"old", b"new", b"base"]) == [None, b"by this code", b"b"]


def test_emitted_documents_are_kept_by_content(xdg: Path) -> None:
    """``dump_all_kept`` prints what ``dump_all`` prints, cold and warm; a changed object (even only
    a value's type) is written again, never answered from the text of the object it replaced."""
    from homeops.core import yamlemit

    objects = [{"kind": "A", "spec": {"count": 1, "s": "x y"}}, {"kind": "B", "items": ["1", 2, None]}]
    assert yamlemit.dump_all_kept(objects) == yamlemit.dump_all(objects)
    cache.flush()
    cache.reset()
    store = cache.pack("render", "emitted")
    assert store is not None
    assert yamlemit.dump_all_kept(objects) == yamlemit.dump_all(objects)
    assert (store.hits, store.misses) == (2, 0)  # both documents from the kept texts
    changed = [{"kind": "A", "spec": {"count": "1", "s": "x y"}}, objects[1]]  # 1 became "1"
    text = yamlemit.dump_all_kept(changed)
    assert text == yamlemit.dump_all(changed) and 'count: "1"' in text
    assert (store.hits, store.misses) == (3, 1)
