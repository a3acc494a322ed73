"""Small helpers shared by the provenance tests."""

from __future__ import annotations

import socket

from eth_account import Account
from web3 import Web3

from provenance.keys import UnlockedKey

ONE_ETH = 10**18


def new_key(role: str) -> UnlockedKey:
    return UnlockedKey(Account.create(), role=role)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fund(w3: Web3, address: str, wei: int = ONE_ETH) -> None:
    """Sends ETH from the node's first unlocked dev account and waits for it."""
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": address,
                                                                 "value": wei}))
