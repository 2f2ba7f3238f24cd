"""One contract test run against both stores, plus the TinyDB file's on-disk promises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.store import MemoryStore, Store, StoreError, TinyStore, lock_data_dir


@pytest.fixture(params=["memory", "tinydb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return MemoryStore() if request.param == "memory" else TinyStore(tmp_path)


def test_put_get_roundtrip_thai(store: Store) -> None:
    t = store.table("sessions")
    assert t.get("x") is None
    t.put("line:U1", {"name": "สมศรี", "n": 1, "nested": {"a": [1, 2]}})
    assert t.get("line:U1") == {"name": "สมศรี", "n": 1, "nested": {"a": [1, 2]}}
    assert len(t) == 1


def test_put_replaces_and_returns_copies(store: Store) -> None:
    t = store.table("a")
    t.put("k", {"v": 1})
    got = t.get("k")
    assert got is not None
    got["v"] = 99  # mutating a returned copy must not change the store
    t.put("k", {"v": 2})
    assert t.get("k") == {"v": 2}
    assert len(t) == 1


def test_put_many_all_delete_and_order(store: Store) -> None:
    t = store.table("lao/01234567/ledger")
    t.put_many({f"{i:03d}": {"i": i} for i in range(5)})
    assert list(t.all()) == ["000", "001", "002", "003", "004"]
    t.delete("002")
    t.delete("missing")
    assert list(t.all()) == ["000", "001", "003", "004"]
    assert store.tables("lao/") == ["lao/01234567/ledger"]


def test_values_must_be_json(store: Store) -> None:
    t = store.table("a")
    with pytest.raises(TypeError):
        t.put("k", {"v": object()})
    assert t.get("k") is None


def test_bad_table_names_refused(store: Store) -> None:
    for name in ("../etc", "A/B", "", "x//y"):
        with pytest.raises(StoreError):
            store.table(name)


def test_tinydb_file_is_utf8_with_schema_and_survives_reopen(tmp_path: Path) -> None:
    s = TinyStore(tmp_path)
    s.table("laos").put("01234567", {"name": "อบต.ทดสอบ"})
    s.close()
    raw = (tmp_path / "laos.json").read_text(encoding="utf-8")
    assert "อบต.ทดสอบ" in raw and "\\u0e" not in raw
    assert json.loads(raw)["_meta"]["1"]["schema"] == 1
    assert TinyStore(tmp_path).table("laos").get("01234567") == {"name": "อบต.ทดสอบ"}
    assert not list(tmp_path.glob(".tmp-*"))


def test_failed_write_leaves_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = TinyStore(tmp_path)
    t = s.table("a")
    t.put("k", {"v": 1})
    before = (tmp_path / "a.json").read_bytes()

    def boom(*a: object, **k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bot.store.os.replace", boom)
    with pytest.raises(OSError):
        t.put("k2", {"v": 2})
    monkeypatch.undo()
    assert (tmp_path / "a.json").read_bytes() == before
    assert not list(tmp_path.glob(".tmp-*"))
    assert TinyStore(tmp_path).table("a").all() == {"k": {"v": 1}}


def test_second_owner_refused(tmp_path: Path) -> None:
    lock = lock_data_dir(tmp_path)
    try:
        with pytest.raises(StoreError, match="already owns"):
            lock_data_dir(tmp_path)
    finally:
        lock.release()
    lock_data_dir(tmp_path).release()


def test_corrupt_file_named(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match=r"a\.json"):
        TinyStore(tmp_path).table("a")


def test_delete_many_in_one_write(store: Store) -> None:
    t = store.table("kb/gaps")
    t.put_many({f"k{i}": {"i": i} for i in range(5)})
    t.delete_many(["k1", "k3", "missing", "k1"])
    assert list(t.all()) == ["k0", "k2", "k4"] and len(t) == 3
    t.delete_many([])
    assert len(t) == 3
