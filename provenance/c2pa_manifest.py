"""C2PA manifests for audio files (c2pa-python): sign with a configurable certificate, read back
the validation state.

With no certificate configured, a local development CA and signing certificate are generated
(cryptography) and reused. Files signed that way validate as "untrusted" everywhere, and as
"trusted" only where the development CA is given as a trust anchor.
The C2PA key (P-256) is unrelated to the Ethereum signer key.

Where the manifest lives: WAV and MP3 embed it (a C2PA chunk, an ID3 GEOB frame: what those
formats carry anyway). A FLAC master gets a sidecar manifest store beside it (`master.flac` ->
`master.c2pa`, the C2PA spec's sidecar convention) and stays a plain FLAC file (`fLaC` first,
Vorbis comments), because c2pa-python 0.38 embeds FLAC manifests in an ID3v2 tag in front of the
FLAC stream, which FLAC tools do not expect. The sidecar's hard binding is a `c2pa.hash.data`
assertion over every byte of the FLAC file (no exclusions): its hash is the master's audio hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenance.errors import InvalidInput, ManifestError
from provenance.formats import MIME_TYPES, audio_format

ASSERTION_LABEL = "org.songstudio.provenance"
RECIPE_LABEL = "org.songstudio.recipe"  # {"canonical_json": text, "sha256": hex}: text survives CBOR exactly
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
ALGORITHMS = {"es256": c2pa.C2paSigningAlg.ES256, "es384": c2pa.C2paSigningAlg.ES384,
              "es512": c2pa.C2paSigningAlg.ES512, "ps256": c2pa.C2paSigningAlg.PS256,
              "ed25519": c2pa.C2paSigningAlg.ED25519}
STATES = ("trusted", "untrusted", "invalid", "absent")
SIDECAR_SUFFIX = ".c2pa"
SIDECAR_FORMATS = frozenset({"flac"})  # formats signed with a sidecar, never an embedded manifest
BINDING_FAILURES = ("assertion.dataHash.mismatch", "assertion.boxesHash.mismatch", "assertion.bmffHash.mismatch")


class TextTags(Protocol):
    """What the manifest needs of provenance.tags.ProvenanceTags (not imported: tags imports this module)."""

    def as_text(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class C2PACredentials:
    cert_chain_pem: bytes  # signing certificate first, then intermediates
    private_key_pem: bytes = field(repr=False)
    alg: str = "es256"
    tsa_url: str | None = None  # a timestamp authority needs the network; None signs without one
    trust_anchor_pem: bytes | None = None  # the CA to trust when verifying our own files (dev CA)


@dataclass(frozen=True)
class ManifestReport:
    state: str  # trusted | untrusted | invalid | absent
    codes: tuple[str, ...] = ()  # failure / untrusted codes from the validator
    provenance: dict | None = None  # our org.songstudio.provenance assertion
    recipe_json: bytes | None = None  # the canonical recipe JSON of the org.songstudio.recipe assertion
    signer_subject: str | None = None
    sidecar: str | None = None  # the sidecar manifest file read, when the manifest is not embedded

    @property
    def binding_failed(self) -> bool:
        """The file's bytes are not the bytes the manifest's hard binding signed."""
        return any(code in BINDING_FAILURES for code in self.codes)


def sidecar_path(path: str | Path) -> Path | None:
    """Where the sidecar manifest of `path` lives (same name, `.c2pa`), or None for formats that
    embed their manifest."""
    path = Path(path)
    return path.with_suffix(SIDECAR_SUFFIX) if audio_format(path) in SIDECAR_FORMATS else None


def load_credentials(*, cert_chain: str | Path, private_key: str | Path, alg: str = "es256",
                     tsa_url: str | None = None) -> C2PACredentials:
    if alg not in ALGORITHMS:
        raise InvalidInput(f"C2PA signing algorithm must be one of {', '.join(ALGORITHMS)}, got {alg!r}")
    try:
        chain, key = Path(cert_chain).read_bytes(), Path(private_key).read_bytes()
    except OSError as exc:
        raise ManifestError(f"cannot read the C2PA certificate or key: {exc.strerror}: {exc.filename}") from None
    try:
        x509.load_pem_x509_certificates(chain)
        serialization.load_pem_private_key(key, password=None)
    except ValueError:
        raise ManifestError(f"{cert_chain} must hold PEM certificates and {private_key} an unencrypted PEM "
                            "private key") from None
    return C2PACredentials(cert_chain_pem=chain, private_key_pem=key, alg=alg, tsa_url=tsa_url)


def dev_credentials(directory: str | Path) -> C2PACredentials:
    """The local development CA + signing certificate in `directory`, created on first use."""
    directory = Path(directory)
    ca_path = directory / "dev-ca.pem"
    chain_path, key_path = directory / "dev-signer-chain.pem", directory / "dev-signer-key.pem"
    if not (ca_path.exists() and chain_path.exists() and key_path.exists()):
        _write_dev_ca(ca_path, chain_path, key_path)
    creds = load_credentials(cert_chain=chain_path, private_key=key_path)
    return C2PACredentials(cert_chain_pem=creds.cert_chain_pem, private_key_pem=creds.private_key_pem,
                           trust_anchor_pem=ca_path.read_bytes())


def resolve_credentials(*, cert_chain: str | Path | None, private_key: str | Path | None, dev_dir: str | Path,
                        alg: str = "es256", tsa_url: str | None = None) -> C2PACredentials:
    """The configured certificate and key when both are given; the development CA in `dev_dir`
    when neither is; an error when only one is (a half configuration is a mistake, not a default)."""
    if cert_chain is None and private_key is None:
        return dev_credentials(dev_dir)
    if cert_chain is None or private_key is None:
        raise InvalidInput("configure both the C2PA certificate chain and its private key, or neither "
                           "(then a local development CA is used)")
    return load_credentials(cert_chain=cert_chain, private_key=private_key, alg=alg, tsa_url=tsa_url)


def sign_file(path: str | Path, *, credentials: C2PACredentials, tags: TextTags, title: str,
              recipe_json: bytes | None = None) -> None:
    """Signs a manifest (c2pa.created by trained algorithmic media + our provenance assertion +
    the recipe assertion when given): embedded in WAV and MP3 (the signed copy replaces the file
    only when complete); for FLAC written beside the untouched file as its sidecar (see the module doc)."""
    path = Path(path)
    mime = MIME_TYPES[audio_format(path)]
    if not path.is_file():
        raise InvalidInput(f"audio file not found: {path}")
    if has_manifest(path):
        raise ManifestError(f"{path} already carries a C2PA manifest; sign the untouched master once")
    manifest = {
        "claim_generator_info": [{"name": "Song Studio", "version": "0.1"}],
        "title": title,
        "format": mime,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{
                "action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                "softwareAgent": {"name": "Song Studio"}}]}},
            {"label": ASSERTION_LABEL, "data": tags.as_text()},
        ],
    }
    if recipe_json is not None:
        manifest["assertions"].append({"label": RECIPE_LABEL, "data": {
            "canonical_json": recipe_json.decode("utf-8"), "sha256": hashlib.sha256(recipe_json).hexdigest()}})
    sidecar = sidecar_path(path)
    if sidecar is not None:
        _sign_sidecar(path, sidecar, manifest, credentials)
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "w+b") as dst, path.open("rb") as src:
            _sign(path, manifest, credentials, src, dst)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _sign(path: Path, manifest: dict, credentials: C2PACredentials, src, dst, *, no_embed: bool = False) -> bytes:
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
            ALGORITHMS[credentials.alg], credentials.cert_chain_pem, credentials.private_key_pem,
            credentials.tsa_url.encode() if credentials.tsa_url else None))
        with signer, c2pa.Builder(manifest) as builder:
            if no_embed:
                builder.set_no_embed()
            return builder.sign(signer, manifest["format"], src, dst)
    except c2pa.C2paError as exc:
        raise ManifestError(f"C2PA signing of {path} failed: {exc}") from None


def _sign_sidecar(path: Path, sidecar: Path, manifest: dict, credentials: C2PACredentials) -> None:
    """The manifest store for `path`, bound to its exact bytes, written to `sidecar`; `path` is
    not touched. The hard binding is given to the builder (sha256 of the whole file, no
    exclusions), so c2pa keeps it instead of hashing the ID3-wrapped copy it writes in no-embed
    mode (that copy is discarded). Read back before returning: a manifest that does not bind
    to the file is never left beside it."""
    with path.open("rb") as src:
        digest = hashlib.file_digest(src, "sha256").digest()
    manifest["assertions"].append({"label": "c2pa.hash.data", "data": {
        "name": "whole file", "alg": "sha256", "hash": list(digest), "exclusions": [], "pad": []}})
    with tempfile.TemporaryFile(dir=path.parent) as discard, path.open("rb") as src:
        store = _sign(path, manifest, credentials, src, discard, no_embed=True)
    if not store:
        raise ManifestError(f"C2PA signing of {path} returned no manifest store")
    _atomic_write(sidecar, store)
    report = read_manifest(path)
    if report.state not in ("trusted", "untrusted"):
        sidecar.unlink(missing_ok=True)
        raise ManifestError(f"the C2PA manifest signed for {path} does not validate against it "
                            f"({', '.join(report.codes) or report.state}); the master was left unsigned")


def has_manifest(path: str | Path) -> bool:
    return read_manifest(path).state != "absent"


def read_manifest(path: str | Path, *, trust_anchors_pem: bytes | None = None,
                  manifest_path: str | Path | None = None) -> ManifestReport:
    """Validates the file's manifest: the sidecar (`manifest_path`, else the `.c2pa` file beside
    a FLAC) when there is one, else the embedded one (WAV, MP3, and FLAC masters sealed before
    sidecars). trusted: valid and chained to a given trust anchor; untrusted: valid but the
    signer is not trusted here; invalid: the file or manifest does not match its signature
    (e.g. a changed byte); absent: no manifest."""
    path = Path(path)
    mime = MIME_TYPES[audio_format(path)]
    sidecar = Path(manifest_path) if manifest_path is not None else sidecar_path(path)
    if sidecar is not None and not sidecar.is_file():
        if manifest_path is not None:
            raise InvalidInput(f"manifest file not found: {sidecar}")
        sidecar = None
    try:
        store = sidecar.read_bytes() if sidecar is not None else None
    except OSError as exc:
        raise ManifestError(f"cannot read the manifest {sidecar}: {exc.strerror}") from None
    settings: dict = {"verify": {"verify_trust": trust_anchors_pem is not None}}
    if trust_anchors_pem is not None:
        settings["trust"] = {"trust_anchors": trust_anchors_pem.decode()}
    try:
        with c2pa.Context.from_dict(settings) as context, path.open("rb") as stream:
            reader = c2pa.Reader(mime, stream, store, context)
            with reader:
                state = reader.get_validation_state()
                results = reader.get_validation_results() or {}
                active = reader.get_active_manifest() or {}
    except c2pa.C2paError as exc:
        not_found = "ManifestNotFound" in type(exc).__name__ or "no JUMBF" in str(exc) or "ManifestNotFound" in str(exc)
        if not_found and sidecar is None:
            return ManifestReport(state="absent")
        return ManifestReport(state="invalid", codes=(f"unreadable: {exc}",),
                              sidecar=sidecar.name if sidecar is not None else None)
    codes = _failure_codes(results)
    assertion = next((a.get("data") for a in active.get("assertions", []) if a.get("label") == ASSERTION_LABEL), None)
    recipe = next((a.get("data") for a in active.get("assertions", []) if a.get("label") == RECIPE_LABEL), None)
    recipe_json = recipe["canonical_json"].encode("utf-8") if isinstance(recipe, dict) and "canonical_json" in recipe \
        else None
    subject = (active.get("signature_info") or {}).get("common_name")
    if state == "Trusted":
        mapped = "trusted"
    elif state == "Valid":
        mapped = "untrusted"
    else:
        mapped = "invalid"
    return ManifestReport(state=mapped, codes=codes, provenance=assertion, signer_subject=subject,
                          recipe_json=recipe_json, sidecar=sidecar.name if sidecar is not None else None)


def _failure_codes(results: dict) -> tuple[str, ...]:
    codes = []
    for section in (results.get("activeManifest") or {}, *((results.get("ingredientDeltas") or []))):
        for entry in section.get("failure", []) if isinstance(section, dict) else []:
            codes.append(entry.get("code", "?"))
    return tuple(codes)


def _write_dev_ca(ca_path: Path, chain_path: Path, key_path: Path) -> None:
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = _dev_name("Song Studio development CA")
    ca_cert = _certificate(subject=ca_name, key=ca_key, issuer=ca_name, issuer_key=ca_key, days=3650, ca=True)
    leaf_cert = _certificate(subject=_dev_name("Song Studio development signer"), key=leaf_key, issuer=ca_name,
                             issuer_key=ca_key, days=825, ca=False)
    pem = serialization.Encoding.PEM
    key_pem = leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    ca_path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(key_path, key_pem, mode=0o600)
    _atomic_write(chain_path, leaf_cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    _atomic_write(ca_path, ca_cert.public_bytes(pem))  # last: its presence marks a complete set


def _dev_name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Song Studio (development)")])


def _certificate(*, subject: x509.Name, key, issuer: x509.Name, issuer_key, days: int, ca: bool) -> x509.Certificate:
    """A CA certificate (signs certificates only) or a C2PA signing certificate (digitalSignature,
    emailProtection, not a CA), which is the profile C2PA validators accept."""
    now = dt.datetime.now(dt.timezone.utc)
    usage = x509.KeyUsage(digital_signature=not ca, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                          encipher_only=False, decipher_only=False)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
               .add_extension(usage, critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if not ca:
        builder = (builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                                  critical=False))
    return builder.sign(issuer_key, hashes.SHA256())


def _atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


