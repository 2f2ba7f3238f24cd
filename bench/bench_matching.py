"""Matching figures: accuracy on tests/data/questions.tsv (tuning set) and
questions_holdout.tsv (written apart from the knowledge base, never tuned on), latency (also at
1,000 phrasings), and the cold start of `elaas-bot ask`.

Run: .venv/bin/python bench/bench_matching.py [-v]"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge import KnowledgeBase, load_knowledge  # noqa: E402
from bot.matching import Matcher, pipeline_for  # noqa: E402


def load_questions(path: Path) -> list[tuple[str, str | None]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if not line.strip():
            continue
        q, _, topic = line.partition("\t")
        rows.append((q, None if topic.strip() in ("-", "") else topic.strip()))
    return rows


def accuracy(matcher: Matcher, rows: list[tuple[str, str | None]], verbose: bool) -> None:
    inscope = [(q, t) for q, t in rows if t]
    oos = [q for q, t in rows if not t]
    right = suggest_hit = wrong = none = 0
    for q, t in inscope:
        r = matcher.match(q)
        if r.topic == t:
            right += 1
        elif r.topic is None and r.outcome == "suggest" and t in [s.topic for s in r.ranked]:
            suggest_hit += 1
            if verbose:
                print(f"  suggest  {t:22} <- {q}   {[(s.topic, s.score) for s in r.ranked]}")
        elif r.topic is None:
            none += 1
            if verbose:
                print(f"  miss     {t:22} <- {q}   {[(s.topic, s.score) for s in r.ranked]}")
        else:
            wrong += 1
            if verbose:
                print(f"  WRONG    {t:22} <- {q}   got {r.topic} "
                      f"{[(s.topic, s.score) for s in r.ranked]}")
    oos_ok = 0
    for q in oos:
        r = matcher.match(q)
        if r.topic is None:
            oos_ok += 1
        elif verbose:
            print(f"  OOS->    {r.topic:22} <- {q} ({r.score})")
    n = len(inscope)
    print(f"in-scope questions: {n}")
    print(f"  top-1 correct:            {right}/{n} = {100 * right / n:.1f}%")
    print(f"  in 'did you mean' list:   {suggest_hit}/{n} = {100 * suggest_hit / n:.1f}%")
    print(f"  no topic (out of scope):  {none}/{n}")
    print(f"  confidently wrong:        {wrong}/{n} = {100 * wrong / n:.1f}%")
    print(f"out-of-scope questions: {len(oos)}; given no topic: {oos_ok}/{len(oos)} = "
          f"{100 * oos_ok / max(1, len(oos)):.1f}%")


def latency(matcher: Matcher, questions: list[str], label: str) -> None:
    # Distinct strings each round so the normalisation cache does not flatter the figure.
    times = []
    for i in range(3):
        for q in questions:
            q2 = f"{q} {i}" if i else q
            t = time.perf_counter()
            matcher.match(q2)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p50 = statistics.median(times)
    p99 = times[int(len(times) * 0.99) - 1]
    print(f"latency {label}: {matcher.size} phrasings, {len(times)} questions: "
          f"p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {times[-1]:.3f} ms")


def scaled(kb: KnowledgeBase, target: int) -> KnowledgeBase:
    """The knowledge base plus synthetic topics until it has ``target`` phrasings."""
    rng = random.Random(7)
    words = [w for t in kb.topics for p in t.phrasings for w in p.split()] or ["ระบบ"]
    topics = list(kb.topics)
    have = sum(len(t.phrasings) + 1 for t in topics)
    i = 0
    while have < target:
        phr = tuple(" ".join(rng.sample(words, k=min(len(words), rng.randint(3, 7))))
                    for _ in range(10))
        topics.append(replace(kb.topics[0], id=f"synthetic.t{i}", title=f"สังเคราะห์ {i}",
                              phrasings=phr, keywords=(), related=()))
        have += len(phr) + 1
        i += 1
    return replace(kb, topics=tuple(topics))


def cold_start() -> None:
    exe = ROOT / ".venv" / "bin" / "elaas-bot"
    cmd = [str(exe) if exe.exists() else "elaas-bot", "ask", "--json", "อีลาสยังล่มอยู่ไหม"]
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        runs.append(time.perf_counter() - t)
    print(f"cold start `elaas-bot ask --json`: median {statistics.median(runs):.2f} s, "
          f"max {max(runs):.2f} s over {len(runs)} runs")


def main() -> None:
    verbose = "-v" in sys.argv
    kb = load_knowledge()
    pipeline = pipeline_for(kb)
    matcher = Matcher(kb, pipeline)
    rows: list[tuple[str, str | None]] = []
    for name in ("questions.tsv", "questions_holdout.tsv"):
        path = ROOT / "tests" / "data" / name
        if path.exists():
            print(f"== {name}")
            part = load_questions(path)
            accuracy(matcher, part, verbose)
            rows += part
    qs = [q for q, _ in rows]
    latency(matcher, qs, "shipped KB")
    big = scaled(kb, 1000)
    latency(Matcher(big, pipeline), qs, "KB scaled")
    cold_start()


if __name__ == "__main__":
    main()
