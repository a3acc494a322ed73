"""Runs every `songstudio` command against a data home whose disk is full or read-only, in one
process, and prints what each did as JSON. `tests/studio/test_cli_disk.py` starts it inside a
private mount namespace (`unshare`) whose tmpfs it fills or remounts read-only between
`seed` and `run`; nothing here mounts anything.

    python -m tests.studio.cli_disk_driver seed HOME
    python -m tests.studio.cli_disk_driver run HOME
"""

from __future__ import annotations

import json
import os
import sys
import traceback

import click
from click.testing import CliRunner

from studio.cli import main

PASSWORD = "disk-test-password"  # keystores made by `keys new` here; never a real key
ADDRESS = "0x" + "11" * 20
LYRICS = "[verse]\nrain on the window\ngrey on the glass"

# The arguments each command runs with; every leaf command of the CLI must be listed (the test
# fails on one that is not), so a new command gets its disk-full and read-only path checked.
# The seeded home has take 1 (done) and job 2 (queued); `{home}` is the data home.
ARGUMENTS: dict[str, list[str]] = {
    "serve": ["--no-worker", "--port", "1"],
    "worker": ["--drain"],
    "generate": ["a short hum", "-d", "1", "--no-wait"],
    "jobs list": [],
    "jobs show": ["2"],
    "jobs cancel": ["2"],
    "jobs retry": ["2"],
    "library list": [],
    "library search": ["hum"],
    "library show": ["1"],
    "library set": ["1", "--title", "renamed on a full disk"],
    "library export": ["1", "{home}/exported"],
    "models list": [],
    "models download": ["ace-step-v1"],
    "models import": ["ace-step-v1", "{home}/no-such-folder"],
    "models demo": [],
    "doctor": [],
    "keys new": ["--role", "owner"],
    "keys address": ["--role", "signer"],
    "chain up": ["--port", "1"],
    "chain down": [],
    "chain deploy": ["--rpc", "http://127.0.0.1:9"],
    "chain info": [],
    "chain set-signer": [ADDRESS],
    "verify": ["{master}"],
    "sign": ["1", "--to", ADDRESS],
    "mint": ["1", "--to", ADDRESS],
    "pin": ["1"],
    "lyrics draft": ["rain on the window", "--no-wait"],
    "lyrics rewrite": ["--text", LYRICS, "--section", "verse", "--instruction", "brighter", "--no-wait"],
    "lyrics continue": ["--text", LYRICS, "--no-wait"],
    "lyrics titles": ["--text", LYRICS, "--no-wait"],
    "train lora": ["-e", "ace-step-v1", "--data", "1", "--steps", "1", "--name", "mine", "--no-wait"],
    "adapters list": [],
    "adapters show": ["mine"],
    "adapters delete": ["mine"],
}


def leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[str]:
    names = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # the main group loads some commands lazily
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            names += leaf_commands(command, (*prefix, name))
        else:
            names.append(" ".join((*prefix, name)))
    return names


def invoke(args: list[str]) -> dict:
    result = CliRunner().invoke(main, args, catch_exceptions=True)
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    return {
        "exit_code": result.exit_code,
        "output": result.output,
        "traceback": "".join(traceback.format_exception(result.exception)) if crashed else "",
    }


def seed(home: str) -> None:
    """Take 1 made by the fake engine through the real queue, job 2 left queued, a signer keystore."""
    steps = [
        ["generate", "a short hum", "-d", "1", "--no-wait"],
        ["worker", "--drain"],
        ["generate", "a second hum", "-d", "1", "--no-wait"],
        ["keys", "new", "--role", "signer"],
    ]
    for args in steps:
        if "{master}" in args:
            args = [arg.format(master=master_file(home)) for arg in args]
        outcome = invoke(args)
        if outcome["exit_code"] != 0:
            raise SystemExit(f"seeding {' '.join(args)} failed: {outcome}")


def run(home: str) -> dict[str, dict]:
    master = master_file(home)
    results = {}
    for name in leaf_commands(main):
        if name not in ARGUMENTS:
            results[name] = {"missing": True}
            continue
        args = [arg.format(home=home, master=master) for arg in ARGUMENTS[name]]
        results[name] = invoke([*name.split(), *args])
    return results


def master_file(home: str) -> str:
    found = (os.path.join(folder, name) for folder, _, names in os.walk(home) for name in names)
    return next(path for path in sorted(found) if path.endswith("master.flac"))


if __name__ == "__main__":
    action, home = sys.argv[1], sys.argv[2]
    if action == "seed":
        seed(home)
    else:
        print(json.dumps(run(home)))
