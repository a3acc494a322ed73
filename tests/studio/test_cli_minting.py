"""`songstudio sign TAKE` / `songstudio mint TAKE` against a real anvil node: the take's sealed
master is what gets signed, and the library's mint row only says minted with a receipt."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from web3 import HTTPProvider, Web3

from provenance.chain import ChainClient
from provenance.keys import create_keystore
from studio.cli import main
from studio.minting import mints_of_take
from tests.provenance.helpers import fund, new_key
from tests.provenance.test_anvil import anvil_url  # noqa: F401 - the module-scoped node fixture
from tests.studio.test_jobs import make_worker

PASSWORDS = {"SONGSTUDIO_SIGNER_PASSWORD": "signer-password", "SONGSTUDIO_OWNER_PASSWORD": "owner-password"}


@pytest.fixture
def sealed_take(studio):
    job = studio.submit_music(prompt="mint me", duration=1.0, seeds=[3])
    make_worker(studio).run_next()
    return studio.library.takes_of_job(job.id)[0]


def _keystores(settings):
    for role in ("signer", "owner"):
        create_keystore(settings.keys_dir / f"{role}.json", password=PASSWORDS[f"SONGSTUDIO_{role.upper()}_PASSWORD"],
                        role=role, kdf="pbkdf2", iterations=1000)


def test_sign_without_a_chain_is_a_clear_error_and_records_nothing(studio, sealed_take, monkeypatch):
    _keystores(studio.settings)
    for key, value in PASSWORDS.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["sign", str(sealed_take.id), "--to", new_key("owner").address])
    assert result.exit_code == 2 and "SONGSTUDIO_CHAIN_RPC_URL" in result.output
    assert mints_of_take(studio.db, sealed_take.id) == []


@pytest.mark.network
def test_sign_and_mint_a_take_over_anvil(studio, sealed_take, anvil_url, monkeypatch):  # noqa: F811
    settings = studio.settings
    _keystores(settings)
    for key, value in PASSWORDS.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    owner = runner.invoke(main, ["keys", "address", "--keystore", str(settings.keys_dir / "owner.json")]).output.strip()
    signer = runner.invoke(main, ["keys", "address", "--keystore", str(settings.keys_dir / "signer.json")]).output.strip()
    fund(Web3(HTTPProvider(anvil_url)), owner)
    monkeypatch.setenv("SONGSTUDIO_CHAIN_RPC_URL", anvil_url)
    deployed = runner.invoke(main, ["chain", "deploy", "--owner-keystore", str(settings.keys_dir / "owner.json"),
                                    "--signer", signer])
    assert deployed.exit_code == 0, deployed.output
    deployment = json.loads(deployed.output)
    monkeypatch.setenv("SONGSTUDIO_CHAIN_CONTRACT", deployment["contract"])
    monkeypatch.setenv("SONGSTUDIO_CHAIN_ID", str(deployment["chain_id"]))
    wallet = new_key("owner").address

    signed = runner.invoke(main, ["sign", str(sealed_take.id), "--to", wallet])
    assert signed.exit_code == 0, signed.output
    authorization = json.loads(signed.output)
    assert authorization["audio_hash"].removeprefix("0x") == sealed_take.audio_sha256.removeprefix("0x")

    minted = runner.invoke(main, ["mint", str(sealed_take.id), "--to", wallet])
    assert minted.exit_code == 0, minted.output
    record = json.loads(minted.output)
    assert record["status"] == "minted" and record["token_id"] == "1" and record["to"] == wallet

    rows = mints_of_take(studio.db, sealed_take.id)
    assert [r.status for r in rows] == ["pending", "minted"]  # the first authorization was never sent
    assert rows[1].tx_hash == record["tx_hash"] and rows[1].block_number and rows[1].uri.startswith("ipfs://")
    client = ChainClient.connect(anvil_url, contract_address=deployment["contract"],
                                 expected_chain_id=deployment["chain_id"])
    assert client.owner_of(1) == wallet

    again = runner.invoke(main, ["mint", str(sealed_take.id), "--to", wallet])
    assert again.exit_code != 0 and "already minted" in again.output
    assert [r.status for r in mints_of_take(studio.db, sealed_take.id)] == ["pending", "minted", "failed"]
