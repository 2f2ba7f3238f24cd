"""Two questions in one message: the second one's topic, offered as a button beside the answer.

"ระบบกลับมายัง แล้วตอนนี้จ่ายเงินยังไง", "ขอฟอร์มสมุดเงินสดรับกับสมุดเงินสดจ่าย": the whole message
matches one topic; the other side of the joining word matches another.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.text import Normalized
from bot.qa.matching import Matcher

# The words that join two questions (normalised tokens), the words that make a side a question
# (a part of a token: newmm keeps "ต้องทำอะไร" whole; "...ยัง" at a side's end) or a request
# (which carries over a list of forms: "ขอ A กับ B").
JOINERS = frozenset({"แล้ว", "และ", "กับ", "ด้วย"})
ASKING = ("หรือไม่", "หรือยัง", "อย่างไร", "เมื่อไร", "อะไร", "ไหน", "ใคร", "ทำไม", "เท่าไ", "กี่")
REQUESTS = frozenset({"ขอ", "อยากได้"})
SECOND_PART = "\n\nอีกเรื่องที่ถามมา กดปุ่ม \"{title}\" ได้เลยค่ะ"


def second_part(matcher: Matcher, norm: Normalized, answered: str) -> str | None:
    """The topic of the other question when the message asks two, one on each side of a
    joining word, and the whole matched one of them (None: one question)."""
    tokens = norm.tokens
    for i, word in enumerate(tokens[:-1]):
        if word not in JOINERS or i == 0:
            continue
        first, second = tokens[:i], tokens[i + 1:]
        if any(w in second[0] for w in ASKING):
            continue  # "ขอโค้ดกับใคร": with whom, not a second question
        request = bool(REQUESTS & set(first))
        if not (request or _asks(first)):
            continue
        a, b = matcher.match(Normalized(first)), matcher.match(Normalized(second))
        if a.outcome != "answer" or b.outcome != "answer" or not a.topic or not b.topic:
            continue
        if not (_asks(second) or (request and b.topic.startswith("forms."))):
            continue
        if a.topic != b.topic and answered in (a.topic, b.topic):
            return b.topic if answered == a.topic else a.topic
    return None


def _asks(tokens: Sequence[str]) -> bool:
    """A side of a two-part message is a question: a word of asking, or "...ยัง" at its end."""
    return tokens[-1].endswith("ยัง") or any(w in t for t in tokens for w in ASKING)
