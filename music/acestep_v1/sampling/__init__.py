"""The diffusion loop's numerics: `schedulers` (timesteps and samplers: euler, heun, pingpong) and
`guidance` (CFG / APG / double-condition guidance and its interval). Model-free."""
