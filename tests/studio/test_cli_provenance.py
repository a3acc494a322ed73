"""The provenance commands of the studio CLI: keys, verify, and clean error messages (no tracebacks)."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from click.testing import CliRunner

from provenance.c2pa_manifest import dev_credentials
from provenance.seal import seal_master
from provenance.tags import ProvenanceTags
from studio.cli import main


def test_keys_new_uses_the_default_paths_and_says_what_is_wrong(tmp_path):
    """#15: `keys new` needs no --keystore (<home>/keys/<role>.json), keys folder 0700, file 0600."""
    runner = CliRunner()
    home = ["--home", str(tmp_path / "home")]
    result = runner.invoke(main, [*home, "keys", "new", "--role", "signer"],
                           env={"SONGSTUDIO_SIGNER_PASSWORD": "pw-long-1"})
    assert result.exit_code == 0, result.output
    path = tmp_path / "home" / "keys" / "signer.json"
    address = result.output.split()[2]
    assert str(path) in result.output and path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert runner.invoke(main, [*home, "keys", "address", "--role", "signer"]).output.strip() == address

    result = runner.invoke(main, [*home, "keys", "new", "--role", "signer"], env={"SONGSTUDIO_SIGNER_PASSWORD": "pw-long-1"})
    assert result.exit_code == 1 and "already exists" in result.output

    result = runner.invoke(main, [*home, "keys", "new", "--role", "owner"], env={"SONGSTUDIO_OWNER_PASSWORD": None})
    assert result.exit_code == 1 and "set SONGSTUDIO_OWNER_PASSWORD" in result.output
    result = runner.invoke(main, [*home, "keys", "new", "--role", "owner"], env={"SONGSTUDIO_OWNER_PASSWORD": "short"})
    assert result.exit_code == 1 and "at least 8 characters" in result.output and "Traceback" not in result.output
    custom = tmp_path / "elsewhere" / "owner.json"
    result = runner.invoke(main, [*home, "keys", "new", "--role", "owner", "--keystore", str(custom)],
                           env={"SONGSTUDIO_OWNER_PASSWORD": "pw-long-2"})
    assert result.exit_code == 0 and custom.is_file()


def test_verify_exit_codes(tmp_path):
    creds = dev_credentials(tmp_path / "ca")
    master = tmp_path / "take.flac"
    sf.write(master, np.zeros((4410, 1), "float32"), 44100)
    tags = ProvenanceTags(generation_id="g", engine="e", model="m", seed=1, signer="0x" + "ab" * 20)
    digest = seal_master(master, tags=tags, credentials=creds, title="t")
    runner = CliRunner()
    (tmp_path / "ca.pem").write_bytes(creds.trust_anchor_pem)
    result = runner.invoke(main, ["--home", str(tmp_path / "home"), "verify", str(master), "--trust-anchors", str(tmp_path / "ca.pem"),
                                            "--expected-hash", digest])
    assert result.exit_code == 0, result.output
    assert f"sha256:    {digest}" in result.output and "manifest:  trusted" in result.output
    result = runner.invoke(main, ["--home", str(tmp_path / "home"), "verify", str(master), "--expected-hash", "0x" + "00" * 32])
    assert result.exit_code == 1 and "MISMATCH" in result.output and "manifest:  untrusted" in result.output
    result = runner.invoke(main, ["--home", str(tmp_path / "home"), "verify", str(master), "--expected-hash", "0x12"])
    assert result.exit_code == 1 and "64 hex digits" in result.output
