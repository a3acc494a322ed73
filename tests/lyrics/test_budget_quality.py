"""Syllable budgets, rhyme schemes and the lyric-quality report (pure functions, no model)."""

from __future__ import annotations

import pytest

from lyrics.budget import plan_song, scheme_letters
from lyrics.errors import LyricsRequestError
from lyrics.format import Lyrics
from lyrics.quality import PromptCopyCheck, assess, distinct_2, rhyme_hits, tag_exact


def test_chorus_lines_are_shorter_than_verse_lines_and_follow_the_tempo():
    slow = plan_song(("verse", "chorus", "verse", "chorus"), bpm=70, duration_s=120)
    fast = plan_song(("verse", "chorus", "verse", "chorus"), bpm=140, duration_s=120)
    verse, chorus = slow.sections[0], slow.sections[1]
    assert chorus.syllables < verse.syllables
    assert fast.sections[0].syllables > verse.syllables  # more beats in the same time: longer lines
    equal = plan_song(("verse", "chorus"), bpm=100, duration_s=60, chorus_shorter=False)
    assert equal.sections[0].syllables == equal.sections[1].syllables
    default = plan_song(("verse", "chorus", "intro"))
    assert default.sections[0].syllables == 8 and default.sections[2].lines == 0
    assert default.targets() == [[8] * 4, [6] * 4, []]


def test_sung_time_of_the_plan_fits_the_duration():
    from lyrics.prosody import sung_seconds

    plan = plan_song(("verse", "chorus", "verse", "chorus"), bpm=100, duration_s=90)
    lines = ["la " * s.syllables for s in plan.sections for _ in range(s.lines)]
    assert sung_seconds(lines, bpm=100) <= 90


@pytest.mark.parametrize("scheme, lines, letters", [
    ("AABB", 4, "AABB"), ("ABAB", 4, "ABAB"), ("ABCB", 4, "-A-A"), ("AABB", 2, "AA"),
    ("ABAB", 8, "ABABCDCD"), ("none", 4, ""), ("ABAB", 3, "AAB"),
])
def test_scheme_letters(scheme, lines, letters):
    assert scheme_letters(scheme, lines) == letters


@pytest.mark.parametrize("kwargs, match", [
    ({"bpm": 10}, "30 to 300 BPM"), ({"duration_s": 1000}, "5 to 600 seconds"), ({"rhyme_scheme": "XYZ"}, "rhyme"),
])
def test_plan_rejects_bad_input(kwargs, match):
    with pytest.raises(LyricsRequestError, match=match):
        plan_song(("verse",), **kwargs)


def test_prompt_copy_check_finds_metadata_and_copied_sentences():
    check = PromptCopyCheck(["Write a wistful indie folk song about leaving a small town at dawn."])
    assert check.is_copy("Theme: Leaving a small town at dawn")
    assert check.is_copy("Mood: wistful") and check.is_copy("Sections: 4")
    assert check.is_copy("About 4 lines in each sung section.")
    assert check.is_copy("leaving a small town at dawn")  # the request, word for word
    assert not check.is_copy("the dawn light on the station road")
    assert not check.is_copy("at dawn")  # too short to call a copy
    assert check.is_copy("Chorus:") and check.is_copy("(Verse 2)")  # the format written as a lyric line
    assert not check.is_copy("the chorus of the birds")


def test_a_header_like_line_in_a_grammar_reply_does_not_split_the_section():
    from lyrics.writer import _parse_tagged

    lyrics = _parse_tagged("Title: T\n\n[verse]\nrain\nChorus:\nfalls\n\n[chorus]\nla la\n")
    assert lyrics.title == "T" and [s.tag for s in lyrics.sections] == ["verse", "chorus"]
    assert lyrics.sections[0].lines == ("rain", "Chorus:", "falls")


def test_tag_exact_rhyme_hits_and_distinct_2():
    assert tag_exact("Title: x\n\n[verse]\na\n\n[chorus]\nb")
    assert not tag_exact("[Verse 1]\na\n[chorus]\nb") and not tag_exact("no headers")
    assert rhyme_hits(["the night is cold", "the story told", "we walk along", "and sing a song"], "AABB", "en") == (2, 2)
    assert rhyme_hits(["in the light", "in the light"], "AA", "en") == (0, 1)  # the same word is no rhyme
    assert distinct_2(["a b c", "a b c"]) == 0.5


def test_assess_reports_fit_rhyme_structure_and_copies():
    raw = ("Title: Night\n\n[verse]\nthe night is cold and very long\nthe story told in every song\n\n"
           "[chorus]\nMood: wistful\nwe run")
    lyrics, _ = Lyrics.parse(raw).repair()
    plan = plan_song(("verse", "chorus"), lines_per_section=2)
    report = assess(raw, lyrics, requested=("verse", "chorus"), plan=plan, prompt_texts=["a wistful song"])
    assert report.tag_exact and report.structure_ok
    assert report.prompt_copy_lines == ("Mood: wistful",)
    assert report.lines_per_section == (2, 2) and report.targets == ((8, 8), (6, 6))
    assert report.syllable_fit == 0.5  # both verse lines have 8 syllables; the chorus lines miss
    assert report.rhyme_pairs == (1, 2)
    data = report.to_dict()
    assert any("repeat the request" in hint for hint in data["hints"])
    wrong = assess(raw, lyrics, requested=("verse", "verse"), plan=plan, prompt_texts=[])
    assert not wrong.structure_ok and wrong.syllable_fit is not None
