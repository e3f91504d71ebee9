"""Ed25519 keys as Multikey, and Data Integrity proofs (``eddsa-rdfc-2022``): pure functions.

Signing (W3C vc-di-eddsa, section 3.2): the proof options are the proof without ``proofValue``, with the
document's ``@context``; hash = SHA-256(RDFC(proof options)) || SHA-256(RDFC(document without proof));
signature = Ed25519(hash); ``proofValue`` = ``z`` + base58btc(signature). Verifying recomputes the same bytes.
The older ``eddsa-2022`` name and ``Ed25519Signature2020`` (VC 1.1) use the same bytes and are accepted too.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from portfolio.credentials import jsonld

ED25519_PUB = b"\xed\x01"  # multicodec ed25519-pub, as a varint
ED25519_PRIV = b"\x80\x26"  # multicodec ed25519-priv (0x1300), as a varint
CRYPTOSUITE = "eddsa-rdfc-2022"
EDDSA_SUITES = frozenset({"eddsa-rdfc-2022", "eddsa-2022"})


class KeyProblem(ValueError):
    """A key that cannot be read."""


# --- Keys ---------------------------------------------------------------------------------------------


def public_multibase(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58.b58encode(ED25519_PUB + raw).decode()


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its Multikey form ``z6Mk...``; ``KeyProblem`` otherwise."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise KeyProblem("not a base58btc multibase value")
    try:
        raw = base58.b58decode(value[1:])
    except ValueError as exc:
        raise KeyProblem("not base58btc") from exc
    if len(raw) != 34 or not raw.startswith(ED25519_PUB):
        raise KeyProblem("not an Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def secret_multibase(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return "z" + base58.b58encode(ED25519_PRIV + raw).decode()


def private_key_from_text(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM (PKCS#8) text or a ``secretKeyMultibase`` value."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except ValueError as exc:
            raise KeyProblem("unreadable PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyProblem("the PEM key is not an Ed25519 key")
        return key
    try:
        raw = base58.b58decode(text[1:]) if text.startswith("z") else b""
    except ValueError:
        raw = b""
    if len(raw) != 34 or not raw.startswith(ED25519_PRIV):
        raise KeyProblem("neither a PEM private key nor an Ed25519 secretKeyMultibase")
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def did_key_public(did: str) -> Ed25519PublicKey:
    """The key of a ``did:key:z6Mk...`` (self-describing: no resolution needed)."""
    method_specific = did.removeprefix("did:key:").split("#", 1)[0]
    return public_key_from_multibase(method_specific)


# --- Data Integrity: eddsa-rdfc-2022 ----------------------------------------------------------------


def iso_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _hash_data(document: dict[str, Any], proof_options: dict[str, Any]) -> bytes:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof_options.items() if k != "proofValue"}
    options["@context"] = unsecured.get("@context")
    proof_hash = hashlib.sha256(jsonld.canonicalize(options).encode()).digest()
    doc_hash = hashlib.sha256(jsonld.canonicalize(unsecured).encode()).digest()
    return proof_hash + doc_hash


def sign(document: dict[str, Any], key: Ed25519PrivateKey, verification_method: str,
         created: str | None = None) -> dict[str, Any]:
    """``document`` with a ``DataIntegrityProof`` (eddsa-rdfc-2022) added as its ``proof``."""
    unsecured = {k: v for k, v in copy.deepcopy(document).items() if k != "proof"}
    options = {"type": "DataIntegrityProof", "created": created or iso_now(),
               "verificationMethod": verification_method, "cryptosuite": CRYPTOSUITE,
               "proofPurpose": "assertionMethod"}
    signature = key.sign(_hash_data(unsecured, options))
    # A list, as 1EdTech's strict JSON Schema wants (a single object is a valid proof too).
    return {**unsecured, "proof": [{**options, "proofValue": "z" + base58.b58encode(signature).decode()}]}


class ProofFailure(ValueError):
    """A proof that does not hold; ``reason`` says which step failed."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


def verify(document: dict[str, Any], proof: dict[str, Any], key: Ed25519PublicKey) -> None:
    """Check one Data Integrity proof of ``document`` with ``key``; ``ProofFailure`` when it does not hold,
    ``jsonld.JsonLdProblem`` when the document or the proof has terms no context defines."""
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofFailure("proof_value", "proofValue is not base58btc multibase")
    try:
        signature = base58.b58decode(value[1:])
    except ValueError:
        raise ProofFailure("proof_value", "proofValue is not base58btc") from None
    if len(signature) != 64:
        raise ProofFailure("proof_value", "an Ed25519 signature has 64 bytes")
    try:
        key.verify(signature, _hash_data(document, proof))
    except InvalidSignature:
        raise ProofFailure("signature", "the signature does not match the document") from None
