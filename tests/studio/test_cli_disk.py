"""Every CLI command on a data home whose disk is full, and on one that is read-only, for real:
a small tmpfs in a private mount namespace (`unshare`, no root needed, gone with the process),
seeded through the CLI, then filled with a file or remounted read-only. Each command must end
in the documented one line (`error: ...`) and exit code (4 for the disk), or succeed where it
writes nothing; never a traceback. The library survives: integrity check ok, take 1 intact."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reference_folder import on_ci
from tests.studio.cli_disk_driver import PASSWORD
from tests.studio.fake_engine import TARGET

REPO = Path(__file__).resolve().parents[2]

# Commands that read but never write on the paths exercised here: they may succeed (exit 0),
# or end in the disk message like the rest. Everything else must end in exit 4.
READ_ONLY_OK = {"keys address", "verify", "models list", "chain down"}
# Commands that stop on their own input before the disk is reached: no chain is configured (sign,
# mint, chain info/set-signer: exit 2), `chain deploy` has no owner keystore and points at a closed
# port, `models import` at a missing folder; each must still end in one error line with its
# documented code. (Provenance errors exit 1.)
STOPS_BEFORE_DISK = {
    "chain deploy": {1, 2, 4}, "chain info": {2, 4}, "chain set-signer": {2, 4}, "sign": {2, 4}, "mint": {2, 4}, "pin": {2, 4},
    "models import": {2},
}
# Reports: `doctor` exits 4 when something is missing (weights, here); it must not crash.
REPORTS = {"doctor": {0, 4}}

SCENARIO = r"""
set -eu
mount -t tmpfs -o size=24m tmpfs "$MOUNT"
"$PY" -m tests.studio.cli_disk_driver seed "$SONGSTUDIO_HOME" >&2
case "$MODE" in
  full) dd if=/dev/zero of="$MOUNT/filler" bs=64k 2>/dev/null || true ;;
  read-only) mount -o remount,ro "$MOUNT" ;;
esac
"$PY" -m tests.studio.cli_disk_driver run "$SONGSTUDIO_HOME" > "$OUT"
mkdir -p "$COPY" && cp "$SONGSTUDIO_HOME"/library.db* "$COPY"/
"""


def unshare_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, tuple[dict, Path]]:
    if not unshare_available():
        message = "needs `unshare -rm` (util-linux, user namespaces) to mount a small tmpfs"
        pytest.fail(message) if on_ci() else pytest.skip(message)
    found = {}
    for mode in ("full", "read-only"):
        work = tmp_path_factory.mktemp(mode)
        mount = work / "disk"
        mount.mkdir()
        env = {key: value for key, value in os.environ.items() if not key.startswith("SONGSTUDIO_")}
        env.update({
            "MOUNT": str(mount), "MODE": mode, "PY": sys.executable, "OUT": str(work / "out.json"),
            "COPY": str(work / "after"), "PYTHONPATH": str(REPO),
            "SONGSTUDIO_HOME": str(mount / "home"), "SONGSTUDIO_DEVICE": "cpu",
            "SONGSTUDIO_EXTRA_ENGINES": json.dumps({"fake": TARGET}), "SONGSTUDIO_ENGINE": "fake",
            "SONGSTUDIO_SIGNER_PASSWORD": PASSWORD, "SONGSTUDIO_OWNER_PASSWORD": PASSWORD,
            "HF_HUB_OFFLINE": "1", "TORCH_NUM_THREADS": "1",
        })
        done = subprocess.run(["unshare", "-rm", "sh", "-c", SCENARIO], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-4000:]
        found[mode] = (json.loads((work / "out.json").read_text()), work / "after" / "library.db")
    return found


@pytest.mark.parametrize("mode", ["full", "read-only"])
def test_every_command_is_listed_with_its_arguments(outcomes, mode):
    results, _ = outcomes[mode]
    missing = sorted(name for name, result in results.items() if result.get("missing"))
    assert missing == [], "add these commands to ARGUMENTS in tests/studio/cli_disk_driver.py"


@pytest.mark.parametrize("mode", ["full", "read-only"])
def test_every_command_ends_in_one_error_line_and_its_exit_code(outcomes, mode):
    results, _ = outcomes[mode]
    wrong = {}
    for name, result in results.items():
        if result.get("missing"):
            continue
        code, output = result["exit_code"], result["output"]
        errors = [line for line in output.splitlines() if line.lower().startswith("error:")]
        allowed = STOPS_BEFORE_DISK.get(name, {4})
        if result["traceback"] or "Traceback" in output:
            wrong[name] = "traceback: " + (result["traceback"] or output)[-600:]
        elif code == 0 and (name in READ_ONLY_OK):
            continue
        elif name in REPORTS:
            if code not in REPORTS[name]:
                wrong[name] = f"exit {code}: {output[-400:]}"
        elif code not in allowed or len(errors) != 1:
            wrong[name] = f"exit {code}: {output[-400:]}"
        elif code == 4 and not any(word in errors[0] for word in ("disk", "read-only", "not writable")):
            wrong[name] = f"exit 4 without naming the disk: {errors[0]}"
    assert wrong == {}


@pytest.mark.parametrize("mode", ["full", "read-only"])
def test_the_library_survives_intact(outcomes, mode):
    _, library = outcomes[mode]
    with sqlite3.connect(library) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        title, prompt = conn.execute("SELECT title, prompt FROM take WHERE id = 1").fetchone()
    assert prompt == "a short hum" and title != "renamed on a full disk"
