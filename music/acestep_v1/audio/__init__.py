"""Audio around the model: `source_audio` (reading and checking a mode's source / reference
files), `resample` (44.1 <-> 48 kHz), `long_decode` (windowed, crossfaded decode of long songs)."""
