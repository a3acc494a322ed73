"""Errors raised by the provenance package. Each message says what is wrong and what to do;
none ever contains key material."""

from __future__ import annotations


class ProvenanceError(Exception):
    """Base class for every error this package raises on purpose."""


class InvalidInput(ProvenanceError, ValueError):
    """A malformed address, hash, URI, number or file given by the caller."""


class KeystoreError(ProvenanceError):
    """A keystore file is missing, unreadable, or would be overwritten."""


class WrongPassword(KeystoreError):
    """The keystore password does not decrypt the key."""


class ChainError(ProvenanceError):
    """Anything that went wrong talking to the chain."""


class RPCUnreachable(ChainError):
    """The JSON-RPC endpoint does not answer."""


class ChainIdMismatch(ChainError):
    """The node is on another chain than the configured contract."""


class ContractNotFound(ChainError):
    """No contract code at the configured address."""


class InsufficientFunds(ChainError):
    """The sending account cannot pay for the transaction's gas."""


class ReceiptTimeout(ChainError):
    """A transaction was sent but no receipt arrived in time; it may still be mined."""

    def __init__(self, message: str, *, tx_hash: str):
        super().__init__(message)
        self.tx_hash = tx_hash


class ContractRevert(ChainError):
    """The contract rejected the call; `error` is the Solidity custom error name when known."""

    def __init__(self, message: str, *, error: str | None = None, args: tuple = ()):
        super().__init__(message)
        self.error = error
        self.error_args = args


class ManifestError(ProvenanceError):
    """C2PA signing or reading failed, or the credentials are unusable."""


class TagError(ProvenanceError):
    """In-file tags cannot be written or read."""
