"""The editing modes (retake, repaint, extend, edit, audio2audio) next to text2music.

`request` (MusicRequest fields -> upstream keywords), `arguments` (checks; audio read into a
`ModeSpec`), `prepare` (a call's mode: defaults, retake seeds, recorded parameters), `latents`
(the modes' model-free latent arithmetic), `sampler` (the one place that runs a task's sampling
loop on a loaded pipeline). See docs/acestep-v1-modes.md.
"""
