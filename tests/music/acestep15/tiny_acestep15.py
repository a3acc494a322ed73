"""The tiny random ACE-Step 1.5 checkpoint builder now lives in the package (`music.acestep15.tiny`),
so the studio's demo models use the same code; the tests import it from here."""

from music.acestep15.tiny import build_pipeline, build_tiny_checkpoint, byte_level_tokenizer


def save_tiny_checkpoint(folder, *, turbo: bool, seed: int = 0):
    return build_tiny_checkpoint(folder, turbo=turbo, seed=seed)


__all__ = ["build_pipeline", "build_tiny_checkpoint", "byte_level_tokenizer", "save_tiny_checkpoint"]
