"""Retries on prompt copy / empty replies, best-of-N drafts, and line candidates chosen by
syllable fit and rhyme (scripted backends: the choice logic, not a model's quality)."""

from __future__ import annotations

import pytest

from lyrics.backends.base import Backend
from lyrics.errors import UnrepairableOutput
from lyrics.writer import SEED_STRIDE, LyricsWriter

COPY = "Title: x\n\n[verse]\nTheme: rain on the roof\nMood: calm\n\n[chorus]\nSections: 2\nAbout 4 lines\n"
GOOD = "Title: Rain\n\n[verse]\nthe rain keeps falling on the tin\nwe let the evening in\n\n[chorus]\nstay a while\nstay a while\n"


class BySeed(Backend):
    """Replies by seed: `replies[seed]`, else `default`."""

    name = "by-seed"
    supports_seed = True
    constraint_kinds = ("gbnf",)

    def __init__(self, replies: dict[int, str], default: str) -> None:
        self.replies, self.default, self.seeds = replies, default, []

    def stream(self, messages, *, params, constraint=None, cancel=None, prefix=""):
        self.seeds.append(params.seed)
        self.last_completion_tokens = 10
        yield self.replies.get(params.seed, self.default)


def test_a_prompt_copy_is_retried_with_another_seed():
    backend = BySeed({7: COPY}, GOOD)
    stream = LyricsWriter(backend).draft_stream(theme="rain on the roof", mood="calm",
                                                structure="verse, chorus", seed=7)
    lyrics = stream.result()
    assert backend.seeds == [7, 7 + SEED_STRIDE]
    assert lyrics.sections[0].lines[0] == "the rain keeps falling on the tin"
    assert stream.attempts == 2 and stream.rejected == [COPY] and stream.raw == GOOD
    assert stream.quality.prompt_copy_lines == () and stream.quality.tokens == 20


def test_copying_every_time_fails_clearly_and_keeps_the_text():
    backend = BySeed({}, COPY)
    with pytest.raises(UnrepairableOutput, match="copied the request.*3 tries") as info:
        LyricsWriter(backend).draft(theme="rain on the roof", structure="verse, chorus", seed=1)
    assert info.value.raw == COPY and len(backend.seeds) == 3


def test_best_of_n_drafts_keeps_the_best_fit():
    short = "Title: a\n\n[verse]\nrain\nrain\nrain\nrain\n"
    fitting = "Title: b\n\n[verse]\nthe rain is falling on the town\nand all the lights are going down\n" \
              "the river rises in the night\nand every window holds a light\n"
    backend = BySeed({3: short}, fitting)
    stream = LyricsWriter(backend).draft_stream(theme="rain", structure="verse", seed=3, candidates=3)
    assert stream.result().title == "b" and len(backend.seeds) == 3


class Lines(Backend):
    """A prefix-capable backend: the title, then candidate lines from a fixed list by seed."""

    name = "lines"
    supports_seed = True
    supports_prefix = True
    constraint_kinds = ("gbnf",)

    def __init__(self, candidates: list[str]) -> None:
        self.candidates, self.prefixes, self.i = candidates, [], 0

    def stream(self, messages, *, params, constraint=None, cancel=None, prefix=""):
        self.prefixes.append(prefix)
        self.last_completion_tokens = 5
        if prefix == "Title: ":
            yield "Night Train\n"
            return
        line = self.candidates[self.i % len(self.candidates)]
        self.i += 1
        yield line + "\n"


def test_line_candidates_are_chosen_by_syllables_and_rhyme():
    backend = Lines(["Theme: night trains", "the night", "the train rolls on across the plain",
                     "a whistle crying in the rain", "we ride the rails until the dawn comes up again"])
    stream = LyricsWriter(backend, candidates=3).draft_stream(theme="night trains", structure="verse, chorus",
                                                              rhyme="AABB", seed=5)
    lyrics = stream.result()
    verse = lyrics.sections[0].lines
    assert len(verse) == 4 and not any(line.startswith("Theme") for line in verse)
    assert verse[0] == "the train rolls on across the plain"  # 8 syllables: the verse target
    assert verse[1] == "a whistle crying in the rain"  # the 8-syllable one that rhymes with "plain"
    assert stream.raw.startswith("Title: Night Train\n\n[verse]\n")
    assert backend.prefixes[1] == "Title: Night Train\n\n[verse]\n"  # each line continues the reply so far
    assert lyrics.sections[1].tag == "chorus" and stream.quality.tag_exact and stream.quality.structure_ok
    assert stream.quality.targets[0] == (8, 8, 8, 8) and stream.quality.targets[1] == (6, 6, 6, 6)


def test_line_candidates_give_up_when_every_try_copies():
    backend = Lines(["Mood: calm"])
    with pytest.raises(UnrepairableOutput, match="repeating the request") as info:
        LyricsWriter(backend, candidates=2).draft(theme="calm", structure="verse", seed=1)
    assert "Mood: calm" in info.value.raw


def test_forced_rhyme_endings_are_common_rhyming_words():
    from lyrics.composer import LineComposer, rhyme_grammar, rhyme_words

    assert {"again", "train", "plain"} <= set(rhyme_words("rain", 400)) and "rain" not in rhyme_words("rain", 400)
    backend = Lines([])
    vocab = {"again": 1163, "train": 4445, "pane": 43903}  # ids as a BPE vocabulary ranks them
    backend.word_token = vocab.get
    composer = LineComposer(backend, [], None, candidates=2, sampling=None, seed=1, language="en",
                            copy_check=None, cancel=None)
    assert composer._endings("rain") == ("again", "train")  # "pane": a rare token; others: not whole words
    spec = rhyme_grammar(8, ("again", "train")).spec
    assert 'end ::= "again" | "train"' in spec and '" " end [,.!?]? "\\n"' in spec
