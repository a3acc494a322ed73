"""`songstudio serve`: the Streamlit UI and a worker as two child processes.

Two processes, not a thread in the UI: a Streamlit reload or crash never drops the loaded
models, and the UI process stays small. Stopping serve (Ctrl-C / SIGTERM) stops both; if one
child exits, the other is stopped too and serve exits with that child's code.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from studio.errors import EnvironmentProblem
from studio.settings import Settings, env_for_child

UI_APP = Path(__file__).resolve().parent / "ui" / "app.py"


def streamlit_command(app: Path, *, host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",  # also avoids the torch.classes clash in the watcher
        "--client.toolbarMode", "viewer",
        "--logger.level", "error",
        # Streamlit runs a full gc.collect() after every script and fragment run, holding the GIL:
        # ~170 ms with this UI's imports on a 2-core machine, i.e. most of a click's latency
        # (issue #8). Python's own generational GC still runs; refcounting frees the rest.
        "--runner.postScriptGC", "false",
    ]


def serve_studio(settings: Settings, *, port: int | None, device: str | None, worker: bool,
                 extra_env: dict[str, str] | None = None, notes: list[str] | None = None) -> int:
    """`notes`: lines printed under the address (demo mode, the lyrics model)."""
    if not UI_APP.is_file():
        raise EnvironmentProblem(
            f"the UI is missing: {UI_APP} does not exist in this installation; reinstall the package "
            "(or run `songstudio worker` alone)"
        )
    env = env_for_child(settings) | (extra_env or {})
    children: list[subprocess.Popen] = []
    if worker:
        command = [sys.executable, "-m", "studio.cli", "worker"] + (["--device", device] if device else [])
        children.append(subprocess.Popen(command, env=env))
    ui_port = port or settings.ui_port
    # Streamlit's own banner repeats the address: our lines say it once (its errors still show).
    children.append(subprocess.Popen(streamlit_command(UI_APP, host=settings.ui_host, port=ui_port), env=env,
                                     stdout=subprocess.DEVNULL))
    print(f"Song Studio on http://{settings.ui_host}:{ui_port}", flush=True)
    print(f"Data folder: {settings.home}", flush=True)
    for note in notes or []:
        print(note, flush=True)
    print("Stop with Ctrl-C.", flush=True)

    stopping = {"signal": None}

    def _stop(signum, _frame) -> None:
        stopping["signal"] = signum

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while stopping["signal"] is None:
            exited = [c for c in children if c.poll() is not None]
            if exited:
                print(f"{exited[0].args[2:4]} exited with {exited[0].returncode}; stopping", file=sys.stderr)
                break
            time.sleep(0.2)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)  # the worker finishes or hands back its job
        deadline = time.monotonic() + 20
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    codes = [c.returncode for c in children if c.returncode not in (0, None, -signal.SIGINT)]
    return 0 if stopping["signal"] is not None else (codes[0] if codes else 0)
