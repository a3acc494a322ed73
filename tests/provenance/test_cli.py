"""The click commands: keys, verify, and clean error messages (no tracebacks)."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from click.testing import CliRunner

from provenance.c2pa_manifest import dev_credentials
from provenance.cli import provenance_cli
from provenance.seal import seal_master
from provenance.tags import ProvenanceTags


def test_keys_new_address_and_wrong_password(tmp_path):
    runner = CliRunner()
    path = tmp_path / "signer.json"
    result = runner.invoke(provenance_cli, ["keys", "new", "--role", "signer", "--keystore", str(path)],
                           env={"SONGSTUDIO_SIGNER_PASSWORD": "pw-long-1"})
    assert result.exit_code == 0, result.output
    address = result.output.split()[2]
    assert runner.invoke(provenance_cli, ["keys", "address", "--keystore", str(path)]).output.strip() == address

    result = runner.invoke(provenance_cli, ["keys", "new", "--role", "signer", "--keystore", str(path)],
                           env={"SONGSTUDIO_SIGNER_PASSWORD": "pw-long-1"})
    assert result.exit_code == 1 and "already exists" in result.output

    result = runner.invoke(provenance_cli, ["keys", "new", "--role", "owner", "--keystore", str(tmp_path / "o.json")],
                           env={"SONGSTUDIO_OWNER_PASSWORD": None})
    assert result.exit_code == 1 and "set SONGSTUDIO_OWNER_PASSWORD" in result.output

    auth_args = ["sign", str(path), "--to", address, "--uri", "ipfs://x", "--contract", "0x" + "12" * 20,
                 "--chain-id", "1", "--signer-keystore", str(path)]
    result = runner.invoke(provenance_cli, auth_args, env={"SONGSTUDIO_SIGNER_PASSWORD": "wrong"})
    assert result.exit_code == 1 and "wrong password for the signer keystore" in result.output
    assert "Traceback" not in result.output and "wrong" not in result.output.replace("wrong password", "")


def test_verify_exit_codes(tmp_path):
    creds = dev_credentials(tmp_path / "ca")
    master = tmp_path / "take.flac"
    sf.write(master, np.zeros((4410, 1), "float32"), 44100)
    tags = ProvenanceTags(generation_id="g", engine="e", model="m", seed=1, signer="0x" + "ab" * 20)
    digest = seal_master(master, tags=tags, credentials=creds, title="t")
    runner = CliRunner()
    (tmp_path / "ca.pem").write_bytes(creds.trust_anchor_pem)
    result = runner.invoke(provenance_cli, ["verify", str(master), "--trust-anchors", str(tmp_path / "ca.pem"),
                                            "--expected-hash", digest])
    assert result.exit_code == 0, result.output
    assert f"sha256:    {digest}" in result.output and "manifest:  trusted" in result.output
    result = runner.invoke(provenance_cli, ["verify", str(master), "--expected-hash", "0x" + "00" * 32])
    assert result.exit_code == 1 and "MISMATCH" in result.output and "manifest:  untrusted" in result.output
    result = runner.invoke(provenance_cli, ["verify", str(master), "--expected-hash", "0x12"])
    assert result.exit_code == 1 and "64 hex digits" in result.output
