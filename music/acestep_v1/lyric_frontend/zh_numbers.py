"""Chinese number normalisation of ACE-Step v1's lyric front-end.

Before pinyin, upstream runs the "chn_text_norm" normaliser (XTTS `zh_num2words.TextNorm` with
default options) over a Chinese line: dates, money, phone numbers, fractions, percentages,
numbers with a measure word, long digit strings and plain numbers are written out in Chinese
characters, in that order, and every punctuation mark becomes an ASCII comma. The model heard
that text in training, so we reproduce its rules (including its replace-first-occurrence quirk:
each found string is replaced where it first occurs in the line, which is not always where it
was found).
"""

from __future__ import annotations

import re
import string

_DIGITS = "零一二三四五六七八九"
_LIANG = "两"  # "two" before a unit of hundred or more: 两百, 两千, 两万
# (power of ten, character) for 十..万 and the "mid" system's 亿 = 10^8, 兆 = 10^12, ...
_UNITS = tuple(zip((1, 2, 3, 4), "十百千万")) + tuple(zip(range(8, 45, 4), "亿兆京垓秭穰沟涧正载"))
_UNITS_DESC = tuple(reversed(_UNITS))

_CURRENCY_UNITS = "((亿|千万|百万|万|千|百)|(亿|千万|百万|万|千|百|)元|(亿|千万|百万|万|千|百|)块|角|毛|分)"
_MEASURE_WORDS = (
    "(匹|张|座|回|场|尾|条|个|首|阙|阵|网|炮|顶|丘|棵|只|支|袭|辆|挑|担|颗|壳|窠|曲|墙|群|腔|"
    "砣|座|客|贯|扎|捆|刀|令|打|手|罗|坡|山|岭|江|溪|钟|队|单|双|对|出|口|头|脚|板|跳|枝|件|贴|"
    "针|线|管|名|位|身|堂|课|本|页|家|户|层|丝|毫|厘|分|钱|两|斤|担|铢|石|钧|锱|忽|(千|毫|微)克|"
    "毫|厘|分|寸|尺|丈|里|寻|常|铺|程|(千|分|厘|毫|微)米|撮|勺|合|升|斗|石|盘|碗|碟|叠|桶|笼|盆|"
    "盒|杯|钟|斛|锅|簋|篮|盘|桶|罐|瓶|壶|卮|盏|箩|箱|煲|啖|袋|钵|年|月|日|季|刻|时|周|天|秒|分|旬|"
    "纪|岁|世|更|夜|春|夏|秋|冬|代|伏|辈|丸|泡|粒|颗|幢|堆|条|根|支|道|面|片|张|颗|块)"
)
# Chinese punctuation as listed by the Zhon project, plus ASCII punctuation: all become ",".
_CN_PUNCTUATION = (
    "！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣､、〃《》「」『』【】〔〕〖〗〘〙〚〛"
    "〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏·〈〉-"
)
_PUNCTUATION = _CN_PUNCTUATION + string.punctuation
_TO_COMMA = str.maketrans(_PUNCTUATION, "," * len(_PUNCTUATION))

_DATE = re.compile(r"\D+((([089]\d|(19|20)\d{2})年)?(\d{1,2}月(\d{1,2}[日号])?)?)")
_MONEY = re.compile(r"\D+((\d+(\.\d+)?)[多余几]?" + _CURRENCY_UNITS + r"(\d" + _CURRENCY_UNITS + r"?)?)")
_MOBILE = re.compile(r"\D((\+?86 ?)?1([38]\d|5[0-35-9]|7[678]|9[89])\d{8})\D")
_LANDLINE = re.compile(r"\D((0(10|2[1-3]|[3-9]\d{2})-?)?[1-9]\d{6,7})\D")
_FRACTION = re.compile(r"(\d+/\d+)")
_PERCENT = re.compile(r"(\d+(\.\d+)?%)")
_COUNTED = re.compile(r"(\d+(\.\d+)?)[多余几]?" + _MEASURE_WORDS)
_DIGIT_STRING = re.compile(r"(\d{4,32})")
_NUMBER = re.compile(r"(\d+(\.\d+)?)")
_LATIN_TWO_LATIN = re.compile(r"(([a-zA-Z]+)二([a-zA-Z]+))")


def _unit_or_digit(symbol) -> str:
    return symbol if isinstance(symbol, str) else symbol[1]


def _place_values(digits: str) -> list:
    """Digits and units of an integer string: ints are digits, (power, char) tuples are units."""
    stripped = digits.lstrip("0")
    if not stripped:
        return []
    if len(stripped) == 1:
        return ([0] if len(digits) != len(stripped) else []) + [int(stripped)]
    power, char = next(unit for unit in _UNITS_DESC if unit[0] < len(stripped))
    return _place_values(digits[:-power]) + [(power, char)] + _place_values(stripped[-power:])


def spell_number(number: str, *, liang: bool = True, units: bool = True) -> str:
    """A decimal digit string ("1234", "3.5") in Chinese characters.

    units=False reads digit by digit (years, phone numbers); liang uses 两 for a 2 before a
    unit of a hundred or more. Raises ValueError for more than one decimal point.
    """
    parts = number.split(".")
    if len(parts) > 2:
        raise ValueError(f"invalid number string with more than one dot: {number}")
    whole, fraction = parts[0], parts[1] if len(parts) == 2 else ""
    symbols: list = _place_values(whole) if units and len(whole) > 1 else [int(c) for c in whole]
    if fraction:
        symbols += ["点"] + [int(c) for c in fraction]
    if liang:
        for i, symbol in enumerate(symbols):
            if isinstance(symbol, int) and symbol == 2:
                after = symbols[i + 1] if i < len(symbols) - 1 else None
                before = symbols[i - 1] if i > 0 else None
                if isinstance(after, tuple) and (before is None or isinstance(before, tuple)):
                    if after[0] != 1 and (before is None or before[0] != 1):
                        symbols[i] = _LIANG
    text = "".join(_DIGITS[s] if isinstance(s, int) else _unit_or_digit(s) for s in symbols)
    if text.startswith("点"):
        return _DIGITS[0] + text
    if len(text) >= 2 and text[1] == "十" and text[0] == "一":
        text = text[1:]  # 一十五 is said 十五
    return text


def _digits(number: str) -> str:
    return spell_number(number, liang=False, units=False)


def _date(date: str) -> str:
    try:
        year, rest = date.strip().split("年", 1)
        year = _digits(year) + "年"
    except ValueError:
        rest, year = date, ""
    month = day = ""
    if rest:
        try:
            month, day = rest.strip().split("月", 1)
            month = spell_number(month) + "月"
        except ValueError:
            day, month = date, ""
        if day:
            day = spell_number(day[:-1]) + day[-1]
    return year + month + day


def _money(money: str) -> str:
    for found in _NUMBER.findall(money):
        money = money.replace(found[0], spell_number(found[0]))
    return money


def _phone(number: str, *, landline: bool) -> str:
    if landline:
        return "".join(_digits(part) for part in number.split("-"))
    return "".join(_digits(part) for part in number.strip("+").split())


def _fraction(fraction: str) -> str:
    numerator, denominator = fraction.split("/")
    return spell_number(denominator) + "分之" + spell_number(numerator)


def _replace_each(text: str, pattern: re.Pattern, spell, group: int | None = 0) -> str:
    # All matches are found first, then each matched string replaces its first occurrence.
    for found in pattern.findall(text):
        original = found if group is None else found[group]
        text = text.replace(original, spell(original), 1)
    return text


def normalize_chinese_numbers(text: str) -> str:
    """Upstream's Chinese normalisation: numbers spelled out, punctuation turned into commas."""
    text = "^" + text + "$"
    text = _replace_each(text, _DATE, _date)
    text = _replace_each(text, _MONEY, _money)
    text = _replace_each(text, _MOBILE, lambda s: _phone(s, landline=False))
    text = _replace_each(text, _LANDLINE, lambda s: _phone(s, landline=True))
    text = _replace_each(text, _FRACTION, _fraction, group=None)
    text = text.replace("％", "%")
    text = _replace_each(text, _PERCENT, lambda s: "百分之" + spell_number(s.strip().strip("%")))
    text = _replace_each(text, _COUNTED, spell_number)
    text = _replace_each(text, _DIGIT_STRING, _digits, group=None)
    text = _replace_each(text, _NUMBER, spell_number)
    # Undo 二 inside Latin words such as P2P or B2B.
    for found in _LATIN_TWO_LATIN.findall(text):
        text = text.replace(found[0], found[1] + "2" + found[2], 1)
    text = text.lstrip("^").rstrip("$")
    return text.translate(_TO_COMMA)
