"""Members' names: asked at join when the channel gives none, set with ``ชื่อ``, shown in lists
and exports; no raw account id is ever shown where a name is missing."""

from __future__ import annotations

import csv
import io

import pytest

from bot.ledger.entries import Lao
from bot.ledger.names import name_problem, shown_name, tidy_name
from handlers.app import Core
from tests.conftest import FIXED_NOW, STORE_KINDS, Say, core_on

core = pytest.fixture(params=STORE_KINDS[1:])(core_on)

CODE = "05510101"
LINE_USER = "Uclerk1000aaaabbbbccccdddd1a2b"


def _invite(core: Core, role: str = "member") -> str:
    if core.book.directory.lao(CODE) is None:
        core.book.directory.add_lao(Lao(CODE, "อบต.ตัวอย่าง", "ลำพูน"))
    return core.book.directory.invite(CODE, role, "cli", FIXED_NOW).code  # type: ignore[arg-type]


def _line(say: Say, text: str | None = None, **kw: object) -> list:
    return say(text, user=LINE_USER, channel="line", name="", **kw)


def _csv(say: Say, user: str, channel: str = "line") -> list[list[str]]:
    out = say("ส่งออก csv", user=user, channel=channel, name="")
    blob = next(r.file for r in out if r.file is not None)
    return list(csv.reader(io.StringIO(blob.data.decode("utf-8-sig"))))


def test_a_line_join_asks_for_the_name_and_entries_carry_it(core: Core, say: Say) -> None:
    joined = _line(say, f"เข้าร่วม {_invite(core, 'admin')}")
    assert "ชื่อ-นามสกุลที่จะแสดงในรายงาน" in joined[0].text
    assert any(c.label == "ข้าม" for c in joined[0].choices)
    done = _line(say, "  สมศรี   ใจดี ")
    assert "สมศรี ใจดี" in done[0].text
    assert core.book.directory.member(f"line:{LINE_USER}").name == "สมศรี ใจดี"
    _line(say, "จ่าย 1,200 ค่าน้ำมัน")
    _line(say, "ยกเลิก 1 จำนวนเงินผิด")
    rows = _csv(say, LINE_USER)
    head, row = rows[0], rows[1]
    assert row[head.index("ผู้บันทึก")] == "สมศรี ใจดี"
    assert "สมศรี ใจดี" in row[head.index("ยกเลิก")]
    assert "1. สมศรี ใจดี (ผู้ดูแล)" in _line(say, "สมาชิก")[0].text


def test_the_name_may_be_skipped_and_nobody_sees_a_raw_account_id(core: Core, say: Say) -> None:
    _line(say, f"เข้าร่วม {_invite(core, 'admin')}")
    skipped = _line(say, "ข้าม")
    assert "ชื่อ" in skipped[0].text  # says how to set it later
    assert core.book.directory.member(f"line:{LINE_USER}").name == ""
    _line(say, "รับ 500 ค่าขยะ")
    label = "สมาชิก (…ลงท้าย 1a2b)"
    members = _line(say, "สมาชิก")[0].text
    assert label in members and LINE_USER not in members
    row = _csv(say, LINE_USER)[1]
    assert label in row and not any(LINE_USER in cell for cell in row)


def test_the_name_command_sets_and_changes_the_own_name(core: Core, say: Say) -> None:
    _line(say, f"เข้าร่วม {_invite(core, 'admin')}")
    _line(say, "ข้าม")
    _line(say, "รับ 500 ค่าขยะ")  # before any name: the export finds the name set later
    assert "สมปอง รักดี" in _line(say, "ชื่อ สมปอง รักดี")[0].text
    _line(say, "รับ 600 ค่าน้ำ")
    rows = _csv(say, LINE_USER)
    col = rows[0].index("ผู้บันทึก")
    assert [r[col] for r in rows[1:3]] == ["สมปอง รักดี", "สมปอง รักดี"]
    _line(say, "ชื่อ สมปอง ใจงาม")
    assert core.book.directory.member(f"line:{LINE_USER}").name == "สมปอง ใจงาม"


def test_the_name_command_needs_a_membership(core: Core, say: Say) -> None:
    out = _line(say, "ชื่อ สมปอง รักดี")
    assert "ยังไม่ได้เชื่อมกับ อปท." in out[0].text
    assert core.book.directory.member(f"line:{LINE_USER}") is None


def test_a_question_starting_with_the_word_name_is_not_a_name(core: Core, say: Say) -> None:
    _line(say, f"เข้าร่วม {_invite(core, 'admin')}")
    _line(say, "สมศรี ใจดี")
    _line(say, "ชื่อ อปท. ต้องใส่ตรงไหนในแบบฟอร์ม")
    _line(say, "ชื่อผู้รับเงินต้องเขียนไหม")
    assert core.book.directory.member(f"line:{LINE_USER}").name == "สมศรี ใจดี"


def test_a_telegram_join_takes_the_channel_name_without_asking(core: Core, say: Say) -> None:
    joined = say(f"เข้าร่วม {_invite(core)}", user="42", channel="telegram", name="Somsri J")
    assert "ชื่อ-นามสกุลที่จะแสดงในรายงาน" not in joined[0].text
    assert core.book.directory.member("telegram:42").name == "Somsri J"


def test_a_member_moving_lao_keeps_the_name_given(core: Core, say: Say) -> None:
    _line(say, f"เข้าร่วม {_invite(core)}")
    _line(say, "สมศรี ใจดี")
    core.book.directory.add_lao(Lao("05510102", "อบต.อีกแห่ง", "ลำพูน"))
    other = core.book.directory.invite("05510102", "member", "cli", FIXED_NOW).code
    _line(say, f"เข้าร่วม {other}")
    moved = _line(say, "ย้าย")
    assert "ชื่อ-นามสกุลที่จะแสดงในรายงาน" not in moved[0].text
    m = core.book.directory.member(f"line:{LINE_USER}")
    assert (m.lao_code, m.name) == ("05510102", "สมศรี ใจดี")


@pytest.mark.parametrize("typed", ["", "   ", "สมศรี\nใจดี", "ก" * 61, "12345", "สม\x07ศรี"])
def test_names_that_cannot_be_a_name_are_refused(typed: str) -> None:
    assert name_problem(typed) is not None


def test_names_are_trimmed_to_one_spaced_line() -> None:
    typed = "  สมศรี \u200b  ใจดี  "
    assert name_problem(typed) is None and tidy_name(typed) == "สมศรี ใจดี"


def test_a_missing_name_is_one_neutral_label() -> None:
    assert shown_name("line:Uabcdef1a2b", "") == "สมาชิก (…ลงท้าย 1a2b)"
    assert shown_name("line:Uabcdef1a2b", "สมศรี") == "สมศรี"


def test_a_bad_name_at_the_join_question_asks_again(core: Core, say: Say) -> None:
    _line(say, f"เข้าร่วม {_invite(core)}")
    again = _line(say, "ก" * 80)
    assert "ยาว" in again[0].text
    _line(say, "สมศรี ใจดี")
    assert core.book.directory.member(f"line:{LINE_USER}").name == "สมศรี ใจดี"


@pytest.mark.parametrize("text", ["ชื่อ อปท.", "ชื่อ แบบฟอร์ม", "ชื่อ ผู้รับเงิน", "ชื่อ ร้านค้า"])
def test_other_names_after_the_word_name_are_no_member_name(text: str) -> None:
    from bot.ledger.membership import name_args

    assert not name_args(text.removeprefix("ชื่อ "))


def test_a_void_keeps_the_voiders_name_after_they_leave(core: Core, say: Say) -> None:
    """The void note names who voided by the name they had then, as the author column does:
    a member who has left is no longer in the directory to look the name up."""
    say(f"เข้าร่วม {_invite(core, 'admin')}", user="41", channel="telegram", name="สมศรี ใจดี")
    say(f"เข้าร่วม {_invite(core, 'admin')}", user="42", channel="telegram", name="สมชาย ขยัน")
    say("รับ 500 ค่าขยะ", user="41", channel="telegram", name="สมศรี ใจดี")
    say("ยกเลิก 1 จำนวนเงินผิด", user="42", channel="telegram", name="สมชาย ขยัน")
    say(action=f"leave:{CODE}", user="42", channel="telegram", name="สมชาย ขยัน")
    assert core.book.directory.member("telegram:42") is None
    rows = _csv(say, "41", channel="telegram")
    note = rows[1][rows[0].index("ยกเลิก")]
    assert "จำนวนเงินผิด" in note and "สมชาย ขยัน" in note and "ลงท้าย" not in note
    assert core.book.ledger(CODE).get(1).void.by_name == "สมชาย ขยัน"


def test_a_void_stored_before_the_voiders_name_was_kept_is_named_as_before() -> None:
    """Older void documents carry no ``by_name``: the directory's name, else the author's
    own (they voided it themselves), else the neutral label."""
    from bot.core.codec import decode
    from bot.ledger.entries import Entry
    from bot.ledger.export import entry_row

    doc = {"lao_code": CODE, "no": 1, "kind": "receipt", "amount": "500.00",
           "description": "ค่าขยะ", "date": "2024-07-15", "author": "line:Uaaaa1111",
           "author_name": "สมศรี ใจดี", "recorded_at": FIXED_NOW.isoformat(),
           "void": {"by": "line:Ubbbb2222", "at": FIXED_NOW.isoformat(), "reason": "ผิด"}}
    e = decode(doc, Entry)
    assert e.void is not None and e.void.by_name == ""
    note = -2  # the void column of entry_row
    assert "สมชาย ขยัน" in entry_row(e, {"line:Ubbbb2222": "สมชาย ขยัน"})[note]
    assert "สมาชิก (…ลงท้าย 2222)" in entry_row(e, {})[note]
    own = decode({**doc, "void": {**doc["void"], "by": "line:Uaaaa1111"}}, Entry)
    assert "สมศรี ใจดี" in entry_row(own, {})[note]


@pytest.mark.parametrize("again", ["same", "other", "lower"])
def test_a_join_code_pasted_at_the_name_question_is_never_the_name(
        core: Core, say: Say, again: str) -> None:
    """After joining, the clerk pastes a join code (the same one again, a second LAO's, in
    lower case): it is handled as a pasted code is anywhere (asked about first), the name
    stays unset and can be given later."""
    code = _invite(core)
    _line(say, f"เข้าร่วม {code}")
    if again != "same":
        core.book.directory.add_lao(Lao("05510102", "อบต.อีกแห่ง", "ลำพูน"))
        code = core.book.directory.invite("05510102", "member", "cli", FIXED_NOW).code
    while again == "lower" and code.isalpha():  # a lower-case word without a digit is by
        # design not read as a code (bare_join_code: "statuses"); ~10% of random codes are
        code = core.book.directory.invite("05510102", "member", "cli", FIXED_NOW).code
    typed = code.lower() if again == "lower" else code
    out = _line(say, typed)
    assert core.book.directory.member(f"line:{LINE_USER}").name == ""
    text = "\n".join(r.text for r in out)
    assert "ดูเหมือนรหัสเข้าร่วม" in text and "ชื่อ" in text  # asked; the name is for later
    assert "ตั้งชื่อที่แสดงในรายงานเป็น" not in text
    settled = _line(say, "เข้าร่วมด้วยรหัสนี้")
    if again != "same":  # a second LAO's code: moving there is asked about, then done
        settled = _line(say, "ย้าย")
    assert "ชื่อ-นามสกุลที่จะแสดงในรายงาน" in settled[-1].text  # the name question is back
    _line(say, "สมศรี ใจดี")
    m = core.book.directory.member(f"line:{LINE_USER}")
    assert (m.lao_code, m.name) == ("05510101" if again == "same" else "05510102", "สมศรี ใจดี")


def test_a_join_code_at_the_name_question_declined_leaves_the_name_for_later(
        core: Core, say: Say) -> None:
    code = _invite(core)
    _line(say, f"เข้าร่วม {code}")
    _line(say, code)
    out = _line(say, "ไม่ใช่")
    assert "ชื่อ ตามด้วยชื่อ-นามสกุล" in out[0].text  # says how to give the name later
    assert core.book.directory.member(f"line:{LINE_USER}").name == ""


@pytest.mark.parametrize("typed", ["H4KP7W2M", "abc123", "xk29fj3q", "สมศรี 1234", "A1"])
def test_code_like_junk_is_no_name(core: Core, say: Say, typed: str) -> None:
    assert name_problem(typed) is not None
    _line(say, f"เข้าร่วม {_invite(core)}")
    out = _line(say, typed)
    assert core.book.directory.member(f"line:{LINE_USER}").name == ""
    assert out and all(len(r.text) < 300 for r in out)
