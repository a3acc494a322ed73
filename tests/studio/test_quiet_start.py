"""A quiet, honest start: a second `scripts/setup` / `scripts/studio` installs nothing when
nothing changed; `serve` says the address, the data folder, demo mode and the lyrics model;
`doctor` speaks in words and says when demo models are in use; Settings says so too."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from studio.cli import main, start_notes
from studio.demo_models import MARKER_FILE

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A copy of the scripts and pyproject with a stand-in .venv whose python logs its calls."""
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    for name in ("scripts/setup", "scripts/studio", "scripts/starter-model.txt", "pyproject.toml"):
        shutil.copy2(REPO / name, root / name)
    (root / "package-lock.json").write_text("{}")
    (root / "node_modules").mkdir()  # newer than the lock file: npm has nothing to do
    os.utime(root / "package-lock.json", (0, 0))
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for tool, line in (("python", 'echo "python $*" >> "$(dirname "$0")/../calls.log"'),
                       ("songstudio", 'echo "songstudio $*"')):
        (bin_dir / tool).write_text(f"#!/usr/bin/env bash\n{line}\n")
        (bin_dir / tool).chmod(0o755)
    return root


def run_script(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", *args], cwd=root, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": os.environ["PATH"]})


def calls(root: Path) -> list[str]:
    log = root / ".venv" / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_second_setup_installs_nothing_and_says_nothing(checkout):
    first = run_script(checkout, "scripts/setup")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Installing Song Studio into .venv") and len(first.stdout.splitlines()) == 1
    installed = calls(checkout)
    assert any("-e .[llama]" in c for c in installed)
    assert any("--no-deps --require-hashes -r scripts/starter-model.txt" in c for c in installed)
    second = run_script(checkout, "scripts/setup")
    assert second.returncode == 0 and second.stdout == "" and second.stderr == ""
    assert calls(checkout) == installed  # no pip this time
    (checkout / "pyproject.toml").write_text((checkout / "pyproject.toml").read_text() + "\n# changed\n")
    run_script(checkout, "scripts/setup")
    assert len(calls(checkout)) > len(installed)  # a changed pyproject installs again


def test_a_test_install_covers_a_plain_start_and_studio_prints_only_serve(checkout):
    run_script(checkout, "scripts/setup")
    stamp = checkout / ".venv" / ".setup-stamp"
    stamp.write_text(stamp.read_text().split()[0] + " test,llama,server,postgres,redis,c2pa\n")
    before = calls(checkout)
    out = run_script(checkout, "scripts/studio", "--demo")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "songstudio serve --demo\n" and out.stderr == ""
    assert calls(checkout) == before


def test_failed_install_shows_the_log_end_and_writes_no_stamp(checkout):
    (checkout / ".venv" / "bin" / "python").write_text("#!/usr/bin/env bash\necho 'resolver: no match' >&2\nexit 1\n")
    out = run_script(checkout, "scripts/setup")
    assert out.returncode == 1 and "resolver: no match" in out.stderr and "setup failed" in out.stderr
    assert not (checkout / ".venv" / ".setup-stamp").exists()


def demo_folder(tmp_path: Path) -> Path:
    demo = tmp_path / "demo-ace-step-v1-tiny"
    demo.mkdir()
    (demo / MARKER_FILE).write_text("random weights")
    return demo


def test_start_notes_say_demo_mode_and_the_lyrics_model(studio_env, tmp_path):
    from studio.settings import load_settings

    demo = demo_folder(tmp_path)
    env = {"SONGSTUDIO_ENGINE_OPTIONS": json.dumps({"ace-step-v1": {"model_dir": str(demo)}}),
           "SONGSTUDIO_LYRICS_OPTIONS": json.dumps({})}
    notes = start_notes(load_settings(), env)
    assert notes[0].startswith("Demo mode:") and "noise" in notes[0]
    assert notes[1].startswith("Lyrics: ")
    assert len(start_notes(load_settings(), {})) == 1  # no demo line without demo mode


def test_doctor_speaks_in_words_and_names_demo_and_lyrics_models(studio_env, tmp_path, monkeypatch):
    demo = demo_folder(tmp_path)
    monkeypatch.setenv("SONGSTUDIO_ENGINE_OPTIONS", json.dumps({"ace-step-v1": {"model_dir": str(demo)}}))
    out = CliRunner().invoke(main, ["doctor"]).output
    assert "{" not in out and "}" not in out  # no raw dicts
    assert "jobs: 0 queued, 0 running, 0 failed" in out
    assert "[note] model ace-step-v1 the demo model is in use instead" in out
    assert "[warn] model ace-step-v1" not in out
    assert "[ok  ] lyrics model" in out or "[warn] lyrics model" in out
    assert out.rstrip().splitlines()[-1].startswith(("Everything", "1 problem", "2 problem"))
    report = json.loads(CliRunner().invoke(main, ["doctor", "--json"]).output)
    assert {c["name"] for c in report["checks"]} >= {"lyrics model", "model ace-step-v1"}


def test_settings_page_says_demo_models_are_in_use_and_names_the_lyrics_model(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.studio.ui.conftest import APP

    demo = demo_folder(tmp_path)
    monkeypatch.setenv("SONGSTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SONGSTUDIO_ENGINE_OPTIONS", json.dumps({"ace-step-v1": {"model_dir": str(demo)}}))
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.switch_page("views/settings.py").run()
    assert not app.exception
    assert any("ace-step-v1: the demo model is in use" in i.value for i in app.info)
    assert not any(w.value.startswith("ace-step-v1 ") for w in app.warning)  # no "not present" warning for it
    assert any(t.value.startswith("Lyrics model: ") for t in app.text)
