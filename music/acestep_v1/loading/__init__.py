"""Weights in and onto the device: `checkpoint` (the official folder layout, hub download, lyric
vocab), `weights` (state dicts assigned without copies), `lora` (DiT adapters), `offload`
(sub-models on the device only while used), `tiny` (random-weight checkpoints for tests/demo)."""
