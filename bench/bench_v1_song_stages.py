"""One whole ACE-Step v1 song at full size (random weights, CPU), timed per stage, ours against
upstream's code on the same inputs.

    python bench/bench_v1_song_stages.py [--seconds 30] [--steps 27] [--threads 2] [--dtype bf16]
                                         [--compile] [--upstream PATH] [--layers 24]

Stages, with the pipeline's defaults (Euler, APG, guidance interval 0.5, ERG tag/lyric/diffusion):

* text encoder: UMT5-base on a 64-token prompt plus the ERG-tag row (a fixed token sequence
  stands in for the tokenizer, which is not on this machine);
* lyric encoder: the rest of the conditions (the Conformer on 300 lyric tokens, cond + null,
  and our cross-attention K/V cache);
* DiT steps: the --steps sampling loop (27 = the RTF setting of upstream's README), guided
  inside the interval;
* DCAE decode: latents -> mel (diffusers' AutoencoderDC decoder in both), on the shared input
  latents rather than each run's random-weight DiT output, so both decode the same numbers;
* vocoder: mel -> 44.1 kHz stereo (ours: `decode_channels`, one channel at a time on a CPU,
  weight norm folded; upstream: one channel at a time, weight norm as loaded, its gains set so
  that its weights have our random weights' scale; `bench_v1_vocoder_same_weights.py` compares
  the two on identical weights).

Each stage runs once as a warm-up (the DiT loop: one step), then once timed. Ours and upstream's
run in separate processes, one after the other; the last line reads
`v1 full-size song: ours S s, upstream U s, ratio R`. Needs about 7 GiB of RAM (bf16).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from time import perf_counter

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
for folder in (REPO, BENCH):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

STAGES = ("text encoder", "lyric encoder", "DiT steps", "DCAE decode", "vocoder")


class FixedTokenizer:
    """Stands in for the UMT5 tokenizer (not on this machine): the same ids for any prompt."""

    def __init__(self, ids):
        self.ids = ids

    def __call__(self, prompts, **_options):
        import torch

        return {"input_ids": self.ids, "attention_mask": torch.ones_like(self.ids)}


def run_ours(*, dtype_name: str, seconds: float, steps: int, layers: int, text_tokens: int, lyric_tokens: int,
             compile_blocks: bool, threads: int) -> dict:
    import torch
    from bench_v1_memory import UMT5_BASE, build_models
    from v1_bench_inputs import make_inputs

    from music.acestep_v1.models.text_encoder import UMT5TextEncoder
    from music.acestep_v1.pipeline import ACEStepV1Pipeline
    from music.acestep_v1.sampling.guidance import GuidancePlan
    from music.acestep_v1.sampling.schedulers import make_schedule

    torch.set_num_threads(threads)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    models = build_models(dtype=dtype, layers=layers)
    token_ids = torch.randint(0, UMT5_BASE["vocab_size"], (1, text_tokens), generator=torch.Generator().manual_seed(2))
    text_encoder = UMT5TextEncoder(models["umt5"], FixedTokenizer(token_ids))
    pipe = ACEStepV1Pipeline(transformer=models["dit"], dcae=models["dcae"], text_encoder=text_encoder,
                             lyric_vocab=None, device="cpu", dtype=dtype, compile_dit=compile_blocks)
    inputs = make_inputs(seconds=seconds, text_tokens=text_tokens, lyric_tokens=lyric_tokens, dtype=dtype)
    lyric_ids = inputs.lyric_ids[0].tolist()
    plan = GuidancePlan()
    seconds_by_stage: dict[str, float] = {}

    def conditions():
        return pipe.encode_conditions(prompt="bench", lyric_ids=lyric_ids, batch_size=1, plan=plan,
                                      use_erg_tag=True, use_erg_lyric=True, use_erg_diffusion=True)

    def denoise(count: int):
        schedule = make_schedule(scheduler_type="euler", infer_step=count, omega_scale=10.0, dtype=dtype)
        return pipe.denoise(latents=inputs.latents, schedule=schedule, conditions=conds, plan=plan)

    text_encoder.encode("bench", with_null=True)  # warm-ups
    clock = perf_counter()
    text_encoder.encode("bench", with_null=True)
    seconds_by_stage["text encoder"] = perf_counter() - clock
    conds = conditions()
    clock = perf_counter()
    conds = conditions()
    seconds_by_stage["lyric encoder"] = perf_counter() - clock - seconds_by_stage["text encoder"]
    clock = perf_counter()
    denoise(1)
    first_step = perf_counter() - clock  # with --compile: includes the compile
    clock = perf_counter()
    denoise(steps)
    seconds_by_stage["DiT steps"] = perf_counter() - clock
    latents = inputs.latents  # the same numbers upstream's run decodes (see v1_upstream.py)
    pipe.dcae.latents_to_mel(latents)
    clock = perf_counter()
    mel = pipe.dcae.latents_to_mel(latents)
    seconds_by_stage["DCAE decode"] = perf_counter() - clock
    pipe.dcae.mel_to_audio(mel)
    clock = perf_counter()
    pipe.dcae.mel_to_audio(mel)
    seconds_by_stage["vocoder"] = perf_counter() - clock
    return {"stages_s": seconds_by_stage, "first_step_s": first_step, "frames": latents.shape[-1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="bf16")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=27)
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--text-tokens", type=int, default=64)
    parser.add_argument("--lyric-tokens", type=int, default=300)
    parser.add_argument("--compile", action="store_true", help="ours with compiled DiT blocks")
    parser.add_argument("--upstream", type=Path, help="a checkout of ace-step/ACE-Step to time side by side")
    args = parser.parse_args()

    import multiprocessing as mp

    print(f"== {args.dtype}, {args.threads} thread(s), {args.seconds:g} s, {args.steps} steps; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    with mp.get_context("spawn").Pool(1) as pool:
        ours = pool.apply(run_ours, kwds=dict(
            dtype_name=args.dtype, seconds=args.seconds, steps=args.steps, layers=args.layers,
            text_tokens=args.text_tokens, lyric_tokens=args.lyric_tokens, compile_blocks=args.compile,
            threads=args.threads,
        ))
    upstream = None
    if args.upstream is not None:
        print(f"upstream code ({args.upstream}); load average {os.getloadavg()[0]:.2f}", flush=True)
        command = [sys.executable, str(BENCH / "v1_upstream.py"), "--song", "--upstream", str(args.upstream),
                   "--dtype", args.dtype, "--threads", str(args.threads), "--seconds", str(args.seconds),
                   "--steps", str(args.steps), "--layers", str(args.layers),
                   "--text-tokens", str(args.text_tokens), "--lyric-tokens", str(args.lyric_tokens)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"upstream run failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        upstream = json.loads(done.stdout.strip().splitlines()[-1])["stages_s"]

    print(f"| stage | ours{' (compiled DiT)' if args.compile else ''} | upstream code | ratio |")
    print("|---|---|---|---|")
    for name in (*STAGES, "total"):
        mine = sum(ours["stages_s"].values()) if name == "total" else ours["stages_s"][name]
        theirs = None if upstream is None else (sum(upstream.values()) if name == "total" else upstream[name])
        ratio = "" if theirs is None else f"{mine / theirs:.2f}"
        print(f"| {name} | {mine:.2f} s | {'' if theirs is None else f'{theirs:.2f} s'} | {ratio} |")
    print(f"first DiT step (one-step warm-up{', includes the compile' if args.compile else ''}): {ours['first_step_s']:.1f} s")
    if upstream is not None:
        total_ours, total_up = sum(ours["stages_s"].values()), sum(upstream.values())
        print(f"v1 full-size song: ours {total_ours:.2f} s, upstream {total_up:.2f} s, ratio {total_ours / total_up:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
