"""Prompt encoding with UMT5 (transformers), plus the ERG-tag "null" text.

ERG-tag (upstream `get_text_embeddings_null`) re-runs UMT5 with the SelfAttention `q` outputs of
encoder blocks 8 and 9 scaled by 0.01. Here both encodings run as one batch of two rows; a
forward hook scales only the rows marked for weakening.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from music.acestep_v1.loading.weights import CheckpointError, format_keys
from music.acestep_v1.models.rows import scale_rows

TEXT_MAX_TOKENS = 256
ERG_TAG_BLOCKS = range(8, 10)
ERG_TAU = 0.01


@dataclass
class TextEncoding:
    states: torch.Tensor  # (1, T, d_model)
    mask: torch.Tensor  # (1, T) int64
    input_ids: torch.Tensor  # (1, T)
    null_states: torch.Tensor | None  # ERG-weakened states, (1, T, d_model)


def check_loading_info(info: dict, *, what: str) -> None:
    """Strict load for a transformers model: name every missing or unexpected key."""
    parts = [
        f"{label} keys: {format_keys(str(k) for k in info.get(name) or ())}"
        for name, label in (("missing_keys", "missing"), ("unexpected_keys", "unexpected"), ("mismatched_keys", "mismatched"))
        if info.get(name)
    ]
    if parts:
        raise CheckpointError(f"{what} does not match the UMT5 encoder layout; " + "; ".join(parts))


class UMT5TextEncoder:
    def __init__(self, model, tokenizer):
        self.model = model
        self.tokenizer = tokenizer

    @classmethod
    def from_folder(cls, folder: Path, *, device, dtype) -> "UMT5TextEncoder":
        from transformers import AutoTokenizer, UMT5EncoderModel  # noqa: PLC0415  (heavy: ~2 s, only when loading)

        model, info = UMT5EncoderModel.from_pretrained(str(folder), dtype=dtype, output_loading_info=True)
        # transformers only logs missing (randomly initialised) and unexpected keys: make them errors
        check_loading_info(info, what=str(folder))
        model = model.to(device).eval().requires_grad_(False)
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        return cls(model, tokenizer)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def num_blocks(self) -> int:
        return len(self.model.encoder.block)

    def tokenize(self, prompt: str) -> dict[str, torch.Tensor]:
        return self.tokenizer(
            [prompt], return_tensors="pt", padding=True, truncation=True, max_length=TEXT_MAX_TOKENS
        )

    @torch.no_grad()
    def encode(self, prompt: str, *, with_null: bool) -> TextEncoding:
        """Hidden states of the prompt; with `with_null` also the ERG-tag weakened states."""
        inputs = {k: v.to(self.device) for k, v in self.tokenize(prompt).items()}
        rows = 2 if with_null else 1
        batched = {k: v.repeat(rows, 1) for k, v in inputs.items()}
        weaken = torch.tensor([1.0] + [ERG_TAU] * (rows - 1), device=self.device)
        handles = []
        if with_null:
            if self.num_blocks < ERG_TAG_BLOCKS.stop:
                raise ValueError(f"ERG-tag needs at least {ERG_TAG_BLOCKS.stop} UMT5 blocks, model has {self.num_blocks}")

            def weaken_rows(module, args, output):
                return scale_rows(output, weaken)

            for index in ERG_TAG_BLOCKS:
                q_proj = self.model.encoder.block[index].layer[0].SelfAttention.q
                handles.append(q_proj.register_forward_hook(weaken_rows))
        try:
            states = self.model(**batched).last_hidden_state
        finally:
            for handle in handles:
                handle.remove()
        return TextEncoding(
            states=states[:1],
            mask=inputs["attention_mask"],
            input_ids=inputs["input_ids"],
            null_states=states[1:] if with_null else None,
        )
