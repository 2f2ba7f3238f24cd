"""The summary log of answered events (one INFO line per interval, not one per event)."""

from __future__ import annotations

import logging

import pytest

from handlers.tally import Tally


def test_one_line_per_interval_with_counts_and_times(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="handlers.pipeline")
    tally = Tally(every=60.0)
    t0 = tally.since
    tally.add("line", "reply", 0.002, 0.010, t0 + 1)
    tally.add("line", "reply", 0.004, 0.030, t0 + 2)
    tally.add("telegram", "send", 0.003, 0.020, t0 + 3)
    assert not caplog.records  # nothing before the interval is over
    tally.add("line", "push", 0.003, 0.040, t0 + 61)
    [record] = caplog.records
    text = record.getMessage()
    assert record.levelno == logging.INFO
    assert text.startswith("4 event(s) answered in 61 s (")
    assert "line push 1, line reply 2, telegram send 1" in text
    assert "engine mean 3.0 ms, longest 4 ms" in text
    assert "sending mean 25.0 ms, longest 40 ms" in text
    caplog.clear()
    tally.add("line", "reply", 0.001, 0.001, t0 + 62)  # a new interval: counted from zero
    tally.flush(t0 + 70)
    [record] = caplog.records
    assert record.getMessage().startswith("1 event(s) answered in 9 s (line reply 1)")


def test_flush_without_events_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="handlers.pipeline")
    Tally().flush()
    assert not caplog.records
