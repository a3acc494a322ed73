"""The training dataset: every clip checked before training, bad ones named, long ones windowed."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from music.training.clips import (
    ClipError,
    ClipSource,
    check_clip,
    check_clips,
    clips_from_folder,
    dataset_digest,
    windows,
)
from tests.music.training.clip_files import three_clips, write_clip

LIMITS = dict(sample_rate=44100, max_seconds=240.0)


def test_folder_reads_sidecars_in_all_three_forms(tmp_path):
    write_clip(tmp_path, "txt.wav", lyrics="line one\nline two")
    write_clip(tmp_path, "js.wav", tags=None)
    (tmp_path / "js.json").write_text(json.dumps({"prompt": "jazz, sax", "lyrics": ""}))
    write_clip(tmp_path, "up.wav", tags=None)
    (tmp_path / "up_prompt.txt").write_text("rock")
    (tmp_path / "up_lyrics.txt").write_text("yeah")
    clips = {c.name: c for c in clips_from_folder(tmp_path)}
    assert (clips["txt.wav"].tags, clips["txt.wav"].lyrics) == ("pop, synth, upbeat", "line one\nline two")
    assert (clips["js.wav"].tags, clips["js.wav"].lyrics) == ("jazz, sax", "")  # empty lyrics: instrumental
    assert (clips["up.wav"].tags, clips["up.wav"].lyrics) == ("rock", "yeah")


def test_clip_without_tags_is_refused_by_name(tmp_path):
    write_clip(tmp_path, "lonely.wav", tags=None)
    with pytest.raises(ClipError, match=r"lonely\.wav has no tags.*lonely\.txt"):
        clips_from_folder(tmp_path)


def test_corrupt_silent_and_short_clips_are_refused_by_name(tmp_path):
    corrupt = tmp_path / "broken.wav"
    corrupt.write_bytes(b"RIFF" + bytes(range(256)) * 20)
    silent = tmp_path / "quiet.wav"
    sf.write(silent, np.zeros((44100 * 3, 2), dtype=np.float32), 44100)
    short = write_clip(tmp_path, "tiny.wav", seconds=0.5)
    with pytest.raises(ClipError, match=r"clip broken\.wav cannot be decoded"):
        check_clip(ClipSource(path=corrupt, tags="x"), **LIMITS)
    with pytest.raises(ClipError, match=r"clip quiet\.wav is silent"):
        check_clip(ClipSource(path=silent, tags="x"), **LIMITS)
    with pytest.raises(ClipError, match=r"clip tiny\.wav is 0\.50 s long; clips must be at least 2 s"):
        check_clip(ClipSource(path=short, tags="x"), **LIMITS)


def test_one_bad_clip_stops_the_whole_dataset(tmp_path):
    three_clips(tmp_path)
    (tmp_path / "zzz.wav").write_bytes(b"not audio at all")
    (tmp_path / "zzz.txt").write_text("pop")
    with pytest.raises(ClipError, match=r"zzz\.wav"):
        check_clips(clips_from_folder(tmp_path), **LIMITS)


def test_too_long_clip_is_refused_from_its_header(tmp_path):
    long = write_clip(tmp_path, "long.wav", seconds=5.0, rate=8000)
    with pytest.raises(ClipError, match=r"clip long\.wav is 5\.0 s long; this engine takes at most 4 s"):
        check_clip(ClipSource(path=long, tags="x"), sample_rate=44100, max_seconds=4.0)


def test_other_rates_are_resampled_and_mono_made_stereo(tmp_path):
    path = tmp_path / "mono.wav"
    t = np.arange(22050 * 3) / 22050
    sf.write(path, (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 22050)
    clip = check_clip(ClipSource(path=path, tags="x"), **LIMITS)
    assert clip.audio.shape == (2, 44100 * 3)
    assert np.array_equal(clip.audio[0], clip.audio[1])


def test_long_clips_are_cut_into_windows_the_last_ending_at_the_end(tmp_path):
    clip = check_clip(ClipSource(path=write_clip(tmp_path, "song.wav", seconds=5.0), tags="x"), **LIMITS)
    cut = windows(clip, window_seconds=2.0)
    assert [(w.start, w.length) for w in cut] == [(0, 88200), (88200, 88200), (132300, 88200)]
    assert windows(clip, window_seconds=30.0)[0].length == clip.audio.shape[-1]


def test_dataset_digest_follows_content_not_order(tmp_path):
    clips = check_clips(clips_from_folder(three_clips(tmp_path)), **LIMITS)
    assert dataset_digest(clips) == dataset_digest(list(reversed(clips)))
    (tmp_path / "a.txt").write_text("rock\n")
    changed = check_clips(clips_from_folder(tmp_path), **LIMITS)
    assert dataset_digest(changed) != dataset_digest(clips)
