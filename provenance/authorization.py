"""EIP-712 mint authorizations: build, sign and verify offline.

The signed type is exactly the one SongNFT checks:
`MintAuthorization(address to,string uri,bytes32 audioHash,bytes32 recipeHash,uint256 nonce,uint256 deadline)`
under the domain (name "SongStudio", version "1", chainId, verifyingContract).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import keccak

from provenance.errors import InvalidInput
from provenance.validate import hex32, parse_address, parse_bytes32, parse_uint256

DOMAIN_NAME = "SongStudio"
DOMAIN_VERSION = "1"
MINT_AUTHORIZATION_TYPES = {
    "MintAuthorization": [
        {"name": "to", "type": "address"},
        {"name": "uri", "type": "string"},
        {"name": "audioHash", "type": "bytes32"},
        {"name": "recipeHash", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
DEFAULT_TTL_SECONDS = 30 * 60  # short: an unused authorization is re-issued, not kept around
MAX_TTL_SECONDS = 7 * 24 * 3600
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class InvalidAuthorization(InvalidInput):
    """A signed authorization that the contract would reject."""


class TypedDataSigner(Protocol):
    """What signing needs: an address and EIP-712 signing (keys.UnlockedKey provides both)."""

    @property
    def address(self) -> str: ...

    def sign_typed_data(self, *, domain: dict, types: dict, message: dict) -> bytes: ...


@dataclass(frozen=True)
class MintAuthorization:
    """The message the signer signs, plus the domain it is bound to."""

    to: str
    uri: str
    audio_hash: str
    recipe_hash: str  # 0x + sha256 of the take's canonical recipe JSON
    nonce: int
    deadline: int
    chain_id: int
    contract: str

    def __post_init__(self):
        # Normalise and validate once, so every later step can trust the fields.
        object.__setattr__(self, "to", parse_address(self.to, what="recipient address"))
        object.__setattr__(self, "contract", parse_address(self.contract, what="contract address"))
        object.__setattr__(self, "audio_hash", hex32(parse_bytes32(self.audio_hash, what="audio hash")))
        object.__setattr__(self, "recipe_hash", hex32(parse_bytes32(self.recipe_hash, what="recipe hash")))
        object.__setattr__(self, "nonce", parse_uint256(self.nonce, what="nonce"))
        object.__setattr__(self, "deadline", parse_uint256(self.deadline, what="deadline"))
        chain_id = parse_uint256(self.chain_id, what="chain id")
        if chain_id == 0:
            raise InvalidInput("chain id must be positive")
        object.__setattr__(self, "chain_id", chain_id)
        if not isinstance(self.uri, str) or not self.uri:
            raise InvalidInput("token URI must be a non-empty string (an ipfs:// URI of the metadata)")

    def domain(self) -> dict[str, Any]:
        return {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": self.chain_id,
                "verifyingContract": self.contract}

    def message(self) -> dict[str, Any]:
        return {"to": self.to, "uri": self.uri, "audioHash": parse_bytes32(self.audio_hash),
                "recipeHash": parse_bytes32(self.recipe_hash),
                "nonce": self.nonce, "deadline": self.deadline}

    def signable(self) -> SignableMessage:
        return encode_typed_data(self.domain(), MINT_AUTHORIZATION_TYPES, self.message())

    def digest(self) -> str:
        """The EIP-712 digest; equals the contract's `mintDigest(...)` for the same fields."""
        s = self.signable()
        return hex32(keccak(b"\x19" + s.version + s.header + s.body))


@dataclass(frozen=True)
class SignedAuthorization:
    authorization: MintAuthorization
    signature: str  # 0x + 65 bytes (r, s, v)
    signer: str

    def to_record(self) -> dict[str, Any]:
        """Plain data for storage; the nonce is text because SQL integers are 64-bit."""
        a = self.authorization
        return {"to": a.to, "uri": a.uri, "audio_hash": a.audio_hash,
                "recipe_hash": a.recipe_hash, "nonce": str(a.nonce),
                "deadline": a.deadline, "chain_id": a.chain_id, "contract": a.contract,
                "signature": self.signature, "signer": self.signer, "digest": a.digest()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "SignedAuthorization":
        try:
            auth = MintAuthorization(to=record["to"], uri=record["uri"], audio_hash=record["audio_hash"],
                                     recipe_hash=record["recipe_hash"],
                                     nonce=record["nonce"], deadline=record["deadline"],
                                     chain_id=record["chain_id"], contract=record["contract"])
            return cls(authorization=auth, signature=_parse_signature(record["signature"]),
                       signer=parse_address(record["signer"], what="signer address"))
        except KeyError as missing:
            raise InvalidInput(f"authorization record lacks the field {missing}") from None


def new_nonce() -> int:
    """A random 256-bit nonce (unordered, single use)."""
    return secrets.randbits(256)


def build_authorization(*, to: str, uri: str, audio_hash: str, recipe_hash: str, chain_id: int, contract: str,
                        ttl_seconds: int = DEFAULT_TTL_SECONDS, now: int | None = None,
                        nonce: int | None = None) -> MintAuthorization:
    """A fresh authorization that expires `ttl_seconds` from `now` (unix seconds)."""
    if not isinstance(ttl_seconds, int) or not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise InvalidInput(f"authorization lifetime must be 1..{MAX_TTL_SECONDS} seconds, got {ttl_seconds!r}")
    now = int(time.time()) if now is None else now
    return MintAuthorization(to=to, uri=uri, audio_hash=audio_hash, recipe_hash=recipe_hash, nonce=new_nonce() if nonce is None else nonce,
                             deadline=now + ttl_seconds, chain_id=chain_id, contract=contract)


def sign_authorization(authorization: MintAuthorization, signer: TypedDataSigner) -> SignedAuthorization:
    signature = signer.sign_typed_data(domain=authorization.domain(), types=MINT_AUTHORIZATION_TYPES,
                                       message=authorization.message())
    return SignedAuthorization(authorization=authorization, signature="0x" + bytes(signature).hex(),
                               signer=parse_address(signer.address, what="signer address"))


def recover_signer(signed: SignedAuthorization) -> str:
    """The address that made the signature. Rejects what OpenZeppelin's ECDSA rejects
    (wrong length, high s, bad v), which eth-account alone would accept."""
    sig = bytes.fromhex(_parse_signature(signed.signature)[2:])
    s = int.from_bytes(sig[32:64], "big")
    if s > SECP256K1_N // 2:
        raise InvalidAuthorization("signature is malleable (high s); the contract rejects it")
    if sig[64] not in (27, 28):
        raise InvalidAuthorization(f"signature v must be 27 or 28, got {sig[64]}")
    return Account.recover_message(signed.authorization.signable(), signature=sig)


def verify_authorization(signed: SignedAuthorization, *, expected_signer: str, now: int | None = None) -> None:
    """Offline check: signed by `expected_signer`, not expired. Raises InvalidAuthorization."""
    expected = parse_address(expected_signer, what="expected signer address")
    recovered = recover_signer(signed)
    if recovered != expected:
        raise InvalidAuthorization(f"authorization was signed by {recovered}, not by the signer {expected}")
    if recovered != signed.signer:
        raise InvalidAuthorization(f"authorization claims signer {signed.signer} but was signed by {recovered}")
    now = int(time.time()) if now is None else now
    if now > signed.authorization.deadline:
        raise InvalidAuthorization(f"authorization expired at unix time {signed.authorization.deadline}; "
                                   "issue a new one")


def _parse_signature(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        value = "0x" + bytes(value).hex()
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 132:
        raise InvalidAuthorization("signature must be 0x followed by 130 hex digits (65 bytes)")
    try:
        bytes.fromhex(value[2:])
    except ValueError:
        raise InvalidAuthorization("signature must be hex") from None
    return value.lower()
