"""SongNFT on an in-process chain (eth-tester + py-evm): every guard of `mint` and `setSigner`."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from provenance.artifact import load_artifact
from provenance.authorization import (
    SECP256K1_N,
    InvalidAuthorization,
    SignedAuthorization,
    build_authorization,
    recover_signer,
    sign_authorization,
    verify_authorization,
)
from provenance.errors import ChainIdMismatch, ContractRevert, InvalidInput
from provenance.reverts import RevertDecoder, revert_data
from tests.provenance.helpers import new_key

URI = "ipfs://bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"


def audio(label: str) -> str:
    return "0x" + hashlib.sha256(label.encode()).hexdigest()


def block_time(client) -> int:
    return client.w3.eth.get_block("latest")["timestamp"]


RECIPE = "0x" + hashlib.sha256(b'{"engine":"demo"}').hexdigest()


def authorize(client, signer, *, to, audio_hash=None, uri=URI, recipe_hash=RECIPE, **kwargs):
    auth = build_authorization(to=to, uri=uri, audio_hash=audio_hash or audio("take-1"), recipe_hash=recipe_hash,
                               chain_id=client.chain_id,
                               contract=client.address, now=kwargs.pop("now", block_time(client)), **kwargs)
    return sign_authorization(auth, signer)


def tampered(signed: SignedAuthorization, **changes) -> SignedAuthorization:
    return dataclasses.replace(signed, authorization=dataclasses.replace(signed.authorization, **changes))


def expect_revert(error: str, fn, *args, **kwargs) -> ContractRevert:
    with pytest.raises(ContractRevert) as info:
        fn(*args, **kwargs)
    assert info.value.error == error, str(info.value)
    return info.value


def test_happy_path_relayer_mints_to_signed_recipient(client, signer, relayer, wallet):
    signed = authorize(client, signer, to=wallet)
    assert client.mint_digest(signed.authorization) == signed.authorization.digest()
    verify_authorization(signed, expected_signer=signer.address, now=block_time(client))

    receipt = client.mint(signed, sender=relayer)

    assert receipt.token_id == 1 and receipt.to == wallet and receipt.uri == URI
    assert receipt.audio_hash == signed.authorization.audio_hash
    assert receipt.nonce == str(signed.authorization.nonce)
    assert client.owner_of(1) == wallet
    assert client.token_uri(1) == URI
    assert client.token_of_audio(signed.authorization.audio_hash) == 1
    assert client.audio_hash_of(1) == signed.authorization.audio_hash
    assert receipt.recipe_hash == RECIPE and client.recipe_hash_of(1) == RECIPE
    assert client.recipe_hash_of(2) is None
    assert client.nonce_used(signed.authorization.nonce)
    assert client.token_of_audio(audio("never minted")) is None


def test_python_digest_equals_contract_for_unicode_uri_and_extreme_values(client, wallet):
    auth = build_authorization(to=wallet, uri="ipfs://b/ünïcødé 🎵", audio_hash="0x" + "ff" * 32,
                               recipe_hash="0x" + "ee" * 32, chain_id=client.chain_id, contract=client.address, nonce=2**256 - 1, now=0)
    assert client.mint_digest(auth) == auth.digest()


@pytest.mark.parametrize("field,value", [
    ("audio_hash", audio("another take")),
    ("recipe_hash", "0x" + hashlib.sha256(b'{"engine":"demo "}').hexdigest()),  # one byte of the recipe changed
    ("uri", URI + "x"),
    ("to", "0x000000000000000000000000000000000000dEaD"),
])
def test_tampered_field_is_rejected(client, signer, relayer, wallet, field, value):
    signed = tampered(authorize(client, signer, to=wallet), **{field: value})
    expect_revert("InvalidSignature", client.mint, signed, sender=relayer)


def test_wrong_signer_is_rejected(client, relayer, wallet):
    impostor = new_key("signer")
    expect_revert("InvalidSignature", client.mint, authorize(client, impostor, to=wallet), sender=relayer)


def test_replay_second_authorization_and_reused_nonce(client, signer, relayer, wallet):
    first = authorize(client, signer, to=wallet)
    client.mint(first, sender=relayer)
    err = expect_revert("AudioAlreadyMinted", client.mint, first, sender=relayer)
    assert "already minted as token 1" in str(err)
    # a freshly signed authorization (new nonce) for the same audio
    expect_revert("AudioAlreadyMinted", client.mint, authorize(client, signer, to=wallet), sender=relayer)
    # the same nonce for different audio
    reuse = authorize(client, signer, to=wallet, audio_hash=audio("take-2"), nonce=first.authorization.nonce)
    expect_revert("NonceAlreadyUsed", client.mint, reuse, sender=relayer)


def test_expired_deadline_is_rejected(client, signer, relayer, wallet):
    signed = authorize(client, signer, to=wallet, now=block_time(client) - 3600, ttl_seconds=60)
    err = expect_revert("AuthorizationExpired", client.mint, signed, sender=relayer)
    assert err.error_args[0] == signed.authorization.deadline
    with pytest.raises(InvalidAuthorization, match="expired"):
        verify_authorization(signed, expected_signer=signed.signer, now=block_time(client))


def test_wrong_chain_id_is_rejected_by_client_and_contract(client, signer, relayer, wallet):
    right = authorize(client, signer, to=wallet)
    other_chain = dataclasses.replace(right.authorization, chain_id=1)
    with pytest.raises(ChainIdMismatch, match="chain 1"):
        client.mint(sign_authorization(other_chain, signer), sender=relayer)
    # the contract itself: a signature over chain 1's domain, submitted with this chain's fields
    cross = dataclasses.replace(right, signature=sign_authorization(other_chain, signer).signature)
    expect_revert("InvalidSignature", client.mint, cross, sender=relayer)


def test_high_s_twin_of_valid_signature_is_rejected(client, signer, relayer, wallet):
    signed = authorize(client, signer, to=wallet)
    sig = bytes.fromhex(signed.signature[2:])
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    twin = dataclasses.replace(signed, signature="0x" + (r + (SECP256K1_N - s).to_bytes(32, "big")
                                                         + bytes([55 - v])).hex())
    with pytest.raises(InvalidAuthorization, match="high s"):
        recover_signer(twin)
    expect_revert("InvalidSignature", client.mint, twin, sender=relayer)
    assert client.mint(signed, sender=relayer).token_id == 1  # the low-s original still works


def test_signer_rotation_and_non_owner(client, owner, signer, relayer, wallet):
    new_signer = new_key("signer")
    err = expect_revert("OwnableUnauthorizedAccount", client.set_signer, new_signer.address, owner=relayer)
    assert relayer.address in str(err) and "not the contract owner" in str(err)
    assert client.signer() == signer.address

    outstanding = authorize(client, signer, to=wallet)
    client.set_signer(new_signer.address, owner=owner)
    assert client.signer() == new_signer.address
    expect_revert("InvalidSignature", client.mint, outstanding, sender=relayer)
    assert client.mint(authorize(client, new_signer, to=wallet), sender=relayer).token_id == 1


def test_erc1271_contract_wallet_as_signer(client, w3, owner, relayer, wallet):
    wallet_key = new_key("signer")
    art = load_artifact("test/ERC1271Wallet")
    factory = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    tx = w3.eth.send_transaction({"from": w3.eth.accounts[0], "data": factory.constructor(
        wallet_key.address).build_transaction({"from": w3.eth.accounts[0]})["data"]})
    contract_signer = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
    client.set_signer(contract_signer, owner=owner)

    assert client.mint(authorize(client, wallet_key, to=wallet), sender=relayer).token_id == 1
    stranger = new_key("signer")
    expect_revert("InvalidSignature", client.mint, authorize(client, stranger, to=wallet,
                                                             audio_hash=audio("take-2")), sender=relayer)


def test_zero_signer_rejected_by_client_and_contract(client, owner):
    zero = "0x" + "00" * 20
    with pytest.raises(InvalidInput, match="zero address"):
        client.set_signer(zero, owner=owner)
    with pytest.raises(Exception) as info:  # the contract's own guard, bypassing the client's check
        client.contract.functions.setSigner(zero).estimate_gas({"from": owner.address})
    decoded = RevertDecoder(load_artifact()["abi"]).decode(revert_data(info.value), context="rotating")
    assert decoded.error == "ZeroSigner"


def test_gas_estimate_for_mint(client, signer, relayer, wallet):
    signed = authorize(client, signer, to=wallet)
    gas = client.estimate_mint_gas(signed, sender=relayer.address)
    receipt = client.mint(signed, sender=relayer)
    assert 150_000 < gas < 400_000
    assert receipt.gas_used <= gas
