"""The tiny random Llama builder now lives in the package (`lyrics.tiny`), so the studio's demo
models use the same code; the tests import it from here."""

from lyrics.tiny import CHAT_TEMPLATE, SPECIAL_TOKENS, build_tiny_llama, build_tiny_lyrics_models, train_tokenizer

__all__ = ["CHAT_TEMPLATE", "SPECIAL_TOKENS", "build_tiny_llama", "build_tiny_lyrics_models", "train_tokenizer"]
