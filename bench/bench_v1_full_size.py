"""ACE-Step v1 DiT at the full 3.5B config with random weights, on CPU: our guided step, and
upstream's code on the same inputs in a separate process.

For each dtype and thread count, a song of --seconds (30 s: W = 322 latent frames; context of
1 + 64 text + 300 lyric tokens, as in shared/reference/v1-cpu-baseline.md), prints:

* resident parameters of our DiT (the unused `cross_attn.add_*`, `to_add_out` and REPA
  `projectors` are never built; upstream allocates 3.31 B);
* seconds per guided step (APG, ERG-diffusion uncond), medians of --repeats interleaved runs:
  - batched: cond + uncond in one forward, cross-attention K/V cached once per call;
  - two forwards, K/V cached;
  - the pipeline path: what `ACEStepV1Pipeline` picks for the device (two forwards on CPU);
  - with --compile, the pipeline path with `compile_blocks()` (its compile cost printed);
* with --upstream PATH (a checkout of ace-step/ACE-Step; nothing of it is committed): upstream's
  own code on the same weights' distribution and inputs (`bench/v1_upstream.py`), and the ratio;
* peak resident memory (VmHWM) and RSS after building the model.

    python bench/bench_v1_full_size.py [--dtypes bf16] [--threads 1,2] [--seconds 30] [--repeats 3]
                                       [--layers 24] [--compile] [--upstream PATH]

The last line reads `v1 full-size guided step: pipeline path S s, upstream U s, ratio R` (the
last dtype and thread count; with --compile, S is the compiled pipeline path) so scripts can
read it. `--layers` below 24 gives a quick smoke run. Weights are N(0, 0.02) (norms 1/0): speed
and memory only, no audio. Full size needs about 10.5 GiB (fp32) or 5.3 GiB (bf16) of RAM per
process; ours and upstream's run one after the other. Wall times on a shared machine are noisy;
the process CPU time per step is printed next to them and the load average before each run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from time import perf_counter, process_time

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
for folder in (REPO, BENCH):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

GIB = 2**30


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def build_random_dit(*, layers: int, dtype):
    from v1_bench_inputs import randomise_

    from music.acestep_v1.loading.weights import build_on_meta
    from music.acestep_v1.models.transformer import ACEStepDiT, DiTConfig

    model = build_on_meta(lambda: ACEStepDiT(DiTConfig(num_layers=layers))).to(dtype)
    return randomise_(model.to_empty(device="cpu"))


def timed_interleaved(fns: dict, repeats: int) -> dict[str, tuple[float, float]]:
    """Median (wall, process CPU) seconds of each function; runs are interleaved so that load
    from other processes drifting over time hits every variant alike."""
    for fn in fns.values():
        fn()  # warm-up
    samples = {name: ([], []) for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            wall, cpu = perf_counter(), process_time()
            fn()
            samples[name][0].append(perf_counter() - wall)
            samples[name][1].append(process_time() - cpu)
    return {name: (statistics.median(w), statistics.median(c)) for name, (w, c) in samples.items()}


def run_ours(*, dtype_name: str, seconds: float, layers: int, repeats: int, text_tokens: int, lyric_tokens: int,
             compile_blocks: bool) -> dict:
    import torch
    from v1_bench_inputs import GUIDANCE_SCALE, SPEAKER_DIM, TIMESTEP, make_inputs

    from music.acestep_v1.pipeline import ACEStepV1Pipeline
    from music.acestep_v1.sampling.guidance import GuidancePlan, Guider
    from music.acestep_v1.sampling.schedulers import make_schedule

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build_random_dit(layers=layers, dtype=dtype)
    params = sum(p.numel() for p in model.parameters())
    rss_built = _status_kib("VmRSS") / 2**20
    pipe = ACEStepV1Pipeline(transformer=model, dcae=None, text_encoder=None, lyric_vocab=None, device="cpu", dtype=dtype)
    pipeline_batched = pipe.batched_guidance

    inputs = make_inputs(seconds=seconds, text_tokens=text_tokens, lyric_tokens=lyric_tokens, dtype=dtype)
    text = inputs.text
    with torch.inference_mode():
        encoded = model.encode(
            text_states=torch.cat([text, torch.zeros_like(text)]),
            text_mask=torch.ones(2, text_tokens, dtype=torch.long),
            speaker_embeds=torch.zeros(2, SPEAKER_DIM, dtype=dtype),
            lyric_ids=inputs.lyric_ids.repeat(2, 1),
            lyric_mask=torch.ones(2, lyric_tokens, dtype=torch.long),
            lyric_q_scale=torch.tensor([1.0, 0.01]),
        )
    latents = inputs.latents
    timestep = torch.tensor(TIMESTEP)
    plan = GuidancePlan(cfg_type="apg", guidance_scale=GUIDANCE_SCALE)
    conditions = pipe.assemble_conditions(encoded, names=["cond", "null"], batch_size=1, use_erg_diffusion=True)

    def guided_step(*, batched: bool, compiled: bool = False):
        guider, sampler = Guider(plan), make_schedule(scheduler_type="euler", infer_step=60, omega_scale=10.0).sampler

        def step():
            pipe.batched_guidance = batched  # read by pipe.velocity at call time
            model.compiled_blocks = compiled_blocks if compiled else None
            with torch.inference_mode():
                velocity = pipe.velocity(
                    latents=latents, timestep=timestep, conditions=conditions, guider=guider, step=20, scale=GUIDANCE_SCALE
                )
                sampler.index = 20
                return sampler.step(velocity, latents)

        return step

    compiled_blocks, compile_s, eager_first = None, None, None
    if compile_blocks:
        plain = guided_step(batched=pipeline_batched)
        clock = perf_counter()
        plain()
        eager_first = perf_counter() - clock
        model.compile_blocks()
        compiled_blocks = model.compiled_blocks
        clock = perf_counter()
        guided_step(batched=pipeline_batched, compiled=True)()
        compile_s = perf_counter() - clock - eager_first  # first compiled step minus an eager one
    variants = {"batched": guided_step(batched=True), "separate": guided_step(batched=False)}
    if compile_blocks:
        variants["compiled"] = guided_step(batched=pipeline_batched, compiled=True)
    times = timed_interleaved(variants, repeats)
    times["pipeline"] = times["batched" if pipeline_batched else "separate"]
    return {
        "dtype": dtype_name, "layers": layers, "frames": latents.shape[-1], "context": 1 + text_tokens + lyric_tokens,
        "params": params, "rss_built_gib": rss_built, "peak_gib": _status_kib("VmHWM") / 2**20,
        "pipeline_path": "batched" if pipeline_batched else "two forwards", "compile_s": compile_s, **times,
    }


def _child(threads: int, **kwargs) -> dict:
    import torch

    torch.set_num_threads(threads)
    return run_ours(**kwargs)


def run_upstream(path: Path, *, dtype_name: str, threads: int, args) -> dict:
    command = [
        sys.executable, str(BENCH / "v1_upstream.py"), "--upstream", str(path), "--dtype", dtype_name,
        "--threads", str(threads), "--seconds", str(args.seconds), "--layers", str(args.layers),
        "--repeats", str(args.repeats), "--text-tokens", str(args.text_tokens), "--lyric-tokens", str(args.lyric_tokens),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"upstream run failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtypes", default="bf16")
    parser.add_argument("--threads", default="2", help="comma-separated thread counts, e.g. 1,2")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--text-tokens", type=int, default=64)
    parser.add_argument("--lyric-tokens", type=int, default=300)
    parser.add_argument("--compile", action="store_true", help="also time the pipeline path with compiled blocks")
    parser.add_argument("--upstream", type=Path, help="a checkout of ace-step/ACE-Step to time side by side")
    args = parser.parse_args()

    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # one fresh process per configuration so VmHWM is its own peak
    summary = None
    for dtype_name in args.dtypes.split(","):
        for threads in (int(t) for t in args.threads.split(",")):
            print(f"== {dtype_name}, {threads} thread(s); load average {os.getloadavg()[0]:.2f}", flush=True)
            with ctx.Pool(1) as pool:
                r = pool.apply(
                    _child, (threads,),
                    dict(dtype_name=dtype_name, seconds=args.seconds, layers=args.layers, repeats=args.repeats,
                         text_tokens=args.text_tokens, lyric_tokens=args.lyric_tokens, compile_blocks=args.compile),
                )
            print(f"{r['layers']} layers, W={r['frames']} frames, context {r['context']} tokens")
            print(f"resident parameters          {r['params'] / 1e9:.3f} B")
            print(f"RSS after build / peak       {r['rss_built_gib']:.2f} / {r['peak_gib']:.2f} GiB")
            for key, label in (("batched", "batched + K/V cache"), ("separate", "2 forwards + K/V cache"),
                               ("compiled", "pipeline path, compiled")):
                if key in r:
                    print(f"guided step, {label:<24} {r[key][0]:.3f} s wall  {r[key][1]:.3f} s cpu")
            if r["compile_s"] is not None:
                print(f"compile cost (first compiled step - an eager step)  {r['compile_s']:.1f} s")
            print(f"pipeline path on cpu: {r['pipeline_path']}; batched / 2 forwards  {r['batched'][0] / r['separate'][0]:.3f} wall")
            ours = r["compiled"] if "compiled" in r else r["pipeline"]
            if args.upstream is not None:
                print(f"upstream code ({args.upstream}); load average {os.getloadavg()[0]:.2f}", flush=True)
                u = run_upstream(args.upstream, dtype_name=dtype_name, threads=threads, args=args)
                print(f"guided step, upstream code           {u['guided_step_s']:.3f} s wall  {u['guided_step_cpu_s']:.3f} s cpu")
                print(f"ratio pipeline path / upstream       {ours[0] / u['guided_step_s']:.3f} wall  "
                      f"{ours[1] / u['guided_step_cpu_s']:.3f} cpu  (target <= 0.7)")
                summary = (ours[0], u["guided_step_s"])
    if summary is not None:
        print(f"v1 full-size guided step: pipeline path {summary[0]:.3f} s, upstream {summary[1]:.3f} s, "
              f"ratio {summary[0] / summary[1]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
