"""Provenance for Song Studio takes: audio hash, EIP-712 mint authorizations, ERC-721 metadata,
the SongNFT chain client, encrypted keys, in-file tags and C2PA manifests, mint records.

Names below are imported on first use, so `import provenance` stays cheap (web3 and c2pa load
only when needed). Modules: hashing, authorization, metadata, chain, keys, tags,
c2pa_manifest, seal, records, content (IPFS CIDs and CAR files), formats, errors.
Functions only: the commands live in studio/cli_minting.py.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "audio_hash": "provenance.hashing",
    "MintAuthorization": "provenance.authorization",
    "SignedAuthorization": "provenance.authorization",
    "build_authorization": "provenance.authorization",
    "sign_authorization": "provenance.authorization",
    "verify_authorization": "provenance.authorization",
    "build_metadata": "provenance.metadata",
    "canonical_json": "provenance.metadata",
    "ipfs_cid": "provenance.metadata",
    "metadata_uri": "provenance.metadata",
    "file_cids": "provenance.content",
    "ChainClient": "provenance.chain",
    "Deployment": "provenance.chain",
    "MintReceipt": "provenance.chain",
    "UnlockedKey": "provenance.keys",
    "create_keystore": "provenance.keys",
    "keystore_address": "provenance.keys",
    "resolve_password": "provenance.keys",
    "unlock": "provenance.keys",
    "ProvenanceTags": "provenance.tags",
    "read_tags": "provenance.tags",
    "write_tags": "provenance.tags",
    "C2PACredentials": "provenance.c2pa_manifest",
    "dev_credentials": "provenance.c2pa_manifest",
    "load_credentials": "provenance.c2pa_manifest",
    "resolve_credentials": "provenance.c2pa_manifest",
    "read_manifest": "provenance.c2pa_manifest",
    "seal_master": "provenance.seal",
    "verify_file": "provenance.seal",
    "VerifyReport": "provenance.seal",
    "MintRecord": "provenance.records",
    "pending_record": "provenance.records",
    "minted_record": "provenance.records",
    "failed_record": "provenance.records",
    "mint_with_record": "provenance.records",
    "settle": "provenance.records",
    "ProvenanceError": "provenance.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'provenance' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
