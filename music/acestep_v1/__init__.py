"""ACE-Step v1 (3.5B) pipeline: own implementation, numerically equal to upstream."""
