"""Peak memory of ACE-Step v1 at the full config (random weights) on CPU, with and without the
low-memory settings: model offload and windowed DCAE + vocoder decode, in fp32 and bf16.

What a GPU run would hold is estimated from CPU measurements. Each configuration runs in a fresh
process that builds the four full-size models with random weights (DiT 2.59 B live parameters,
UMT5-base encoder, DCAE f8c8, HiFi-GAN vocoder) and runs the three stages of a call once:

* conditions: UMT5 on a 64-token prompt (+ the ERG-tag row) and the DiT's condition encoder on
  [cond, null] with 300 lyric tokens, cross-attention K/V cached;
* diffusion: one guided step (cond + uncond in one batch of 2), which is what every one of the
  60 steps holds (the step count changes time, not the peak);
* decode: DCAE + vocoder, one-shot or windowed (`long_decode`).

For each stage the peak resident memory above the stage's start (VmHWM after resetting it via
/proc/self/clear_refs) is its activation peak. Printed per configuration:

* weights per model (exact bytes), activation peak per stage;
* device peak without offload = all weights + the largest stage activation;
* device peak with offload = the largest (weights of the stage's models + its activation);
* the process's real peak RSS.

The ratio column compares each configuration with the baseline of the same dtype and length
(no offload, one-shot decode), measured in the same run.

    python bench/bench_v1_memory.py [--seconds 60,240] [--dtypes fp32,bf16] [--threads 2]
    python bench/bench_v1_memory.py --smoke        # 1 DiT layer, 1 s, fp32 (checks the wiring)

Full size needs about 2x the weights in RAM plus activations (fp32 240 s: expect 20+ GiB, and
the one-shot 240 s vocoder alone takes many minutes on 2 cores). CPU RSS is a proxy for device
memory: allocator caching and CPU kernels differ from CUDA, so treat the numbers as estimates.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from time import perf_counter

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

GIB = 2**30
DCAE_FULL = dict(  # music_dcae_f8c8/config.json (reference §2.2)
    in_channels=2, latent_channels=8, attention_head_dim=32,
    encoder_block_types=["ResBlock", "ResBlock", "ResBlock", "EfficientViTBlock"],
    decoder_block_types=["ResBlock", "ResBlock", "ResBlock", "EfficientViTBlock"],
    encoder_block_out_channels=[128, 256, 512, 1024], decoder_block_out_channels=[128, 256, 512, 1024],
    encoder_layers_per_block=[2, 2, 3, 3], decoder_layers_per_block=[3, 3, 3, 3],
    encoder_qkv_multiscales=[[], [], [5], [5]], decoder_qkv_multiscales=[[], [], [5], [5]],
    upsample_block_type="interpolate", downsample_block_type="Conv", decoder_norm_types="rms_norm",
    decoder_act_fns="silu", scaling_factor=0.41407,
)
UMT5_BASE = dict(d_model=768, d_kv=64, d_ff=2048, num_layers=12, num_heads=12, vocab_size=256384,
                 relative_attention_num_buckets=32, feed_forward_proj="gated-gelu", is_encoder_decoder=False)


def _kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def _randomise(model, generator):
    """A meta-built model materialised on the CPU with random weights (`v1_bench_inputs.randomise_`)."""
    from v1_bench_inputs import randomise_

    return randomise_(model.to_empty(device="cpu"), generator=generator)


def build_models(*, dtype, layers: int):
    import torch
    from diffusers import AutoencoderDC
    from transformers import UMT5Config, UMT5EncoderModel

    from music.acestep_v1.loading.weights import build_on_meta
    from music.acestep_v1.models.dcae import MusicDCAE
    from music.acestep_v1.models.mel import slaney_mel_filterbank
    from music.acestep_v1.models.transformer import ACEStepDiT, DiTConfig
    from music.acestep_v1.models.vocoder import HiFiGANVocoder, VocoderConfig

    g = torch.Generator().manual_seed(0)
    dit = _randomise(build_on_meta(lambda: ACEStepDiT(DiTConfig(num_layers=layers))).to(dtype), g)
    umt5 = _randomise(build_on_meta(lambda: UMT5EncoderModel(UMT5Config(**UMT5_BASE))).to(dtype), g)
    autoencoder = _randomise(build_on_meta(lambda: AutoencoderDC(**DCAE_FULL)).to(dtype), g)
    cfg = VocoderConfig()
    vocoder = _randomise(build_on_meta(lambda: HiFiGANVocoder(cfg)).to(dtype), g)
    vocoder.mel_transform.spectrogram.window = torch.hann_window(cfg.win_length)
    vocoder.mel_transform.mel_scale.fb = slaney_mel_filterbank(
        sample_rate=cfg.sampling_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels, f_min=cfg.f_min, f_max=cfg.f_max
    )
    return {"dit": dit, "umt5": umt5, "dcae": MusicDCAE(autoencoder, vocoder)}


def _bytes(*modules) -> int:
    return sum(t.numel() * t.element_size() for m in modules for t in list(m.parameters()) + list(m.buffers()))


def measure(*, dtype_name: str, seconds: float, windowed: bool, layers: int, threads: int) -> dict:
    import torch

    from music.acestep_v1.audio.long_decode import decode_windowed
    from music.acestep_v1.common import frames_for_duration

    torch.set_num_threads(threads)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    started = perf_counter()
    models = build_models(dtype=dtype, layers=layers)
    dit, umt5, dcae = models["dit"], models["umt5"], models["dcae"]
    weights = {
        "dit": _bytes(dit), "umt5": _bytes(umt5),
        "dcae+vocoder": _bytes(dcae.autoencoder, dcae.vocoder),
    }
    frames = frames_for_duration(seconds)
    g = torch.Generator().manual_seed(1)
    acts: dict[str, int] = {}
    times: dict[str, float] = {"build": perf_counter() - started}

    def stage(name, fn):
        _reset_peak()
        base, clock = _kib("VmRSS"), perf_counter()
        out = fn()
        acts[name] = max(_kib("VmHWM") - base, 0) * 1024
        times[name] = perf_counter() - clock
        return out

    with torch.inference_mode():
        def conditions():
            ids = torch.randint(0, 256384, (2, 64), generator=g)
            text = umt5(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
            lyric = torch.randint(0, 6693, (2, 300), generator=g)
            encoded = dit.encode(
                text_states=text.to(dtype), text_mask=torch.ones(2, 64), speaker_embeds=torch.zeros(2, 512, dtype=dtype),
                lyric_ids=lyric, lyric_mask=torch.ones_like(lyric), lyric_q_scale=torch.tensor([1.0, 0.01]),
            )
            return dit.cache_context(encoded)

        context = stage("conditions", conditions)

        def guided_step(context=context):  # bound now: `context` is deleted before the decode
            latents = torch.randn(1, 8, 16, frames, generator=g).to(dtype)
            return dit.decode(latents=latents.repeat(2, 1, 1, 1), timestep=torch.tensor([600.0, 600.0]),
                              conditions=context, q_scale=torch.tensor([1.0, 0.01]))

        latents = stage("diffusion", guided_step)[:1]
        del context
        decode = (lambda: decode_windowed(dcae, latents)) if windowed else (lambda: dcae.decode(latents))
        audio = stage("decode", decode)
    assert audio.shape[-1] == frames * 4096
    stage_weights = {"conditions": weights["dit"] + weights["umt5"], "diffusion": weights["dit"], "decode": weights["dcae+vocoder"]}
    return {
        "dtype": dtype_name, "seconds": seconds, "frames": frames, "windowed_decode": windowed, "layers": layers,
        "weights": weights, "activations": acts, "times": times,
        "device_peak_no_offload": sum(weights.values()) + max(acts.values()),
        "device_peak_offload": max(stage_weights[s] + acts[s] for s in acts),
        "process_peak_rss": _kib("VmHWM") * 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", default="60,240")
    parser.add_argument("--dtypes", default="fp32,bf16")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--layers", type=int, default=24, help="DiT blocks (24 = full size)")
    parser.add_argument("--smoke", action="store_true", help="1 DiT layer, 1 s, fp32: a wiring check")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child process: JSON config
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(**json.loads(args.one))))
        return
    if args.smoke:
        args.seconds, args.dtypes, args.layers = "1", "fp32", 1
    rows = []
    for dtype_name in args.dtypes.split(","):
        for seconds in (float(s) for s in args.seconds.split(",")):
            for windowed in (False, True):
                config = dict(dtype_name=dtype_name, seconds=seconds, windowed=windowed, layers=args.layers, threads=args.threads)
                done = subprocess.run([sys.executable, __file__, "--one", json.dumps(config)], capture_output=True, text=True)
                if done.returncode != 0:
                    print(f"{config}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                    continue
                rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    header = f"{'dtype':5} {'sec':>5} {'decode':8} {'weights GiB':>11} {'act cond/diff/dec GiB':>22} " \
             f"{'no offload':>10} {'offload':>8} {'ratio':>6} {'proc RSS':>8}"
    print(f"DiT layers: {args.layers}{' (smoke: not the full size)' if args.layers != 24 else ''}; CPU RSS as a proxy")
    print(header)
    for row in rows:
        base = next(r for r in rows if r["dtype"] == row["dtype"] and r["seconds"] == row["seconds"] and not r["windowed_decode"])
        a = row["activations"]
        print(
            f"{row['dtype']:5} {row['seconds']:>5g} {'windowed' if row['windowed_decode'] else 'one-shot':8} "
            f"{sum(row['weights'].values()) / GIB:>11.2f} "
            f"{a['conditions'] / GIB:>6.2f}/{a['diffusion'] / GIB:.2f}/{a['decode'] / GIB:<6.2f}     "
            f"{row['device_peak_no_offload'] / GIB:>10.2f} {row['device_peak_offload'] / GIB:>8.2f} "
            f"{row['device_peak_offload'] / base['device_peak_no_offload']:>6.2f} {row['process_peak_rss'] / GIB:>8.2f}"
        )
    print("ratio = device peak with offload (and this decode) / without offload with one-shot decode, same dtype and length")


if __name__ == "__main__":
    main()
