"""Issue #16 parts 1, 2 and 5: one model-free check per engine at submit, limits named in the
error (exit 2, nothing queued), absolute source paths, the worker's memory refusal, plug-in
engines registered through the registry and presets reached through the engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import music.acestep_v1.call_check as v1_call_check
import music.acestep_v1.pipeline as v1_pipeline
import music.acestep_v1.request_check as v1_request_check
from music.acestep_v1.loading.tiny import build_lyric_vocab, build_tiny_checkpoint
from music.acestep_v1.lyric_frontend.tokenizer import LyricTokenizer
from music.engine import CheckedRequest, MusicRequest, RequestError
from music.registry import EngineRegistry, engines
from studio.cli import main
from studio.errors import BadInput
from studio.settings import Settings
from tests.e2e.editing_engine import TARGET as EDITING_TARGET
from tests.studio.conftest import REPO
from tests.studio.fake_engine import FakeEngine

SR = 44100


def _generate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["generate", *args, "--no-wait"])
    return result.exit_code, result.output


def _queued(studio_env) -> list:
    from studio.service import Studio

    studio = Studio.open(Settings())
    try:
        return studio.jobs.list()
    finally:
        studio.db.dispose()


@pytest.fixture
def v1_vocab(tmp_path, monkeypatch) -> Path:
    vocab = tmp_path / "lyrics_vocab.json"
    build_lyric_vocab(vocab)
    monkeypatch.setenv("SONGSTUDIO_ENGINE_OPTIONS", json.dumps({"ace-step-v1": {"lyric_vocab": str(vocab)}}))
    return vocab


@pytest.mark.parametrize("engine", ["ace-step-v1", "fake"])
def test_steps_over_the_limit_exit_2_and_nothing_queued(studio_env, engine):
    code, output = _generate("x", "-e", engine, "-d", "1", "--steps", "100000000")
    assert code == 2, output
    assert "steps limit" in output and "[1, 1000]" in output
    assert _queued(studio_env) == []


@pytest.mark.parametrize("engine", ["ace-step-v1", "fake"])
def test_takes_over_the_limit_exit_2_and_nothing_queued(studio_env, engine):
    code, output = _generate("x", "-e", engine, "-d", "1", "-n", "100000")
    assert code == 2, output
    assert "100000 takes is over the limit of 8 takes per job" in output
    assert _queued(studio_env) == []


def test_100k_characters_of_lyrics_exit_2_naming_the_lyric_token_limit(studio_env, v1_vocab):
    lyrics = "\n".join(["walking down the road tonight"] * 3500)[:100_000]
    assert len(lyrics) == 100_000
    code, output = _generate("x", "-e", "ace-step-v1", "-d", "10", "-l", lyrics)
    assert code == 2, output
    assert "lyric token limit" in output and "at most 4096" in output
    assert _queued(studio_env) == []


def test_one_100k_character_lyric_line_is_refused_before_it_is_tokenized(studio_env, v1_vocab):
    code, output = _generate("x", "-e", "ace-step-v1", "-d", "10", "-l", "la " * 33_334)
    assert code == 2, output
    assert "lines are at most 1000 characters" in output
    assert _queued(studio_env) == []


def test_lyric_tokens_are_counted_with_the_real_tokenizer_and_stored(studio_env, v1_vocab):
    lyrics = "[verse]\nNeon lights tonight\n\n[chorus]\nla la la"
    code, output = _generate("x", "-e", "ace-step-v1", "-d", "10", "-l", lyrics)
    assert code == 0, output
    (job,) = _queued(studio_env)
    spec = json.loads(job.spec)
    assert spec["facts"]["lyric_tokens"] == len(LyricTokenizer.from_file(v1_vocab).encode(lyrics))
    assert spec["request"]["steps"] == 60 and spec["request"]["guidance_scale"] == 15.0  # defaults resolved


def test_relative_source_from_another_folder_is_resolved_and_runs(studio_env, tmp_path, monkeypatch):
    monkeypatch.setenv("SONGSTUDIO_EXTRA_ENGINES", json.dumps({"editing": EDITING_TARGET}))
    caller = tmp_path / "caller"
    caller.mkdir()
    t = np.arange(2 * SR) / SR
    sf.write(caller / "src.flac", np.stack([np.sin(2 * np.pi * 330 * t)] * 2, axis=1) * 0.3, SR)
    monkeypatch.chdir(caller)
    code, output = _generate("x", "-e", "editing", "-d", "2", "--task", "repaint", "--source", "src.flac",
                             "--region", "0.5", "1.5")
    assert code == 0, output
    job_id = output.strip()
    elsewhere = tmp_path / "worker-folder"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the worker runs in another folder
    from studio.service import Studio
    from studio.worker import Worker

    studio = Studio.open(Settings())
    try:
        spec = json.loads(studio.jobs.get(job_id).spec)
        assert spec["request"]["source_audio"] == str(caller / "src.flac")
        job = Worker(settings=studio.settings, db=studio.db, queue=studio.queue).run_next()
        assert job.id == job_id and job.status == "done", job.error
    finally:
        studio.db.dispose()


def test_python_api_and_ui_submit_use_the_same_check(studio):
    # one service: the CLI passes request fields, the pages a MusicRequest
    with pytest.raises(BadInput, match="steps limit"):
        studio.submit_music(engine="fake", prompt="x", duration=1, steps=10**8)
    with pytest.raises(BadInput, match="over the limit of 8 takes"):
        studio.submit_music(MusicRequest(prompt="x", duration=1, batch_size=9), engine="fake")
    assert studio.jobs.list() == []


def test_a_theme_longer_than_the_lyrics_context_is_refused(studio, monkeypatch):
    small = {"backend_options": {"n_ctx": 1200}}  # 100 tokens left for the user's text
    with pytest.raises(BadInput, match=r"context is 1200 tokens \(the llama-cpp backend's n_ctx\)"):
        studio.submit_lyrics(theme="rain " * 150, backend="llama-cpp", **small)  # 750 characters
    with pytest.raises(BadInput, match=r"a theme is at most 1,000\. Shorten the theme \(9,999 characters\)$"):  # the theme as submitted: stripped
        studio.submit_lyrics(theme="rain " * 2000, backend="llama-cpp")
    studio.submit_lyrics(theme="rain on the window", backend="llama-cpp")
    with pytest.raises(BadInput, match=r"Shorten the lyrics \(\d[\d,]* characters\)$"):
        studio.submit_lyrics(action="rewrite", backend="llama-cpp", lyrics="[verse]\n" + "la la la\n" * 1500,
                             section=0, instruction="brighter")
    assert len(studio.jobs.list()) == 1


def test_the_worker_refuses_a_job_larger_than_free_memory_and_it_can_be_retried(studio, monkeypatch):
    from studio import worker as worker_module
    from studio import worker_models

    job = studio.submit_music(engine="fake", prompt="x", duration=2, batch_size=2)
    monkeypatch.setattr(worker_models, "free_bytes", lambda device: 1000)
    runner = worker_module.Worker(settings=studio.settings, db=studio.db, queue=studio.queue)
    runner.prepare()
    failed = runner.run_next()
    assert failed.status == "failed"
    assert "this job needs about" in failed.error and "2 take(s) of 2 s" in failed.error
    assert "has 0.0 GiB free" in failed.error and "retry" in failed.error
    assert json.loads(failed.spec)["request"]["batch_size"] == 2  # the spec is kept
    monkeypatch.setattr(worker_models, "free_bytes", lambda device: 2**40)
    studio.retry(job.id)
    assert runner.run_next().status == "done"


def test_the_worker_runs_the_checked_request_without_checking_again(studio, monkeypatch):
    from studio.worker import Worker

    studio.submit_music(engine="fake", prompt="x", duration=1)
    calls = []
    monkeypatch.setattr(FakeEngine, "check", classmethod(lambda cls, *a, **k: calls.append(a)))
    runner = Worker(settings=studio.settings, db=studio.db, queue=studio.queue)
    runner.prepare()
    assert runner.run_next().status == "done"
    assert calls == []


def test_a_v1_job_checks_its_arguments_once_and_decodes_its_source_once(tmp_path, monkeypatch):
    """Submit (the model-free check) and the worker's run (the checked request as stored in the
    job) of a repaint on the tiny checkpoint: one argument check, one decode (submit reads only
    the header). Was: checked at submit and again in the worker, decoded twice."""
    folder = tmp_path / "v1"
    vocab = build_tiny_checkpoint(folder, seed=0) / "lyrics_vocab.json"
    t = np.arange(2 * SR) / SR
    source = tmp_path / "src.wav"
    sf.write(source, np.stack([np.sin(2 * np.pi * 440 * t)] * 2, axis=1) * 0.3, SR)
    checks, decodes, headers = [], [], []
    for module in (v1_request_check, v1_pipeline):  # every importer of the one argument check
        monkeypatch.setattr(module, "check_call", lambda *a, **k: checks.append(k) or v1_call_check.check_call(*a, **k))
    real_read, real_info = sf.read, sf.info
    monkeypatch.setattr(sf, "read", lambda *a, **k: decodes.append(a) or real_read(*a, **k))
    monkeypatch.setattr(sf, "info", lambda *a, **k: headers.append(a) or real_info(*a, **k))
    request = MusicRequest(task="repaint", prompt="pop", lyrics="[verse]\nla la", duration=2.0, steps=2, seeds=[1],
                           source_audio=str(source), region_start=0.5, region_end=1.5)
    checked = engines.check("ace-step-v1", request, model_dir=str(folder), settings={"lyric_vocab": str(vocab)})
    assert (len(checks), len(decodes), len(headers)) == (1, 0, 1)
    assert checked.facts["source"]["seconds"] == pytest.approx(2.0, abs=0.1)
    stored = CheckedRequest.from_dict(json.loads(json.dumps(checked.to_dict())))  # as the job keeps it
    engine = engines.create("ace-step-v1", model_dir=str(folder), lyric_vocab=str(vocab))
    result = engine.generate(stored)
    assert (len(checks), len(decodes)) == (1, 1) and result.takes[0].audio.shape[0] == 2
    assert result.parameters["repaint_frames"] == [5, 16] and result.parameters["src_audio_path"] == str(source)


def test_a_v1_source_changed_after_submit_fails_the_run_clearly(tmp_path):
    folder = tmp_path / "v1"
    vocab = build_tiny_checkpoint(folder, seed=0) / "lyrics_vocab.json"
    source = tmp_path / "src.wav"
    sf.write(source, np.zeros((2 * SR, 2)), SR)
    request = MusicRequest(task="edit", prompt="pop", duration=2.0, steps=2, seeds=[1], source_audio=str(source))
    checked = engines.check("ace-step-v1", request, model_dir=str(folder), settings={"lyric_vocab": str(vocab)})
    sf.write(source, np.zeros((SR, 2)), SR)  # replaced by a shorter file while the job waited
    engine = engines.create("ace-step-v1", model_dir=str(folder), lyric_vocab=str(vocab))
    with pytest.raises(RequestError, match="changed after the job was checked.*submit it again"):
        engine.generate(checked)


def test_a_v1_job_stored_without_its_checked_call_is_checked_once_when_it_runs(tmp_path, monkeypatch):
    """A job queued before checked calls were stored (facts without "call") still runs, checked once."""
    folder = tmp_path / "v1"
    vocab = build_tiny_checkpoint(folder, seed=0) / "lyrics_vocab.json"
    checks = []
    monkeypatch.setattr(v1_request_check, "check_call", lambda *a, **k: checks.append(k) or v1_call_check.check_call(*a, **k))
    old = CheckedRequest(engine="ace-step-v1", request=MusicRequest(prompt="pop", duration=1.0, steps=2, seeds=[4]),
                         facts={"lyric_tokens": 0})
    engine = engines.create("ace-step-v1", model_dir=str(folder), lyric_vocab=str(vocab))
    assert engine.generate(old).takes[0].seed == 4 and len(checks) == 1


def test_plugins_register_through_the_registry_and_name_their_class():
    registry = EngineRegistry()
    registry.register_plugins({"fake": "tests.studio.fake_engine:FakeEngine.from_settings",
                               "fake2": "tests.studio.fake_engine:FakeEngine"})
    assert registry.engine_class("fake") is FakeEngine and registry.engine_class("fake2") is FakeEngine
    registry.register("broken", "json:dumps")
    with pytest.raises(ValueError, match="not a MusicEngine subclass"):
        registry.engine_class("broken")


def test_the_submit_side_does_not_import_the_worker():
    # the CLI hosts the `worker` command and imports it; the service and the checks it runs never do
    code = "import sys, studio.service, studio.specs; assert 'studio.worker' not in sys.modules, 'worker imported'"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, env={"PYTHONPATH": str(REPO)})


def test_cli_presets_come_from_the_engine(studio_env, tmp_path):
    t = np.arange(2 * SR) / SR
    source = tmp_path / "src.wav"
    sf.write(source, np.stack([np.sin(2 * np.pi * 440 * t)] * 2, axis=1) * 0.3, SR)
    assert engines.presets("ace-step-v1")["remix"] == {"edit_n_min": 0.2, "edit_n_max": 0.4}
    code, output = _generate("x", "-e", "ace-step-v1", "-d", "2", "--task", "edit", "--source", str(source),
                             "--preset", "louder")
    assert code == 2 and "unknown preset 'louder'" in output and "only_lyrics, remix" in output
    code, output = _generate("x", "-e", "fake", "-d", "2", "--preset", "remix")
    assert code == 2 and "it has: none" in output


def test_a_long_theme_is_counted_with_the_lyrics_models_own_tokenizer(studio, tmp_path):
    """Over the byte budget, a transformers model's tokenizer.json decides (no weights read)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    folder = tmp_path / "llm"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"max_position_embeddings": 1400}))  # 300 tokens for the text
    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0, "rain": 1}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(folder / "tokenizer.json"))
    options = {"backend_options": {"model": str(folder)}}
    studio.submit_lyrics(theme="rain " * 190, backend="transformers", **options)  # 950 bytes, 190 tokens
    with pytest.raises(BadInput, match=r"the theme is 400 tokens; the lyrics model's context is 1400 tokens"):
        studio.submit_lyrics(theme="a " * 400, backend="transformers", **options)  # 800 bytes, 400 tokens
    assert len(studio.jobs.list()) == 1
