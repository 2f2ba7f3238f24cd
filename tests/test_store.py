"""One contract test run against memory, TinyDB and PostgreSQL, plus TinyDB's on-disk promises."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from bot.core.store import Doc, Store, StoreError, TinyStore, lock_data_dir


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


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


def test_update_reads_modifies_writes_and_deletes(store: Store) -> None:
    t = store.table("gaps")
    assert t.update("k", lambda old: {"n": (old or {}).get("n", 0) + 1}) == {"n": 1}
    assert t.update("k", lambda old: {"n": old["n"] + 1} if old else None) == {"n": 2}
    assert t.get("k") == {"n": 2}
    assert t.update("k", lambda old: None) is None
    assert t.get("k") is None and len(t) == 0


def test_update_that_raises_changes_nothing(store: Store) -> None:
    t = store.table("a")
    t.put("k", {"v": 1})

    def refuse(old: Doc | None) -> Doc:
        raise ValueError("no")

    with pytest.raises(ValueError):
        t.update("k", refuse)
    assert t.get("k") == {"v": 1}


def test_concurrent_updates_lose_nothing(store: Store) -> None:
    t = store.table("counter")

    def bump() -> None:
        for _ in range(25):
            t.update("c", lambda old: {"n": (old or {"n": 0})["n"] + 1})

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert t.get("c") == {"n": 100}


def test_update_many_changes_existing_docs_in_one_write(store: Store) -> None:
    t = store.table("notices/subscribers")
    t.put_many({"line:U1": {"ok": True}, "line:U2": {"ok": False}})
    n = t.update_many(["line:U1", "line:U2", "line:U9"], lambda key, d: {**d, "ok": False})
    assert n == 1  # U2 unchanged, U9 absent (not created)
    assert t.all() == {"line:U1": {"ok": False}, "line:U2": {"ok": False}}


def test_since_reports_writes_after_a_revision(store: Store) -> None:
    t = store.table("lao/01234567/ledger")
    assert t.since(0) == ({}, 0)
    t.put_many({"0000001": {"no": 1}, "0000002": {"no": 2}})
    docs, rev = t.since(0)
    assert docs == {"0000001": {"no": 1}, "0000002": {"no": 2}} and rev > 0
    assert t.since(rev) == ({}, rev)
    t.put("0000002", {"no": 2, "void": True})
    t.put("0000003", {"no": 3})
    docs, rev2 = t.since(rev)
    assert docs == {"0000002": {"no": 2, "void": True}, "0000003": {"no": 3}} and rev2 > rev


def test_transaction_serialises_blocks_on_one_lock(store: Store) -> None:
    t = store.table("seq")
    order: list[str] = []

    def take(name: str) -> None:
        for _ in range(10):
            with store.transaction("seq"):
                n = (t.get("last") or {"n": 0})["n"]
                t.put(f"{n + 1:04d}", {"by": name})
                t.put("last", {"n": n + 1})
                order.append(name)

    threads = [threading.Thread(target=take, args=(f"w{i}",)) for i in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert t.get("last") == {"n": 30}
    assert len(t) == 31 and len(order) == 30


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

    monkeypatch.setattr("bot.core.store.os.replace", boom)
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
