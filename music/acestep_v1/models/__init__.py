"""The networks of ACE-Step v1 and their glue, in our own code: `transformer` (the DiT, with the
`lyric_encoder` Conformer inside), `text_encoder` (UMT5 prompt encoder), `dcae` (audio <-> latents
through the mel front end in `mel`), `vocoder` (HiFi-GAN), `rows` (per-row attention scaling)."""
