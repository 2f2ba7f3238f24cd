"""Where a labelled question set lives.

Sets the matcher learns from are knowledge/examples/*.tsv (the shipped examples); sets that
only measure it (written blind, never trained on) are tests/data/questions*.tsv.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = ROOT / "tests" / "data"
EXAMPLES = ROOT / "knowledge" / "examples"


def question_set(name: str) -> Path:
    """The path of question set ``name`` (a file name such as ``questions_blind6.tsv``)."""
    held = HELD_OUT / name
    return held if held.exists() else EXAMPLES / name
