"""The files of a take: formats, tags, envelope, and atomic writes that leave nothing behind."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mutagen.flac import FLAC
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from studio import audio_files
from studio.audio_files import TAKE_FILES, atomic_path, check_readable_audio, waveform_envelope, write_take_folder
from studio.errors import BadInput, EnvironmentProblem

SR = 48000
TAGS = {"title": "Test Song", "lyrics": "[verse]\nhello", "prompt": "pop", "model": "fake/fake-sine@1", "seed": "42"}


def tone(seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(seconds * SR), dtype=np.float32) / SR
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    return np.stack([left, -left]).astype(np.float32)


def test_take_folder_formats_and_tags(tmp_path):
    audio = tone()
    sha = write_take_folder(tmp_path, audio=audio, sample_rate=SR, tags=TAGS, parameters={"seed": 42})
    master = tmp_path / TAKE_FILES["master"]
    info = sf.info(str(master))
    assert (info.format, info.subtype, info.samplerate, info.channels, info.frames) == ("FLAC", "PCM_24", SR, 2, SR * 2)
    decoded, _ = sf.read(str(master), dtype="float32")
    assert np.abs(decoded.T - audio).max() < 1e-6  # 24-bit: quantisation only
    flac = FLAC(master)
    assert flac["title"] == ["Test Song"] and flac["seed"] == ["42"] and flac["lyrics"] == ["[verse]\nhello"]
    assert flac["prompt"] == ["pop"] and flac["model"] == ["fake/fake-sine@1"]

    mp3 = MP3(tmp_path / TAKE_FILES["mp3"])
    assert mp3.info.bitrate == 320000  # lameenc CBR: every frame at 320 kbps
    assert abs(mp3.info.length - 2.0) < 0.1
    tags = ID3(tmp_path / TAKE_FILES["mp3"])
    assert str(tags["TIT2"]) == "Test Song" and str(tags["TXXX:SEED"]) == "42"
    assert tags.getall("USLT")[0].text == "[verse]\nhello"
    preview = MP3(tmp_path / TAKE_FILES["preview"])
    assert preview.info.bitrate < 320000
    assert (tmp_path / TAKE_FILES["preview"]).stat().st_size < (tmp_path / TAKE_FILES["mp3"]).stat().st_size / 2

    envelope = json.loads((tmp_path / TAKE_FILES["waveform"]).read_text())
    assert envelope["points"] == len(envelope["min"]) == len(envelope["max"]) == 2000
    assert all(lo <= hi for lo, hi in zip(envelope["min"], envelope["max"]))
    assert json.loads((tmp_path / TAKE_FILES["params"]).read_text()) == {"seed": 42}
    assert sha == audio_files.sha256_file(master)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_envelope_of_short_audio_has_one_point_per_sample():
    envelope = waveform_envelope(np.array([[0.0, 1.0, -1.0]], dtype=np.float32), 10)
    assert envelope["points"] == 3 and envelope["max"] == [0.0, 1.0, -1.0]


def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "file.bin"
    target.write_bytes(b"good")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("encoder crashed")
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_full_disk_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    real_write_bytes = Path.write_bytes

    def full_disk(self, data):
        real_write_bytes(self, data[: len(data) // 2])  # part of the file reached the disk ...
        raise OSError(errno.ENOSPC, "No space left on device")  # ... then the disk filled

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(EnvironmentProblem, match="disk full while writing .*master.flac"):
        write_take_folder(tmp_path, audio=tone(0.5), sample_rate=SR, tags=TAGS, parameters={})
    assert list(tmp_path.iterdir()) == []


def test_a_seal_that_fails_on_a_full_disk_says_so(tmp_path, monkeypatch):
    """The sealing libraries word a full disk their own way; too little room for another copy
    of the master is what names it."""
    from collections import namedtuple

    def seal(master):
        raise RuntimeError("C2PA signing failed: I/O error")

    with pytest.raises(RuntimeError, match="I/O error"):  # room enough: the real error, unchanged
        write_take_folder(tmp_path / "a", audio=tone(0.5), sample_rate=SR, tags=TAGS, parameters={}, seal=seal)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(audio_files.shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 100, 100))
    with pytest.raises(EnvironmentProblem, match="disk full while sealing .*master.flac .*100 bytes free"):
        write_take_folder(tmp_path / "b", audio=tone(0.5), sample_rate=SR, tags=TAGS, parameters={}, seal=seal)


def test_broken_audio_from_an_engine_is_refused(tmp_path):
    audio = tone(0.1)
    audio[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        write_take_folder(tmp_path / "t", audio=audio, sample_rate=SR, tags=TAGS, parameters={})
    with pytest.raises(ValueError, match="shape"):
        write_take_folder(tmp_path / "t", audio=np.zeros((2, 0), np.float32), sample_rate=SR, tags=TAGS, parameters={})
    assert not (tmp_path / "t").exists() or list((tmp_path / "t").iterdir()) == []


def test_unreadable_inputs_are_named(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        check_readable_audio(tmp_path / "missing.wav")
    corrupt = tmp_path / "corrupt.flac"
    corrupt.write_bytes(b"fLaC" + b"\x00" * 200)
    with pytest.raises(BadInput, match="corrupt or not audio"):
        check_readable_audio(corrupt, label="source audio")
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all")
    with pytest.raises(BadInput, match="cannot read audio file"):
        check_readable_audio(text)
    good = tmp_path / "good.wav"
    sf.write(good, tone(0.2).T, SR)
    check_readable_audio(good)
