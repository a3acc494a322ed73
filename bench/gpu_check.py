"""The GPU check behind bench/gpu_check.sh (issue #18): one CUDA GPU, under 8 minutes, one table.

Sections, each in its own process with its own time budget (a section that runs out is a row
saying so, and the table still prints), peak VRAM reset per measurement:

* v1     ACE-Step v1 songs of --seconds (30, 240) at --steps (27, 60), without and with model
         offload: the whole `generate` (conditions, DiT loop, DCAE + vocoder), RTF = seconds of
         audio per second of wall time, peak VRAM (torch's max_memory_allocated);
* guided one guided step (APG, ERG uncond) batched against two forwards, per song length;
* fast   the fast modes on a 30 s song's 27-step DiT loop: step-cache's time, skips and deviation
         from the exact loop (bench_v1_fast_modes.py's code); int8 is CPU-only and is reported as
         refused on CUDA (it is refused at submit there);
* v15    ACE-Step 1.5 turbo (8 steps) per song length, through the project's engine;
* lyrics the lyrics LLM's tokens/s (128 new tokens) on llama.cpp with every layer on the GPU and
         on transformers, the same random Llama-3.2-3B shape (bench/make_random_3b_gguf.py).

Weights: --v1-weights / --v15-weights / --llm-hf / --llm-gguf name real ones; without them the
models are the full-size configs with random N(0, 0.02) weights, built on the GPU (speed and
memory only, the audio is noise), and the table says "random" for each such row. The 1.5 random
model uses diffusers' class defaults (hidden 2048, 24 layers: assumed to be the 2B turbo config)
with a Qwen3-0.6B-shaped text encoder.

    bench/gpu_check.sh [--budget 470] [--seconds 30,240] [--steps 27,60] [--sections v1,guided,...]
    bench/gpu_check.sh --dry-run                      # the table's rows, nothing run
    bench/gpu_check.sh --device cpu --tiny --seconds 2 --steps 2   # the same code on tiny models (CPU test)

The last line is one JSON object (`"bench": "gpu_check"`) with every row.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SECTIONS = ("v1", "guided", "fast", "v15", "lyrics")
# seconds of the whole budget each section may use (shares of --budget; the rest is start-up)
SHARES = {"v1": 0.36, "guided": 0.08, "fast": 0.12, "v15": 0.14, "lyrics": 0.30}
PROMPT = "pop, synth, upbeat, female vocal, 120 bpm, catchy"
LYRICS = "[verse]\nNeon lights are calling me tonight\nCity sings a song for two\n\n[chorus]\nWe sing la la la"
NO_CUDA = 3  # exit code: no CUDA GPU (and not --device cpu / --dry-run)


@dataclass
class Row:
    section: str
    check: str
    setting: str
    result: str = ""
    rtf: float | None = None  # seconds of audio per second of wall time
    vram_gib: float | None = None
    weights: str = ""  # real | random | tiny
    note: str = ""


# ---- measuring ------------------------------------------------------------------------------------

def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def reset_peak(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_gib(device: str) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None


class RowLog(list):
    """A section's rows, written to its JSON file as each is added: a section killed at its time
    limit still hands over the rows it finished."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def append(self, row: Row) -> None:
        super().append(row)
        self.path.write_text(json.dumps([asdict(r) for r in self]))


class Budget:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


def build_random(factory, device: str, dtype, *, seed: int = 0):
    """`factory()` built on `device` (so buffers such as RoPE tables are computed, not left empty),
    cast to `dtype`, every parameter redrawn N(0, 0.02) (norms 1 / 0, as bench_v1_full_size.py
    draws them: the default initialisers can overflow a 24-block random DiT), in eval mode."""
    import torch
    from v1_bench_inputs import randomise_

    with torch.device(device):
        model = factory()
    return randomise_(model.to(dtype), seed=seed)


# ---- ACE-Step v1 ----------------------------------------------------------------------------------

def random_v1_models(device: str, dtype):
    """The four v1 models at their full configs, random, on `device` (bench_v1_memory's configs)."""
    from diffusers import AutoencoderDC
    from transformers import UMT5Config, UMT5EncoderModel

    from bench.bench_v1_memory import DCAE_FULL, UMT5_BASE
    from music.acestep_v1.models.dcae import MusicDCAE
    from music.acestep_v1.models.transformer import ACEStepDiT, DiTConfig
    from music.acestep_v1.models.vocoder import HiFiGANVocoder, VocoderConfig

    dit = build_random(lambda: ACEStepDiT(DiTConfig()), device, dtype)
    umt5 = build_random(lambda: UMT5EncoderModel(UMT5Config(**UMT5_BASE)), device, dtype, seed=1)
    autoencoder = build_random(lambda: AutoencoderDC(**DCAE_FULL), device, dtype, seed=2)
    vocoder = build_random(lambda: HiFiGANVocoder(VocoderConfig()), device, dtype, seed=3)
    return dit, umt5, MusicDCAE(autoencoder, vocoder)


def v1_pipeline(args, *, offload: bool):
    """(pipeline, weights label): real weights, the tiny checkpoint, or random full-size models
    with the tiny checkpoint's stand-in tokenizers (token ids only feed random embeddings)."""
    import torch
    from transformers import AutoTokenizer

    from music.acestep_v1 import ACEStepV1Pipeline
    from music.acestep_v1.loading.tiny import build_tiny_checkpoint, lyric_vocab_path
    from music.acestep_v1.models.text_encoder import UMT5TextEncoder

    dtype = torch.bfloat16 if args.device.startswith("cuda") else torch.float32
    if args.v1_weights:
        return ACEStepV1Pipeline.from_pretrained(args.v1_weights, device=args.device, dtype=dtype, offload=offload,
                                                 lyric_vocab=args.v1_vocab), "real"
    tiny = build_tiny_checkpoint(Path(tempfile.mkdtemp(prefix="gpu-check-v1-")) / "tiny")
    if args.tiny:
        return ACEStepV1Pipeline.from_pretrained(tiny, device=args.device, dtype=dtype, offload=offload,
                                                 lyric_vocab=lyric_vocab_path(tiny)), "tiny"
    dit, umt5, dcae = random_v1_models(args.device, dtype)
    text_encoder = UMT5TextEncoder(umt5, AutoTokenizer.from_pretrained(str(tiny / "umt5-base")))
    return ACEStepV1Pipeline(transformer=dit, dcae=dcae, text_encoder=text_encoder, lyric_vocab=lyric_vocab_path(tiny),
                             device=args.device, dtype=dtype, offload=offload), "random"


def section_v1(args, budget: Budget, rows: "RowLog") -> None:
    for offload in (False, True):
        label = "offload" if offload else "no offload"
        if offload and not args.device.startswith("cuda"):
            rows.append(Row("v1", "v1 song", label, "skipped", note="offload needs an accelerator"))
            continue
        pipe, weights = v1_pipeline(args, offload=offload)
        for seconds in args.seconds:
            for steps in args.steps:
                setting = f"{seconds:g} s, {steps} steps, {label}"
                if budget.left() < 5:
                    rows.append(Row("v1", "v1 song", setting, "skipped: section budget spent", weights=weights))
                    continue
                reset_peak(args.device)
                sync(args.device)
                started = time.perf_counter()
                out = pipe.generate(prompt=PROMPT, lyrics=LYRICS, audio_duration=seconds, infer_step=steps,
                                    manual_seeds=[1], sample_rate=44100)
                sync(args.device)
                wall = time.perf_counter() - started
                stages = ", ".join(f"{k} {v:.1f}" for k, v in out.timings.items() if k != "tokenize")
                rows.append(Row("v1", "v1 song", setting, f"{wall:.1f} s", rtf=seconds / wall,
                                vram_gib=peak_gib(args.device), weights=weights, note=f"stages s: {stages}"))
        del pipe
        reset_peak(args.device)  # the next setting's models start from an empty device


# ---- one guided step: batched against two forwards ------------------------------------------------

def v1_dit(args):
    import torch

    from music.acestep_v1.loading import checkpoint as ckpt
    from music.acestep_v1.loading.tiny import build_tiny_checkpoint
    from music.acestep_v1.models.transformer import ACEStepDiT, DiTConfig

    dtype = torch.bfloat16 if args.device.startswith("cuda") else torch.float32
    if args.v1_weights or args.tiny:
        folder = Path(args.v1_weights) if args.v1_weights else \
            build_tiny_checkpoint(Path(tempfile.mkdtemp(prefix="gpu-check-v1-")) / "tiny")
        dit = ckpt.load_transformer(folder / "ace_step_transformer", device=args.device, dtype=dtype)
        return dit, dtype, "real" if args.v1_weights else "tiny"
    return build_random(lambda: ACEStepDiT(DiTConfig()), args.device, dtype), dtype, "random"


def section_guided(args, budget: Budget, rows: "RowLog") -> None:
    import torch

    from music.acestep_v1.common import frames_for_duration
    from music.acestep_v1.pipeline import ACEStepV1Pipeline
    from music.acestep_v1.sampling.guidance import GuidancePlan, Guider

    dit, dtype, weights = v1_dit(args)
    pipe = ACEStepV1Pipeline(transformer=dit, dcae=None, text_encoder=None, lyric_vocab=None, device=args.device,
                             dtype=dtype)
    config, device = dit.config, args.device
    g = torch.Generator().manual_seed(1)
    text = torch.randn(1, 64, config.text_embedding_dim, generator=g).to(device, dtype)
    ids = torch.randint(0, config.lyric_encoder_vocab_size, (1, 300), generator=g).to(device)
    with torch.inference_mode():
        encoded = dit.encode(text_states=torch.cat([text, torch.zeros_like(text)]),
                             text_mask=torch.ones(2, 64, device=device),
                             speaker_embeds=torch.zeros(2, config.speaker_embedding_dim, dtype=dtype, device=device),
                             lyric_ids=ids.repeat(2, 1), lyric_mask=torch.ones(2, 300, device=device),
                             lyric_q_scale=torch.tensor([1.0, 0.01], device=device))
        conditions = pipe.assemble_conditions(encoded, names=["cond", "null"], batch_size=1, use_erg_diffusion=True)
    for seconds in args.seconds:
        latents = torch.randn(1, 8, 16, frames_for_duration(seconds), generator=g).to(device, dtype)
        times = {}
        for batched in (True, False):
            if budget.left() < 5:
                break
            pipe.batched_guidance = batched
            guider = Guider(GuidancePlan(cfg_type="apg", guidance_scale=15.0))
            samples = []
            for _ in range(args.repeats + 1):  # the first is a warm-up
                sync(device)
                started = time.perf_counter()
                with torch.inference_mode():
                    pipe.velocity(latents=latents, timestep=torch.tensor(600.0, device=device), conditions=conditions,
                                  guider=guider, step=10, scale=15.0)
                sync(device)
                samples.append(time.perf_counter() - started)
            times[batched] = sorted(samples[1:])[len(samples[1:]) // 2]
        if len(times) < 2:
            rows.append(Row("guided", "guided step", f"{seconds:g} s", "skipped: section budget spent", weights=weights))
            continue
        rows.append(Row("guided", "guided step", f"{seconds:g} s, batched", f"{times[True] * 1000:.1f} ms", weights=weights))
        rows.append(Row("guided", "guided step", f"{seconds:g} s, two forwards", f"{times[False] * 1000:.1f} ms",
                        weights=weights, note=f"batched / two forwards = {times[True] / times[False]:.2f}"))


# ---- fast modes -------------------------------------------------------------------------------------

def section_fast(args, budget: Budget, rows: "RowLog") -> None:
    from bench.bench_v1_fast_modes import random_weights

    dit, dtype, weights = v1_dit(args)
    seconds, steps = args.seconds[0], min(args.steps)
    result = random_weights(dtype_name="bf16" if args.device.startswith("cuda") else "fp32", layers=0,
                            seconds=seconds, steps=steps, thresholds=[args.threshold], text_tokens=64,
                            lyric_tokens=300, device=args.device, model=dit)
    for label, row in result["modes"].items():
        skips = row["step_cache"]
        note = "" if not skips else "skipped / run: " + ", ".join(
            f"{name} {skips['skipped'][name]}/{skips['calls'][name]}" for name in skips["calls"])
        deviation = "" if label == "exact" else (
            f"; latents max abs {row['latents']['max_abs']:.3g}, SNR {row['latents']['snr_db']:.1f} dB")
        rows.append(Row("fast", "DiT loop", f"{seconds:g} s, {steps} steps, {label}",
                        f"{row['loop_s']:.2f} s (x{row['ratio']:.2f} exact){deviation}", weights=weights, note=note))
    if args.device.startswith("cuda"):
        rows.append(Row("fast", "DiT loop", "int8", "not run: int8 runs on the CPU only",
                        note="refused at submit on a CUDA worker"))


# ---- ACE-Step 1.5 turbo ------------------------------------------------------------------------------

def random_v15_pipeline(device: str):
    """AceStepPipeline with diffusers' default (2B turbo) configs, random, on `device`."""
    import torch
    from diffusers import AceStepPipeline, AutoencoderOobleck, FlowMatchEulerDiscreteScheduler
    from diffusers.models.transformers.ace_step_transformer import AceStepTransformer1DModel
    from diffusers.pipelines.ace_step import AceStepConditionEncoder
    from transformers import Qwen3Config, Qwen3Model

    from music.acestep15.tiny import byte_level_tokenizer

    text = Qwen3Config(vocab_size=151669, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28,
                       num_attention_heads=16, num_key_value_heads=8, head_dim=128, max_position_embeddings=32768)
    factories = dict(  # the VAE at 48 kHz with a 1920-sample hop, as music/acestep15/tiny.py describes the real one
        text_encoder=lambda: Qwen3Model(text),
        transformer=lambda: AceStepTransformer1DModel(is_turbo=True, model_version="turbo"),
        condition_encoder=AceStepConditionEncoder,
        vae=lambda: AutoencoderOobleck(downsampling_ratios=[2, 4, 4, 6, 10], sampling_rate=48000),
    )
    parts = {name: build_random(factory, device, torch.bfloat16, seed=i) for i, (name, factory) in enumerate(factories.items())}
    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1, shift=1.0)  # as music/acestep15/tiny.py
    return AceStepPipeline(tokenizer=byte_level_tokenizer(), scheduler=scheduler, **parts)


def section_v15(args, budget: Budget, rows: "RowLog") -> None:
    from music.acestep15.engine import ACEStep15Engine
    from music.acestep15.loading import CheckpointLocation
    from music.acestep15.tiny import build_pipeline
    from music.acestep15.variants import VARIANTS
    from music.engine import MusicRequest
    from music.registry import engines

    if args.v15_weights:
        engine, weights = engines.create("ace-step-1.5", model_id_or_dir=args.v15_weights, device=args.device), "real"
    else:
        pipe, weights = (build_pipeline(turbo=True), "tiny") if args.tiny else (random_v15_pipeline(args.device), "random")
        pipe.to(args.device)
        location = CheckpointLocation(folder=Path("."), model_id=f"{weights}-acestep-v15-turbo", revision=None)
        engine = ACEStep15Engine(pipe=pipe, variant=VARIANTS["turbo"], location=location, device=args.device)
    for seconds in args.seconds:
        setting = f"{seconds:g} s, turbo 8 steps"
        if not engine.min_duration <= seconds <= engine.max_duration:
            rows.append(Row("v15", "1.5 song", setting, "skipped", weights=weights,
                            note=f"ACE-Step 1.5 makes {engine.min_duration:g} to {engine.max_duration:g} s"))
            continue
        if budget.left() < 5:
            rows.append(Row("v15", "1.5 song", setting, "skipped: section budget spent", weights=weights))
            continue
        reset_peak(args.device)
        sync(args.device)
        started = time.perf_counter()
        engine.generate(MusicRequest(prompt=PROMPT, lyrics=LYRICS, duration=seconds, seeds=[1], steps=8))
        sync(args.device)
        wall = time.perf_counter() - started
        rows.append(Row("v15", "1.5 song", setting, f"{wall:.1f} s", rtf=seconds / wall, vram_gib=peak_gib(args.device),
                        weights=weights))


# ---- lyrics LLM ---------------------------------------------------------------------------------------

def section_lyrics(args, budget: Budget, rows: "RowLog") -> None:
    """transformers first (its folder is built anyway), then llama.cpp from a GGUF of the same weights."""
    from bench.bench_lyrics_backends import measure
    from lyrics import backends
    from lyrics.gguf_export import export_llama_gguf

    cuda = args.device.startswith("cuda")
    work = Path(tempfile.mkdtemp(prefix="gpu-check-llm-"))
    made = "tiny" if args.tiny else "random"
    hf = Path(args.llm_hf) if args.llm_hf else work / "hf"
    if not args.llm_hf:
        if args.tiny:
            from lyrics.tiny import build_tiny_llama

            build_tiny_llama(hf)
        else:
            from bench.make_random_3b_gguf import build_hf

            build_hf(hf, 0, device=args.device)
    dtype = "bfloat16" if cuda else "float32"
    model = backends.create("transformers", model=str(hf), device=args.device, dtype=dtype)
    result = measure(model, tokens=args.tokens, repeats=args.repeats, constraint=None)
    rows.append(Row("lyrics", "transformers", f"{args.device}, {dtype}", f"{result['tok_s']:.1f} tok/s",
                    weights="real" if args.llm_hf else made, note=f"first token {result['ttft_s']:.3f} s"))
    del model
    try:
        import llama_cpp
    except ImportError:
        rows.append(Row("lyrics", "llama.cpp", "", "not run", note="llama-cpp-python is not installed"))
        return
    if cuda and not llama_cpp.llama_supports_gpu_offload():
        rows.append(Row("lyrics", "llama.cpp", "all layers on the GPU", "not run",
                        note="this llama-cpp-python has no GPU offload (build it with CUDA)"))
        return
    if budget.left() < 30:
        rows.append(Row("lyrics", "llama.cpp", "", "skipped: section budget spent"))
        return
    gguf = Path(args.llm_gguf) if args.llm_gguf else export_llama_gguf(
        hf, work / "model.gguf", dtype="f32" if args.tiny else "f16")
    llama = backends.create("llama-cpp", model_path=gguf, n_gpu_layers=-1 if cuda else 0, n_ctx=4096)
    result = measure(llama, tokens=args.tokens, repeats=args.repeats, constraint=None)
    llama.close()
    rows.append(Row("lyrics", "llama.cpp", f"{'all layers on the GPU' if cuda else 'CPU'}, {gguf.name}",
                    f"{result['tok_s']:.1f} tok/s", weights="real" if args.llm_gguf else made,
                    note=f"first token {result['ttft_s']:.3f} s" + ("" if args.llm_gguf or args.tiny else
                                                                   "; an f16 GGUF (the studio's default is Q4_K_M)")))


RUNNERS = {"v1": section_v1, "guided": section_guided, "fast": section_fast, "v15": section_v15,
           "lyrics": section_lyrics}


# ---- the table ----------------------------------------------------------------------------------------

def planned_rows(args) -> list[Row]:
    """Every row the check measures (for --dry-run)."""
    rows = []
    for section in args.sections:
        if section == "v1":
            rows += [Row("v1", "v1 song", f"{s:g} s, {n} steps, {o}") for o in ("no offload", "offload")
                     for s in args.seconds for n in args.steps]
        elif section == "guided":
            rows += [Row("guided", "guided step", f"{s:g} s, {how}") for s in args.seconds
                     for how in ("batched", "two forwards")]
        elif section == "fast":
            rows += [Row("fast", "DiT loop", f"{args.seconds[0]:g} s, {min(args.steps)} steps, {m}")
                     for m in ("exact", f"step-cache@{args.threshold:g}", "int8")]
        elif section == "v15":
            rows += [Row("v15", "1.5 song", f"{s:g} s, turbo 8 steps") for s in args.seconds]
        else:
            rows += [Row("lyrics", "transformers", "bf16"), Row("lyrics", "llama.cpp", "all layers on the GPU")]
    for row in rows:
        row.result = "not run (dry run)"
    return rows


def _cell(value: float | None, digits: int) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def render_table(rows: list[Row], *, header: str) -> str:
    lines = [header, "", "| section | check | setting | result | RTF | peak VRAM GiB | weights | note |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.section} | {r.check} | {r.setting} | {r.result} | {_cell(r.rtf, 1)} | "
                     f"{_cell(r.vram_gib, 2)} | {r.weights} | {r.note} |")
    return "\n".join(lines)


# ---- running the sections ----------------------------------------------------------------------------

def child_options(args) -> list[str]:
    """The options a section's process needs, from the parsed ones."""
    options = ["--device", args.device, "--seconds", ",".join(f"{s:g}" for s in args.seconds),
               "--steps", ",".join(map(str, args.steps)), "--repeats", str(args.repeats), "--tokens", str(args.tokens),
               "--threshold", f"{args.threshold:g}"] + (["--tiny"] if args.tiny else [])
    for name in ("v1_weights", "v1_vocab", "v15_weights", "llm_hf", "llm_gguf"):
        if getattr(args, name):
            options += [f"--{name.replace('_', '-')}", getattr(args, name)]
    return options


def run_section(args, section: str, seconds: float) -> list[Row]:
    """The section in a child process with `seconds` to finish; a failure or timeout is a row."""
    out = Path(tempfile.mkdtemp(prefix="gpu-check-")) / f"{section}.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--section", section, "--section-out", str(out),
               "--section-budget", f"{max(seconds - 10, 1):.0f}", *child_options(args)]
    try:
        done = subprocess.run(command, cwd=REPO, timeout=max(seconds, 1), capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return finished(out) + [Row(section, section, "", f"timed out after {seconds:.0f} s (rows above finished)")]
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return finished(out) + [Row(section, section, "", f"failed (exit {done.returncode})", note=tail[0][:200])]
    return finished(out)


def finished(out: Path) -> list[Row]:
    return [Row(**row) for row in json.loads(out.read_text())] if out.is_file() else []


def parse(argv: list[str] | None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="tiny random models (the CPU test of this script)")
    parser.add_argument("--dry-run", action="store_true", help="print the table's rows without running anything")
    parser.add_argument("--budget", type=float, default=470.0, help="seconds for all sections together")
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--seconds", default="30,240", help="song lengths")
    parser.add_argument("--steps", default="27,60", help="v1 step counts")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=128, help="new tokens per lyrics run")
    parser.add_argument("--threshold", type=float, default=0.05, help="step-cache threshold")
    parser.add_argument("--v1-weights", help="ACE-Step v1 checkpoint folder (official layout)")
    parser.add_argument("--v1-vocab", help="upstream's lyric vocab.json, with --v1-weights")
    parser.add_argument("--v15-weights", help="ACE-Step 1.5 turbo diffusers folder")
    parser.add_argument("--llm-hf", help="lyrics LLM as a transformers folder")
    parser.add_argument("--llm-gguf", help="the same lyrics LLM as a GGUF")
    parser.add_argument("--section", choices=SECTIONS, help=argparse.SUPPRESS)  # child process
    parser.add_argument("--section-out", help=argparse.SUPPRESS)
    parser.add_argument("--section-budget", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sections = [s for s in args.sections.split(",") if s]
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    args.seconds = [float(s) for s in args.seconds.split(",") if s]
    args.steps = [int(s) for s in args.steps.split(",") if s]
    if args.v1_weights and not args.v1_vocab:
        parser.error("--v1-weights needs --v1-vocab (upstream's lyric vocab.json; it is not in the checkpoint)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.section:  # child: one section, rows to a JSON file
        import torch

        torch.manual_seed(0)
        RUNNERS[args.section](args, Budget(args.section_budget), RowLog(Path(args.section_out)))
        return 0
    if args.dry_run:
        rows = planned_rows(args)
        device = f"{args.device} (dry run: nothing measured)"
    else:
        import torch

        if args.device.startswith("cuda") and not torch.cuda.is_available():
            print("error: gpu_check needs a CUDA GPU and torch sees none; on a CPU, --device cpu --tiny runs the "
                  "same code on tiny models, and --dry-run prints the table's rows", file=sys.stderr)
            return NO_CUDA
        device = torch.cuda.get_device_name() if args.device.startswith("cuda") else "CPU"
        started, rows = time.monotonic(), []
        total = sum(SHARES[s] for s in args.sections)
        for section in args.sections:
            left = args.budget - (time.monotonic() - started)
            rows += run_section(args, section, min(args.budget * SHARES[section] / total, left))
    header = (f"GPU check on {device}, {time.strftime('%Y-%m-%d %H:%M')}. RTF = seconds of audio per second of "
              "wall time. weights: real = the checkpoint named; random = the full-size config with random "
              "weights (speed and memory only, the audio is noise); tiny = the test models.")
    print(render_table(rows, header=header))
    print(json.dumps({"bench": "gpu_check", "device": device, "rows": [asdict(r) for r in rows]}))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raise SystemExit(main())
