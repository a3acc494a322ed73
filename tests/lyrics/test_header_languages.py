"""Section headers written in each lyric language map to the exact ACE-Step tags, with numbers,
colons, brackets or parentheses; a Spanish chorus is a chorus, not a second verse."""

from __future__ import annotations

import pytest

from lyrics.format import Lyrics
from lyrics.header_names import NAMES
from lyrics.languages import LANGUAGES

# language: (verse header, chorus header, bridge header), each in a different written form
CASES = {
    "es": ("Estrofa 1:", "[Coro]", "(Puente)"),
    "pt": ("Verso 2", "Refrão:", "[Ponte]"),
    "fr": ("Couplet 1 :", "[Refrain x2]", "Pont :"),
    "de": ("Strophe 2", "Refrain:", "[Brücke]"),
    "it": ("[Strofa 1]", "Ritornello:", "Ponte:"),
    "pl": ("Zwrotka 1", "[Refren]", "[Most]"),
    "tr": ("Kıta 1:", "Nakarat", "[Köprü]"),
    "ru": ("Куплет 1", "Припев:", "[Бридж]"),
    "cs": ("Sloka 1", "[Refrén]", "Most:"),
    "nl": ("Couplet 2", "Refrein:", "[Brug]"),
    "ar": ("[مقطع 1]", "كورس:", "(جسر)"),
    "zh": ("主歌1", "副歌：", "【桥段】"),
    "ja": ("Aメロ", "【サビ】", "Cメロ:"),
    "ko": ("[벌스 1]", "후렴:", "(브릿지)"),
    "hu": ("Versszak 1", "Refrén:", "[Híd]"),
    "hi": ("अंतरा 1", "मुखड़ा:", "[ब्रिज]"),
    "en": ("Verse 1:", "[Chorus]", "(Bridge)"),
}


def test_every_lyric_language_has_cases_and_names():
    assert set(CASES) == set(LANGUAGES)
    assert set(NAMES) | {"en"} == set(LANGUAGES)


@pytest.mark.parametrize("language", sorted(CASES))
def test_headers_in_each_language_map_to_exact_tags(language):
    verse, chorus, bridge = CASES[language]
    text = f"{verse}\nline one\nline two\n\n{chorus}\nline three\n\n{bridge}\nline four\n"
    lyrics = Lyrics.parse(text)
    assert [s.tag for s in lyrics.sections] == ["verse", "chorus", "bridge"], lyrics.sections
    assert [s.lines for s in lyrics.sections] == [("line one", "line two"), ("line three",), ("line four",)]
    assert lyrics.render().startswith("[verse]\nline one") and "\n[chorus]\n" in lyrics.render()


def test_spanish_chorus_is_not_a_second_verse():
    text = "Verso 1\nla luna sale\nsobre el mar\n\nCoro\ncanta conmigo\nbajo el sol\n\nVerso 2\nla noche cae"
    assert [s.tag for s in Lyrics.parse(text).sections] == ["verse", "chorus", "verse"]


def test_common_words_stay_lyrics_on_a_bare_line():
    lyrics = Lyrics.parse("[verse]\nfinal\nmost of all\nponte")
    assert lyrics.sections[0].lines == ("final", "most of all", "ponte")
