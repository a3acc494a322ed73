"""Training features of one window for ACE-Step v1, computed once and cached (music.training.feature_cache).

* latents: the DCAE encoding of the 44.1 kHz stereo window, (8, 16, W) float32;
* text: UMT5 hidden states of the clip's tags (cut to 256 tokens as at inference) and their mask;
* lyric ids: the lyric tokenizer's ids (cut to 4096, upstream's training limit); empty for an
  instrumental.

The lyric Conformer is not run here: it is part of the DiT and carries LoRA layers, so it runs
in every training step. Tags are encoded in the user's order (upstream's dataset shuffles them
per example; a fixed order keeps the encoding cacheable).
"""

from __future__ import annotations

import torch

from music.acestep_v1.common import MAX_LYRIC_TOKENS, NATIVE_SAMPLE_RATE
from music.training.clips import Window
from music.training.feature_cache import FeatureCache

FEATURE_RECIPE = "acestep-v1-features/1"  # bump when what is stored (or how) changes
SAMPLE_RATE = NATIVE_SAMPLE_RATE


def window_features(pipeline, window: Window, *, cache: FeatureCache, model_digest: str) -> dict[str, torch.Tensor]:
    parts = {"recipe": FEATURE_RECIPE, "model": model_digest, **window.key()}
    return cache.get(parts, lambda: _compute(pipeline, window))


@torch.no_grad()
def _compute(pipeline, window: Window) -> dict[str, torch.Tensor]:
    if window.clip.sample_rate != SAMPLE_RATE:
        raise ValueError(f"ACE-Step v1 windows must be {SAMPLE_RATE} Hz, got {window.clip.sample_rate}")
    audio = torch.from_numpy(window.audio()).to(pipeline.device, pipeline.dtype)[None]
    with pipeline.offload.use(pipeline.dcae.autoencoder, pipeline.dcae.vocoder):
        latents = pipeline.dcae.encode(audio)[0]
    with pipeline.offload.use(pipeline.text_encoder.model):
        text = pipeline.text_encoder.encode(window.clip.source.tags, with_null=False)
    lyrics = window.clip.source.lyrics
    ids = pipeline.tokenize_lyrics(lyrics)[:MAX_LYRIC_TOKENS] if lyrics.strip() else []
    return {
        "latents": latents.float(),
        "text_states": text.states[0].float(),
        "text_mask": text.mask[0].long(),
        "lyric_ids": torch.tensor(ids, dtype=torch.long),
    }
