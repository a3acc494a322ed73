"""Chinese readings of LangSegment's SSML-style tags (`<number>`, `<telephone>`, `<currency>`,
`<date>`) inside a lyric line.

Upstream's language detection rewrites the tag contents into Chinese before counting characters,
so the rewritten length decides how strongly the line counts as Chinese. Only that counting
uses these readings; the text that gets tokenized is the original line.
"""

from __future__ import annotations

import re

_DIGITS = dict(zip("0123456789", "零一二三四五六七八九"))
# Powers of ten with their own character, largest first.
_UNITS = ((8, "亿"), (4, "万"), (3, "千"), (2, "百"), (1, "十"))


def _digit_by_digit(text: str) -> str:
    # Any Unicode decimal digit is a digit to the regex; only ASCII ones have a reading.
    out = "".join(_DIGITS.get(c, "") if c.isdecimal() else c for c in text)
    return out.replace(".", "点")


def _cardinal_symbols(digits: str) -> list[str]:
    stripped = digits.lstrip("0")
    if not stripped:
        return []
    if len(stripped) == 1:
        # A zero is spoken when leading zeros were dropped (1005 -> 一千零五).
        return ([_DIGITS["0"]] if len(stripped) < len(digits) else []) + [_DIGITS[stripped]]
    power, unit = next((p, u) for p, u in _UNITS if p < len(stripped))
    return _cardinal_symbols(digits[:-power]) + [unit] + _cardinal_symbols(digits[-power:])


def cardinal(digits: str) -> str:
    """Chinese cardinal reading of a digit string (raises KeyError on non-ASCII digits)."""
    if not digits:
        return ""
    digits = digits.lstrip("0")
    if not digits:
        return _DIGITS["0"]
    symbols = _cardinal_symbols(digits)
    if len(symbols) >= 2 and symbols[0] == "一" and symbols[1] == "十":
        symbols = symbols[1:]  # 一十五 is said 十五
    return "".join(symbols)


def _amount(text: str) -> str:
    out = "".join(cardinal(part) if part[:1].isdecimal() else part for part in re.split(r"(\d+)", text))
    return out.replace(".", "点")


def _date(text: str) -> str:
    if text is None or text.strip() == "":
        return ""
    text = re.sub(r"日", "", re.sub(r"[\/\._|年|月]", "-", text))
    pieces = text.split(" ")
    if len(pieces) == 1 and ":" in pieces[0]:
        clock, pieces = pieces[0], []
    else:
        clock = pieces[1] if len(pieces) >= 2 else ""

    def part(value: str, suffix: str, reader) -> str:
        value = reader(value)
        return f"{value}{suffix}" if value not in (None, "", "0") else ""

    day_text = ""
    if pieces:
        year = month = day = ""
        fields = pieces[0].split("-")
        if len(fields) == 3:
            year, month, day = fields
        elif len(fields) == 2:
            if len(fields[0]) == 4:
                year, month = fields
            else:
                month, day = fields
        elif len(fields[0]) > 0:
            if len(fields[0]) == 4:
                year = fields[0]
            else:
                day = fields[0]
        joined = part(year, "年", _digit_by_digit) + part(month, "月", _amount) + part(day, "日", _amount)
        day_text = re.sub(r"([年|月|日])+", r"\1", joined)
    fields = re.sub(r"[\/\.\-：_]", ":", clock).split(":")
    hours = minutes = seconds = ""
    if len(fields) == 3:
        hours, minutes, seconds = fields
    elif len(fields) == 2:
        hours, minutes = fields
    elif len(fields[0]) > 0:
        hours = f"{fields[0]}点"
    if len(fields) > 1:
        hours, minutes, seconds = part(hours, "点", _amount), part(minutes, "分", _amount), part(seconds, "秒", _amount)
    return day_text + re.sub(r"([点|分|秒])+", r"\1", f"{hours}{minutes}{seconds}")


def ssml_to_chinese(tag: str, text: str) -> str:
    """The Chinese text LangSegment counts for `<tag>text</tag>`."""
    if tag == "number":
        return _digit_by_digit(text)
    if tag == "telephone":
        return _digit_by_digit(text.replace("+86", "")).replace("一", "幺")
    if tag == "currency":
        return _amount(text)
    if tag == "date":
        return _date(text)
    raise ValueError(f"not a Chinese SSML tag: {tag!r}")
