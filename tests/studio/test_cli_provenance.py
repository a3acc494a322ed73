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


def test_verify_reads_the_flac_sidecar_and_names_a_broken_binding(tmp_path):
    """#15: a FLAC master is plain FLAC; `verify` finds its .c2pa sidecar (or --manifest) and
    reports a changed byte as a binding failure, exit 1."""
    creds = dev_credentials(tmp_path / "ca")
    master = tmp_path / "take.flac"
    sf.write(master, np.random.default_rng(1).uniform(-0.2, 0.2, (4410, 1)).astype("float32"), 44100)
    tags = ProvenanceTags(generation_id="g", engine="e", model="m", seed=1)
    seal_master(master, tags=tags, credentials=creds, title="t")
    home = ["--home", str(tmp_path / "home")]
    runner = CliRunner()
    result = runner.invoke(main, [*home, "verify", str(master)])
    assert result.exit_code == 0, result.output
    assert "manifest:  untrusted" in result.output and "(sidecar take.c2pa)" in result.output

    renamed = tmp_path / "shared.flac"
    data = bytearray(master.read_bytes())
    renamed.write_bytes(data)
    result = runner.invoke(main, [*home, "verify", str(renamed)])
    assert result.exit_code == 0 and "manifest:  absent" in result.output
    result = runner.invoke(main, [*home, "verify", str(renamed), "--manifest", str(tmp_path / "take.c2pa")])
    assert result.exit_code == 0 and "manifest:  untrusted" in result.output

    data[len(data) // 2] ^= 0x01
    renamed.write_bytes(data)
    result = runner.invoke(main, [*home, "verify", str(renamed), "--manifest", str(tmp_path / "take.c2pa")])
    assert result.exit_code == 1 and "manifest:  invalid" in result.output
    assert "binding:   FAILED: the file's bytes are not the bytes the manifest signed" in result.output
    assert "Traceback" not in result.output
