"""CLI round trips: what a person types, what they see, and the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from studio.cli import main
from tests.studio.conftest import REPO, cli_invoker, wait_for
from tests.studio.test_migrations import HEAD_REVISION


@pytest.fixture
def run(studio_env):
    return cli_invoker()


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "studio.cli", "--help"], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout
    for command in ("serve", "worker", "generate", "jobs", "library", "models", "doctor"):
        assert f"  {command}" in out
    runner = CliRunner()
    assert {"list", "show", "cancel", "retry"} <= set(main.commands["jobs"].commands)
    assert {"list", "search", "show", "export", "set"} <= set(main.commands["library"].commands)
    assert {"list", "download", "import"} <= set(main.commands["models"].commands)
    assert runner.invoke(main, ["generate", "--help"]).exit_code == 0


def test_generate_no_wait_then_worker_then_library(run, tmp_path):
    lyrics = tmp_path / "song.txt"
    lyrics.write_text("[verse]\nwalking home\n[chorus]\nla la", encoding="utf-8")
    job_id = run("generate", "night walk, piano", "--lyrics-file", str(lyrics), "-d", "1", "-n", "2", "-s", "3",
                 "-s", "4", "--title", "Walk", "--tag", "demo", "--no-wait").stdout.strip()
    assert len(job_id) == 12
    shown = json.loads(run("jobs", "show", job_id).stdout)
    assert shown["status"] == "queued" and shown["queue_position"] == 1
    assert shown["spec"]["request"]["lyrics"].startswith("[verse]")
    assert job_id in run("jobs", "list", "--status", "queued").output

    run("worker", "--drain")
    assert json.loads(run("jobs", "show", job_id).stdout)["status"] == "done"
    listed = run("library", "list").output
    assert "Walk · take 1" in listed and "Walk · take 2" in listed  # a new song, named by --title
    song_id = shown["spec"]["song_id"]
    run("generate", "night walk, piano", "-d", "1", "--song", str(song_id), "--no-wait")
    run("worker", "--drain")
    assert "Walk · take 3" in run("library", "list").output  # added to that song
    found = run("library", "search", "walking", "--json").stdout.strip().splitlines()
    takes = [json.loads(line) for line in found]
    assert sorted(t["seed"] for t in takes) == [3, 4]
    take_id = takes[0]["id"]
    detail = json.loads(run("library", "show", str(take_id)).stdout)
    assert detail["parameters"]["request"]["prompt"] == "night walk, piano"
    assert Path(detail["files"]["master"]).is_file()
    run("library", "set", str(take_id), "--favourite", "--rating", "4", "--title", "Best walk")
    assert "Best walk" in run("library", "list", "--favourite").output
    run("library", "set", str(take_id), "--trash")
    assert "Best walk" not in run("library", "list").output
    exported = run("library", "export", str(take_id), str(tmp_path / "out")).stdout.splitlines()
    assert [Path(p).suffix for p in exported] == [".flac", ".c2pa", ".mp3", ".json"]  # the master travels with its C2PA sidecar
    assert all(Path(p).is_file() for p in exported)


def test_generate_wait_prints_the_files(run, studio_env, spawn_worker):
    worker = spawn_worker(studio_env)
    out = run("generate", "-p", "short", "-d", "0.5", "--steps", "2", "--wait", "--timeout", "90").stdout
    paths = [Path(line) for line in out.splitlines() if line.endswith(".flac")]
    assert len(paths) == 1 and paths[0].is_file(), worker.output()
    failed = run("generate", "boom", "-d", "0.5", "-o", "fail_at_step=0", "--wait", "--timeout", "90", code=5)
    assert "failed: RuntimeError: fake failure at step 0" in failed.output
    assert "songstudio jobs retry" in failed.output


def test_bad_input_gives_a_message_and_an_exit_code(run, tmp_path):
    assert "unknown engine 'nope'" in run("generate", "x", "-e", "nope", "--no-wait", code=2).output
    assert "give a prompt, lyrics or both" in run("generate", "--no-wait", code=2).output
    assert "duration must be in" in run("generate", "x", "-d", "999", "--no-wait", code=2).output
    assert "KEY=VALUE" in run("generate", "x", "-o", "oops", "--no-wait", code=2).output
    assert "no job 'ffff'" in run("jobs", "show", "ffff", code=3).output
    assert "no take 5" in run("library", "show", "5", code=3).output
    assert "no job '%'" in run("jobs", "show", "%", code=3).output  # not a LIKE pattern
    assert "no words" in run("library", "search", "?!", code=2).output
    job_id = run("generate", "x", "-d", "1", "--no-wait").stdout.strip()
    assert "cancelled" in run("jobs", "cancel", job_id).output
    assert "already cancelled" in run("jobs", "cancel", job_id, code=2).output
    assert "queued again" in run("jobs", "retry", job_id).output
    corrupt = tmp_path / "bad.wav"
    corrupt.write_bytes(b"RIFF0000WAVEjunk")
    out = run("generate", "x", "--task", "retake", "--source", str(corrupt), "--no-wait", code=2).output
    assert "cannot read source audio" in out


def test_models_import_list_and_offline_download(run, tmp_path, monkeypatch):
    folder = tmp_path / "llama"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    out = run("models", "import", "llama-song-stream-3b", str(folder), code=2).output
    assert "missing *.safetensors, tokenizer.json, tokenizer_config.json" in out
    for name in ("model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        (folder / name).write_text("x")
    target = Path(run("models", "import", "llama-song-stream-3b", str(folder)).stdout.strip())
    assert (target / "model.safetensors").is_file() and not target.is_symlink()
    listed = run("models", "list").output
    assert "llama-song-stream-3b" in listed and "present" in listed and "ace-step-v1" in listed
    assert "already exists" in run("models", "import", "llama-song-stream-3b", str(folder), code=2).output
    assert "unknown model" in run("models", "import", "gpt-9", str(folder), code=2).output

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = run("models", "download", "ace-step-v1", code=4).output
    assert "could not download ACE-Step/ACE-Step-v1-3.5B" in out and "models import ace-step-v1" in out


def test_doctor_reports_honestly(run):
    report = json.loads(run("doctor", "--json").stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True
    assert checks["database"]["level"] == "ok" and f"revision {HEAD_REVISION}" in checks["database"]["detail"]
    assert checks["queue"]["level"] == "ok" and checks["engines"]["level"] == "ok"
    assert "fake" in checks["engines"]["detail"] and "llama-cpp" in checks["lyrics"]["detail"]
    assert checks["model ace-step-v1"]["level"] == "warn"  # no weights on this machine
    assert checks["device"]["level"] in ("ok", "warn")


def test_doctor_fails_on_a_broken_queue(run, monkeypatch):
    monkeypatch.setenv("SONGSTUDIO_QUEUE_BACKEND", "redis")
    monkeypatch.setenv("SONGSTUDIO_REDIS_URL", "redis://127.0.0.1:9/0")
    out = run("doctor", code=4).output
    assert "[fail] queue" in out


def test_serve_without_the_ui_says_so(run, monkeypatch, tmp_path):
    from studio import serve

    monkeypatch.setattr(serve, "UI_APP", tmp_path / "ui" / "app.py")
    out = run("serve", code=4).output
    assert "the UI is missing" in out


def test_the_ui_runs_without_streamlit_s_full_gc_after_every_run():
    """A full gc.collect() after each script run held the GIL for ~170 ms per click (issue #8)."""
    from streamlit import config

    from studio.serve import UI_APP, streamlit_command

    command = streamlit_command(UI_APP, host="127.0.0.1", port=8501)
    assert command[command.index("--runner.postScriptGC") + 1] == "false"
    assert config.get_option("runner.postScriptGC") in (True, False)  # raises if Streamlit drops the option


def test_serve_starts_worker_and_ui_and_stops_both(studio_env, tmp_path, monkeypatch):
    """A stand-in UI script proves the wiring: 127.0.0.1, the flags, the worker beside it."""
    import os
    import signal
    import socket
    import urllib.request

    app = tmp_path / "app.py"
    app.write_text("import streamlit as st\nst.write('hello')\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, **studio_env, "PYTHONPATH": str(REPO), "SONGSTUDIO_UI_PORT": str(port)}
    code = ("import sys; from pathlib import Path; from studio import serve; "
            f"serve.UI_APP = Path({str(app)!r}); from studio.cli import main; sys.exit(main())")
    proc = subprocess.Popen([sys.executable, "-c", code, "serve"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        def healthy():
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok"
            except OSError:
                return False

        wait_for(healthy, timeout=90, what="the UI to answer", every=0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert f"http://127.0.0.1:{port}" in out


def test_a_device_the_machine_lacks_is_refused_up_front(run, monkeypatch):
    assert "unknown device 'bogus'" in run("worker", "--drain", "--device", "bogus", code=2).output
    assert "unknown device 'bogus'" in run("serve", "--device", "bogus", code=2).output
    assert "cuda:99" in run("worker", "--drain", "--device", "cuda:99", code=4).output
    monkeypatch.setenv("SONGSTUDIO_DEVICE", "cuda:99")
    out = run("doctor", code=4).output
    assert "[fail] device" in out and "cuda:99" in out


def test_generate_input_conflicts_are_named(run, tmp_path):
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("[verse]\ncaf\xe9".encode("latin-1"))
    assert "is not UTF-8 text" in run("generate", "x", "--lyrics-file", str(latin), "--no-wait", code=2).output
    good = tmp_path / "song.txt"
    good.write_text("[verse]\nla", encoding="utf-8")
    assert "not both" in run("generate", "x", "-l", "la", "--lyrics-file", str(good), "--no-wait", code=2).output
    assert "give the prompt once" in run("generate", "x", "-p", "y", "--no-wait", code=2).output
    assert "0 is not in the range x>=1" in run("generate", "x", "-n", "0", "--no-wait", code=2).output
    assert "0 is not in the range x>=1" in run("generate", "x", "--steps", "0", "--no-wait", code=2).output
    assert "3 seeds for 2 takes" in run("generate", "x", "-n", "2", "-s", "1", "-s", "2", "-s", "3", "--no-wait",
                                        code=2).output
    assert "guidance_scale must be a finite number" in run("generate", "x", "--guidance", "nan", "--no-wait",
                                                           code=2).output
    assert "no take 42" in run("generate", "x", "--parent", "42", "--no-wait", code=3).output
    assert run("jobs", "list").output == ""  # nothing was queued


def test_library_search_says_when_relevance_ranked_only_the_newest_matches(run, monkeypatch):
    from studio.service import Studio
    from studio.settings import Settings
    from tests.studio.factories import add_takes, take_row

    monkeypatch.setenv("SONGSTUDIO_SEARCH_RANK_WINDOW", "2")
    studio = Studio.open(Settings())
    add_takes(studio.db, [take_row(n, title=f"Take {n}", lyrics="rain " * (4 - n)) for n in (1, 2, 3)])
    studio.db.dispose()
    found = run("library", "search", "rain", "--sort", "relevance", "--json")
    # takes 2 and 3 (the newest two) by relevance (2 has more "rain"), then take 1
    assert [json.loads(line)["id"] for line in found.stdout.splitlines()] == [2, 3, 1]
    assert "relevance ranks the newest 2 matches; older ones follow, newest first" in found.stderr
    monkeypatch.setenv("SONGSTUDIO_SEARCH_RANK_WINDOW", "0")
    found = run("library", "search", "rain", "--sort", "relevance", "--json")
    assert [json.loads(line)["id"] for line in found.stdout.splitlines()] == [1, 2, 3]
    assert "relevance ranks" not in found.stderr
    assert "relevance ranks" not in run("library", "search", "rain").stderr
