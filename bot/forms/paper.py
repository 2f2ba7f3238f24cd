"""Paper forms the bot does not provide (knowledge/paper-forms.yaml), and asks for one of them."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

from bot.core.yamlload import NON_EMPTY, DataError, decode_yaml, line_at, load_yaml
from bot.forms.model import FormCatalog
from bot.qa.knowledge import Problem

PAPER_FILE = "paper-forms.yaml"
# Tokens (after normalisation) that make a message a request for a form ("มีแบบฟอร์ม…ไหม")...
FORM_WORDS = frozenset({"แบบฟอร์ม", "แบบ", "แบบพิมพ์", "ไฟล์", "excel", "pdf", "template", "form"})
# ...and the words a bare request is made of ("ขอทะเบียนเช็คหน่อย", "มีทะเบียนเช็คไหม").
REQUEST_WORDS = frozenset({"ขอ", "มี", "หรือไม่", "ไหม", "มั้ย", "ส่ง", "อยากได้", "ได้", "ให้",
                           "ด้วย", "บ้าง", "ปริ้น", "โหลด", "ดาวน์โหลด", "หา", "ที่ไหน", "ไหน",
                           "ใช้", "อะไร", "ล่ะ"})
WEAK_FORM_WORDS = frozenset({"แบบ", "ไฟล์", "excel", "pdf"})
_SPACE = re.compile(r"\s+")

Text = Annotated[str, Meta(pattern=NON_EMPTY)]


class PaperSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One item of knowledge/paper-forms.yaml."""

    name: Text
    aliases: Annotated[tuple[Text, ...], Meta(min_length=1)]
    note: Text
    unless: tuple[Text, ...] = ()
    instead: tuple[Text, ...] = ()
    topic: str | None = None


@dataclass(frozen=True)
class PaperForm:
    """A paper form clerks use that the bot has no layout for."""

    name: str
    aliases: tuple[str, ...]
    note: str
    unless: tuple[str, ...] = ()
    instead: tuple[str, ...] = ()
    topic: str | None = None
    line: int = 1


def _squash(text: str) -> str:
    return _SPACE.sub("", text).lower()


def _parse(path: Path) -> tuple[list[PaperForm], list[Problem]]:
    file = str(path)
    if not path.is_file():
        return [], []  # optional: without it, no "we have no such form" answers
    try:
        raw = load_yaml(path)
    except DataError as e:
        return [], [Problem(file, e.line, "-", e.detail)]
    if not isinstance(raw, list):
        return [], [Problem(file, 1, "-", "expected a list of paper forms")]
    out: list[PaperForm] = []
    problems: list[Problem] = []
    for i, item in enumerate(raw):
        spec, found = decode_yaml(item, PaperSpec)
        line = line_at(raw, (i,))
        name = item.get("name", "-") if isinstance(item, dict) else "-"
        problems += [Problem(file, p.line, str(name), p.text()) for p in found]
        if spec is None:
            continue
        out.append(PaperForm(spec.name.strip(), tuple(_squash(a) for a in spec.aliases),
                             spec.note.strip(), tuple(_squash(u) for u in spec.unless),
                             spec.instead, spec.topic, line))
    return out, problems


def load_paper_forms(root: Path) -> tuple[PaperForm, ...]:
    """The paper forms of ``root/paper-forms.yaml`` (none when the file is absent).

    Raises:
        DataError: The file is there but cannot be used (``kb check`` says where).
    """
    forms, problems = _parse(root / PAPER_FILE)
    if problems:
        raise DataError.at(problems[0].file, problems[0].line, problems[0].message)
    return tuple(forms)


def check_paper_forms(root: Path, form_ids: Collection[str] | None,
                      topic_ids: AbstractSet[str] | None) -> list[Problem]:
    """Schema problems, unknown ``instead`` forms and ``topic`` ids, and aliases that name one
    of the bot's own forms (such an ask would say "no such form" about a form we have)."""
    path = root / PAPER_FILE
    forms, problems = _parse(path)
    for p in forms:
        where = (str(path), p.line, p.name)
        for f in p.instead:
            if form_ids is not None and f not in form_ids:
                problems.append(Problem(*where, f"instead: unknown form {f!r}"))
        if p.topic and topic_ids is not None and p.topic not in topic_ids:
            problems.append(Problem(*where, f"topic: unknown topic {p.topic!r}"))
    return problems


def asked_paper_form(text: str, tokens: Sequence[str], papers: Sequence[PaperForm],
                     catalog: FormCatalog) -> PaperForm | None:
    """The paper form ``text`` asks for, when it asks for one we do not provide.

    A message asks for a form when it has a form word ("แบบฟอร์ม", "ไฟล์"), or is only
    request words and the form's name ("ขอทะเบียนเช็คหน่อย", "ฎีกาใช้แบบไหน"). A message
    naming one of our own forms ("ขอทะเบียนคุมใบเสร็จ") is not such an ask, and neither is a
    question about the work itself ("งบทดลองทำยังไง"): both are left to the usual matching.

    Args:
        text: The message as typed.
        tokens: Its normalised tokens (synonyms folded, particles dropped).
        papers: The paper forms (:func:`load_paper_forms`).
        catalog: Our forms; naming one of them wins.
    """
    if not papers:
        return None
    seen = (_squash(text), "".join(tokens).lower())
    hit = next((p for p in papers
                if any(a in s for a in p.aliases for s in seen)
                and not any(u in s for u in p.unless for s in seen)), None)
    if hit is None:  # most messages: no paper form named, so no need to look at ours
        return None
    ours = [_squash(n) for f in catalog.all() for n in (f.name, f.label) if n]
    if any(n in s for n in ours for s in seen):
        return None
    if set(tokens) & FORM_WORDS - WEAK_FORM_WORDS:
        return hit
    # "แบบ" is also "way" ("ออกใบเสร็จแบบไหน": how to issue a receipt, a guide's question), a
    # file may be an export ("ส่งออกฎีกาเป็นไฟล์ได้ไหม"): with these, or with no form word,
    # only a bare request asks for the form.
    bare = REQUEST_WORDS | WEAK_FORM_WORDS
    rest = [t for t in tokens if t.lower() not in bare
            and not any(t.lower() in a or a in t.lower() for a in hit.aliases)]
    has_request = any(t.lower() in bare for t in tokens)
    return hit if has_request and not rest else None
