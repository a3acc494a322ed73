"""A tiny random-weight ACE-Step v1 checkpoint in the official folder layout, built offline.

For demos and tests on machines without the real 3.5B weights: every file the loader reads is
present, in the layout of the hub repo, with tiny widths (sizes as in the shared reference
checkpoint: about 9 MB). The modules are our own classes (`ACEStepDiT`, `HiFiGANVocoder`) and
diffusers' `AutoencoderDC` / transformers' `UMT5EncoderModel`, randomly initialised from a seed.
The files are written the way the official ones are: the DiT file also holds the keys upstream
never uses at inference, and the vocoder stores its generator convolutions as weight-norm pairs.

The tokenizers are stand-ins, trained here on a few lines: a small Unigram model for UMT5 and a
small BPE lyric vocabulary that holds every special token at the id ACE-Step v1 uses (so the lyric
tokenizer accepts it), padded to the model's 6693 ids. The real lyric vocabulary is upstream's
file, which cannot be shipped.

THE OUTPUT IS NOISE: random weights prove the wiring and numerics, never musical quality.
"""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
from tokenizers import models as tokenizer_models

from music.acestep_v1.lyric_frontend.tokenizer import (
    LANGUAGE_TOKEN_IDS,
    SPACE_ID,
    START_ID,
    STOP_ID,
    STRUCTURE_TAG_IDS,
    UNK_ID,
)
from music.acestep_v1.models.transformer import ACEStepDiT, DiTConfig
from music.acestep_v1.models.vocoder import HiFiGANVocoder, VocoderConfig

LYRIC_VOCAB_FILE = "lyrics_vocab.json"
LYRIC_VOCAB_SIZE = max(STRUCTURE_TAG_IDS.values()) + 1  # 6693, as upstream's vocabulary

# The reference checkpoint's sizes (see /work/shared/acestep-v1-reference/README.md).
TRANSFORMER_CONFIG = {
    "_class_name": "ACEStepTransformer2DModel",
    "attention_head_dim": 16,
    "in_channels": 8,
    "inner_dim": 32,
    "lyric_encoder_config": {"attention_heads": 2, "linear_units": 64, "num_blocks": 6, "output_size": 32},
    "lyric_encoder_vocab_size": LYRIC_VOCAB_SIZE,
    "lyric_hidden_size": 32,
    "max_height": 16,
    "max_position": 32768,
    "max_width": 32768,
    "mlp_ratio": 2.5,
    "num_attention_heads": 2,
    "num_layers": 24,  # ERG hooks index blocks 15-19
    "out_channels": 8,
    "patch_size": [16, 1],
    "rope_theta": 1000000.0,
    "speaker_embedding_dim": 512,
    "ssl_encoder_depths": [8, 8],
    "ssl_latent_dims": [24, 16],
    "ssl_names": ["mert", "m-hubert"],
    "text_embedding_dim": 32,
}
DCAE_CONFIG = {
    "attention_head_dim": 8,
    "decoder_act_fns": "silu",
    "decoder_block_out_channels": [4, 8, 16, 32],
    "decoder_block_types": ["ResBlock", "ResBlock", "ResBlock", "EfficientViTBlock"],
    "decoder_layers_per_block": [3, 3, 3, 3],
    "decoder_norm_types": "rms_norm",
    "decoder_qkv_multiscales": [[], [], [5], [5]],
    "downsample_block_type": "Conv",
    "encoder_block_out_channels": [4, 8, 16, 32],
    "encoder_block_types": ["ResBlock", "ResBlock", "ResBlock", "EfficientViTBlock"],
    "encoder_layers_per_block": [2, 2, 3, 3],
    "encoder_qkv_multiscales": [[], [], [5], [5]],
    "in_channels": 2,
    "latent_channels": 8,
    "scaling_factor": 0.41407,
    "upsample_block_type": "interpolate",
}
VOCODER_CONFIG = {
    "_class_name": "ADaMoSHiFiGANV1",
    "depths": [3, 3, 9, 3],
    "dims": [16, 16, 24, 32],
    "drop_path_rate": 0.0,
    "f_max": 16000,
    "f_min": 40,
    "hop_length": 512,
    "input_channels": 128,
    "kernel_sizes": [7],
    "n_fft": 2048,
    "n_mels": 128,
    "num_mels": 32,
    "post_conv_kernel_size": 13,
    "pre_conv_kernel_size": 13,
    "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]],
    "resblock_kernel_sizes": [3, 7],
    "sampling_rate": 44100,
    "upsample_initial_channel": 128,
    "upsample_kernel_sizes": [8, 8, 4, 4, 4, 4, 4],
    "upsample_rates": [4, 4, 2, 2, 2, 2, 2],
    "use_template": False,
    "win_length": 2048,
}
UMT5_SIZES = dict(
    d_model=32, d_kv=8, num_heads=4, d_ff=64, num_layers=12,  # ERG-tag hooks index blocks 8-9
    relative_attention_num_buckets=32, relative_attention_max_distance=128, vocab_size=384,
    feed_forward_proj="gated-gelu", dense_act_fn="gelu_new", is_gated_act=True, scalable_attention=True,
    pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, tokenizer_class="T5Tokenizer",
)
UMT5_UNIGRAM_SIZE = 340  # learned pieces incl. <pad>, </s>, <unk>; 16 <extra_id_*> follow
UMT5_EXTRA_IDS = 16

# Prompt-style lines the stand-in UMT5 tokenizer is trained on.
PROMPT_CORPUS = [
    "pop, synth, upbeat, female vocal, 120 bpm, catchy",
    "lo-fi hip hop, piano, chill, 90 bpm, vinyl crackle",
    "techno, dark, 140 bpm, synth, heavy bass, four on the floor",
    "folk, acoustic guitar, male vocal, warm, storytelling",
    "jazz, saxophone, night, smooth, double bass, brushes",
    "k-pop, dance, energetic, female vocal, bright synths",
    "ambient, piano, calm, instrumental, reverb, pads",
    "rock, electric guitar, male vocal, energetic, drums, distortion",
    "country, banjo, fiddle, twang, heartfelt ballad",
    "orchestral, strings, brass, cinematic, epic, choir",
    "reggae, offbeat guitar, laid back, dub, 75 bpm",
    "metal, fast, aggressive, growl, double kick, 180 bpm",
    "r&b, soulful, silky vocals, slow jam, key of c minor",
    "edm, drop, festival, euphoric, sidechain, 128 bpm",
    "blues, harmonica, slide guitar, gritty, shuffle, 100 bpm",
    "trap, 808, hi-hats, dark, autotune, 150 bpm",
    "bossa nova, nylon guitar, soft, brazilian, intimate",
    "synthwave, retro, 80s, arpeggio, neon, driving",
    "gospel, choir, organ, uplifting, clapping, powerful",
    "punk, raw, shouted, short, loud, three chords",
    "classical, solo violin, baroque, harpsichord, elegant",
    "house, deep, groovy, rhodes, chopped vocal, 122 bpm",
]
# Lyric-style lines the stand-in lyric BPE learns its merges from (after romanisation, lower case).
LYRIC_CORPUS = [
    "neon lights are calling me tonight", "we sing la la la one two three",
    "rain on the window pane stay with me again", "move your body to the beat",
    "over the hills and far away home again", "midnight in the city the saxophone plays slow",
    "dance with me tonight under the summer sky", "love is a fire that burns in the heart",
    "yozora no hoshi ga hikaru", "ame no oto ga kikoeru", "uri hamkke chumeul chwoyo",
    "wo men yi qi chang ge", "nos vamos al amanecer", "je t'aime mon amour",
    "ich liebe dich für immer", "ti amo per sempre", "eu te amo meu amor",
]
# Characters of the stand-in lyric vocabulary (anything else becomes [UNK], which is allowed).
LYRIC_ALPHABET = (
    "!'(),-.:;?" + string.ascii_lowercase + string.digits
    + "ßäöüœïêâÿèàëùîçæôûáéíóúñńśęążćãşğıłźőűčřšžůýěňťďабвгдеёжзийклмнопрстуфхцчшщъыьэюя"
)
LYRIC_MERGES = 600

# Unused at inference but present in the official DiT file: diffusers' `add_*` cross-attention
# projections and the REPA projectors (width -> 2 x width -> 2 x width -> ssl dim here).
PROJECTOR_HIDDEN_FACTOR = 2
# Generator convolutions stored as old-style weight-norm pairs in the official vocoder file.
WEIGHT_NORM_PREFIXES = ("head.conv_pre.", "head.conv_post.", "head.ups.", "head.resblocks.")


def build_lyric_vocab(path: Path) -> Path:
    """A stand-in lyric vocabulary in upstream's `tokenizers` BPE format: the 33 special tokens at
    ACE-Step v1's ids, a small alphabet, merges learned from a few lines, and `<unused_N>`
    placeholders up to 6693 ids so every id the model embeds exists."""
    specials = {"[STOP]": STOP_ID, "[UNK]": UNK_ID, "[SPACE]": SPACE_ID, "[START]": START_ID}
    specials |= {("[zh-cn]" if lang == "zh" else f"[{lang}]"): i for lang, i in LANGUAGE_TOKEN_IDS.items()}
    specials |= STRUCTURE_TAG_IDS

    trainer_model = Tokenizer(tokenizer_models.BPE(unk_token="[UNK]"))
    trainer_model.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(
        vocab_size=len(LYRIC_ALPHABET) + LYRIC_MERGES, initial_alphabet=list(LYRIC_ALPHABET),
        limit_alphabet=len(LYRIC_ALPHABET), special_tokens=[], show_progress=False,
    )
    trainer_model.train_from_iterator(LYRIC_CORPUS * 3, trainer=trainer)
    learned = json.loads(trainer_model.to_str())["model"]
    pieces = [tok for tok, _ in sorted(learned["vocab"].items(), key=lambda item: item[1])]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in learned["merges"]]

    taken = set(specials.values())
    free_ids = (i for i in range(LYRIC_VOCAB_SIZE) if i not in taken)
    vocab = dict(specials)
    for piece in pieces:
        vocab[piece] = next(free_ids)
    for i in free_ids:
        vocab[f"<unused_{i}>"] = i
    assert len(vocab) == LYRIC_VOCAB_SIZE

    tokenizer = Tokenizer(tokenizer_models.BPE(vocab=vocab, merges=merges, unk_token="[UNK]", fuse_unk=False))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens(sorted(specials, key=specials.get))
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return path


def _umt5_pieces() -> list[tuple[str, float]]:
    """Unigram pieces and log-probabilities learned from the prompt lines. The trainer's scores
    vary in the last bits from run to run (parallel sums) and ties come out in any order, so they
    are rounded and sorted: the same corpus always gives the same file."""
    learner = Tokenizer(tokenizer_models.Unigram())
    learner.normalizer = normalizers.NFKC()
    learner.pre_tokenizer = _umt5_pre_tokenizer()
    trainer = trainers.UnigramTrainer(
        vocab_size=UMT5_UNIGRAM_SIZE, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>",
        show_progress=False,
    )
    learner.train_from_iterator(PROMPT_CORPUS * 3, trainer=trainer)
    learned = json.loads(learner.to_str())["model"]["vocab"]
    specials, rest = learned[:3], learned[3:]  # <pad>, </s>, <unk> at 0, 1, 2
    rest = sorted(((piece, round(score, 6)) for piece, score in rest), key=lambda item: (-item[1], item[0]))
    return [(piece, score) for piece, score in specials] + rest


def _umt5_pre_tokenizer():
    return pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")]
    )


def _save_umt5_tokenizer(folder: Path) -> None:
    """A SentencePiece-style Unigram tokenizer like umt5's: NFKC, Metaspace, `</s>` appended."""
    from transformers import T5TokenizerFast  # noqa: PLC0415  (heavy: transformers, only when building)

    pieces = _umt5_pieces()
    tokenizer = Tokenizer(tokenizer_models.Unigram(pieces, unk_id=[p for p, _ in pieces].index("<unk>"), byte_fallback=False))
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = _umt5_pre_tokenizer()
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.add_special_tokens(["<pad>", "</s>", "<unk>"])
    extras = [f"<extra_id_{i}>" for i in range(UMT5_EXTRA_IDS)]
    tokenizer.add_special_tokens(extras)
    eos = tokenizer.token_to_id("</s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", eos)]
    )
    fast = T5TokenizerFast(
        tokenizer_object=tokenizer, eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
        extra_ids=0, additional_special_tokens=extras, model_max_length=512,
    )
    fast.save_pretrained(str(folder))


def _official_dit_state(model: ACEStepDiT, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Our DiT's state dict plus the keys the official file carries but inference never reads."""
    state = dict(model.state_dict())
    width = model.config.width
    extra_shapes = {}
    for block in range(model.config.num_layers):
        for name in ("add_q_proj", "add_k_proj", "add_v_proj", "to_add_out"):
            stem = f"transformer_blocks.{block}.cross_attn.{name}"
            extra_shapes[f"{stem}.weight"] = (width, width)
            extra_shapes[f"{stem}.bias"] = (width,)
    hidden = PROJECTOR_HIDDEN_FACTOR * width
    for index, ssl_dim in enumerate(TRANSFORMER_CONFIG["ssl_latent_dims"]):
        for layer, (rows, cols) in zip((0, 2, 4), ((hidden, width), (hidden, hidden), (ssl_dim, hidden))):
            extra_shapes[f"projectors.{index}.{layer}.weight"] = (rows, cols)
            extra_shapes[f"projectors.{index}.{layer}.bias"] = (rows,)
    for key, shape in extra_shapes.items():
        state[key] = torch.randn(shape, generator=generator) * 0.02
    return state


def _official_vocoder_state(model: HiFiGANVocoder) -> dict[str, torch.Tensor]:
    """Generator convolution weights split into `weight_g` (norm over all dims but 0) and `weight_v`,
    as `torch.nn.utils.weight_norm` stores them in the official file."""
    state = {}
    for key, value in model.state_dict().items():
        if key.startswith(WEIGHT_NORM_PREFIXES) and key.endswith(".weight") and value.ndim == 3:
            stem = key[: -len(".weight")]
            state[f"{stem}.weight_g"] = value.flatten(1).norm(dim=1).view(-1, 1, 1).clone()
            state[f"{stem}.weight_v"] = value.clone()
        else:
            state[key] = value.clone()
    return state


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _save_safetensors(path: Path, state: dict[str, torch.Tensor]) -> None:
    save_file({k: v.detach().contiguous() for k, v in state.items()}, str(path), metadata={"format": "pt"})


def _write_checkpoint(folder: Path, *, seed: int) -> None:
    # heavy libraries, loaded only when a tiny checkpoint is built
    import diffusers  # noqa: PLC0415
    from diffusers import AutoencoderDC  # noqa: PLC0415
    from transformers import UMT5Config, UMT5EncoderModel  # noqa: PLC0415

    # module init draws from the seed in a forked RNG: the caller's random state is untouched
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed + 1)
        transformer = ACEStepDiT(DiTConfig.from_dict(TRANSFORMER_CONFIG))
        sub = folder / "ace_step_transformer"
        sub.mkdir(parents=True)
        _write_json(sub / "config.json", {**TRANSFORMER_CONFIG, "_diffusers_version": diffusers.__version__})
        _save_safetensors(sub / "diffusion_pytorch_model.safetensors", _official_dit_state(transformer, generator))

        AutoencoderDC(**DCAE_CONFIG).save_pretrained(str(folder / "music_dcae_f8c8"))

        vocoder = HiFiGANVocoder(VocoderConfig.from_dict(VOCODER_CONFIG))
        sub = folder / "music_vocoder"
        sub.mkdir(parents=True)
        _write_json(sub / "config.json", {**VOCODER_CONFIG, "_diffusers_version": diffusers.__version__})
        _save_safetensors(sub / "diffusion_pytorch_model.safetensors", _official_vocoder_state(vocoder))

        umt5 = UMT5EncoderModel(UMT5Config(**UMT5_SIZES))
        # the official config says False; the encoder's embedding is still stored once, as `shared`
        umt5.config.tie_word_embeddings = False
        umt5.save_pretrained(str(folder / "umt5-base"))
        _save_umt5_tokenizer(folder / "umt5-base")
    build_lyric_vocab(folder / LYRIC_VOCAB_FILE)


def build_tiny_checkpoint(folder: str | os.PathLike, *, seed: int = 0) -> Path:
    """Write the tiny checkpoint into `folder` (created; it must not exist yet) and return it.

    The folder holds the four official subfolders and `lyrics_vocab.json`, the stand-in lyric
    vocabulary to pass as `lyric_vocab=`. Callers that need an all-or-nothing install build into
    a staging folder and rename it (as `studio.demo_models` does)."""
    target = Path(folder)
    if target.exists():
        raise FileExistsError(f"{target} already exists; remove it or choose another folder")
    _write_checkpoint(target, seed=seed)
    return target


def lyric_vocab_path(folder: str | os.PathLike) -> Path:
    return Path(folder) / LYRIC_VOCAB_FILE
