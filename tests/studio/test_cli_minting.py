"""`songstudio sign TAKE` / `mint TAKE` and the truthful mint state (#15 part 3): each defect of
the issue has its own test. The chain ones run against a real anvil node."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner
from web3 import HTTPProvider, Web3

from provenance.chain import ChainClient
from provenance.keys import create_keystore
from studio.cli import main
from studio.mint_state import mint_state, mints_of_take
from studio.minting import save_record
from studio.tables import Mint
from tests.provenance.helpers import fund, new_key
from tests.provenance.test_anvil import anvil_url  # noqa: F401 - the module-scoped node fixture
from tests.studio.test_jobs import make_worker

PASSWORDS = {"SONGSTUDIO_SIGNER_PASSWORD": "signer-password", "SONGSTUDIO_OWNER_PASSWORD": "owner-password"}


@pytest.fixture
def sealed_take(studio):
    job = studio.submit_music(prompt="mint me", duration=1.0, seeds=[3])
    make_worker(studio).run_next()
    return studio.library.takes_of_job(job.id)[0]


@pytest.fixture
def keys(studio, monkeypatch):
    for role in ("signer", "owner"):
        create_keystore(studio.settings.keystore(role), password=PASSWORDS[f"SONGSTUDIO_{role.upper()}_PASSWORD"],
                        role=role, kdf="pbkdf2", iterations=1000)
    for key, value in PASSWORDS.items():
        monkeypatch.setenv(key, value)


def _run(studio, *args, code=0):
    result = CliRunner().invoke(main, ["--home", str(studio.settings.home), *args])
    assert result.exit_code == code, result.output
    return result


def _fake_row(studio, take_id, **values) -> int:
    row = {"wallet": "0x" + "11" * 20, "nonce": "1", "deadline": int(time.time()) + 600, "signature": "0x",
           "chain_id": 31337, "contract": "0x" + "22" * 20, "status": "pending", **values}
    with studio.db.write() as session:
        mint = Mint(take_id=take_id, **row)
        session.add(mint)
        session.flush()
        return mint.id


def test_sign_without_a_chain_is_a_clear_error_and_records_nothing(studio, sealed_take, keys):
    result = _run(studio, "sign", str(sealed_take.id), "--to", new_key("owner").address, code=2)
    assert "SONGSTUDIO_CHAIN_RPC_URL" in result.output and "songstudio chain up" in result.output
    assert mints_of_take(studio.db, sealed_take.id) == []


def test_a_mint_whose_owner_key_does_not_unlock_leaves_no_row(studio, sealed_take, keys, monkeypatch):
    monkeypatch.setenv("SONGSTUDIO_CHAIN_RPC_URL", "http://127.0.0.1:9")  # never reached: the key fails first
    monkeypatch.setenv("SONGSTUDIO_CHAIN_ID", "31337")
    monkeypatch.setenv("SONGSTUDIO_CHAIN_CONTRACT", "0x" + "ab" * 20)
    monkeypatch.setenv("SONGSTUDIO_OWNER_PASSWORD", "not-the-password")
    result = _run(studio, "mint", str(sealed_take.id), "--to", new_key("owner").address, code=1)
    assert "wrong password for the owner keystore" in result.output
    assert mints_of_take(studio.db, sealed_take.id) == []


def test_an_authorization_past_its_deadline_shows_as_expired(studio, sealed_take):
    _fake_row(studio, sealed_take.id, deadline=int(time.time()) - 1)
    assert mint_state(studio.db, sealed_take.id).text.startswith("authorization expired unsent")
    _fake_row(studio, sealed_take.id)
    assert mint_state(studio.db, sealed_take.id).text == "signed, not sent yet"


def test_a_later_failure_never_hides_a_minted_take(studio, sealed_take):
    _fake_row(studio, sealed_take.id, status="minted", token_id="7", tx_hash="0x" + "aa" * 32)
    _fake_row(studio, sealed_take.id, status="failed", reason="this audio is already minted as token 7")
    assert mint_state(studio.db, sealed_take.id).text == f"minted: token 7 (tx 0x{'aa' * 32})"
    shown = json.loads(_run(studio, "library", "show", str(sealed_take.id)).output)["mint"]
    assert shown == {"status": "minted", "token_id": "7", "tx_hash": "0x" + "aa" * 32,
                     "text": f"minted: token 7 (tx 0x{'aa' * 32})"}


def test_signing_a_minted_take_is_refused_naming_the_token(studio, sealed_take, keys, monkeypatch):
    monkeypatch.setenv("SONGSTUDIO_CHAIN_RPC_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SONGSTUDIO_CHAIN_ID", "31337")
    monkeypatch.setenv("SONGSTUDIO_CHAIN_CONTRACT", "0x" + "ab" * 20)
    _fake_row(studio, sealed_take.id, status="minted", token_id="4", tx_hash="0x" + "bb" * 32)
    result = _run(studio, "sign", str(sealed_take.id), "--to", new_key("owner").address, code=2)
    assert f"take {sealed_take.id} is already minted: token 4" in result.output
    assert len(mints_of_take(studio.db, sealed_take.id)) == 1


@pytest.mark.network
def test_sign_then_mint_over_anvil_resolves_the_sign_row_and_refuses_a_second_mint(
        studio, sealed_take, keys, anvil_url):  # noqa: F811
    settings = studio.settings
    owner = _run(studio, "keys", "address", "--role", "owner").output.strip()
    fund(Web3(HTTPProvider(anvil_url)), owner)
    deployment = json.loads(_run(studio, "chain", "deploy", "--rpc", anvil_url).output)
    assert json.loads(settings.settings_file.read_text())["chain_contract"] == deployment["contract"]
    wallet = new_key("owner").address

    authorization = json.loads(_run(studio, "sign", str(sealed_take.id), "--to", wallet).output)
    assert authorization["audio_hash"].removeprefix("0x") == sealed_take.audio_sha256.removeprefix("0x")
    assert authorization["recipe_hash"] == sealed_take.recipe_sha256
    assert mint_state(studio.db, sealed_take.id).text == "signed, not sent yet"

    record = json.loads(_run(studio, "mint", str(sealed_take.id), "--to", wallet).output)
    assert record["status"] == "minted" and record["token_id"] == "1" and record["to"] == wallet
    rows = mints_of_take(studio.db, sealed_take.id)
    assert [r.status for r in rows] == ["superseded", "minted"]  # the plain sign row is resolved
    assert rows[1].tx_hash == record["tx_hash"] and rows[1].recipe_hash == sealed_take.recipe_sha256
    client = ChainClient.connect(anvil_url, contract_address=deployment["contract"],
                                 expected_chain_id=deployment["chain_id"])
    assert client.owner_of(1) == wallet and client.recipe_hash_of(1) == sealed_take.recipe_sha256

    again = _run(studio, "mint", str(sealed_take.id), "--to", wallet, code=2)
    assert "already minted: token 1" in again.output
    assert [r.status for r in mints_of_take(studio.db, sealed_take.id)] == ["superseded", "minted"]
    shown = json.loads(_run(studio, "library", "show", str(sealed_take.id)).output)["mint"]
    assert shown["status"] == "minted" and shown["token_id"] == "1" and shown["tx_hash"] == record["tx_hash"]


@pytest.mark.network
def test_a_take_minted_outside_this_library_is_refused_from_the_chain(studio, sealed_take, keys, anvil_url):  # noqa: F811
    owner = _run(studio, "keys", "address", "--role", "owner").output.strip()
    fund(Web3(HTTPProvider(anvil_url)), owner)
    _run(studio, "chain", "deploy", "--rpc", anvil_url)
    wallet = new_key("owner").address
    _run(studio, "mint", str(sealed_take.id), "--to", wallet)
    with studio.db.write() as session:  # as if another library had minted it: this one knows nothing
        for row in session.exec(Mint.__table__.select()).all():
            session.exec(Mint.__table__.delete().where(Mint.__table__.c.id == row.id))
    result = _run(studio, "mint", str(sealed_take.id), "--to", wallet, code=2)
    assert "already minted on chain 31337: token 1" in result.output
    assert mints_of_take(studio.db, sealed_take.id) == []


def test_save_record_keeps_the_recipe_hash(studio, sealed_take):
    from provenance.authorization import build_authorization, sign_authorization
    from provenance.records import pending_record

    auth = build_authorization(to=new_key("owner").address, uri="ipfs://x", audio_hash="0x" + sealed_take.audio_sha256,
                               recipe_hash=sealed_take.recipe_sha256 or "0x" + "00" * 32, chain_id=1,
                               contract="0x" + "33" * 20)
    row = save_record(studio.db, sealed_take.id, pending_record(sign_authorization(auth, new_key("signer"))),
                      row_id=None)
    assert mints_of_take(studio.db, sealed_take.id)[0].id == row
