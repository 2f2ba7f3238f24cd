"""The labelled clerk questions of knowledge/examples/: the matcher's training examples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# Called with (file, line, topic, message) for each problem found.
Report = Callable[[Path, int, str, str], None]

EXAMPLES_HEADERS = ("question\ttopic", "english\ttopic", "thai\tenglish\ttopic")
OFF_TOPIC_LABEL = "none"
# How the question sets mark an off-topic question.
OFF_TOPIC_MARKS = ("none", "-", "")


def read_examples(folder: Path, topic_ids: set[str], report: Report
                  ) -> tuple[tuple[str, str], ...]:
    """``folder``/*.tsv: a ``question<TAB>topic`` or ``english<TAB>topic`` header (or
    ``thai<TAB>english<TAB>topic``: both columns are examples), then one question a line; an
    off-topic one is labelled ``none`` (or ``-``). A question met again is taken once."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for path in sorted(folder.glob("*.tsv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        header = lines[0].strip() if lines else ""
        if header not in EXAMPLES_HEADERS:
            report(path, 1, "-", f"needs one of the headers {EXAMPLES_HEADERS!r}")
            continue
        width = header.count("\t") + 1
        for number, line in enumerate(lines[1:], start=2):
            cells = [part.strip() for part in line.split("\t")]
            if not any(cells):
                continue
            if len(cells) != width:
                report(path, number, "-", f"needs {width} tab-separated columns")
                continue
            topic = OFF_TOPIC_LABEL if cells[-1] in OFF_TOPIC_MARKS else cells[-1]
            if topic != OFF_TOPIC_LABEL and topic not in topic_ids:
                report(path, number, topic, f"unknown topic {topic!r} (a topic id or 'none')")
                continue
            for question in cells[:-1]:
                if question and question not in seen:
                    seen.add(question)
                    out.append((question, topic))
    return tuple(out)
