"""LyricsWriter logic with a scripted backend: prompts, constraint choice, parse/repair, streaming,
cancel, bad input, unrepairable output keeping the raw text."""

from __future__ import annotations

import threading

import pytest

from lyrics.backends.base import Backend
from lyrics.errors import LyricsCancelled, LyricsRequestError, UnrepairableOutput
from lyrics.format import Lyrics
from lyrics.writer import LyricsWriter, parse_structure


class Scripted(Backend):
    """Replies with fixed text, one word per chunk; records what it was asked."""

    name = "scripted"
    supports_seed = True

    def __init__(self, reply: str, kinds: tuple[str, ...] = ("gbnf",), gate: threading.Event | None = None):
        self.reply, self.constraint_kinds, self.gate = reply, kinds, gate
        self.calls: list[dict] = []

    def stream(self, messages, *, params, constraint=None, cancel=None):
        self._check_constraint(constraint)
        self.calls.append({"messages": messages, "params": params, "constraint": constraint})
        for i, word in enumerate(self.reply.split(" ")):
            if self.gate is not None and i == 2:
                self.gate.wait(5)
            if cancel is not None and cancel.is_set():
                raise LyricsCancelled("cancelled")
            yield word if i == 0 else " " + word


SONG = "Title: Paper Boats\n\n[verse]\nwe fold the paper\nwe set it free\n\n[chorus]\nsail away\nsail away\n"


def test_draft_uses_grammar_with_the_structure_and_parses():
    backend = Scripted(SONG)
    lyrics = LyricsWriter(backend).draft(theme="childhood", genre="folk", mood="warm", language="English",
                                         structure="Verse, Chorus", length="short", seed=11)
    call = backend.calls[0]
    assert call["constraint"].kind == "gbnf"
    assert 'root ::= "Title: " title "\\n\\n" s0 s1' in call["constraint"].spec
    assert 's0 ::= "[" "verse" "]\\n" line{4} "\\n"' in call["constraint"].spec  # the planned lines
    assert call["params"].seed == 11
    user = call["messages"][-1]["content"]
    assert user.startswith("Write a warm folk song about childhood.") and "verse, chorus" in user
    assert not any(line.split(":")[0].strip() in ("Theme", "Mood", "Sections") for line in user.splitlines())
    example = call["messages"][-2]
    assert example["role"] == "assistant" and "[verse]" in example["content"]  # the shape, shown once
    assert lyrics.title == "Paper Boats"
    assert lyrics.render() == "[verse]\nwe fold the paper\nwe set it free\n\n[chorus]\nsail away\nsail away"


def test_stream_yields_chunks_then_result_with_report():
    writer = LyricsWriter(Scripted(SONG))
    stream = writer.draft_stream(theme="boats", structure=["verse", "chorus", "bridge"], length=5, bpm=120)
    chunks = list(stream)
    assert "".join(chunks) == SONG == stream.raw
    lyrics = stream.result()
    assert [s.tag for s in lyrics.sections] == ["verse", "chorus"]
    assert any("asked for sections verse chorus bridge" in c for c in stream.changes)
    assert stream.report.codes() == ["too_long"]  # about 6 s of singing does not fit 5 s


def test_json_mode_when_backend_prefers_schema():
    reply = '{"title": "T", "sections": [{"tag": "Verse", "lines": ["a\nb"]}, {"tag": "chorus", "lines": ["c"]}]}'
    backend = Scripted(reply, kinds=("json_schema",))
    lyrics = LyricsWriter(backend).draft(theme="x", structure="verse chorus")
    spec = backend.calls[0]["constraint"].spec
    assert spec["properties"]["sections"]["items"]["properties"]["tag"]["enum"] == ["chorus", "verse"]
    assert "JSON only" in backend.calls[0]["messages"][0]["content"]
    assert [(s.tag, s.lines) for s in lyrics.sections] == [("verse", ("a", "b")), ("chorus", ("c",))]


def test_constrain_none_and_unsupported():
    backend = Scripted(SONG, kinds=())
    LyricsWriter(backend).draft(theme="x")
    assert backend.calls[0]["constraint"] is None
    with pytest.raises(ValueError, match="cannot apply json_schema"):
        LyricsWriter(Scripted(SONG), constrain="json_schema")


def test_missing_title_comes_from_the_chorus():
    lyrics = LyricsWriter(Scripted("[verse]\na b\n[chorus]\nShine on, friend!\nshine")).draft(theme="x")
    assert lyrics.title == "Shine on, friend"


@pytest.mark.parametrize("kwargs,match", [
    ({"theme": "  "}, "give a theme"),
    ({"theme": "", "structure": []}, "give a theme"),
    ({"theme": "x", "language": "Klingon"}, "unsupported lyrics language 'Klingon'"),
    ({"theme": "x", "structure": "verse rap"}, "unknown section 'rap'"),
    ({"theme": "x", "length": "epic"}, "length must be one of"),
    ({"theme": "x", "length": -5}, "positive"),
])
def test_bad_input(kwargs, match):
    backend = Scripted(SONG)
    with pytest.raises(LyricsRequestError, match=match):
        LyricsWriter(backend).draft(**kwargs)
    assert backend.calls == []  # nothing was generated


def test_structure_alone_is_enough():
    lyrics = LyricsWriter(Scripted(SONG)).draft(structure=["verse", "chorus"])
    assert lyrics.sections


def test_unrepairable_output_keeps_raw_text():
    raw = "I'm sorry, I can't help with that."
    with pytest.raises(UnrepairableOutput) as info:
        LyricsWriter(Scripted(raw, kinds=("json_schema",))).draft(theme="x")
    assert info.value.raw == raw
    with pytest.raises(UnrepairableOutput) as info:
        LyricsWriter(Scripted("[intro]\n[outro]")).draft(theme="x")
    assert info.value.raw == "[intro]\n[outro]"


def test_cancel_from_another_thread():
    gate = threading.Event()  # the backend pauses before its third chunk
    writer = LyricsWriter(Scripted(SONG, gate=gate))
    stream = writer.draft_stream(theme="x")
    seen: list[str] = []
    two = threading.Event()

    def consume():
        for chunk in stream:
            seen.append(chunk)
            if len(seen) == 2:
                two.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    assert two.wait(5)
    writer.cancel()
    gate.set()
    consumer.join(5)
    assert seen == ["Title:", " Paper"] and stream.cancelled
    with pytest.raises(LyricsCancelled):
        stream.result()
    assert stream.raw == "Title: Paper"  # the partial text is kept


def test_seed_refused_by_backend_without_seed():
    backend = Scripted(SONG)
    backend.supports_seed = False
    with pytest.raises(LyricsRequestError, match="seed"):
        LyricsWriter(backend).draft(theme="x", seed=1)


def test_rewrite_replaces_one_section_and_keeps_its_header():
    lyrics = Lyrics.parse("[Verse 1 - soft]\nold line\n[Chorus]\nkeep me")
    backend = Scripted("[verse]\nnew line one\nnew line two\n")
    new = LyricsWriter(backend).rewrite(lyrics, "Verse 1", "more imagery")
    assert new.sections[0].lines == ("new line one", "new line two")
    assert (new.sections[0].number, new.sections[0].descriptor) == (1, "soft")
    assert new.sections[1] == lyrics.sections[1]
    assert 's0 ::= "[" "verse" "]\\n"' in backend.calls[0]["constraint"].spec
    assert "more imagery" in backend.calls[0]["messages"][1]["content"]
    with pytest.raises(LyricsRequestError, match="no section 'bridge'"):
        LyricsWriter(backend).rewrite(lyrics, "bridge")


def test_continue_appends_sections():
    lyrics = Lyrics.parse("[verse]\na\n[chorus]\nb")
    backend = Scripted("[verse]\nc d\n\n[chorus]\ne f\n")
    new = LyricsWriter(backend).continue_(lyrics, sections=2)
    assert [s.tag for s in new.sections] == ["verse", "chorus", "verse", "chorus"]
    assert 'root ::= s0 s1' in backend.calls[0]["constraint"].spec
    assert parse_structure("[bridge] [outro]") == ("bridge", "outro")
    assert parse_structure("Verse 1, Pre chorus, Chorus") == ("verse", "pre-chorus", "chorus")
    assert parse_structure("[Verse 1][Chorus x2]") == ("verse", "chorus")
    assert parse_structure("intro verse chorus") == ("intro", "verse", "chorus")


def test_titles_text_and_json():
    lyrics = Lyrics.parse("[verse]\na\n")
    assert LyricsWriter(Scripted("- Paper Boats\n- \"Sail Away\"\n- Paper boats\n")).titles(lyrics, count=3) == \
        ["Paper Boats", "Sail Away"]
    backend = Scripted('{"titles": ["One", "Two"]}', kinds=("json_schema",))
    assert LyricsWriter(backend).titles(lyrics, count=2) == ["One", "Two"]
    assert backend.calls[0]["constraint"].spec["properties"]["titles"]["maxItems"] == 2
    with pytest.raises(UnrepairableOutput):
        LyricsWriter(Scripted("", kinds=("json_schema",))).titles(lyrics)
