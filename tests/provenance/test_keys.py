"""Keystores, passwords, and keeping key material out of logs, errors, tracebacks and records."""

from __future__ import annotations

import json
import logging
import pickle
import traceback

import pytest

from provenance.authorization import build_authorization, sign_authorization
from provenance.errors import ChainIdMismatch, ContractRevert, InsufficientFunds, KeystoreError, WrongPassword
from provenance.keys import create_keystore, ensure_distinct, keystore_address, resolve_password, unlock
from provenance.records import mint_with_record
from tests.provenance.helpers import new_key

FAST_KDF = {"kdf": "pbkdf2", "iterations": 1000}  # the default (scrypt) takes ~1 s per key


def test_keystore_round_trip_and_wrong_password(tmp_path):
    path = tmp_path / "keys" / "signer.json"
    address = create_keystore(path, password="correct horse", role="signer", **FAST_KDF)
    assert keystore_address(path) == address
    assert path.stat().st_mode & 0o077 == 0
    assert unlock(path, password="correct horse", role="signer").address == address

    with pytest.raises(WrongPassword) as info:
        unlock(path, password="battery staple", role="signer")
    message = str(info.value)
    assert "wrong password" in message and str(path) in message and "SONGSTUDIO_SIGNER_PASSWORD" in message
    assert "battery staple" not in message and info.value.__cause__ is None and info.value.__suppress_context__


def test_keystore_never_overwritten_and_bad_files(tmp_path):
    path = tmp_path / "owner.json"
    create_keystore(path, password="pw-long-enough", role="owner", **FAST_KDF)
    before = path.read_bytes()
    with pytest.raises(KeystoreError, match="already exists"):
        create_keystore(path, password="pw-long-enough", role="owner", **FAST_KDF)
    assert path.read_bytes() == before
    with pytest.raises(KeystoreError, match="not found"):
        unlock(tmp_path / "nope.json", password="pw", role="owner")
    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(KeystoreError, match="not an encrypted keystore"):
        unlock(tmp_path / "junk.json", password="pw", role="owner")
    with pytest.raises(KeystoreError, match="empty password"):
        create_keystore(tmp_path / "x.json", password="", role="owner")


def test_password_from_env_or_prompt():
    assert resolve_password(role="owner", env={"SONGSTUDIO_OWNER_PASSWORD": "s3"}) == "s3"
    assert resolve_password(role="signer", env={}, prompt=lambda text: "typed") == "typed"
    with pytest.raises(KeystoreError, match="set SONGSTUDIO_SIGNER_PASSWORD"):
        resolve_password(role="signer", env={})


def test_signer_and_owner_must_differ():
    key = new_key("signer")
    with pytest.raises(KeystoreError, match="same"):
        ensure_distinct(key.address, key.address)


def failure_texts(kind, action) -> list[str]:
    """The message and the traceback with every frame's local variables (as a crash reporter
    would show them). Called from here so the test's own secrets are not among the locals."""
    with pytest.raises(kind) as info:
        action()
    exc = info.value
    return [str(exc), "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())]


def test_key_never_in_repr_pickle_logs_errors_tracebacks_or_records(client, w3, signer, owner, wallet, caplog):
    secrets_ = {k._account.key.hex() for k in (signer, owner)}
    secrets_ |= {s.removeprefix("0x") for s in secrets_} | {"0x" + s.removeprefix("0x") for s in secrets_}
    assert all(s not in repr(k) + str(k) for k in (signer, owner) for s in secrets_)
    with pytest.raises(TypeError):
        pickle.dumps(signer)

    texts: list[str] = []
    caplog.set_level(logging.DEBUG)
    now = w3.eth.get_block("latest")["timestamp"]
    good = sign_authorization(build_authorization(to=wallet, uri="ipfs://x", audio_hash="0x" + "11" * 32, recipe_hash="0x" + "ab" * 32,
                                                  chain_id=client.chain_id, contract=client.address, now=now), signer)
    records = []
    final = mint_with_record(client, good, sender=owner, save=records.append)
    assert final.status == "minted"
    texts += [json.dumps(r.to_dict()) for r in records]

    failures = [
        (ContractRevert, lambda: client.mint(good, sender=owner)),  # replay
        (InsufficientFunds, lambda: client.mint(good, sender=signer)),  # the signer holds no ETH
        (ChainIdMismatch, lambda: client.with_contract(client.address, chain_id=1).signer()),
    ]
    for kind, action in failures:
        texts += failure_texts(kind, action)
    texts.append(caplog.text)
    leaks = [t[max(0, t.find(s) - 1500):t.find(s) + 80] for s in secrets_ for t in texts if s in t]
    assert not leaks, leaks[0]


def test_short_keystore_password_refused_with_the_minimum(tmp_path):
    path = tmp_path / "keys" / "signer.json"
    with pytest.raises(KeystoreError, match="at least 8 characters") as info:
        create_keystore(path, password="x", role="signer", **FAST_KDF)
    assert "SONGSTUDIO_SIGNER_PASSWORD" in str(info.value) and not path.exists()
    create_keystore(path, password="eight-ch", role="signer", **FAST_KDF)


def test_new_keys_folder_and_keystore_are_owner_only(tmp_path):
    path = tmp_path / "keys" / "owner.json"
    create_keystore(path, password="pw-long-enough", role="owner", **FAST_KDF)
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600
