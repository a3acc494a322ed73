"""Lyrics.parse on what people and LLMs write; render for ACE-Step v1 / 1.5; validate; repair."""

from __future__ import annotations

import re

import pytest

from lyrics.format import Lyrics, Section
from lyrics.tags import V1_TAGS, parse_header

V1_LINE = re.compile(r"^\[(" + "|".join(re.escape(t) for t in V1_TAGS) + r")\]$")

# (input text, expected title, expected [(tag, number, descriptor, lines)])
MESSY = [
    ("Verse 1:\nsun is up\nday is new\n\nChorus:\nla la la",
     "", [("verse", 1, None, ["sun is up", "day is new"]), ("chorus", None, None, ["la la la"])]),
    ("**Chorus**\nhold on\n**Verse 2**\nlet go",
     "", [("chorus", None, None, ["hold on"]), ("verse", 2, None, ["let go"])]),
    ("[Verse 2 - softer]\nquiet now\n[Chorus: anthemic]\nLOUD NOW",
     "", [("verse", 2, "softer", ["quiet now"]), ("chorus", None, "anthemic", ["LOUD NOW"])]),
    ("(Pre-Chorus)\nclimbing up\n(ooh, yeah)\nHook\nhey hey",
     "", [("pre-chorus", None, None, ["climbing up", "(ooh, yeah)"]), ("hook", None, None, ["hey hey"])]),
    ("[Instrumental]\n\n[Guitar Solo]\n[Refrain]\nsing it", "",
     [("inst", None, None, []), ("solo", None, "guitar", []), ("chorus", None, None, ["sing it"])]),
    ("## Verse\n- first line\n- second line\n## Chorus\n1. one\n2. two", "",
     [("verse", None, None, ["first line", "second line"]), ("chorus", None, None, ["one", "two"])]),
    ("Here's a song about the sea:\n\n# Deep Blue\n\n[verse]\nwaves roll in\n\n\n\nwaves roll out\n```",
     "Deep Blue", [("verse", None, None, ["waves roll in", "waves roll out"])]),
    ("Title: \"Night Drive\"\n[Intro]\n[VERSE ONE]\nengine hums\n[Chorus x2]\ndrive on\n[Outro]",
     "Night Drive", [("intro", None, None, []), ("verse", 1, None, ["engine hums"]),
                     ("chorus", None, "x2", ["drive on"]), ("outro", None, None, [])]),
    ("just words\nmore words\n\nsecond stanza", "",
     [("verse", None, None, ["just words", "more words"]), ("verse", None, None, ["second stanza"])]),
    ("opening line before tags\n[Chorus]\nchorus line", "",
     [("verse", None, None, ["opening line before tags"]), ("chorus", None, None, ["chorus line"])]),
    ("[Rap]\nyo\n[Spoken Word]", "", [("rap", None, None, ["yo"]), ("spoken word", None, None, [])]),
    ("Pre chorus\nup\nPost-Chorus\nafter\nInterlude\nMiddle 8\nbridge line", "",
     [("pre-chorus", None, None, ["up"]), ("hook", None, None, ["after"]), ("inst", None, None, []),
      ("bridge", None, None, ["bridge line"])]),
    ("[Verse 1] first line on the tag line\nnext", "",
     [("verse", 1, None, ["first line on the tag line", "next"])]),
    ("Verse:\ttabbed\x07line\r\nChorus\r\nwindows  line", "",
     [("verse", None, None, ["tabbed line"]), ("chorus", None, None, ["windows line"])]),
    ("**[Bridge]**\n*italic lyric*\n> quoted lyric\n---\n[Final Chorus]\nend", "",
     [("bridge", None, None, ["italic lyric", "quoted lyric"]), ("chorus", None, "final", ["end"])]),
]


def _shape(lyrics: Lyrics):
    return [(s.tag, s.number, s.descriptor, list(s.lines)) for s in lyrics.sections]


@pytest.mark.parametrize("text,title,sections", MESSY, ids=[m[0][:24] for m in MESSY])
def test_parse_messy_inputs(text, title, sections):
    lyrics = Lyrics.parse(text)
    assert lyrics.title == title
    assert _shape(lyrics) == sections


def test_parse_keeps_every_lyric_line():
    body = [f"line number {i} of the song" for i in range(30)]
    text = "Sure! Here is your song:\n\n" + "\n".join(
        (f"[Verse {i // 5 + 1}]\n" if i % 5 == 0 else "") + line + ("\n\n\n" if i % 7 == 0 else "")
        for i, line in enumerate(body))
    lyrics = Lyrics.parse(text)
    assert [ln for s in lyrics.sections for ln in s.lines] == body
    assert lyrics.notes == ("Sure! Here is your song:",)


def test_bare_words_that_are_not_tags_stay_lyrics():
    lyrics = Lyrics.parse("[verse]\n**Give me a break**\nEnd of the road\nThe hook is in")
    assert _shape(lyrics) == [("verse", None, None, ["Give me a break", "End of the road", "The hook is in"])]


def test_render_v1_emits_only_the_twelve_tags_each_on_its_own_line():
    text = "[Intro]\n[Verse 1 - soft]\na\nb\n[Pre Chorus]\nc\n[Chorus x2]\nd\n[Rap]\ne\n[Guitar solo]\n" \
           "[Hook]\nf\n[Breakdown]\n[Instrumental]\n[Bridge]\ng\n[Outro]\n[Spoken]"
    rendered = Lyrics.parse(text).render()
    bracketed = [ln for ln in rendered.splitlines() if ln.startswith("[")]
    assert bracketed and all(V1_LINE.match(ln) for ln in bracketed)
    assert bracketed == ["[intro]", "[verse]", "[pre-chorus]", "[chorus]", "[verse]", "[solo]", "[hook]",
                         "[break]", "[inst]", "[bridge]", "[outro]"]
    assert [ln for ln in rendered.splitlines() if ln and not ln.startswith("[")] == list("abcdefg")


def test_render_v1_start_end_tags():
    lyrics = Lyrics(sections=(Section("start"), Section("verse", ("la",)), Section("end")))
    assert lyrics.render() == "[start]\n\n[verse]\nla\n\n[end]"


def test_render_15_keeps_numbers_and_descriptors():
    lyrics = Lyrics.parse("[Verse 2 - softer]\nx\n[pre-chorus]\ny\n[Instrumental]")
    assert lyrics.render(target="ace-step-1.5") == "[Verse 2 - softer]\nx\n\n[Pre-Chorus]\ny\n\n[Instrumental]"
    with pytest.raises(ValueError, match="render target"):
        lyrics.render(target="ace-step-2")


def test_text_round_trips():
    lyrics = Lyrics.parse("Title: Moon\n[Verse 1 - low]\na\nb\n[Chorus]\nc")
    again = Lyrics.parse(lyrics.text())
    assert again == lyrics


def test_validate_reports_unknown_empty_and_too_long():
    lyrics = Lyrics.parse("[Rap]\nyo yo yo\n[Chorus]\n[Verse 1]\nhello there\n[Inst]")
    report = lyrics.validate()
    assert report.codes() == ["unknown_tag", "empty_section", "not_v1_tag"]
    assert not report.ok
    assert "'rap'" in report.issues[0].message
    long_song = Lyrics(sections=(Section("verse", tuple(["the quick brown fox jumps over it"] * 20)),))
    fits = long_song.validate(duration_s=600, bpm=100)
    too_long = long_song.validate(duration_s=30, bpm=100)
    assert fits.ok and fits.sung_seconds is not None
    assert too_long.codes() == ["too_long"]
    # 20 lines x 8 syllables at 1.5 syllables/beat + 1 beat rest per line, at 100 BPM
    assert too_long.sung_seconds == pytest.approx(20 * (8 / 1.5 + 1) * 60 / 100)
    assert "30 s" in too_long.issues[0].message


def test_validate_no_lyrics():
    assert Lyrics.parse("").validate().codes() == ["no_lyrics"]
    assert Lyrics.parse("[intro]\n[outro]").validate().codes() == ["no_lyrics"]


def test_repair_maps_unknown_fills_repeats_and_drops_empties():
    lyrics = Lyrics.parse("[Chorus]\nsing\n[Verse]\n[Rap]\nbars\n[Spoken]\n(Repeat Chorus)\n[Inst]")
    fixed, changes = lyrics.repair()
    assert [(s.tag, s.lines) for s in fixed.sections] == [
        ("chorus", ("sing",)), ("verse", ("bars",)), ("chorus", ("sing",)), ("inst", ())]
    assert fixed.sections[1].descriptor == "rap"
    assert len(changes) == 4
    assert fixed.validate().ok


def test_from_dict_tolerates_model_json():
    data = {"title": "  **Rain**\n", "sections": [
        {"tag": "Verse 1", "lines": ["a\nb", "  c\t"]}, {"tag": "CHORUS", "lines": "x\ny"},
        {"tag": "refrain", "lines": []}, "junk", {"lines": ["untagged"]}]}
    lyrics = Lyrics.from_dict(data)
    assert lyrics.title == "Rain"
    assert _shape(lyrics) == [("verse", 1, None, ["a", "b", "c"]), ("chorus", None, None, ["x", "y"]),
                              ("chorus", None, None, []), ("verse", None, None, ["untagged"])]
    assert Lyrics.from_dict(lyrics.to_dict()) == lyrics


def test_find_sections():
    lyrics = Lyrics.parse("[Verse 1]\na\n[Chorus]\nb\n[Verse 2]\nc")
    assert lyrics.find("chorus") == 1
    assert lyrics.find("Verse 2") == 2
    assert lyrics.find("[verse]") == 0
    assert lyrics.find(2) == 2
    with pytest.raises(KeyError, match="bridge"):
        lyrics.find("bridge")
    with pytest.raises(IndexError):
        lyrics.find(3)


@pytest.mark.parametrize("text,expected", [
    ("Verse 2 - softer", ("verse", 2, "softer")), ("chorus x2", ("chorus", None, "x2")),
    ("Pre-Chorus", ("pre-chorus", None, None)), ("middle 8", ("bridge", None, None)),
    ("guitar solo", ("solo", None, "guitar")), ("Verse III", ("verse", 3, None)),
])
def test_parse_header(text, expected):
    name = parse_header(text, loose=True)
    assert (name.tag, name.number, name.descriptor) == expected
    assert name.known


def test_parse_header_strict_rejects_lyrics():
    assert parse_header("the end of us", loose=False) is None
    assert parse_header("break my heart", loose=False) is None
    unknown = parse_header("spoken word", loose=True)
    assert unknown is not None and not unknown.known


def test_llama3_rope_factors_follow_the_three_bands():
    from lyrics.gguf_export import llama3_rope_factors, permute_qk

    config = {"rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 32.0,
              "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}
    factors = llama3_rope_factors(config, 128)
    assert factors.shape == (64,)
    assert factors[0] == 1.0 and factors[-1] == 32.0  # fast dims untouched, slow dims scaled fully
    middle = factors[(factors > 1.0) & (factors < 32.0)]
    assert len(middle) > 0 and all(a <= b for a, b in zip(middle, middle[1:]))
    assert llama3_rope_factors({"rope_theta": 1e4}, 128) is None
    import numpy as np

    w = np.arange(8 * 3).reshape(8, 3)  # 2 heads x 4 rows: halves [0,1|2,3] -> interleaved [0,2,1,3]
    assert permute_qk(w, 2)[:4, 0].tolist() == [0, 6, 3, 9]
