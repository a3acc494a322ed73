"""The committed contract artifact: its shape (no Node needed) and its freshness (recompiles
with the pinned npm solc; needs node_modules, installed by `npm ci` in scripts/setup)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from provenance.artifact import load_artifact

REPO = Path(__file__).resolve().parents[2]


def test_artifact_shape_and_interface():
    art = load_artifact()
    assert art["compiler"]["evmVersion"] == "cancun"
    assert art["compiler"]["version"].startswith("0.8.37+")
    assert art["bytecode"].startswith("0x") and len(art["bytecode"]) > 10_000 and art["deployedBytecode"] != "0x"
    lock = json.loads((REPO / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/solc"]["version"] == art["compiler"]["version"].split("+")[0]
    abi = {(i["type"], i.get("name")): i for i in art["abi"]}
    for name in ("mint", "mintDigest", "tokenOfAudio", "audioHashOf", "recipeHashOf", "nonceUsed", "signer", "setSigner",
                 "eip712Domain", "transferOwnership", "acceptOwnership"):
        assert ("function", name) in abi, name
    assert [(i["name"], i["type"]) for i in abi[("function", "mint")]["inputs"]] == [
        ("to", "address"), ("uri", "string"), ("audioHash", "bytes32"), ("recipeHash", "bytes32"),
        ("nonce", "uint256"), ("deadline", "uint256"), ("signature", "bytes")]
    for error in ("InvalidSignature", "AuthorizationExpired", "AudioAlreadyMinted", "NonceAlreadyUsed", "ZeroSigner"):
        assert ("error", error) in abi, error
    assert ("event", "SongMinted") in abi


def node_and_modules(root: Path) -> str:
    node = shutil.which("node")
    missing = None if node else "node is not on PATH"
    if not (root / "node_modules" / "solc").is_dir():
        missing = "node_modules is missing (run `npm ci` at the repo root)"
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    return node


def run_check(node: str, root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([node, str(root / "contracts" / "compile.js"), "--check"], capture_output=True, text=True,
                          timeout=300)


def test_committed_artifact_matches_a_fresh_compile():
    result = run_check(node_and_modules(REPO), REPO)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.slow
def test_check_detects_a_stale_artifact(tmp_path):
    node = node_and_modules(REPO)
    shutil.copytree(REPO / "contracts", tmp_path / "contracts")
    (tmp_path / "node_modules").symlink_to(REPO / "node_modules")
    source = tmp_path / "contracts" / "SongNFT.sol"
    text = source.read_text()
    source.write_text(text.replace("uint256 private _nextTokenId = 1;", "uint256 private _nextTokenId = 2;"))
    result = run_check(node, tmp_path)
    assert result.returncode == 1 and "stale contract artifacts: contracts/build/SongNFT.json" in result.stderr
