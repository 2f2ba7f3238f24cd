"""The engine alone: CPU per event of ``Engine.reply_to``, in process, no HTTP.

Usage: .venv/bin/python bench/bench_engine.py

Builds the core on a temporary data dir and sends 2,000 users' events, every 5th a
``cmd:status`` button press, the rest texts: the seven everyday questions of bench_serve, then
the ~1,300 varied held-out questions (``--mix varied`` of bench_serve) twice (the first pass
meets every text for the first time). Prints CPU ms per event (process time) for each. The
engine runs on one thread in ``serve``: this is the part of serve's CPU per event that the
matcher, the steps and the features cost.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_serve import QUESTIONS, mix_questions  # noqa: E402
from bot.core.contract import Incoming  # noqa: E402
from bot.core.engine import Engine  # noqa: E402


def run(engine: Engine, questions: tuple[str, ...], n: int, first_id: int,
        users: int = 2_000) -> float:
    """CPU ms per event over ``n`` events."""
    t0 = time.process_time()
    for i in range(n):
        user = f"Ubench{i % users}"
        if i % 5 == 4:
            event = Incoming("line", user, user, action="cmd:status", kind="postback",
                             event_id=f"e{first_id + i}")
        else:
            event = Incoming("line", user, user, text=questions[i % len(questions)],
                             event_id=f"e{first_id + i}")
        engine.reply_to(event)
    return (time.process_time() - t0) / n * 1000


def main() -> int:
    os.environ["ELAAS_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-engine-")
    from handlers.app import build_core
    from handlers.settings import Settings

    core = build_core(Settings.from_env())
    core.warm_up()  # as serve does before it listens: a typed form label renders at once
    engine = core.engine
    varied = mix_questions("varied")
    run(engine, QUESTIONS, 2_000, 0)  # warm-up
    print(f"seven questions         {run(engine, QUESTIONS, 4_000, 10_000):.3f} ms/event")
    print(f"varied, first pass      {run(engine, varied, len(varied), 20_000):.3f} ms/event "
          f"({len(varied)} events)")
    print(f"varied, second pass     {run(engine, varied, len(varied), 40_000):.3f} ms/event")
    core.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
