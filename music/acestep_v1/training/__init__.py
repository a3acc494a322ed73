"""LoRA training for the ACE-Step v1 DiT (see `trainer.py`)."""
