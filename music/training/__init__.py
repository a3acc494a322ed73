"""LoRA training shared by the ACE-Step engines: the clip dataset, the feature cache, the step loop.

Engine-specific parts (which layers get LoRA, how a clip becomes latents and conditions, the loss)
live beside each engine: `music.acestep_v1.training` and `music.acestep15.training`.
"""
