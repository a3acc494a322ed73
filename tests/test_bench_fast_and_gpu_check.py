"""bench/bench_v1_fast_modes.py and bench/gpu_check.sh on CPU (issue #18): the GPU check refuses
without CUDA, its dry run lists every row, and its sections run end to end on tiny models and
print one table; the fast-mode bench's machine-readable last line holds each mode's numbers.
No GPU is measured here: these prove the code paths, not the timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "bench" / "gpu_check.sh"


def gpu_check(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([str(SCRIPT), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_gpu_check_refuses_without_cuda():
    done = gpu_check()
    assert done.returncode == 3 and done.stdout == ""
    assert "needs a CUDA GPU" in done.stderr and "--device cpu --tiny" in done.stderr


def test_gpu_check_dry_run_lists_every_row():
    done = gpu_check("--dry-run")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout.strip().splitlines()[-1])["rows"]
    table = [line for line in done.stdout.splitlines() if line.startswith("| ") and "not run (dry run)" in line]
    assert len(rows) == len(table) == 8 + 4 + 3 + 2 + 2  # v1, guided, fast, 1.5, lyrics
    assert {r["section"] for r in rows} == {"v1", "guided", "fast", "v15", "lyrics"}


def test_gpu_check_runs_every_section_on_tiny_models_on_the_cpu():
    done = gpu_check("--device", "cpu", "--tiny", "--seconds", "10", "--steps", "2", "--repeats", "1",
                     "--tokens", "8", "--budget", "280")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout.strip().splitlines()[-1])["rows"]
    assert not [r for r in rows if r["result"].startswith(("failed", "timed out"))], rows
    by_check = {(r["section"], r["setting"]): r for r in rows}
    song = by_check[("v1", "10 s, 2 steps, no offload")]
    assert song["rtf"] > 0 and song["weights"] == "tiny" and "diffusion" in song["note"]
    assert by_check[("v1", "offload")]["note"] == "offload needs an accelerator"
    assert "batched / two forwards" in by_check[("guided", "10 s, two forwards")]["note"]
    assert "SNR" in by_check[("fast", "10 s, 2 steps, int8")]["result"]
    assert "skipped / run: cond" in by_check[("fast", "10 s, 2 steps, step-cache@0.05")]["note"]
    assert by_check[("v15", "10 s, turbo 8 steps")]["rtf"] > 0
    assert {r["check"] for r in rows if r["section"] == "lyrics"} == {"llama.cpp", "transformers"}
    assert all(r["result"].endswith("tok/s") for r in rows if r["section"] == "lyrics")
    assert "| v1 | v1 song | 10 s, 2 steps, no offload |" in done.stdout  # the one table


def test_fast_mode_bench_reports_each_mode_on_its_last_line(capsys):
    sys.path.insert(0, str(REPO))
    from bench.bench_v1_fast_modes import main

    assert main(["--layers", "2", "--seconds", "1", "--steps", "4", "--threads", "1", "--dtypes", "fp32",
                 "--thresholds", "0.05", "--no-reference"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["bench"] == "v1_fast_modes"
    (result,) = summary["random"]
    modes = result["modes"]
    assert list(modes) == ["exact", "int8", "step-cache@0.05", "int8+step-cache@0.05"]
    assert modes["exact"]["ratio"] == 1.0 and modes["exact"]["latents"]["snr_db"] == "inf"
    assert 20 < modes["int8"]["latents"]["snr_db"] < 80 and modes["int8"]["int8_quantize_s"] > 0
    assert modes["step-cache@0.05"]["step_cache"]["calls"]["cond"] == 4
    assert all(row["loop_s"] > 0 for row in modes.values())


def test_a_gpu_check_section_that_runs_out_of_time_keeps_the_rows_it_finished(tmp_path, monkeypatch):
    sys.path.insert(0, str(REPO))
    from bench import gpu_check

    def killed(command, **kwargs):
        out = Path(command[command.index("--section-out") + 1])
        gpu_check.RowLog(out).append(gpu_check.Row("v1", "v1 song", "30 s, 27 steps, no offload", "4.0 s", rtf=7.5))
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(gpu_check.subprocess, "run", killed)
    args = gpu_check.parse(["--sections", "v1"])
    finished, stopped = gpu_check.run_section(args, "v1", 60)
    assert (finished.setting, finished.rtf) == ("30 s, 27 steps, no offload", 7.5)
    assert stopped.result == "timed out after 60 s (rows above finished)"
    with pytest.raises(SystemExit):  # the vocabulary is not in the checkpoint: asked for up front
        gpu_check.parse(["--v1-weights", str(tmp_path)])
