"""Chain fixtures: an in-process eth-tester chain with a deployed SongNFT, and fresh keys."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import EthereumTesterProvider, Web3

from provenance.chain import ChainClient
from provenance.keys import UnlockedKey
from tests.provenance.helpers import fund, new_key


@pytest.fixture
def w3() -> Web3:
    return Web3(EthereumTesterProvider())


@pytest.fixture
def owner(w3) -> UnlockedKey:
    key = new_key("owner")
    fund(w3, key.address)
    return key


@pytest.fixture
def signer() -> UnlockedKey:
    return new_key("signer")  # never funded: the signer only signs


@pytest.fixture
def relayer(w3) -> UnlockedKey:
    key = new_key("owner")  # any funded account can submit a mint
    fund(w3, key.address)
    return key


@pytest.fixture
def client(w3, owner, signer) -> ChainClient:
    base = ChainClient(w3, poll_latency=0.01, receipt_timeout=10)
    deployment = base.deploy(owner=owner, signer=signer.address)
    return base.with_contract(deployment.address, chain_id=deployment.chain_id)


@pytest.fixture
def wallet() -> str:
    return Account.create().address
