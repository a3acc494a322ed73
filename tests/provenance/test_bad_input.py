"""Bad input gives a clear error and nothing is recorded as minted."""

from __future__ import annotations

import time

import pytest

from provenance.authorization import InvalidAuthorization, SignedAuthorization, build_authorization, sign_authorization
from provenance.chain import ChainClient
from provenance.errors import ChainIdMismatch, ContractNotFound, InsufficientFunds, InvalidInput, RPCUnreachable
from provenance.records import FAILED, MINTED, PENDING, failed_record, mint_with_record, minted_record, settle
from tests.provenance.helpers import free_port, fund, new_key


def authorize(client, signer, wallet, audio="0x" + "22" * 32):
    now = client.w3.eth.get_block("latest")["timestamp"]
    return sign_authorization(build_authorization(to=wallet, uri="ipfs://x", audio_hash=audio, recipe_hash="0x" + "ab" * 32, chain_id=client.chain_id,
                                                  contract=client.address, now=now), signer)


@pytest.mark.parametrize("kwargs,message", [
    ({"to": "0x1234"}, "recipient address must be a 0x-prefixed 20-byte hex address"),
    ({"to": "0xAbcdef0000000000000000000000000000000001"}, "wrong EIP-55 checksum"),
    ({"to": "0x" + "00" * 20}, "zero address"),
    ({"contract": "not an address"}, "contract address"),
    ({"audio_hash": "0x" + "ab" * 31}, "audio hash must be 0x followed by 64 hex digits"),
    ({"audio_hash": "ab" * 32}, "audio hash must be 0x"),
    ({"recipe_hash": "0x" + "ab" * 33}, "recipe hash must be 0x followed by 64 hex digits"),
    ({"uri": ""}, "token URI"),
    ({"ttl_seconds": 0}, "lifetime"),
])
def test_malformed_authorization_fields(kwargs, message):
    args = dict(to="0x" + "11" * 20, uri="ipfs://x", audio_hash="0x" + "22" * 32, recipe_hash="0x" + "ab" * 32, chain_id=1,
                contract="0x" + "33" * 20)
    args.update(kwargs)
    with pytest.raises(InvalidInput, match=message):
        build_authorization(**args)


def test_malformed_signature_record():
    record = {"to": "0x" + "11" * 20, "uri": "u", "audio_hash": "0x" + "22" * 32, "recipe_hash": "0x" + "55" * 32,
              "nonce": "5", "deadline": 9,
              "chain_id": 1, "contract": "0x" + "33" * 20, "signature": "0x1234", "signer": "0x" + "44" * 20}
    with pytest.raises(InvalidAuthorization, match="65 bytes"):
        SignedAuthorization.from_record(record)
    del record["nonce"]
    with pytest.raises(InvalidInput, match="'nonce'"):
        SignedAuthorization.from_record(record)


def test_rpc_url_that_does_not_answer_is_named():
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(RPCUnreachable) as info:
        ChainClient.connect(url, request_timeout=2)
    assert url in str(info.value) and "does not answer" in str(info.value)
    assert time.monotonic() - started < 5
    with pytest.raises(InvalidInput, match="http"):
        ChainClient.connect("127.0.0.1:8545")


def test_credentials_in_rpc_url_are_not_shown():
    with pytest.raises(RPCUnreachable) as info:
        ChainClient.connect(f"http://user:hunter2@127.0.0.1:{free_port()}/", request_timeout=2)
    assert "hunter2" not in str(info.value) and "***@127.0.0.1" in str(info.value)


def test_insufficient_funds(client, w3, signer, wallet):
    signed = authorize(client, signer, wallet)
    broke = new_key("owner")
    with pytest.raises(InsufficientFunds, match=f"{broke.address} has no ETH"):
        client.mint(signed, sender=broke)
    fund(w3, broke.address, wei=1000)
    with pytest.raises(InsufficientFunds, match=f"{broke.address} has 1000 wei"):
        client.mint(signed, sender=broke)
    assert client.token_of_audio(signed.authorization.audio_hash) is None


def test_balance_below_worst_case_gas_cost(client, signer, relayer, wallet, monkeypatch):
    # the estimate succeeds, but at this fee cap the gas could cost more than the sender holds
    monkeypatch.setattr(client, "_fees", lambda: {"maxFeePerGas": 10**15, "maxPriorityFeePerGas": 1})
    with pytest.raises(InsufficientFunds, match=f"{relayer.address} has {10**18} wei but the transaction may cost"):
        client.mint(authorize(client, signer, wallet), sender=relayer)


def test_chain_id_mismatch_and_missing_contract(client, w3):
    with pytest.raises(ChainIdMismatch, match=f"on chain {client.chain_id}, but the contract .* chain 1;"):
        client.with_contract(client.address, chain_id=1).signer()
    with pytest.raises(ContractNotFound, match="no contract at"):
        client.with_contract("0x" + "12" * 20).signer()
    with pytest.raises(InvalidInput, match="contract address"):
        client.with_contract("0x12")


def test_records_pending_to_minted(client, signer, relayer, wallet):
    saved = []
    record = mint_with_record(client, authorize(client, signer, wallet), sender=relayer, save=saved.append)
    assert [r.status for r in saved] == [PENDING, PENDING, MINTED]
    assert saved[0].tx_hash is None and saved[1].tx_hash == record.tx_hash
    assert record.token_id == "1" and record.block_number and record.reason is None
    assert client.token_of_audio(record.audio_hash) == 1


def test_records_failed_never_minted(client, signer, relayer, wallet):
    signed = authorize(client, signer, wallet)
    client.mint(signed, sender=relayer)
    saved = []
    record = mint_with_record(client, signed, sender=relayer, save=saved.append)  # replay
    assert [r.status for r in saved] == [PENDING, FAILED]
    assert record.token_id is None and record.tx_hash is None
    assert "already minted as token 1" in record.reason
    with pytest.raises(InvalidInput, match="already failed"):
        failed_record(record, "again")


def test_record_stays_pending_without_receipt(client, signer, wallet):
    from provenance.records import pending_record, with_tx_hash
    quick = ChainClient(client.w3, contract_address=client.address, receipt_timeout=0.2, poll_latency=0.05)
    record = with_tx_hash(pending_record(authorize(client, signer, wallet)), "0x" + "ab" * 32)
    saved = []
    settled = settle(quick, record, save=saved.append)
    assert settled.status == PENDING and "may still be mined" in settled.reason and saved == [settled]


def test_minted_record_requires_matching_receipt(client, signer, relayer, wallet):
    from provenance.records import pending_record
    receipt = client.mint(authorize(client, signer, wallet), sender=relayer)
    other = pending_record(authorize(client, signer, wallet, audio="0x" + "33" * 32))
    with pytest.raises(InvalidInput, match="audio_hash"):
        minted_record(other, receipt)


def test_mint_record_round_trip_and_missing_fields(client, signer, wallet):
    from provenance.records import MintRecord, pending_record
    record = pending_record(authorize(client, signer, wallet))
    assert MintRecord.from_dict(record.to_dict()) == record
    assert record.signed_authorization().signature == record.signature
    broken = record.to_dict() | {"nonce": None}
    with pytest.raises(InvalidInput, match="lacks nonce"):
        MintRecord.from_dict(broken)
    with pytest.raises(InvalidInput, match="status"):
        MintRecord.from_dict(record.to_dict() | {"status": "maybe"})
