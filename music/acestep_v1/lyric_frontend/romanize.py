"""Romanisation of Chinese, Japanese and Korean lyric lines, as ACE-Step v1's front-end does it:
pypinyin TONE3 with 5 for the neutral tone, cutlet's default Hepburn romaji (MeCab via fugashi
and unidic-lite), and hangul-romanize's academic rule."""

from __future__ import annotations

from functools import lru_cache

import cutlet
from hangul_romanize import Transliter
from hangul_romanize.rule import academic


def chinese_to_pinyin(text: str) -> str:
    """Han characters to TONE3 pinyin with no separator ("我爱你" -> "wo3ai4ni3")."""
    import pypinyin  # noqa: PLC0415  (loads its dictionaries, about 1 s: only Chinese lines need it)

    syllables = pypinyin.pinyin(text, style=pypinyin.Style.TONE3, heteronym=False, neutral_tone_with_five=True)
    return "".join(choice[0] for choice in syllables)


@lru_cache(maxsize=1)
def _cutlet():
    # the MeCab dictionary loads here: done once, on the first Japanese line
    return cutlet.Cutlet()


def japanese_to_romaji(text: str) -> str:
    """Japanese to lowercase Hepburn romaji (cutlet defaults: foreign spellings kept)."""
    return _cutlet().romaji(text).lower()


@lru_cache(maxsize=1)
def _hangul_transliter():
    return Transliter(academic)


def korean_to_latin(text: str) -> str:
    """Hangul syllables to the academic romanisation; other characters pass through."""
    return _hangul_transliter().translit(text)
