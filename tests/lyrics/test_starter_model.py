"""The lyrics stage end to end on a real model: the starter SmolLM2-135M-Instruct (Q4_1 GGUF)
through llama.cpp in-process and through llama.cpp's OpenAI-compatible server. Assertions are
on structure and content: exact tags, the requested sections, real (dictionary) words, no line
copied from the request. A 135M model writes simple lyrics; these tests do not judge taste.
Measured on the busy 2-core dev machine (load ~10): 15-20 s of CPU per test; the two longest
are marked slow."""

from __future__ import annotations

import pytest

from lyrics import backends
from lyrics.format import Lyrics
from lyrics.prosody import words
from lyrics.quality import PromptCopyCheck, tag_exact
from lyrics.writer import LyricsWriter
from tests.lyrics.conftest import serve_gguf

HUMAN = ("Title: Harbour Lights\n\n[verse]\nthe boats come home at half past nine\nthe harbour lights begin to shine\n\n"
         "[chorus]\nhold on, hold on\nthe night is long\n")


def real_word_share(lines) -> float:
    import pronouncing

    found = [w.lower() for line in lines for w in words(line) if not w.isdigit()]
    return sum(bool(pronouncing.phones_for_word(w)) for w in found) / max(1, len(found))


def check_song(lyrics: Lyrics, structure, raw: str, prompt_texts) -> None:
    assert [s.tag for s in lyrics.sections] == list(structure)
    assert all(s.lines for s in lyrics.sections)
    assert tag_exact(raw), raw
    lines = [ln for s in lyrics.sections for ln in s.lines]
    assert PromptCopyCheck(prompt_texts).copied(lines) == [], raw
    assert real_word_share(lines) >= 0.75, raw  # mostly dictionary words, not byte noise


@pytest.mark.slow  # ~40 line generations: 15-20 s of CPU on 2 cores
def test_draft_line_by_line_on_the_starter(starter_backend):
    stream = LyricsWriter(starter_backend, candidates=2).draft_stream(
        theme="leaving a small town at dawn", genre="indie folk", mood="wistful", structure="verse, chorus",
        length=60, bpm=96, seed=7)
    lyrics = stream.result()
    check_song(lyrics, ("verse", "chorus"), stream.raw, stream.prompt_texts)
    assert lyrics.title and stream.quality.targets and stream.quality.syllable_fit is not None
    assert [len(s.lines) for s in lyrics.sections] == [4, 4]


def test_draft_in_one_pass_on_the_starter(starter_backend):
    stream = LyricsWriter(starter_backend, candidates=1).draft_stream(
        theme="summer rain on a tin roof", genre="pop", mood="joyful", structure="verse, chorus", seed=3)
    lyrics = stream.result()
    check_song(lyrics, ("verse", "chorus"), stream.raw, stream.prompt_texts)


def test_rewrite_continue_and_titles_on_the_starter(starter_backend):
    writer = LyricsWriter(starter_backend)
    song = Lyrics.parse(HUMAN)
    rewritten = writer.rewrite(song, "chorus", "more hopeful", seed=2)
    assert [s.tag for s in rewritten.sections] == ["verse", "chorus"]
    assert rewritten.sections[0] == song.sections[0] and rewritten.sections[1].lines
    assert real_word_share(rewritten.sections[1].lines) >= 0.75
    longer = writer.continue_(song, sections=["bridge"], seed=2)
    assert [s.tag for s in longer.sections] == ["verse", "chorus", "bridge"] and longer.sections[2].lines
    assert real_word_share(longer.sections[2].lines) >= 0.75
    titles = writer.titles(song, count=3, seed=2)
    assert len(titles) == 3 and real_word_share(titles) >= 0.75


@pytest.mark.network
@pytest.mark.slow  # starts a server process and loads the model a second time
def test_draft_through_llama_cpp_server_with_the_starter(starter_gguf_path, tmp_path):
    with serve_gguf(starter_gguf_path, "starter", tmp_path) as url:
        with backends.create("openai", base_url=url, model="starter", server="llama-cpp") as backend:
            stream = LyricsWriter(backend).draft_stream(theme="the night bus home", genre="soul", mood="tender",
                                                        structure="verse, chorus", seed=5)
            lyrics = stream.result()
    check_song(lyrics, ("verse", "chorus"), stream.raw, stream.prompt_texts)
