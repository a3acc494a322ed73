"""ACE-Step 1.5 through diffusers' AceStepPipeline. Import `music.acestep15.engine` for the engine;
importing this package loads no model code."""
