"""A tiny random-weight ACE-Step 1.5 checkpoint in the diffusers folder layout, built offline.

Every component is the real diffusers/transformers class at toy width, so the engine's real
loading code reads it exactly as it would read the published checkpoint. The VAE keeps the real
48 kHz rate and 1920-sample hop (25 latents per second); everything else is as small as the
shape rules allow (encoder_hidden_size = 2 x acoustic dim; DiT in_channels = 3 x acoustic dim).
Deterministic from a seed; the caller's torch RNG state is left untouched.

THE OUTPUT IS NOISE: random weights prove the wiring and numerics, never musical quality.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from diffusers import AceStepPipeline, AutoencoderOobleck, FlowMatchEulerDiscreteScheduler
from diffusers.models.transformers.ace_step_transformer import AceStepTransformer1DModel
from diffusers.pipelines.ace_step import AceStepAudioTokenDetokenizer, AceStepAudioTokenizer, AceStepConditionEncoder
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3Model

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
ACOUSTIC_DIM = 4
WIDTH = 32
TEXT_WIDTH = 16
ATTENTION = dict(num_attention_heads=2, num_key_value_heads=1, head_dim=8, rope_theta=10000.0, sliding_window=16)
BLOCK = dict(hidden_size=WIDTH, intermediate_size=64, **ATTENTION)  # every transformer stack
POOLER = dict(audio_acoustic_hidden_dim=ACOUSTIC_DIM, pool_window_size=5, num_attention_pooler_hidden_layers=1)


def byte_level_tokenizer():
    """A byte-level BPE tokenizer with no merges: deterministic, needs no training data or hub."""

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS + sorted(alphabet))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIAL_TOKENS)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=4096
    )


def build_pipeline(*, turbo: bool, seed: int = 0):
    """The whole AceStepPipeline, built in memory with seeded random weights (`turbo`: the
    guidance-distilled variant's config flags)."""
    with torch.random.fork_rng(devices=[]):
        return _build_pipeline(turbo=turbo, seed=seed)


def _build_pipeline(*, turbo: bool, seed: int):

    tokenizer = byte_level_tokenizer()
    torch.manual_seed(seed)
    text_encoder = Qwen3Model(
        Qwen3Config(
            vocab_size=len(tokenizer),
            hidden_size=TEXT_WIDTH,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=8,
            max_position_embeddings=4096,
        )
    )
    turbo_flags = dict(is_turbo=True, model_version="turbo") if turbo else {}
    torch.manual_seed(seed + 1)
    transformer = AceStepTransformer1DModel(
        num_hidden_layers=2,
        in_channels=3 * ACOUSTIC_DIM,
        audio_acoustic_hidden_dim=ACOUSTIC_DIM,
        patch_size=2,
        **turbo_flags,
        **BLOCK,
    )
    torch.manual_seed(seed + 2)
    condition_encoder = AceStepConditionEncoder(
        text_hidden_dim=TEXT_WIDTH,
        timbre_hidden_dim=ACOUSTIC_DIM,
        num_lyric_encoder_hidden_layers=1,
        num_timbre_encoder_hidden_layers=1,
        **BLOCK,
    )
    torch.manual_seed(seed + 3)
    vae = AutoencoderOobleck(
        encoder_hidden_size=2 * ACOUSTIC_DIM,
        decoder_input_channels=ACOUSTIC_DIM,
        audio_channels=2,
        downsampling_ratios=[2, 4, 4, 6, 10],  # hop 1920 at 48 kHz = 25 latents/s, like the real VAE
        channel_multiples=[1, 1, 1, 1, 1],
        decoder_channels=4,
        sampling_rate=48000,
    )
    torch.manual_seed(seed + 4)
    audio_tokenizer = AceStepAudioTokenizer(
        fsq_dim=WIDTH, fsq_input_levels=[4, 4], fsq_input_num_quantizers=1, **POOLER, **BLOCK
    )
    torch.manual_seed(seed + 5)
    audio_token_detokenizer = AceStepAudioTokenDetokenizer(**POOLER, **BLOCK)
    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1, shift=1.0)
    return AceStepPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        condition_encoder=condition_encoder,
        scheduler=scheduler,
        audio_tokenizer=audio_tokenizer,
        audio_token_detokenizer=audio_token_detokenizer,
    )


def build_tiny_checkpoint(folder: str | os.PathLike, *, turbo: bool = True, seed: int = 0) -> Path:
    """Write the tiny pipeline into `folder` with `save_pretrained` (the published diffusers
    layout) and return it. The folder must not exist yet."""
    target = Path(folder)
    if target.exists():
        raise FileExistsError(f"{target} already exists; remove it or choose another folder")
    build_pipeline(turbo=turbo, seed=seed).save_pretrained(str(target))
    return target
