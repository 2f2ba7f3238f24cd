"""bench/fit_matcher.py keeps its feature cache in the user's cache directory, keyed by what the
features are computed from: never in the shared temporary directory, never another checkout's."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from bot.qa.examples import cache_dir

ROOT = Path(__file__).resolve().parent.parent


def fit_matcher():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("fit_matcher", ROOT / "bench" / "fit_matcher.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fit_matcher", module)
    spec.loader.exec_module(module)
    return module


def checkout(tmp: Path, name: str) -> Path:
    """A copy of what the features depend on, as another checkout would hold it."""
    root = tmp / name
    for part in ("knowledge", "bot/qa", "tests/data"):
        shutil.copytree(ROOT / part, root / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (root / "bot" / "core").mkdir(parents=True)
    shutil.copy(ROOT / "bot" / "core" / "text.py", root / "bot" / "core" / "text.py")
    return root


def test_feature_cache_is_in_the_configured_cache_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELAAS_CACHE_DIR", str(tmp_path / "cache"))
    fm = fit_matcher()
    path = fm.feature_cache(ROOT, "kb")
    assert path.parent == cache_dir() == tmp_path / "cache"
    assert Path(tempfile.gettempdir()) / "elaas-fit-matcher.kb.pkl" != path
    assert fm.feature_cache(ROOT, "kb") == path  # stable while nothing changes
    assert fm.feature_cache(ROOT, "words,chars,bayes") != path


def test_two_checkouts_do_not_share_a_stale_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELAAS_CACHE_DIR", str(tmp_path / "cache"))
    fm = fit_matcher()
    a, b = checkout(tmp_path, "a"), checkout(tmp_path, "b")
    assert fm.feature_cache(a, "kb") == fm.feature_cache(b, "kb")  # same inputs, same features
    topics = b / "knowledge" / "topics" / "status.yaml"
    topics.write_text(topics.read_text(encoding="utf-8").replace(
        "    - ข้อมูลหาย\n", "    - ข้อมูลหายหมดเลยไหม\n", 1), encoding="utf-8")
    assert fm.feature_cache(a, "kb") != fm.feature_cache(b, "kb")
    matching = a / "bot" / "qa" / "matching.py"
    before = fm.feature_cache(a, "kb")
    matching.write_text(matching.read_text(encoding="utf-8") + "\n# changed\n",
                        encoding="utf-8")
    assert fm.feature_cache(a, "kb") != before
