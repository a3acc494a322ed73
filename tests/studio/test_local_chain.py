"""#15 part 1: `chain up` / `chain down` on a real anvil, and the settings file that signing reads
without a restart."""

from __future__ import annotations

import pytest

from provenance.chain import ChainClient
from studio import local_chain
from studio.minting import chain_config
from studio.settings import load_settings, read_settings_file
from tests.provenance.helpers import free_port

pytestmark = pytest.mark.network


@pytest.fixture
def settings(tmp_path, monkeypatch):
    for name in ("SONGSTUDIO_CHAIN_RPC_URL", "SONGSTUDIO_CHAIN_ID", "SONGSTUDIO_CHAIN_CONTRACT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SONGSTUDIO_SIGNER_PASSWORD", "signer-password")
    monkeypatch.setenv("SONGSTUDIO_OWNER_PASSWORD", "owner-password")
    settings = load_settings(home=tmp_path / "home")
    try:
        local_chain.anvil_binary()
    except Exception as exc:  # noqa: BLE001 - skip locally, like the other anvil tests
        pytest.skip(str(exc))
    yield settings
    local_chain.chain_down(settings)


def test_up_reuses_then_down_and_up_again_finds_the_same_contract(settings):
    loaded_before = load_settings(home=settings.home)  # a studio that was running before `up`
    first = local_chain.chain_up(settings, port=free_port())
    assert first.started and first.deployed and first.rpc_url.startswith("http://127.0.0.1:")
    assert chain_config(loaded_before) == chain_config(settings)  # read afresh: no restart needed
    assert read_settings_file(settings)["chain_contract"] == first.contract
    client = ChainClient.connect(first.rpc_url, contract_address=first.contract, expected_chain_id=31337)
    assert client.signer() == first.signer and client.owner() == first.owner and client.balance(first.owner) > 0
    for role in ("signer", "owner"):
        assert settings.keystore(role).stat().st_mode & 0o777 == 0o600

    again = local_chain.chain_up(settings)
    assert (again.started, again.deployed, again.contract, again.pid) == (False, False, first.contract, first.pid)

    assert local_chain.chain_down(settings) is True
    assert local_chain.chain_down(settings) is False
    back = local_chain.chain_up(settings, port=int(first.rpc_url.rsplit(":", 1)[1]))
    assert back.started and not back.deployed and back.contract == first.contract  # anvil kept its state


def test_up_refuses_a_short_password_for_a_new_key(settings, monkeypatch):
    from provenance.errors import KeystoreError

    monkeypatch.setenv("SONGSTUDIO_SIGNER_PASSWORD", "short")
    with pytest.raises(KeystoreError, match="at least 8 characters"):
        local_chain.chain_up(settings, port=free_port())
    assert not settings.keystore("signer").exists()


def test_up_never_replaces_a_chain_set_up_with_deploy(settings):
    from studio.errors import BadInput
    from studio.settings import update_settings_file

    update_settings_file(settings, {"chain_rpc_url": "https://rpc.example", "chain_id": 8453,
                                    "chain_contract": "0x" + "ab" * 20})
    with pytest.raises(BadInput, match="chain deploy"):
        local_chain.chain_up(settings, port=free_port())
    assert read_settings_file(settings)["chain_rpc_url"] == "https://rpc.example"
