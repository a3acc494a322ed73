"""Cold and warm job start-up of the worker: time before the first model step, per kind of job.

Runs an in-process worker (the real `Worker`, real engines and lyrics backend, real SQLite
library, the queue bypassed: each job is claimed with `run_next`) on the demo models that
`songstudio models demo` builds (random weights: the numbers are start-up costs, not music), or on
another ACE-Step v1 folder with `--v1-model`. Printed:

* music: text2music, retake, repaint, extend, edit; cold (a fresh worker, nothing loaded) and
  warm (the same worker again). "before step 1" = claim -> the first denoising step begins
  (the first "diffusion" progress report minus one step's time, measured from the later steps):
  claiming the job, loading, reading the source audio, tokenizing, encoding the conditions;
* lyrics (llama-cpp on the demo GGUF): time to the first streamed text, cold and warm;
* Write -> Create -> Write: total seconds and models loaded, on a fresh worker and then again on
  the same (now warm) worker;
* the first Generate after a start with preload: preload seconds, then that job's time before
  step 1 and its total.

The ratio column is warm / cold, measured in the same run (the baseline is the cold worker). The
first cold job of the run also pays the process's first imports; later cold rows use a fresh
worker in the same process (model loading only).

    python bench/bench_warm_worker.py [--cache DIR] [--v1-model DIR] [--seconds 2] [--steps 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from studio.demo_models import install_demo_models  # noqa: E402
from studio.service import Studio  # noqa: E402
from studio.settings import Settings  # noqa: E402
from studio.worker import Worker  # noqa: E402

SONG = "Title: Rain\n\n[verse]\nrain on the window\ngrey on the glass\n\n[chorus]\nwe wait it out\nwe let it pass"


class TimedWorker(Worker):
    """Records every progress report and the first streamed lyrics text, with their times."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.marks: list[tuple[float, str, int, int]] = []
        self.first_text: float | None = None
        report = self.jobs.report

        def timed_report(job_id, **fields):
            if fields.get("partial") and self.first_text is None:
                self.first_text = time.perf_counter()
            return report(job_id, **fields)

        self.jobs.report = timed_report

    def _progress(self, job):
        report = super()._progress(job)

        def timed(stage: str, step: int, total: int) -> None:
            self.marks.append((time.perf_counter(), stage, step, total))
            report(stage, step, total)

        return timed

    def timed_job(self) -> dict:
        self.marks.clear()
        self.first_text = None
        started = time.perf_counter()
        job = self.run_next()
        total = time.perf_counter() - started
        if job is None or job.status != "done":
            raise SystemExit(f"job did not finish: {job and job.status}: {job and job.error}")
        steps = [(t, step) for t, stage, step, _ in self.marks if stage == "diffusion" and step > 0]
        out = {"job": job, "total": total, "loads": self.models.warm.loads}
        if steps:
            step_time = (steps[-1][0] - steps[0][0]) / (steps[-1][1] - steps[0][1]) if len(steps) > 1 else 0.0
            out["before_step"] = steps[0][0] - started - step_time
        if self.first_text is not None:
            out["first_text"] = self.first_text - started
        return out


def settings_for(home: Path, demo: dict, v1_model: str | None) -> Settings:
    v1 = dict(demo["music"]["ace-step-v1"]["options"])
    if v1_model:
        v1["model_dir"] = v1_model
    llama = {**demo["lyrics"]["llama-cpp"]["options"], "n_threads": 1}
    return Settings(home=home, device="cpu", engine="ace-step-v1", engine_options={"ace-step-v1": v1},
                    lyrics_backend="llama-cpp", lyrics_options={"llama-cpp": llama})


def new_worker(studio: Studio) -> TimedWorker:
    worker = TimedWorker(settings=studio.settings, db=studio.db, queue=studio.queue)
    worker.prepare()
    return worker


def music_cases(source: str, seconds: float) -> dict[str, dict]:
    return {
        "retake": {"task": "retake", "options": {"retake_variance": 0.4}},
        "repaint": {"task": "repaint", "source_audio": source, "region_start": 0.4, "region_end": seconds - 0.4},
        "extend": {"task": "extend", "source_audio": source, "region_start": -0.5, "region_end": seconds + 0.5},
        "edit": {"task": "edit", "source_audio": source,
                 "options": {"edit_target_prompt": "rock", "edit_n_min": 0.2, "edit_n_max": 0.4}},
    }


def run(args) -> list[tuple[str, float | None, float | None, float | None, float | None]]:
    cache = Path(args.cache).expanduser() if args.cache else Path(tempfile.mkdtemp(prefix="bench-models-"))
    demo = install_demo_models(cache)
    rows = []
    with tempfile.TemporaryDirectory() as home:
        studio = Studio.open(settings_for(Path(home), demo, args.v1_model))
        base = {"prompt": "pop, synth", "lyrics": "[verse]\nneon lights tonight\nla la la", "duration": args.seconds,
                "steps": args.steps, "seeds": [1]}

        def music(worker, **fields):
            studio.submit_music(engine="ace-step-v1", **{**base, **fields})
            return worker.timed_job()

        def lyrics(worker, **fields):
            studio.submit_lyrics(backend="llama-cpp", seed=1, **fields)
            return worker.timed_job()

        # text2music: cold on a fresh worker, then warm on the same one
        cold_worker = new_worker(studio)
        cold = music(cold_worker)
        warm = music(cold_worker)
        rows.append(("text2music", cold["before_step"], warm["before_step"], cold["total"], warm["total"]))
        source = str(studio.output_paths(cold["job"])[0])
        for name, fields in music_cases(source, args.seconds).items():
            cold_run = music(new_worker(studio), **fields)
            warm_run = music(cold_worker, **fields)
            rows.append((name, cold_run["before_step"], warm_run["before_step"], cold_run["total"], warm_run["total"]))

        draft = {"theme": "rain on the window", "structure": ["verse", "chorus"]}
        cold_l = lyrics(new_worker(studio), **draft)
        lyric_worker = new_worker(studio)
        lyrics(lyric_worker, **draft)
        warm_l = lyrics(lyric_worker, **draft)
        rows.append(("lyrics draft (first text)", cold_l.get("first_text"), warm_l.get("first_text"),
                     cold_l["total"], warm_l["total"]))

        def round_trip(worker) -> tuple[float, int]:
            loads = worker.models.warm.loads
            started = time.perf_counter()
            lyrics(worker, **draft)
            music(worker)
            lyrics(worker, action="rewrite", lyrics=SONG, section=0, instruction="brighter")
            return time.perf_counter() - started, worker.models.warm.loads - loads

        session = new_worker(studio)
        cold_rt, cold_loads = round_trip(session)  # a fresh worker: loads both models
        warm_rt, warm_loads = round_trip(session)  # the same worker again: both are warm
        rows.append((f"Write -> Create -> Write (loads: cold {cold_loads}, warm {warm_loads})",
                     None, None, cold_rt, warm_rt))

        preloaded = new_worker(studio)
        started = time.perf_counter()
        preloaded.models.preload()
        preload_s = time.perf_counter() - started
        first = music(preloaded)
        rows.append((f"first Generate after start (preload {preload_s:.2f} s, not in the row)",
                     cold["before_step"], first["before_step"], cold["total"], first["total"]))
        studio.db.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help="model cache with (or for) the demo models; default: a temp folder")
    parser.add_argument("--v1-model", help="another ACE-Step v1 folder (e.g. the real weights) instead of the demo's")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1, help="runs; the median of each cell is printed")
    args = parser.parse_args()
    import torch  # heavy: the engines need it anyway

    torch.set_num_threads(args.threads)
    runs = [run(args) for _ in range(args.repeats)]

    def median(i: int, j: int) -> float | None:
        values = [r[i][j] for r in runs if r[i][j] is not None]
        return statistics.median(values) if values else None

    def cell(value: float | None) -> str:
        return "" if value is None else f"{value:.3f}"

    print("| case | cold before step 1 s | warm s | ratio | cold total s | warm total s | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for i, row in enumerate(runs[0]):
        cold_b, warm_b, cold_t, warm_t = (median(i, j) for j in range(1, 5))
        ratio_b = f"{warm_b / cold_b:.3f}" if cold_b and warm_b is not None else ""
        ratio_t = f"{warm_t / cold_t:.3f}" if cold_t and warm_t is not None else ""
        print(f"| {row[0]} | {cell(cold_b)} | {cell(warm_b)} | {ratio_b} | {cell(cold_t)} | {cell(warm_t)} | {ratio_t} |")
    print(json.dumps({"seconds": args.seconds, "steps": args.steps, "threads": args.threads,
                      "v1_model": args.v1_model or "demo (random weights)", "repeats": args.repeats}))


if __name__ == "__main__":
    main()
