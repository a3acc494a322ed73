"""The model-free check of an ace-step-v1 request (music/acestep_v1/request_check.py)."""

from __future__ import annotations

import inspect

import pytest

from music.acestep_v1.call_check import check_call
from music.acestep_v1.common import MODE_DEFAULTS
from music.acestep_v1.engine import ACEStepV1Engine
from music.acestep_v1.loading.tiny import build_lyric_vocab
from music.acestep_v1.lyric_frontend.tokenizer import LyricTokenizer
from music.acestep_v1.modes.request import MAPPED_MODE_ARGUMENTS
from music.acestep_v1.request_check import MAPPED_FIELDS, OPTION_NAMES, count_lyric_tokens
from music.engine import CheckedRequest, MusicRequest, RequestError


def test_the_option_list_is_what_the_pipeline_takes_less_the_request_fields():
    """The check keeps an explicit list (no signature inspection at run time); this keeps it true."""
    internal = {"lyric_tokens", "mode_kwargs"}
    takes = (set(inspect.signature(check_call).parameters) | set(MODE_DEFAULTS)) - internal
    assert set(OPTION_NAMES) == takes - set(MAPPED_FIELDS) - set(MAPPED_MODE_ARGUMENTS)


@pytest.fixture(scope="module")
def vocab(tmp_path_factory):
    return build_lyric_vocab(tmp_path_factory.mktemp("vocab") / "lyrics_vocab.json")


def test_counting_line_by_line_equals_the_whole_encoding(vocab):
    lyrics = "[verse]\nNeon lights tonight\n\n[chorus]\nla la la\nDie Nacht ist lang\n\n\n[Verse 2]\nrain"
    expected = len(LyricTokenizer.from_file(vocab).encode(lyrics))
    assert count_lyric_tokens(lyrics, settings={"lyric_vocab": str(vocab)}) == expected
    assert count_lyric_tokens("  \n", settings={}) == 0  # no lyrics: nothing to measure, no vocabulary needed


def test_counting_stops_at_the_limit(vocab):
    with pytest.raises(RequestError, match="over the lyric token limit: at least 3[0-9] tokens .* at most 30"):
        count_lyric_tokens("la la la la\n" * 200, settings={"lyric_vocab": str(vocab)}, limit=30)


def test_the_memory_estimate_grows_with_takes_and_length_and_shrinks_with_bf16_and_windows():
    def need(seconds, takes, **settings):
        checked = CheckedRequest(engine="ace-step-v1", request=MusicRequest(prompt="p", duration=seconds,
                                                                           batch_size=takes),
                                 facts={"output_seconds": seconds})
        return ACEStepV1Engine.run_memory_bytes(checked, settings=settings) / 2**30

    assert need(240, 1) == pytest.approx(1.07 + 5.68)  # the full-size bench's 240 s fp32 row
    assert need(240, 8) == pytest.approx(8 * need(240, 1)) and need(60, 1) == pytest.approx(need(240, 1) / 4)
    assert need(240, 1, dtype="bfloat16") < need(240, 1) and need(240, 1, overlapped_decode=True) < 2
