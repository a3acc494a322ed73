"""Web3 client for SongNFT: deploy, mint, reads, receipts, gas, chain-id checks.

Transactions are signed locally with an UnlockedKey and sent raw, so the same code runs on the
in-process eth-tester chain, anvil, or a public RPC endpoint. Every failure becomes a
ProvenanceError with a plain message (contract custom errors are decoded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from web3 import HTTPProvider, Web3
from web3.exceptions import TimeExhausted
from web3.logs import DISCARD

from provenance.artifact import load_artifact
from provenance.authorization import MintAuthorization, SignedAuthorization
from provenance.errors import (
    ChainError,
    ChainIdMismatch,
    ContractNotFound,
    ContractRevert,
    InsufficientFunds,
    InvalidInput,
    ProvenanceError,
    ReceiptTimeout,
    RPCUnreachable,
)
from provenance.keys import UnlockedKey, ensure_distinct
from provenance.reverts import RevertDecoder, revert_data
from provenance.validate import hex32, parse_address, parse_bytes32, parse_uint256

GAS_HEADROOM = 1.2  # estimates are exact for the current state; leave room for small changes


@dataclass(frozen=True)
class Deployment:
    address: str
    chain_id: int
    tx_hash: str
    block_number: int
    gas_used: int
    owner: str
    signer: str


@dataclass(frozen=True)
class MintReceipt:
    """What a successful mint receipt proves: token `token_id` for `audio_hash` went to `to`."""

    tx_hash: str
    token_id: int
    to: str
    audio_hash: str
    recipe_hash: str
    uri: str
    nonce: str
    chain_id: int
    contract: str
    block_number: int
    gas_used: int


class ChainClient:
    """One node, optionally one deployed SongNFT. `expected_chain_id` is the chain the contract
    was configured for; every contract operation first checks the node is on it."""

    def __init__(self, w3: Web3, *, contract_address: str | None = None, expected_chain_id: int | None = None,
                 receipt_timeout: float = 120.0, poll_latency: float = 0.5, label: str = "the node"):
        self.w3 = w3
        self.label = label
        self.receipt_timeout = receipt_timeout
        self.poll_latency = poll_latency
        self.expected_chain_id = (None if expected_chain_id is None
                                  else parse_uint256(expected_chain_id, what="chain id"))
        self.address = None if contract_address is None else parse_address(contract_address, what="contract address")
        artifact = load_artifact()
        self._abi, self._bytecode = artifact["abi"], artifact["bytecode"]
        self._decoder = RevertDecoder(self._abi)
        self._chain_id: int | None = None
        self._checked = False

    @classmethod
    def connect(cls, rpc_url: str, *, request_timeout: float = 10.0, **kwargs: Any) -> "ChainClient":
        """A client for a JSON-RPC endpoint over HTTP(S); fails at once if it does not answer."""
        if not isinstance(rpc_url, str) or urlsplit(rpc_url).scheme not in ("http", "https"):
            raise InvalidInput(f"RPC URL must be an http:// or https:// URL, got {rpc_url!r}")
        shown = _redact_url(rpc_url)
        provider = HTTPProvider(rpc_url, request_kwargs={"timeout": request_timeout},
                                exception_retry_configuration=None)
        client = cls(Web3(provider), label=f"the node at {shown}", **kwargs)
        _ = client.chain_id  # probe now: a dead URL should fail here, naming the URL
        return client

    def with_contract(self, address: str, *, chain_id: int | None = None) -> "ChainClient":
        """The same node, bound to the SongNFT at `address` (configured for `chain_id`)."""
        return type(self)(self.w3, contract_address=address, expected_chain_id=chain_id or self.expected_chain_id,
                          receipt_timeout=self.receipt_timeout, poll_latency=self.poll_latency, label=self.label)

    # -- node and contract checks -------------------------------------------------------------

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self._rpc(lambda: self.w3.eth.chain_id, what="reading the chain id")
        return self._chain_id

    def check_contract(self) -> None:
        """The node is on the configured chain and has code at the contract address."""
        if self.address is None:
            raise InvalidInput("no contract address configured; deploy one (`songstudio chain deploy`) and set it")
        if self.expected_chain_id is not None and self.chain_id != self.expected_chain_id:
            raise ChainIdMismatch(f"{self.label} is on chain {self.chain_id}, but the contract {self.address} is "
                                  f"configured for chain {self.expected_chain_id}; use that chain's RPC URL")
        code = self._rpc(lambda: self.w3.eth.get_code(self.address), what="reading the contract code")
        if not code:
            raise ContractNotFound(f"no contract at {self.address} on chain {self.chain_id} ({self.label})")
        self._checked = True

    @property
    def contract(self):
        if not self._checked:
            self.check_contract()
        return self.w3.eth.contract(address=self.address, abi=self._abi)

    # -- transactions -------------------------------------------------------------------------

    def deploy(self, *, owner: UnlockedKey, signer: str) -> Deployment:
        """Deploys SongNFT owned by `owner` with `signer` as the first authorization signer."""
        signer = parse_address(signer, what="signer address")
        ensure_distinct(signer, owner.address)
        factory = self.w3.eth.contract(abi=self._abi, bytecode=self._bytecode)
        tx_hash = self._send(factory.constructor(signer), sender=owner, what="deploying SongNFT")
        receipt = self.wait_for_receipt(tx_hash, what="the deployment")
        return Deployment(address=receipt["contractAddress"], chain_id=self.chain_id, tx_hash=tx_hash,
                          block_number=receipt["blockNumber"], gas_used=receipt["gasUsed"], owner=owner.address,
                          signer=signer)

    def estimate_mint_gas(self, signed: SignedAuthorization, *, sender: str) -> int:
        """Gas the mint would use now; raises the decoded contract error if it would revert."""
        call = self._mint_call(signed)
        return self._estimate(call, sender=parse_address(sender, what="sender address"), what="minting")

    def send_mint(self, signed: SignedAuthorization, *, sender: UnlockedKey) -> str:
        """Submits the mint and returns its transaction hash (not yet mined)."""
        return self._send(self._mint_call(signed), sender=sender, what="minting")

    def wait_for_mint(self, tx_hash: str) -> MintReceipt:
        """Waits for the mint's receipt; a receipt without status 1 and a SongMinted event is a failure."""
        receipt = self.wait_for_receipt(tx_hash, what="the mint")
        events = [e for e in self.contract.events.SongMinted().process_receipt(receipt, errors=DISCARD)
                  if e["address"] == self.address]
        if len(events) != 1:
            raise ChainError(f"mint transaction {tx_hash} succeeded but has {len(events)} SongMinted events")
        args = events[0]["args"]
        return MintReceipt(tx_hash=tx_hash, token_id=int(args["tokenId"]), to=args["to"],
                           audio_hash=hex32(bytes(args["audioHash"])),
                           recipe_hash=hex32(bytes(args["recipeHash"])), uri=args["uri"], nonce=str(args["nonce"]),
                           chain_id=self.chain_id, contract=self.address, block_number=receipt["blockNumber"],
                           gas_used=receipt["gasUsed"])

    def mint(self, signed: SignedAuthorization, *, sender: UnlockedKey) -> MintReceipt:
        return self.wait_for_mint(self.send_mint(signed, sender=sender))

    def set_signer(self, new_signer: str, *, owner: UnlockedKey) -> str:
        """Rotates the signer (owner only); waits for the receipt and returns the tx hash."""
        new_signer = parse_address(new_signer, what="new signer address")
        ensure_distinct(new_signer, owner.address)
        tx_hash = self._send(self.contract.functions.setSigner(new_signer), sender=owner, what="rotating the signer")
        self.wait_for_receipt(tx_hash, what="the signer rotation")
        return tx_hash

    def wait_for_receipt(self, tx_hash: str, *, what: str = "the transaction") -> dict:
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout,
                                                               poll_latency=self.poll_latency)
        except TimeExhausted:
            raise ReceiptTimeout(f"no receipt for {what} ({tx_hash}) after {self.receipt_timeout:g} s; it may still "
                                 "be mined: check again later", tx_hash=tx_hash) from None
        except (requests.RequestException, OSError) as exc:
            raise RPCUnreachable(f"{self.label} stopped answering while waiting for {what} ({tx_hash}): "
                                 f"{_short(exc)}") from None
        if receipt["status"] != 1:
            raise self._replayed_failure(tx_hash, receipt, what=what)
        return receipt

    # -- reads --------------------------------------------------------------------------------

    def signer(self) -> str:
        return self._read(self.contract.functions.signer())

    def owner(self) -> str:
        return self._read(self.contract.functions.owner())

    def owner_of(self, token_id: int) -> str:
        return self._read(self.contract.functions.ownerOf(parse_uint256(token_id, what="token id")))

    def token_uri(self, token_id: int) -> str:
        return self._read(self.contract.functions.tokenURI(parse_uint256(token_id, what="token id")))

    def token_of_audio(self, audio_hash: str) -> int | None:
        """The token minted for this audio, or None."""
        token_id = self._read(self.contract.functions.tokenOfAudio(parse_bytes32(audio_hash, what="audio hash")))
        return token_id or None

    def audio_hash_of(self, token_id: int) -> str | None:
        value = self._read(self.contract.functions.audioHashOf(parse_uint256(token_id, what="token id")))
        return None if bytes(value) == bytes(32) else hex32(bytes(value))

    def recipe_hash_of(self, token_id: int) -> str | None:
        """The recipe hash token `token_id` was minted with, or None (no such token)."""
        value = self._read(self.contract.functions.recipeHashOf(parse_uint256(token_id, what="token id")))
        return None if bytes(value) == bytes(32) else hex32(bytes(value))

    def nonce_used(self, nonce: int | str) -> bool:
        return self._read(self.contract.functions.nonceUsed(parse_uint256(nonce, what="nonce")))

    def mint_digest(self, authorization: MintAuthorization) -> str:
        a = authorization
        fn = self.contract.functions.mintDigest(a.to, a.uri, parse_bytes32(a.audio_hash),
                                                parse_bytes32(a.recipe_hash), a.nonce, a.deadline)
        return hex32(bytes(self._read(fn)))

    def balance(self, address: str) -> int:
        return self._rpc(lambda: self.w3.eth.get_balance(parse_address(address)), what="reading a balance")

    # -- internals ----------------------------------------------------------------------------

    def _mint_call(self, signed: SignedAuthorization):
        a = signed.authorization
        if a.chain_id != self.chain_id:
            raise ChainIdMismatch(f"the authorization is for chain {a.chain_id} but {self.label} is on chain "
                                  f"{self.chain_id}; sign a new one for this chain")
        if self.address is None or a.contract != self.address:
            raise InvalidInput(f"the authorization is for contract {a.contract}, not {self.address}")
        return self.contract.functions.mint(a.to, a.uri, parse_bytes32(a.audio_hash),
                                            parse_bytes32(a.recipe_hash), a.nonce, a.deadline,
                                            bytes.fromhex(signed.signature[2:]))

    def _estimate(self, call, *, sender: str, what: str) -> int:
        try:
            return call.estimate_gas({"from": sender})
        except Exception as exc:  # noqa: BLE001 - every node/library error is translated below
            raise self._translate(exc, what=what, sender=sender) from None

    def _send(self, call, *, sender: UnlockedKey, what: str) -> str:
        address = sender.address
        balance = self._rpc(lambda: self.w3.eth.get_balance(address), what="reading the sender's balance")
        if balance == 0:
            raise InsufficientFunds(f"{what}: the sending account {address} has no ETH on chain {self.chain_id}; "
                                    "fund it first")
        gas = int(self._estimate(call, sender=address, what=what) * GAS_HEADROOM)
        fees = self._fees()
        max_cost = gas * fees.get("maxFeePerGas", fees.get("gasPrice", 0))
        if balance < max_cost:
            raise InsufficientFunds(f"{what}: the sending account {address} has {balance} wei but the transaction "
                                    f"may cost up to {max_cost} wei ({gas} gas); fund it")
        nonce = self._rpc(lambda: self.w3.eth.get_transaction_count(address, "pending"), what="reading the nonce")
        tx = call.build_transaction({"from": address, "gas": gas, "nonce": nonce, "chainId": self.chain_id, **fees})
        raw = sender.sign_transaction(tx)
        try:
            return self.w3.eth.send_raw_transaction(raw).to_0x_hex()
        except Exception as exc:  # noqa: BLE001
            raise self._translate(exc, what=what, sender=address) from None

    def _fees(self) -> dict[str, int]:
        block = self._rpc(lambda: self.w3.eth.get_block("latest"), what="reading the latest block")
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:  # pre-London chain
            return {"gasPrice": self._rpc(lambda: self.w3.eth.gas_price, what="reading the gas price")}
        tip = self._rpc(lambda: self.w3.eth.max_priority_fee, what="reading the priority fee")
        return {"maxFeePerGas": 2 * base_fee + tip, "maxPriorityFeePerGas": tip}

    def _read(self, fn):
        try:
            return fn.call()
        except Exception as exc:  # noqa: BLE001
            raise self._translate(exc, what="reading the contract") from None

    def _rpc(self, thunk, *, what: str):
        try:
            return thunk()
        except ProvenanceError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._translate(exc, what=what) from None

    def _translate(self, exc: BaseException, *, what: str, sender: str | None = None) -> ProvenanceError:
        if isinstance(exc, ProvenanceError):
            return exc
        data = revert_data(exc)
        if data is not None:
            return self._decoder.decode(data, context=what)
        if isinstance(exc, (requests.RequestException, OSError)):
            return RPCUnreachable(f"{self.label} does not answer ({_short(exc)}); check that the node is "
                                  "running and the RPC URL is right")
        text = str(exc)
        if re.search(r"insufficient funds|cannot afford", text, re.IGNORECASE):
            try:
                held = f"has {self.w3.eth.get_balance(sender)} wei, which"
            except Exception:  # noqa: BLE001 - the balance only makes the message more precise
                held = "has too little ETH, which"
            return InsufficientFunds(f"{what}: the sending account {sender} {held} cannot pay for the gas on chain "
                                     f"{self.chain_id}; fund it")
        if "execution reverted" in text or type(exc).__name__ in ("ContractLogicError", "TransactionFailed"):
            return ContractRevert(f"{what}: the contract reverted ({text})")
        return ChainError(f"{what} failed on {self.label}: {type(exc).__name__}: {text}")

    def _replayed_failure(self, tx_hash: str, receipt, *, what: str) -> ProvenanceError:
        """A reverted receipt carries no reason; replaying the call just before its block does."""
        tx = self.w3.eth.get_transaction(tx_hash)
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}
        try:
            self.w3.eth.call(call, block_identifier=max(receipt["blockNumber"] - 1, 0))
        except Exception as exc:  # noqa: BLE001
            translated = self._translate(exc, what=f"{what} ({tx_hash}) reverted on chain")
            if isinstance(translated, ContractRevert):
                return translated
        return ChainError(f"{what} ({tx_hash}) reverted on chain (receipt status 0)")


def _redact_url(url: str) -> str:
    """The URL without user:password, which some providers put in it."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=f"***@{netloc}")
    return urlunsplit(parts)


def _short(exc: BaseException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    return match.group(0) if match else type(exc).__name__
