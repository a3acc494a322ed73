"""`songstudio doctor` as the Settings page shows it: run in a child process, so the checks
(which may import torch to look at the device) never load anything into the UI process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from studio.settings import Settings, env_for_child

DOCTOR_TIMEOUT_S = 120


def doctor_report(settings: Settings) -> str:
    root = Path(__file__).resolve().parents[2]  # the checkout holding studio/, lyrics/, music/
    env = env_for_child(settings)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    try:
        done = subprocess.run([sys.executable, "-m", "studio.cli", "doctor"], env=env, capture_output=True,
                              text=True, timeout=DOCTOR_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"`songstudio doctor` did not finish within {DOCTOR_TIMEOUT_S} s"
    output = (done.stdout + done.stderr).strip()
    return output if done.returncode == 0 else f"{output}\n(exit code {done.returncode})"
