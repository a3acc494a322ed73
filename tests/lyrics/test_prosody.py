from __future__ import annotations

import pytest

from lyrics import prosody
from lyrics.format import Lyrics


@pytest.mark.parametrize("text,count", [
    ("Rain on the window", 5),          # CMU dictionary
    ("every fire", 5),                  # ev-ery (3) + fire (2) per CMU
    ("gonna", 2),
    ("Zorblaxian", 4),                  # not in CMU: pyphen pieces + vowel groups
    ("99 red balloons", 6),             # number spelled out: ninety-nine (3)
    ("", 0),
])
def test_english_syllables(text, count):
    assert prosody.count_syllables(text, "en") == count


def test_other_languages_use_pyphen_or_characters():
    assert prosody.count_syllables("Mañana será otro día", "es") == 8
    assert prosody.count_syllables("Sonnenschein und Regen", "de") == 6
    assert prosody.count_syllables("下雨天", "zh") == 3
    assert prosody.count_syllables("사랑해", "ko") == 3
    assert prosody.count_syllables("きょうは", "ja") == 3  # small ょ joins the previous kana


def test_rhyme_scheme_per_section():
    lyrics = Lyrics.parse("""[verse]
I walked along the road at night
The city glowing, burning bright
My heart was heavy as a stone
I never felt so all alone
[chorus]
Stay with me
(stay)
Set me free
Something new""")
    verse, chorus = prosody.analyse(lyrics)
    assert verse.scheme == "AABB"
    assert verse.syllables == [8, 8, 8, 8]
    assert chorus.scheme == "A-AB"  # the backing line in parentheses gets no letter
    assert chorus.lines[1].rhyme_key is None


def test_rhyme_keys_without_cmu():
    assert prosody.rhyme_key("corazón", "es") == prosody.rhyme_key("canción", "es")
    assert prosody.rhyme_key("Zorblaxian", "en") == "ian"
    # Chinese rhymes on the pinyin final: 天 (tian) and 年 (nian) share "ian"
    scheme = prosody.analyse_lines("verse", ["下雨天", "又一年", "好朋友"], "zh").scheme
    assert scheme == "AAB"


def test_sung_seconds():
    lines = ["one two three", "(backing vocals ignored)"]
    assert prosody.sung_seconds(lines, bpm=60) == pytest.approx(3 / 1.5 + 1)
    with pytest.raises(ValueError):
        prosody.sung_seconds(lines, bpm=0)
