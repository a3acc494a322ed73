"""Issue #4's bad inputs refused when an ace-step-v1 job is submitted: no job row, no model.

The studio checks a request with the engine class alone (no weights exist in this data home),
so each case below proves the check runs before any model work; a plain request given to the
engine's `generate` (the Python API) is checked first, before its weights load (last test).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from music.engine import MusicRequest, RequestError
from studio.cli import main
from studio.errors import BadInput

SR = 44100


@pytest.fixture
def source(tmp_path):
    t = np.arange(2 * SR) / SR  # 2.0 s stereo
    path = tmp_path / "source.wav"
    sf.write(path, np.stack([np.sin(2 * np.pi * 440 * t)] * 2, axis=1) * 0.3, SR)
    return str(path)


@pytest.fixture
def lora_dir(tmp_path):
    folder = tmp_path / "lora"
    folder.mkdir()
    return folder


def _cases(source: str, tmp_path) -> list[tuple[dict, str]]:
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF0000WAVEjunk")
    return [
        ({"task": "repaint", "source_audio": source, "region_start": 1.0, "region_end": 9.0}, "outside the source"),
        ({"task": "repaint", "source_audio": source, "region_start": -0.5, "region_end": 1.0}, "outside the source"),
        ({"task": "repaint", "source_audio": source, "region_start": 1.9, "region_end": 2.05}, "outside the source"),
        ({"task": "repaint", "source_audio": source, "region_start": 1.0, "region_end": 1.0}, "region is empty"),
        ({"task": "repaint", "source_audio": str(tmp_path / "gone.wav"), "region_start": 0.0, "region_end": 1.0},
         "not found|does not exist"),
        ({"task": "edit", "source_audio": str(corrupt)}, "cannot read source audio"),
        ({"task": "audio2audio", "reference_audio": source, "reference_strength": 1.5},
         r"ref_audio_strength must be in \[0, 1\]"),
        ({"task": "audio2audio", "reference_audio": source, "reference_strength": -0.1},
         r"ref_audio_strength must be in \[0, 1\]"),
        ({"task": "edit", "source_audio": source, "options": {"edit_n_min": 0.4, "edit_n_max": 0.4}},
         "edit_n_min must be below edit_n_max"),
        ({"task": "edit", "source_audio": source, "options": {"edit_n_min": 0.6, "edit_n_max": 0.2}},
         "edit_n_min must be below edit_n_max"),
        ({"task": "extend", "source_audio": source, "region_start": -120.0, "region_end": 125.0}, "at most 240 s"),
        ({"task": "retake", "options": {"retake_variance": 1.5}}, r"retake_variance must be in \[0, 1\]"),
        ({"lora": str(tmp_path / "lora"), "lora_weight": 3.5}, r"lora_weight must be in \[-3, 3\]"),
        ({"lora": str(tmp_path / "lora")}, "has no pytorch_lora_weights.safetensors"),
        ({"lora": str(tmp_path / "no-such-lora")}, "LoRA not found"),
        ({"options": {"colour": "blue"}}, "unknown ace-step-v1 option.*colour"),
        ({"steps": 0}, r"steps must be in \[1, 1000\]"),
        ({"seeds": [-1]}, r"seeds must be in \[0, 2\*\*64\)"),
        ({"guidance_scale": math.nan}, "guidance_scale must be a finite number"),
        ({"options": {"scheduler_type": "ddim"}}, "scheduler_type"),
    ]


def test_each_bad_input_is_refused_at_submit(studio, source, tmp_path, lora_dir):
    for fields, message in _cases(source, tmp_path):
        request = {"prompt": "pop", "duration": 2.0, **fields}
        with pytest.raises(BadInput, match=message):
            studio.submit_music(engine="ace-step-v1", **request)
    assert studio.jobs.list() == []  # nothing was queued


def test_a_good_edit_request_is_queued(studio, source):
    job = studio.submit_music(engine="ace-step-v1", prompt="pop", duration=2.0, task="repaint", source_audio=source,
                              region_start=0.5, region_end=2.0, options={"retake_variance": 0.7})
    assert studio.jobs.get(job.id).status == "queued"


def test_cli_flags_carry_the_mode_fields(studio_env, source, tmp_path):
    runner = CliRunner()

    def generate(*args: str, code: int):
        result = runner.invoke(main, ["generate", "pop", "-e", "ace-step-v1", "-d", "2", *args, "--no-wait"])
        assert result.exit_code == code, result.output
        return result.output

    assert "outside the source" in generate("--task", "repaint", "--source", source, "--region", "1", "9", code=2)
    assert "at most 240 s" in generate("--task", "extend", "--source", source, "--region", "-120", "125", code=2)
    assert "ref_audio_strength must be in [0, 1]" in generate(
        "--task", "audio2audio", "--reference", source, "--reference-strength", "2", code=2)
    assert "lora_weight must be in [-3, 3]" in generate("--lora", str(tmp_path), "--lora-weight", "-4", code=2)
    assert "--lora-weight needs --lora" in generate("--lora-weight", "1", code=2)
    assert "not both" in generate("--task", "edit", "--source", source, "--edit-preset", "remix",
                                  "-o", "edit_n_min=0.1", code=2)
    for preset, values in (("remix", "0.2, 0.4"), ("only_lyrics", "0.6, 1.0")):
        job_id = generate("--task", "edit", "--source", source, "--edit-preset", preset, code=0).strip()
        options = json.loads(runner.invoke(main, ["jobs", "show", job_id]).output)["spec"]["request"]["options"]
        assert f"{options['edit_n_min']}, {options['edit_n_max']}" == values
    job_id = generate("--task", "extend", "--source", source, "--region", "-1", "3", code=0).strip()
    shown = runner.invoke(main, ["jobs", "show", job_id]).output
    assert '"region_start": -1.0' in shown and '"region_end": 3.0' in shown and '"task": "extend"' in shown


def test_the_engine_refuses_before_its_weights_load(source):
    """`generate` validates first: a missing checkpoint would be the error if it loaded weights."""
    import torch

    from music.acestep_v1.engine import ACEStepV1Engine

    engine = ACEStepV1Engine(source="/nonexistent/checkpoint", device="cpu", dtype=torch.float32, cache_dir=None,
                             lyric_vocab=None)
    with pytest.raises(RequestError, match="outside the source"):
        engine.generate(MusicRequest(task="repaint", prompt="pop", source_audio=source, region_start=0, region_end=5))
    assert engine._pipeline is None


def test_cli_fast_modes_reach_the_job_and_bad_ones_are_refused(studio_env):
    """#18: --fast / --cache-threshold become ace-step-v1's fast_modes / step_cache_threshold options."""
    runner = CliRunner()

    def generate(*args: str, code: int, engine: str = "ace-step-v1"):
        result = runner.invoke(main, ["generate", "pop", "-e", engine, "-d", "2", *args, "--no-wait"])
        assert result.exit_code == code, result.output
        return result.output

    job_id = generate("--fast", "int8,step-cache", "--cache-threshold", "0.1", code=0).strip()
    options = json.loads(runner.invoke(main, ["jobs", "show", job_id]).output)["spec"]["request"]["options"]
    assert options == {"fast_modes": ["int8", "step-cache"], "step_cache_threshold": 0.1}
    job_id = generate("--fast", "step-cache", "--fast", "int8", code=0).strip()
    spec = json.loads(runner.invoke(main, ["jobs", "show", job_id]).output)["spec"]
    assert spec["request"]["options"] == {"fast_modes": ["step-cache", "int8"]}
    assert spec["facts"]["call"]["fast_modes"] == ["int8", "step-cache"]  # checked: each once, in order
    assert spec["facts"]["call"]["step_cache_threshold"] == 0.05  # the default, recorded
    assert "unknown fast mode(s): turbo" in generate("--fast", "turbo", code=2)
    assert "add step-cache to fast_modes" in generate("--cache-threshold", "0.1", code=2)
    assert "step_cache_threshold must be a number in (0, 1]" in generate("--fast", "step-cache",
                                                                         "--cache-threshold", "0", code=2)
    assert "not both" in generate("--fast", "int8", "-o", "fast_modes=int8", code=2)
    assert "ace-step-v1 options" in generate("--fast", "int8", engine="fake", code=2)


def test_int8_is_refused_at_submit_where_the_studio_runs_on_a_gpu(studio_env, monkeypatch):
    from studio.service import Studio
    from studio.settings import Settings

    monkeypatch.setenv("SONGSTUDIO_DEVICE", "cuda")
    gpu_studio = Studio.open(Settings())
    with pytest.raises(BadInput, match="int8 fast mode runs on the CPU only, and this engine runs on cuda"):
        gpu_studio.submit_music(engine="ace-step-v1", prompt="pop", duration=2.0, options={"fast_modes": ["int8"]})
    job = gpu_studio.submit_music(engine="ace-step-v1", prompt="pop", duration=2.0,
                                  options={"fast_modes": ["step-cache"]})  # any device
    assert gpu_studio.jobs.list() == [gpu_studio.jobs.get(job.id)]
    gpu_studio.db.dispose()
