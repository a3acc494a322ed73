"""Training through the queue from the CLI, on the demo models (tiny random weights: wiring, never
quality): `train lora` -> worker -> adapter in the library -> `generate --lora NAME`, in every task of
both engines (v1: text2music, retake, repaint, extend, edit, audio2audio; 1.5 turbo: text2music,
repaint, cover; 1.5 base: extract, lego, complete): each take records the adapter's digest and
differs from the same job without the adapter. Submit-time checks, the memory checks; cancel and resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.music.training.clip_files import three_clips, write_clip
from tests.studio.conftest import cli_invoker, wait_for

V1_TASKS = {
    "text2music": [],
    "retake": ["-o", "retake_variance=0.5"],
    "repaint": ["--source", "{src}", "--region", "0.5", "1.5"],
    "extend": ["--source", "{src}", "--region", "-1", "3"],
    "edit": ["--source", "{src}", "-o", "edit_target_prompt=rock, guitar", "--edit-preset", "remix"],
    "audio2audio": ["--reference", "{src}", "--reference-strength", "0.5"],
}


@pytest.fixture(scope="module")
def demo_env_vars(tmp_path_factory) -> dict[str, str]:
    from studio.demo_models import demo_settings_env

    return demo_settings_env(tmp_path_factory.mktemp("models"))


@pytest.fixture
def demo_env(studio_env, demo_env_vars, monkeypatch) -> dict[str, str]:
    env = {**studio_env, **demo_env_vars, "SONGSTUDIO_ENGINE": "ace-step-v1"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def run(demo_env):
    return cli_invoker()


MASTER_STEP = 2.0**-23  # one step of the 24-bit FLAC master


def take_of(run, job_id: str) -> dict:
    """The take a one-take job made, as `library show` prints it, with its master's samples."""
    job = json.loads(run("jobs", "show", job_id).stdout)
    assert job["status"] == "done", job["error"]
    found = [json.loads(line) for line in run("library", "list", "--json", "--limit", "100").stdout.splitlines()]
    (take,) = [t for t in found if t["job_id"] == job_id]
    detail = json.loads(run("library", "show", str(take["id"])).stdout)
    detail["audio"] = sf.read(detail["files"]["master"], dtype="float32")[0]
    return detail


def assert_adapter_played(run, with_lora: str, without: str, *, digest: str, task: str) -> dict:
    """The take of `with_lora` records the adapter and differs from the same job without it."""
    played, plain = take_of(run, with_lora), take_of(run, without)
    assert played["task"] == plain["task"] == task
    assert played["parameters"]["adapter"]["weights_digest"] == digest, task
    assert "adapter" not in plain["parameters"] or plain["parameters"]["adapter"] is None, task
    assert played["audio"].shape == plain["audio"].shape, task
    # the same job without the adapter is bit-identical run to run; on the tiny demo models the
    # adapter moves the 24-bit master by 20 to 10^4 steps (measured), so 8 steps is no rounding
    assert np.abs(played["audio"] - plain["audio"]).max() > 8 * MASTER_STEP, f"{task}: the adapter changed nothing"
    return played


def train(run, data: Path, *extra: str) -> str:
    return run("train", "lora", "--engine", "ace-step-v1", "--data", str(data), "--steps", "4", "--rank", "4",
               "--lr", "1e-3", "--checkpoint-every", "2", "--name", "mine", "--no-wait", *extra).stdout.strip()


def test_train_then_generate_with_the_adapter_in_every_v1_task(run, tmp_path):
    job_id = train(run, three_clips(tmp_path / "clips"), "--lr", "1e-2")  # a step large enough to hear
    run("worker", "--drain")
    job = json.loads(run("jobs", "show", job_id).stdout)
    assert job["status"] == "done", job["error"]
    assert job["result"]["adapter"] == "mine" and job["result"]["steps"] == 4
    assert json.loads(job["partial"])["losses"] == pytest.approx(json.loads(run("adapters", "show", "mine").stdout)["loss_curve"])
    assert "mine  ace-step-v1  rank 4  4 steps" in run("adapters", "list").output
    shown = json.loads(run("adapters", "show", "mine").stdout)
    assert len(shown["base_digest"]) == 64 and len(shown["dataset_digest"]) == 64 and shown["learning_rate"] == 1e-2
    assert len(shown["loss_curve"]) == 4 and Path(shown["path"], "pytorch_lora_weights.safetensors").is_file()

    src = write_clip(tmp_path / "src", "source.wav", seconds=2.0)
    jobs = {}
    for task, extra in V1_TASKS.items():
        args = [a.replace("{src}", str(src)) for a in extra]
        common = ["generate", "pop, synth", "--task", task, "-d", "2", "--steps", "2", "-s", "5", "--no-wait", *args]
        jobs[task] = (run(*common, "--lora", "mine", "--lora-weight", "2").stdout.strip(), run(*common).stdout.strip())
    run("worker", "--drain")
    take_ids = []
    for task, (job_id, plain_id) in jobs.items():
        job = json.loads(run("jobs", "show", job_id).stdout)
        assert job["spec"]["adapter"]["weights_digest"] == shown["weights_digest"]
        detail = assert_adapter_played(run, job_id, plain_id, digest=shown["weights_digest"], task=task)
        assert detail["parameters"]["adapter"] == {"name": "mine", "weights_digest": shown["weights_digest"],
                                                   "base_digest": shown["base_digest"]}, task
        assert detail["parameters"]["parameters"]["lora_weight"] == 2.0, task
        take_ids.append(detail["id"])
    assert sorted(json.loads(run("adapters", "show", "mine").stdout)["takes"]) == sorted(take_ids)

    run("adapters", "delete", "mine")
    assert "mine" not in run("adapters", "list").output
    assert "LoRA not found" in run("generate", "x", "--lora", "mine", "--no-wait", code=2).output


def test_generate_waits_for_the_adapter_made_by_train_lora(run, demo_env, spawn_worker, tmp_path):
    worker = spawn_worker(demo_env)
    out = run("train", "lora", "--engine", "ace-step-v1", "--data", str(three_clips(tmp_path / "c")), "--steps", "3",
              "--rank", "4", "--name", "mine", "--timeout", "600").stdout
    assert "adapter mine: loss" in out, worker.output()
    files = run("generate", "pop", "-d", "2", "--steps", "2", "--lora", "mine", "--wait", "--timeout", "600").stdout
    assert [line for line in files.splitlines() if line.endswith(".flac")], worker.output()


def test_bad_training_input_is_refused_at_submit(run, tmp_path):
    clips = three_clips(tmp_path / "clips")
    (clips / "broken.mp3").write_bytes(b"ID3 but no frames")
    (clips / "broken.txt").write_text("pop")
    assert "clip broken.mp3 cannot be decoded" in run("train", "lora", "-e", "ace-step-v1", "--data", str(clips),
                                                      "--name", "x", "--no-wait", code=2).output
    (clips / "broken.mp3").unlink()
    write_clip(clips, "hush.wav", amplitude=0.0)
    out = run("train", "lora", "-e", "ace-step-v1", "--data", str(clips), "--name", "x", "--no-wait", code=2).output
    assert "clip hush.wav is silent" in out
    (clips / "hush.wav").unlink()
    write_clip(clips, "blip.wav", seconds=0.3)
    out = run("train", "lora", "-e", "ace-step-v1", "--data", str(clips), "--name", "x", "--no-wait", code=2).output
    assert "clip blip.wav is 0.30 s long" in out
    (clips / "blip.wav").unlink()
    for args, message in (
        (["--steps", "0"], "steps must be a whole number from 1"),
        (["--rank", "999"], "rank must be a whole number from 1 to 256"),
        (["--lr", "0.5"], "learning rate must be above 0 and at most 0.01"),
        (["--name", "bad name!"], "adapter name 'bad name!'"),
    ):
        full = ["train", "lora", "-e", "ace-step-v1", "--data", str(clips), "--name", "ok", "--no-wait", *args]
        assert message in run(*full, code=2).output
    assert run("jobs", "list").output.strip() == ""  # nothing was queued


def test_cancel_then_retry_resumes_from_the_last_checkpoint(run, demo_env, spawn_worker, tmp_path):
    from studio.settings import Settings

    job_id = train(run, three_clips(tmp_path / "clips"), "--steps", "8")
    worker = spawn_worker(demo_env)
    wait_for(lambda: json.loads(run("jobs", "show", job_id).stdout)["step"] >= 3, timeout=300,
             what=f"training steps\n{worker.output()}", every=0.2)
    run("jobs", "cancel", job_id)
    wait_for(lambda: json.loads(run("jobs", "show", job_id).stdout)["status"] == "cancelled", timeout=120,
             what="the cancel")
    stopped_at = json.loads(run("jobs", "show", job_id).stdout)["step"]
    pointer = Settings().home / "training" / job_id / "checkpoints" / "latest"
    assert pointer.read_text() == f"step-{stopped_at:06d}"  # a cancel checkpoints where it stopped
    run("jobs", "retry", job_id)
    wait_for(lambda: json.loads(run("jobs", "show", job_id).stdout)["status"] == "done", timeout=300,
             what=f"the resumed run\n{worker.output()}")
    assert len(json.loads(run("adapters", "show", "mine").stdout)["loss_curve"]) == 8
    assert f"job {job_id} resumed at step {stopped_at}" in worker.output()


def test_a_15_adapter_plays_in_every_turbo_task_and_a_v1_job_refuses_it(run, tmp_path):
    job_id = run("train", "lora", "--engine", "ace-step-1.5", "--data", str(three_clips(tmp_path / "clips")),
                 "--steps", "3", "--rank", "4", "--lr", "1e-3", "--name", "mine15", "--no-wait").stdout.strip()
    run("worker", "--drain")
    assert json.loads(run("jobs", "show", job_id).stdout)["status"] == "done"
    digest = json.loads(run("adapters", "show", "mine15").stdout)["weights_digest"]
    src = write_clip(tmp_path / "src", "source.wav", seconds=10.0, rate=48000)
    jobs = {}
    for task, extra in {"text2music": [], "repaint": ["--source", str(src), "--region", "2", "5"],
                        "cover": ["--source", str(src)]}.items():
        common = ["generate", "pop", "-e", "ace-step-1.5", "--task", task, "-d", "10", "--steps", "2", "-s", "3",
                  "--no-wait", *extra]
        jobs[task] = (run(*common, "--lora", "mine15").stdout.strip(), run(*common).stdout.strip())
    run("worker", "--drain")
    for task, (job_id, plain_id) in jobs.items():
        assert_adapter_played(run, job_id, plain_id, digest=digest, task=task)
    refused = run("generate", "pop", "-e", "ace-step-v1", "--lora", "mine15", "--no-wait", code=2).output
    assert "adapter 'mine15' was trained for ace-step-1.5; this job runs ace-step-v1" in refused


def test_a_second_job_for_a_name_taken_meanwhile_fails_and_keeps_the_first_adapter(run, tmp_path):
    clips = three_clips(tmp_path / "clips")
    first = train(run, clips, "--steps", "2")
    second = train(run, clips, "--steps", "2")  # queued before the first made "mine": accepted
    run("worker", "--drain")
    assert json.loads(run("jobs", "show", first).stdout)["status"] == "done"
    failed = json.loads(run("jobs", "show", second).stdout)
    assert failed["status"] == "failed" and "an adapter named 'mine' was made while this job waited" in failed["error"]
    shown = json.loads(run("adapters", "show", "mine").stdout)
    assert shown["job_id"] == first and Path(shown["path"], "pytorch_lora_weights.safetensors").is_file()
    # a new submit under the taken name is refused before queueing
    assert "an adapter named 'mine' already exists" in run(
        "train", "lora", "-e", "ace-step-v1", "--data", str(clips), "--name", "mine", "--no-wait", code=2).output


def test_a_worker_killed_mid_training_resumes_from_the_checkpoint(run, demo_env, spawn_worker, tmp_path):
    import signal

    job_id = train(run, three_clips(tmp_path / "clips"), "--steps", "8")
    first = spawn_worker(demo_env)
    wait_for(lambda: json.loads(run("jobs", "show", job_id).stdout)["step"] >= 3, timeout=300,
             what=f"training steps\n{first.output()}", every=0.2)
    first.stop(signal.SIGKILL)  # no shutdown path runs: the job row still says running
    checkpoint = (demo_env["SONGSTUDIO_HOME"] + f"/training/{job_id}/checkpoints/latest")
    saved = Path(checkpoint).read_text()
    second = spawn_worker(demo_env)  # re-queues the dead worker's job and runs it
    wait_for(lambda: json.loads(run("jobs", "show", job_id).stdout)["status"] == "done", timeout=300,
             what=f"the resumed run\n{second.output()}")
    assert f"job {job_id} resumed at step {int(saved.removeprefix('step-'))}" in second.output()
    assert len(json.loads(run("adapters", "show", "mine").stdout)["loss_curve"]) == 8


def test_train_on_library_takes_by_id(run):
    job = run("generate", "lofi, piano", "-l", "[verse]\nla la", "-d", "3", "-n", "3", "--steps", "2",
              "--no-wait").stdout.strip()
    run("worker", "--drain")
    ids = [str(t["id"]) for t in (json.loads(line) for line in run("library", "search", "lofi", "--json").stdout.splitlines())]
    assert len(ids) == 3, job
    train_job = run("train", "lora", "-e", "ace-step-v1", "--data", ",".join(ids), "--steps", "2", "--rank", "4",
                    "--name", "from-takes", "--no-wait").stdout.strip()
    spec = json.loads(run("jobs", "show", train_job).stdout)["spec"]
    assert sorted(spec["take_ids"]) == sorted(int(i) for i in ids)
    assert {c["tags"] for c in spec["clips"]} == {"lofi, piano"} and {c["lyrics"] for c in spec["clips"]} == {"[verse]\nla la"}
    run("worker", "--drain")
    assert json.loads(run("jobs", "show", train_job).stdout)["status"] == "done"
    assert json.loads(run("adapters", "show", "from-takes").stdout)["info"]["clips"] == [f"take {i}" for i in ids]


def test_a_training_job_over_the_device_memory_is_refused_at_submit(run, tmp_path, monkeypatch):
    clips = three_clips(tmp_path / "clips")
    # the demo model's run: 0.53 GiB of runtime plus a few MiB (see music.training.memory)
    monkeypatch.setenv("SONGSTUDIO_DEVICE_MEMORY_GIB", "0.3")
    out = run("train", "lora", "-e", "ace-step-v1", "--data", str(clips), "--name", "big", "--rank", "4",
              "--no-wait", code=2).output
    assert "this training job needs about 0.54 GiB of memory (weights" in out, out
    assert "rank 4 adapter" in out and "30 s window" in out
    assert "the limit is 0.30 GiB (SONGSTUDIO_DEVICE_MEMORY_GIB)" in out
    assert "lower rank (--rank) or fewer seconds per window (--window)" in out
    monkeypatch.setenv("SONGSTUDIO_DEVICE_MEMORY_GIB", "0.6")
    out = run("train", "lora", "-e", "ace-step-v1", "--data", str(clips), "--name", "big", "--rank", "256",
              "--no-wait", code=2).output
    assert "rank 256 adapter" in out and "the limit is 0.60 GiB" in out
    assert run("jobs", "list").output.strip() == ""  # nothing was queued
    job_id = run("train", "lora", "-e", "ace-step-v1", "--data", str(clips), "--name", "big", "--rank", "4",
                 "--no-wait").stdout.strip()
    assert json.loads(run("jobs", "show", job_id).stdout)["status"] == "queued"
    monkeypatch.delenv("SONGSTUDIO_DEVICE_MEMORY_GIB")  # unset: the device's total memory here (the CPU's RAM)
    run("train", "lora", "-e", "ace-step-v1", "--data", str(clips), "--name", "big2", "--rank", "4", "--no-wait")


def test_the_worker_refuses_a_training_job_larger_than_free_memory_and_it_can_be_retried(run, tmp_path, monkeypatch):
    from studio import worker_models

    job_id = train(run, three_clips(tmp_path / "clips"))
    monkeypatch.setattr(worker_models, "free_bytes", lambda device: 2**20)
    run("worker", "--drain")
    failed = json.loads(run("jobs", "show", job_id).stdout)
    assert failed["status"] == "failed"
    assert "this training job needs about 0.53 GiB" in failed["error"] and "beyond its loaded weights" in failed["error"]
    assert "the cpu device has 0.00 GiB free" in failed["error"] and "retry the job" in failed["error"]
    # refused once the model was loaded: no features stage, no training step
    assert [e["stage"] for e in json.loads(failed["timeline"])] == ["load"] and failed["partial"] is None
    monkeypatch.setattr(worker_models, "free_bytes", lambda device: 2**40)
    run("jobs", "retry", job_id)
    run("worker", "--drain")
    assert json.loads(run("jobs", "show", job_id).stdout)["status"] == "done"


def test_a_15_base_adapter_plays_in_extract_lego_and_complete(run, demo_env, tmp_path, monkeypatch):
    """The base-only tasks, on a tiny base checkpoint (the demo 1.5 model is turbo)."""
    from music.acestep15.tiny import build_tiny_checkpoint

    base = build_tiny_checkpoint(tmp_path / "acestep-v15-base-tiny", turbo=False, seed=0)
    options = {**json.loads(demo_env["SONGSTUDIO_ENGINE_OPTIONS"]),
               "ace-step-1.5": {"model_id_or_dir": str(base), "device": "cpu"}}
    monkeypatch.setenv("SONGSTUDIO_ENGINE_OPTIONS", json.dumps(options))
    job_id = run("train", "lora", "--engine", "ace-step-1.5", "--data", str(three_clips(tmp_path / "clips")),
                 "--steps", "3", "--rank", "4", "--lr", "1e-2", "--name", "base15", "--no-wait").stdout.strip()
    run("worker", "--drain")
    assert json.loads(run("jobs", "show", job_id).stdout)["status"] == "done"
    shown = json.loads(run("adapters", "show", "base15").stdout)
    assert shown["info"]["turbo"] is False
    src = write_clip(tmp_path / "src", "source.wav", seconds=10.0, rate=48000)
    jobs = {}
    for task, extra in {"extract": ["-o", "track_name=vocals"],
                        "lego": ["-o", "track_name=drums", "--region", "1", "6"],
                        "complete": ["-o", 'complete_track_classes=["bass", "guitar"]']}.items():
        common = ["generate", "pop", "-e", "ace-step-1.5", "--task", task, "--source", str(src), "-d", "10",
                  "--steps", "2", "-s", "4", "--no-wait", *extra]
        jobs[task] = (run(*common, "--lora", "base15").stdout.strip(), run(*common).stdout.strip())
    run("worker", "--drain")
    for task, (with_id, plain_id) in jobs.items():
        assert_adapter_played(run, with_id, plain_id, digest=shown["weights_digest"], task=task)
    assert len(json.loads(run("adapters", "show", "base15").stdout)["takes"]) == 3
