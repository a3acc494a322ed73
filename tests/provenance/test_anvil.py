"""Integration: a real JSON-RPC node (anvil, from the npm package @foundry-rs/anvil-linux-amd64 that
package.json pins) on 127.0.0.1, driven through Web3.HTTPProvider. Runs wherever node_modules has
it; on CI (CI=true) a missing binary fails the test instead of skipping it."""

from __future__ import annotations

import dataclasses
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pytest
from web3 import HTTPProvider, Web3

from provenance.authorization import build_authorization, sign_authorization
from provenance.chain import ChainClient
from provenance.errors import ChainIdMismatch, ContractRevert, InsufficientFunds
from provenance.records import FAILED, MINTED, mint_with_record, pending_record, settle, with_tx_hash
from tests.provenance.helpers import free_port, fund, new_key

pytestmark = pytest.mark.network

REPO = Path(__file__).resolve().parents[2]
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def anvil_binary() -> Path:
    """The anvil executable of the platform package (`@foundry-rs/anvil` is only a wrapper around it)."""
    package = f"anvil-{sys.platform}-{_ARCH.get(platform.machine().lower(), '?')}"
    return REPO / "node_modules" / "@foundry-rs" / package / "bin" / "anvil"


@pytest.fixture(scope="module")
def anvil_url():
    binary = anvil_binary()
    if not binary.is_file():
        message = f"anvil not found at {binary}; run `npm ci` at the repo root"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    proc = subprocess.Popen([str(binary), "--host", "127.0.0.1", "--port", str(port), "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 2}))
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"anvil exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
            try:
                _ = w3.eth.chain_id
                break
            except Exception:  # noqa: BLE001 - not listening yet
                if time.monotonic() > deadline:
                    pytest.fail(f"anvil did not answer at {url} within 30 s")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_deploy_and_mint_over_http(anvil_url):
    base = ChainClient.connect(anvil_url, poll_latency=0.05, receipt_timeout=30)
    assert base.w3.client_version.startswith("anvil/")
    owner, signer, relayer, wallet = new_key("owner"), new_key("signer"), new_key("owner"), new_key("owner")
    dev_account = base.w3.eth.accounts[0]
    for key in (owner, relayer):
        fund(base.w3, key.address)

    deployment = base.deploy(owner=owner, signer=signer.address)
    client = ChainClient.connect(anvil_url, contract_address=deployment.address, expected_chain_id=deployment.chain_id,
                                 poll_latency=0.05, receipt_timeout=30)
    assert client.signer() == signer.address and client.owner() == owner.address

    now = client.w3.eth.get_block("latest")["timestamp"]
    auth = build_authorization(to=wallet.address, uri="ipfs://bafkreitest", audio_hash="0x" + "5a" * 32, recipe_hash="0x" + "ab" * 32,
                               chain_id=client.chain_id, contract=client.address, now=now)
    signed = sign_authorization(auth, signer)
    assert client.mint_digest(auth) == auth.digest()
    gas = client.estimate_mint_gas(signed, sender=relayer.address)

    saved = []
    record = mint_with_record(client, signed, sender=relayer, save=saved.append)
    assert record.status == MINTED and record.token_id == "1", record.reason
    assert client.owner_of(1) == wallet.address and client.token_uri(1) == "ipfs://bafkreitest"
    assert client.token_of_audio(auth.audio_hash) == 1 and client.audio_hash_of(1) == auth.audio_hash
    assert gas > 100_000

    # decoded custom errors over HTTP (ContractCustomError, not eth-tester's TransactionFailed)
    with pytest.raises(ContractRevert) as info:
        client.mint(signed, sender=relayer)
    assert info.value.error == "AudioAlreadyMinted" and "already minted as token 1" in str(info.value)
    expired = sign_authorization(build_authorization(
        to=wallet.address, uri="ipfs://x", audio_hash="0x" + "5b" * 32, recipe_hash="0x" + "ab" * 32, chain_id=client.chain_id,
        contract=client.address, now=now - 7200, ttl_seconds=60), signer)
    with pytest.raises(ContractRevert) as info:
        client.mint(expired, sender=relayer)
    assert info.value.error == "AuthorizationExpired"
    with pytest.raises(ContractRevert) as info:
        client.set_signer(wallet.address, owner=relayer)
    assert info.value.error == "OwnableUnauthorizedAccount"

    # a reverted transaction that was mined anyway (explicit gas skips the estimate): the receipt
    # has status 0, the reason comes from replaying it, and the record ends failed, not minted
    bad = dataclasses.replace(signed, authorization=dataclasses.replace(auth, audio_hash="0x" + "5d" * 32, recipe_hash="0x" + "ab" * 32, nonce=7))
    a = bad.authorization
    tx_hash = client.contract.functions.mint(a.to, a.uri, bytes.fromhex(a.audio_hash[2:]),
                                             bytes.fromhex(a.recipe_hash[2:]), a.nonce, a.deadline,
                                             bytes.fromhex(bad.signature[2:])).transact(
        {"from": dev_account, "gas": 400_000}).to_0x_hex()
    with pytest.raises(ContractRevert) as info:
        client.wait_for_mint(tx_hash)
    assert info.value.error == "InvalidSignature" and tx_hash in str(info.value)
    settled = settle(client, with_tx_hash(pending_record(bad), tx_hash), save=lambda r: None)
    assert settled.status == FAILED and settled.token_id is None and "signature does not match" in settled.reason

    broke = new_key("owner")
    fresh = sign_authorization(build_authorization(
        to=wallet.address, uri="ipfs://y", audio_hash="0x" + "5c" * 32, recipe_hash="0x" + "ab" * 32, chain_id=client.chain_id,
        contract=client.address, now=now), signer)
    with pytest.raises(InsufficientFunds, match=broke.address):
        client.mint(fresh, sender=broke)
    with pytest.raises(ChainIdMismatch):
        ChainClient.connect(anvil_url, contract_address=client.address, expected_chain_id=1).signer()
