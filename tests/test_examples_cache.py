"""The labelled examples' disk cache and the split normalising of a first start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.qa import examples
from bot.qa.knowledge import KnowledgeBase
from bot.qa.matching import load_language
from handlers.app import default_knowledge_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def language() -> tuple[KnowledgeBase, object]:
    return load_language(default_knowledge_dir().resolve())


def _texts(kb: KnowledgeBase, n: int) -> list[str]:
    return [q for q, _ in kb.examples[:n]]


def test_the_cache_is_written_once_and_read_back_by_the_next_call(
        language: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb, pipeline = language
    monkeypatch.setenv("ELAAS_CACHE_DIR", str(tmp_path))
    texts = _texts(kb, 40)
    first = examples.normalized_examples(kb, pipeline, texts)
    files = list(tmp_path.glob("elaas-examples-*.json"))
    assert len(files) == 1

    def no_normalizing(*_: object) -> list:
        raise AssertionError("normalised again instead of read from the cache")

    monkeypatch.setattr(examples, "normalize_all", no_normalizing)
    assert examples.normalized_examples(kb, pipeline, texts) == first
    assert first == [pipeline.normalize(t) for t in texts]


def test_a_damaged_or_foreign_cache_file_is_ignored_and_rewritten(
        language: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb, pipeline = language
    monkeypatch.setenv("ELAAS_CACHE_DIR", str(tmp_path))
    texts = _texts(kb, 30)
    expected = [pipeline.normalize(t) for t in texts]
    examples.normalized_examples(kb, pipeline, texts)
    (path,) = tmp_path.glob("elaas-examples-*.json")
    for damage in ("{not json", json.dumps({"key": "someone else's", "tokens": []}),
                   json.dumps({"key": json.loads(path.read_text())["key"], "tokens": [["x"]]})):
        path.write_text(damage, encoding="utf-8")
        assert examples.normalized_examples(kb, pipeline, texts) == expected
        assert json.loads(path.read_text(encoding="utf-8"))["tokens"][0] == list(
            expected[0].tokens)


def test_an_unwritable_cache_folder_only_costs_time(
        language: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb, pipeline = language
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ELAAS_CACHE_DIR", str(blocker / "cache"))
    texts = _texts(kb, 20)
    assert examples.normalized_examples(kb, pipeline, texts) == [
        pipeline.normalize(t) for t in texts]


def test_a_multi_threaded_process_normalises_without_forking(
        language: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    kb, pipeline = language
    monkeypatch.setattr(examples.threading, "active_count", lambda: 2)

    def no_fork() -> int:
        raise AssertionError("forked with other threads running")

    monkeypatch.setattr(examples.os, "fork", no_fork)
    texts = _texts(kb, examples.SPLIT_MIN)
    assert examples.normalize_all(pipeline, texts) == [pipeline.normalize(t) for t in texts]


SPLIT_SCRIPT = """
import json, os, sys
from bot.qa import examples
from bot.qa.matching import load_language
from handlers.app import default_knowledge_dir
kb, pipeline = load_language(default_knowledge_dir().resolve())
texts = [q for q, _ in kb.examples]
forks = []
real_fork = os.fork
def counting_fork():
    forks.append(1)
    return real_fork()
os.fork = counting_fork
if sys.argv[1] == "fail":  # the child dies before writing: the parent does its half too
    real_normalize = pipeline.normalize
    parent = os.getpid()
    def dying(text):
        if os.getpid() != parent:
            os._exit(3)
        return real_normalize(text)
    pipeline.normalize = dying
split = examples.normalize_all(pipeline, texts)
print(json.dumps({"forks": len(forks), "pid": os.getpid(),
                  "same": split == [pipeline.normalize(t) for t in texts], "n": len(split)}))
"""


@pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2,
                    reason="the split needs fork and two cores")
@pytest.mark.parametrize("mode", ["ok", "fail"])
def test_the_first_start_splits_the_work_with_a_child_and_gets_the_same_tokens(
        mode: str) -> None:
    out = subprocess.run([sys.executable, "-c", SPLIT_SCRIPT, mode], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True)
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1, out.stdout  # the child printed nothing of its own
    result = json.loads(lines[0])
    assert result["forks"] == 1 and result["same"] and result["n"] > examples.SPLIT_MIN


async def test_serve_never_forks_inside_its_event_loop(language: tuple,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    kb, pipeline = language

    def no_fork() -> int:
        raise AssertionError("forked inside a running event loop")

    monkeypatch.setattr(examples.os, "fork", no_fork)
    monkeypatch.setattr(examples.threading, "active_count", lambda: 1)
    texts = _texts(kb, examples.SPLIT_MIN)
    assert examples.normalize_all(pipeline, texts) == [pipeline.normalize(t) for t in texts]
