"""Where the issuers' private keys are: never in the database.

- a folder (``TICKETNET_CREDENTIAL_KEY_DIR``; ``instance/credential-keys`` in development) of PEM files
  (PKCS#8, mode 0600), one per key, named ``<organisation code>-<date>-<start of the public key>.pem``;
- environment variables ``TICKETNET_CREDENTIAL_KEY_<ORGANISATION CODE>`` (the code in capitals, ``-`` as ``_``)
  holding a PEM text or an Ed25519 ``secretKeyMultibase`` (``z3u2...``): for platforms that give secrets as
  variables.

A key is found by its public half (the ``IssuerKey`` row's ``public_key``), so renaming a file changes nothing.
In development (``TICKETNET_CREDENTIAL_KEYS_GENERATE``, on by default outside production) a missing key is
generated into the folder.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portfolio.credentials import proofs

ENV_PREFIX = "TICKETNET_CREDENTIAL_KEY_"


class KeyUnavailable(LookupError):
    """No private key for this organisation: the credential waits (``ticketnet credentials keys``)."""


def env_name(organisation_code: str) -> str:
    return ENV_PREFIX + organisation_code.upper().replace("-", "_").replace(".", "_")


def _folder(config: Mapping[str, Any]) -> Path | None:
    folder = str(config.get("CREDENTIAL_KEY_DIR") or "")
    return Path(folder) if folder else None


def private_keys(config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Ed25519PrivateKey]:
    """Every private key this process can read, by its public Multikey. Unreadable files are skipped (``ticketnet
    check`` names them)."""
    found: dict[str, Ed25519PrivateKey] = {}
    folder = _folder(config)
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*.pem")):
            try:
                key = proofs.private_key_from_text(path.read_text())
            except (OSError, proofs.KeyProblem):
                continue
            found[proofs.public_multibase(key.public_key())] = key
    for name, value in (os.environ if environ is None else environ).items():
        if name.startswith(ENV_PREFIX) and value.strip():
            try:
                key = proofs.private_key_from_text(value)
            except proofs.KeyProblem:
                continue
            found[proofs.public_multibase(key.public_key())] = key
    return found


def unreadable(config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> list[str]:
    """Key files and variables that hold no readable Ed25519 key."""
    bad = []
    folder = _folder(config)
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*.pem")):
            try:
                proofs.private_key_from_text(path.read_text())
            except (OSError, proofs.KeyProblem):
                bad.append(str(path))
    for name, value in sorted((os.environ if environ is None else environ).items()):
        if name.startswith(ENV_PREFIX) and value.strip():
            try:
                proofs.private_key_from_text(value)
            except proofs.KeyProblem:
                bad.append(name)
    return bad


def generate(config: Mapping[str, Any], organisation_code: str, now: dt.datetime) -> tuple[Ed25519PrivateKey, Path]:
    """A new key written into the key folder (0600, never overwriting a file); its path."""
    folder = _folder(config)
    if folder is None:
        raise KeyUnavailable("no key folder: set TICKETNET_CREDENTIAL_KEY_DIR")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    public = proofs.public_multibase(key.public_key())
    path = folder / f"{organisation_code}-{now:%Y%m%d}-{public[-8:]}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(proofs.private_key_pem(key))
    return key, path
