"""Upstream ACE-Step v1's own code, timed on the same inputs as ours, in a process of its own.

    python bench/v1_upstream.py --upstream PATH [--dtype bf16] [--seconds 30] [--threads 2]
                                [--layers 24] [--repeats 3]

PATH is a checkout of ace-step/ACE-Step (the folder holding `acestep/`; the bench was written
against commit d612523). Nothing of it is copied into this repository: it is put on sys.path
of this process only. The DiT is built from upstream's `acestep/models/config.json` with
parameters on the meta device (buffers such as RoPE tables stay real, as upstream builds them),
then filled with the same random weights as ours (`v1_bench_inputs.randomise_`).

The guided step is what upstream's pipeline does inside the guidance interval with its defaults
(APG, ERG diffusion): a cond `decode()`, an uncond `decode()` on the null condition with the
`to_q` outputs of blocks 15-19 scaled by 0.01 through forward hooks, then `apg_forward` and an
Euler update. Prints one JSON object (medians of --repeats runs after one warm-up).

With --song, one whole song instead, timed per stage as upstream's pipeline runs it (defaults:
Euler, APG, guidance interval 0.5, ERG tag/lyric/diffusion): UMT5 (cond, then the ERG-tag row
with hooks), the lyric encoder (`encode` for cond, then null with hooks), --steps DiT steps
(cond-only outside the guidance interval, cond + hooked uncond + APG inside, upstream's
FlowMatchEulerDiscreteScheduler), the DCAE decoder (diffusers' AutoencoderDC, item by item) and
upstream's vocoder (`ADaMoSHiFiGANV1.decode`, one channel at a time, weight norm as loaded).
Upstream's vocoder module imports librosa (for a file loader) and torchaudio's `MelScale` (for
its mel *encoder*); decoding uses neither. Where they are not installed (torchaudio has no build
for this torch), stand-ins are registered for this process only: an empty `librosa` and a
`MelScale` that can be built but raises if called.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import json
import statistics
import sys
import types
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter, process_time

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from v1_bench_inputs import GUIDANCE_SCALE, SPEAKER_DIM, TIMESTEP, make_inputs, randomise_  # noqa: E402

ERG_TAU = 0.01
ERG_BLOCKS = range(15, 20)
ERG_LYRIC_LAYERS = range(4, 6)


@contextmanager
def parameters_on_meta():
    """Parameters are created on the meta device (no memory, no random init); buffers are not,
    so upstream's RoPE and positional tables are built for real."""
    original = nn.Module.register_parameter

    def register(module, name, param):
        original(module, name, param)
        if param is not None:
            module._parameters[name] = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)

    nn.Module.register_parameter = register
    try:
        yield
    finally:
        nn.Module.register_parameter = original


def import_upstream(path: Path):
    if not (path / "acestep" / "models" / "ace_step_transformer.py").is_file():
        raise SystemExit(f"{path} is not an ACE-Step checkout: acestep/models/ace_step_transformer.py is missing")
    sys.path.insert(0, str(path))
    from acestep import apg_guidance  # noqa: PLC0415  (upstream code, only on sys.path here)
    from acestep.models import ace_step_transformer  # noqa: PLC0415  (upstream code, only on sys.path here)

    return ace_step_transformer, apg_guidance


def build_dit(module, path: Path, *, layers: int, dtype: torch.dtype) -> nn.Module:
    config = json.loads((path / "acestep" / "models" / "config.json").read_text())
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    config["num_layers"] = layers
    with parameters_on_meta():
        model = module.ACEStepTransformer2DModel(**config)
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    model = model.to_empty(device="cpu")
    for name, value in buffers.items():  # to_empty leaves buffers uninitialised; put them back
        owner, _, leaf = name.rpartition(".")
        model.get_submodule(owner).register_buffer(leaf, value, persistent=False)
    return randomise_(model.to(dtype))


@contextmanager
def scaled_outputs(linears, tau: float):
    """Upstream's ERG: a forward hook that scales a layer's output in place."""

    def hook(_module, _inputs, output):
        output[:] *= tau
        return output

    handles = [layer.register_forward_hook(hook) for layer in linears]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def conditions(model, inputs, *, dtype):
    """(cond, null) contexts and masks, as upstream's pipeline builds them (ERG lyric on)."""
    text, ids = inputs.text, inputs.lyric_ids
    ones_text = torch.ones(1, text.shape[1], dtype=torch.long)
    ones_lyric = torch.ones(1, ids.shape[1], dtype=torch.long)
    speaker = torch.zeros(1, SPEAKER_DIM, dtype=dtype)
    cond = model.encode(text, ones_text, speaker, ids, ones_lyric)
    lyric_q = [model.lyric_encoder.encoders[i].self_attn.linear_q for i in ERG_LYRIC_LAYERS]
    with scaled_outputs(lyric_q, ERG_TAU):
        null = model.encode(torch.zeros_like(text), ones_text, speaker, ids, ones_lyric)
    return cond, null


def guided_step_fn(model, apg, inputs, cond, null):
    latents = inputs.latents
    mask = torch.ones(1, latents.shape[-1], dtype=latents.dtype)
    timestep = torch.tensor([TIMESTEP])
    erg_q = [q for i in ERG_BLOCKS if i < len(model.transformer_blocks) for q in (model.transformer_blocks[i].attn.to_q, model.transformer_blocks[i].cross_attn.to_q)]

    def decode(context):
        states, context_mask = context
        return model.decode(
            hidden_states=latents, attention_mask=mask, encoder_hidden_states=states,
            encoder_hidden_mask=context_mask, timestep=timestep, output_length=latents.shape[-1],
        ).sample

    def step():
        with torch.no_grad():  # upstream's pipeline runs under no_grad
            v_cond = decode(cond)
            with scaled_outputs(erg_q, ERG_TAU):
                v_uncond = decode(null)
            v = apg.apg_forward(pred_cond=v_cond, pred_uncond=v_uncond, guidance_scale=GUIDANCE_SCALE,
                                momentum_buffer=apg.MomentumBuffer())
            return latents - 0.01 * v

    return step


class _UnusedMelScale(nn.Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, *args, **kwargs):
        raise RuntimeError("torchaudio is not installed: the bench's MelScale stand-in cannot encode audio")


def _stand_in(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)  # find_spec callers expect one
    return module


def register_stand_ins() -> None:
    """See the module docstring: only modules that are missing get a stand-in."""
    for name in ("librosa", "torchaudio"):
        try:
            __import__(name)
        except ImportError:
            sys.modules[name] = _stand_in(name)
            if name == "torchaudio":
                transforms = _stand_in("torchaudio.transforms")
                transforms.MelScale = _UnusedMelScale
                sys.modules["torchaudio.transforms"] = transforms
                sys.modules["torchaudio"].transforms = transforms


def unit_weight_norm_(model: nn.Module) -> None:
    """Set each weight-norm gain g to ||v||, so the effective weight is v itself: N(0, 0.02) per
    element like our vocoder's random (folded) weights. With g drawn at random too, upstream's
    filters would have another scale and its signal would decay towards denormals, which are slow
    on a CPU: the two vocoders would be timed on different kinds of numbers."""
    with torch.no_grad():
        for module in model.modules():
            g, v = getattr(module, "weight_g", None), getattr(module, "weight_v", None)
            if isinstance(g, nn.Parameter) and isinstance(v, nn.Parameter):
                # torch's weight_norm default (upstream's): the norm over every dim but 0
                g.copy_(torch.linalg.vector_norm(v.float(), dim=tuple(range(1, v.dim())), keepdim=True).to(g.dtype))


def song_stages(path: Path, *, dtype: torch.dtype, args) -> dict:
    """Seconds per stage of one song (one run after a warm-up of each stage)."""
    from bench_v1_memory import DCAE_FULL, UMT5_BASE  # noqa: PLC0415  (bench-only configs)
    from diffusers import AutoencoderDC  # noqa: PLC0415  (heavy)
    from transformers import UMT5Config, UMT5EncoderModel  # noqa: PLC0415  (heavy)

    module, apg = import_upstream(path)
    register_stand_ins()
    from acestep.music_dcae.music_vocoder import ADaMoSHiFiGANV1  # noqa: PLC0415  (upstream code)
    from acestep.schedulers.scheduling_flow_match_euler_discrete import (  # noqa: PLC0415  (upstream code)
        FlowMatchEulerDiscreteScheduler,
    )

    dit = build_dit(module, path, layers=args.layers, dtype=dtype)
    with parameters_on_meta():
        umt5 = UMT5EncoderModel(UMT5Config(**UMT5_BASE))
        dcae = AutoencoderDC(**DCAE_FULL)
        vocoder = ADaMoSHiFiGANV1()
    umt5, dcae, vocoder = (randomise_(m.to_empty(device="cpu")).to(dtype) for m in (umt5, dcae, vocoder))
    unit_weight_norm_(vocoder)
    inputs = make_inputs(seconds=args.seconds, text_tokens=args.text_tokens, lyric_tokens=args.lyric_tokens, dtype=dtype)
    token_ids = torch.randint(0, UMT5_BASE["vocab_size"], (1, args.text_tokens), generator=torch.Generator().manual_seed(2))
    token_mask = torch.ones_like(token_ids)
    latents0 = inputs.latents
    frames = latents0.shape[-1]

    def text_stage():
        cond = umt5(input_ids=token_ids, attention_mask=token_mask).last_hidden_state
        q = [umt5.encoder.block[i].layer[0].SelfAttention.q for i in range(8, 10)]
        with scaled_outputs(q, ERG_TAU):
            null = umt5(input_ids=token_ids, attention_mask=token_mask).last_hidden_state
        return cond.to(dtype), null.to(dtype)

    def lyric_stage(text_cond, text_null):
        inp = type(inputs)(text=text_cond, lyric_ids=inputs.lyric_ids, latents=latents0)
        cond, _ = conditions(dit, inp, dtype=dtype)
        ones_text = torch.ones(1, text_null.shape[1], dtype=torch.long)
        ones_lyric = torch.ones(1, inputs.lyric_ids.shape[1], dtype=torch.long)
        lyric_q = [dit.lyric_encoder.encoders[i].self_attn.linear_q for i in ERG_LYRIC_LAYERS]
        with scaled_outputs(lyric_q, ERG_TAU):
            null = dit.encode(text_null, ones_text, torch.zeros(1, SPEAKER_DIM, dtype=dtype), inputs.lyric_ids, ones_lyric)
        return cond, null

    def dit_stage(cond, null):
        scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0)
        scheduler.set_timesteps(args.steps)
        start, end = int(args.steps * 0.25), int(args.steps * 0.75)  # guidance interval 0.5
        mask = torch.ones(1, frames, dtype=dtype)
        erg_q = [q for i in ERG_BLOCKS if i < len(dit.transformer_blocks)
                 for q in (dit.transformer_blocks[i].attn.to_q, dit.transformer_blocks[i].cross_attn.to_q)]
        momentum = apg.MomentumBuffer()
        latents = latents0

        def decode(context, timestep):
            return dit.decode(hidden_states=latents, attention_mask=mask, encoder_hidden_states=context[0],
                              encoder_hidden_mask=context[1], timestep=timestep, output_length=frames).sample

        for i, t in enumerate(scheduler.timesteps):
            timestep = t.expand(1)
            if start <= i < end:
                v_cond = decode(cond, timestep)
                with scaled_outputs(erg_q, ERG_TAU):
                    v_uncond = decode(null, timestep)
                v = apg.apg_forward(pred_cond=v_cond, pred_uncond=v_uncond, guidance_scale=GUIDANCE_SCALE,
                                    momentum_buffer=momentum)
            else:
                v = decode(cond, timestep)
            latents = scheduler.step(model_output=v, timestep=t, sample=latents, return_dict=False, omega=10.0)[0]
        return latents

    def dcae_stage(latents):
        z = latents / 0.1786 - 1.9091
        mels = torch.cat([dcae.decoder(item[None]) for item in z])
        return (mels * 0.5 + 0.5) * 14.0 - 11.0

    def vocoder_stage(mels):
        return [torch.cat([vocoder.decode(mel[None, 0]), vocoder.decode(mel[None, 1])]) for mel in mels]

    seconds: dict[str, float] = {}

    def stage(name, fn, *a):
        fn(*a)  # warm-up
        clock = perf_counter()
        out = fn(*a)
        seconds[name] = perf_counter() - clock
        return out

    with torch.no_grad():
        text_cond, text_null = stage("text encoder", text_stage)
        cond, null = stage("lyric encoder", lyric_stage, text_cond, text_null)
        warm, args.steps = args.steps, 1  # the DiT loop's warm-up is one step, not a whole song
        dit_stage(cond, null)
        args.steps = warm
        clock = perf_counter()
        dit_stage(cond, null)
        seconds["DiT steps"] = perf_counter() - clock
        # decode the shared input latents, not this run's random-weight output: both codes then
        # decode the same numbers (random-weight DiT outputs can drift into denormals)
        mels = stage("DCAE decode", dcae_stage, latents0)
        stage("vocoder", vocoder_stage, mels)
    return seconds


def timed(fn, repeats: int) -> tuple[float, float, list[float]]:
    fn()  # warm-up
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = perf_counter(), process_time()
        fn()
        walls.append(perf_counter() - wall)
        cpus.append(process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), walls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", type=Path, required=True)
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="bf16")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--text-tokens", type=int, default=64)
    parser.add_argument("--lyric-tokens", type=int, default=300)
    parser.add_argument("--song", action="store_true", help="time a whole song per stage instead of one step")
    parser.add_argument("--steps", type=int, default=27)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
    if args.song:
        stages = song_stages(args.upstream.resolve(), dtype=dtype, args=args)
        print(json.dumps({"code": "upstream", "dtype": args.dtype, "threads": args.threads, "layers": args.layers,
                          "steps": args.steps, "stages_s": stages}))
        return 0
    module, apg = import_upstream(args.upstream.resolve())
    started = perf_counter()
    model = build_dit(module, args.upstream.resolve(), layers=args.layers, dtype=dtype)
    built = perf_counter() - started
    inputs = make_inputs(seconds=args.seconds, text_tokens=args.text_tokens, lyric_tokens=args.lyric_tokens, dtype=dtype)
    with torch.no_grad():
        cond, null = conditions(model, inputs, dtype=dtype)
    wall, cpu, samples = timed(guided_step_fn(model, apg, inputs, cond, null), args.repeats)
    print(json.dumps({
        "code": "upstream", "dtype": args.dtype, "threads": args.threads, "layers": args.layers,
        "frames": inputs.latents.shape[-1], "context": cond[0].shape[1], "build_s": built,
        "guided_step_s": wall, "guided_step_cpu_s": cpu, "samples_s": samples,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
