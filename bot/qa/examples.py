"""The labelled examples' normalised forms (and the topics' phrasings and keywords), kept in a
disk cache between processes.

Normalising the ~3,700 examples of knowledge/examples/ (newmm) takes about 1 s of CPU, twice the
rest of a cold start. Their tokens depend only on the examples and on the pipeline's inputs
(synonyms, English lexicon, keywords, bot/core/text.py, pythainlp): keyed by a hash of those,
they are written once to ``ELAAS_CACHE_DIR`` (default: ``~/.cache/elaas-bot``) and
read back by the next process. A cache that cannot be read or written is simply not used.
On a first start the work is split with a forked child when the process has a single thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
from importlib import metadata
from pathlib import Path

from bot.core import text as text_module
from bot.core.text import Normalized, TextPipeline
from bot.qa.knowledge import KnowledgeBase

VERSION = 1
SPLIT_MIN = 500  # fewer texts are not worth a fork


def _key(kb: KnowledgeBase, texts: list[str]) -> str:
    h = hashlib.sha256()
    try:
        thai = metadata.version("pythainlp")
    except metadata.PackageNotFoundError:
        thai = "?"
    inputs = (VERSION, thai, sorted(kb.synonyms.items()), kb.english_stop, kb.english_plain,
              sorted({k for t in kb.topics for k in t.keywords}), texts)
    h.update(json.dumps(inputs, ensure_ascii=False).encode())
    h.update(Path(text_module.__file__).read_bytes())
    return h.hexdigest()


def cache_dir() -> Path:
    """Where the bot's and its tools' disk caches live: ``ELAAS_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/elaas-bot`` (``~/.cache/elaas-bot``).

    Not the shared temporary directory: another local user could plant a file there.
    """
    base = os.environ.get("ELAAS_CACHE_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "elaas-bot"
    return Path(base)


def _path(key: str) -> Path:
    return cache_dir() / f"elaas-examples-{key[:24]}.json"


def normalized_examples(kb: KnowledgeBase, pipeline: TextPipeline,
                        texts: list[str]) -> list[Normalized]:
    """``pipeline.normalize`` of each text, from the cache when it has them."""
    key = _key(kb, texts)
    path = _path(key)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") == key and len(data["tokens"]) == len(texts):
            return [Normalized(tuple(toks)) for toks in data["tokens"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    out = normalize_all(pipeline, texts)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, "tokens": [list(n.tokens) for n in out]},
                                  ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
    return out


def normalize_all(pipeline: TextPipeline, texts: list[str]) -> list[Normalized]:
    """``pipeline.normalize`` of each text, half of them in a forked child when that is safe
    (a single-threaded process on two or more cores, outside an event loop: the CLI, not
    ``serve``): a first start takes ~0.3 s less."""
    if (len(texts) < SPLIT_MIN or not hasattr(os, "fork") or threading.active_count() > 1
            or (os.cpu_count() or 1) < 2 or _in_event_loop()):
        return [pipeline.normalize(t) for t in texts]
    half = len(texts) // 2
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the second half, as JSON down the pipe, then gone
        code = 1
        try:
            os.close(read_end)
            tokens = [list(pipeline.normalize(t).tokens) for t in texts[half:]]
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(json.dumps(tokens, ensure_ascii=False).encode())
            code = 0
        finally:
            os._exit(code)  # never the parent's exit handlers or buffered output
    os.close(write_end)
    out = [pipeline.normalize(t) for t in texts[:half]]
    with os.fdopen(read_end, "rb") as pipe:  # read before waiting: the child may fill the pipe
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    try:
        rest = json.loads(data) if os.waitstatus_to_exitcode(status) == 0 else None
    except ValueError:
        rest = None
    if not isinstance(rest, list) or len(rest) != len(texts) - half:  # the child failed
        return out + [pipeline.normalize(t) for t in texts[half:]]
    return out + [Normalized(tuple(toks)) for toks in rest]


def _in_event_loop() -> bool:
    """A running asyncio loop (``serve``): its file descriptors and signal handlers are not
    handed to a child."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
