"""kill -9 of a real ``serve`` under load: every event that got a 200 is answered exactly once."""

from __future__ import annotations

import random
from pathlib import Path

from tests.crashkit import crash_run


async def test_kill_9_under_load_loses_nothing_and_answers_once(tmp_path: Path) -> None:
    seed = random.randrange(10**6)
    report = await crash_run(tmp_path, rounds=3, seed=seed)
    assert report.kills == 3 and len(report.acked) > 50, (seed, report.log)
    assert report.lost == [], (seed, report.lost[:10], report.log)
    assert report.twice == [], (seed, report.twice[:10], report.log)
