"""Opt-in fast modes of the v1 DiT, off by default (issue #18): `int8` (dynamic int8 linear layers
on CPU, a separate cached model variant) and `step-cache` (First-Block-Cache style reuse of the
blocks' residual on steps where the first block's output barely changes).

`options` checks the request (model-free), `int8` builds the quantized variant, `step_cache`
decides per step and guided pass, `session` applies both to one pipeline call. With no fast mode
asked for, nothing here runs and the pipeline takes its exact path unchanged.
"""
