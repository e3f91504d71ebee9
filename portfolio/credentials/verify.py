"""Checking an Open Badges 3.0 credential, offline: the one function ``check``.

``check(data, resolve_key=..., resolve_status=..., now=...)`` takes what a person hands in (the JSON of a
credential, a compact JWS / JWT, or a baked PNG or SVG image) and answers a ``Verdict``: who issued it, to
whom, for what, whether its proof holds, whether it is revoked, and every problem found, each with a code and
a plain French sentence. It never touches the network:

- JSON-LD contexts come from the bundled files (``jsonld.py``), JSON Schemas too (``data/schema``);
- keys come from ``resolve_key(verification_method)``: the site's own issuers (``did:web`` documents it
  serves), ``did:key`` (the key is in the identifier) and, as 1EdTech's test credentials do, a key written
  as the fragment of the verification method (``https://issuer.example#z6Mk...``: the proof can be checked,
  but the key is only as trustworthy as the file that carries it, which the verdict says);
- Bitstring status lists come from ``resolve_status(url)`` (the site's own lists); another site's list
  cannot be read offline, which the verdict says too.

Proofs: Data Integrity ``eddsa-rdfc-2022`` (also ``eddsa-2022`` and ``Ed25519Signature2020``, VC 1.1), and
JWS compact serialisation (VC-JOSE, or the older VC-JWT with a ``vc`` claim) with EdDSA, ES256 or RS256.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from portfolio.credentials import baking, proofs
from portfolio.credentials.jsonld import JsonLdProblem, known_contexts

SCHEMA_DIR = Path(__file__).resolve().parent / "data" / "schema"
VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_CONTEXTS = frozenset({
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    OB_CONTEXT,
})
ACHIEVEMENT_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})
# The JSON Schemas 1EdTech publishes under these addresses are bundled.
SCHEMA_FILES = {
    "AchievementCredential": "achievementcredential.json",
    "EndorsementCredential": "endorsementcredential.json",
}
KNOWN_SCHEMA_IDS = {
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_anyachievementcredential_schema.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/achievementcredential.json",
}
JWS_PATTERN = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
STATUS_LIST_MIN_BITS = 131_072

def N_(text: str) -> str:
    """Marks a sentence for the translation catalogue (``make translations`` extracts ``N_``); the page translates
    it when it shows it. This module stays pure: no Flask, no Babel."""
    return text


# Every problem the check can report, with the sentence a person reads.
MESSAGES: dict[str, str] = {
    "unreadable": N_("Ce fichier n'est pas une attestation numérique lisible (ni JSON, ni JWT, ni image de badge)."),
    "context": N_("L'attestation ne suit pas les modèles attendus (contextes JSON-LD du W3C et d'Open Badges 3.0)."),
    "context_unknown": N_("L'attestation utilise un vocabulaire que ce site ne connaît pas : il ne peut pas la "
                       "vérifier sans Internet."),
    "undefined_term": N_("L'attestation contient des informations qu'aucun vocabulaire connu ne définit : elles "
                      "ne seraient pas couvertes par la signature."),
    "type": N_("Ce n'est pas un badge Open Badges (il faut le type OpenBadgeCredential ou AchievementCredential)."),
    "issuer": N_("L'émetteur est absent ou mal décrit."),
    "credential_subject": N_("La personne ou la réussite attestée est mal décrite."),
    "evidence": N_("Une preuve jointe est mal décrite."),
    "schema": N_("L'attestation ne respecte pas le format Open Badges 3.0."),
    "schema_unavailable": N_("L'attestation demande un contrôle de format que ce site ne peut pas faire sans "
                          "Internet."),
    "not_yet_valid": N_("L'attestation n'est pas encore valable (sa date de début est dans le futur)."),
    "expired": N_("L'attestation n'est plus valable (sa date de fin est passée)."),
    "proof_missing": N_("L'attestation n'est pas signée."),
    "proof_unsupported": N_("L'attestation est signée d'une façon que ce site ne sait pas vérifier."),
    "proof_method": N_("La clé qui a signé l'attestation est introuvable ou ne correspond pas à l'émetteur."),
    "proof_invalid": N_("La signature ne correspond pas : l'attestation a été modifiée ou n'a pas été signée par "
                     "cet émetteur."),
    "revoked": N_("L'attestation a été révoquée par son émetteur."),
    "suspended": N_("L'attestation est suspendue par son émetteur."),
    "status_invalid": N_("La liste de révocation de l'émetteur est illisible ou mal signée."),
}
WARNINGS: dict[str, str] = {
    "old_version": N_("L'attestation suit une ancienne version des standards (VC 1.1) : elle est acceptée, "
                   "mais son émetteur devrait passer à la version actuelle."),
    "old_context": N_("L'attestation suit une version ancienne d'Open Badges 3.0."),
    "old_cryptosuite": N_("La signature utilise un ancien nom de méthode (eddsa-2022)."),
    "embedded_key": N_("La clé de signature n'est écrite que dans l'attestation elle-même : ce site ne peut pas "
                    "confirmer, sans Internet, qu'elle appartient bien à l'émetteur."),
    "retired_key": N_("La signature a été faite avec une ancienne clé de l'émetteur, remplacée depuis ; "
                   "elle reste valable pour les attestations émises avant."),
    "proof_ignored": N_("Une signature d'un type inconnu a été ignorée."),
    "status_unchecked": N_("Ce site ne peut pas consulter, sans Internet, la liste de révocation de l'émetteur."),
}


@dataclass(frozen=True)
class Problem:
    code: str
    detail: str = ""

    @property
    def message(self) -> str:
        return MESSAGES.get(self.code) or WARNINGS.get(self.code) or self.code


@dataclass(frozen=True)
class ResolvedKey:
    """A public key found for a verification method, and how much that finding is worth."""

    key: Any  # Ed25519PublicKey, or a joserfc key for a JWS
    controller: str | None  # who the key belongs to (compared with the issuer)
    source: str  # "site" (a did:web this site serves), "did:key", "embedded" (written in the credential)
    retired: dt.datetime | None = None  # a rotated key: when it was replaced
    organisation: str | None = None  # for a key of this site: its organisation's name


class KeyNotFound(LookupError):
    pass


class KeyRefused(KeyNotFound):
    """The key is claimed for an issuer whose keys are known, and is not one of them: no other way is tried."""


KeyResolver = Callable[[str], ResolvedKey]
StatusResolver = Callable[[str], dict[str, Any] | None]


@dataclass
class Verdict:
    """What ``check`` found; ``ok`` when nothing stands against the credential."""

    credential: dict[str, Any] | None = None
    format: str = ""  # "json" or "jwt"
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    proof_checked: bool = False  # a supported proof was found and its key too
    proof_valid: bool = False
    key: ResolvedKey | None = None
    revoked: bool | None = None  # None: no status to check, or it could not be read
    status_checked: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def codes(self) -> set[str]:
        return {p.code for p in self.problems}

    def add(self, code: str, detail: str = "") -> None:
        if code not in self.codes:
            self.problems.append(Problem(code, detail))

    def warn(self, code: str, detail: str = "") -> None:
        if code not in {w.code for w in self.warnings}:
            self.warnings.append(Problem(code, detail))

    # What the page shows, read from the credential (None when absent).
    @property
    def issuer(self) -> dict[str, Any]:
        issuer = (self.credential or {}).get("issuer")
        return issuer if isinstance(issuer, dict) else {"id": issuer} if isinstance(issuer, str) else {}

    @property
    def subject(self) -> dict[str, Any]:
        subject = (self.credential or {}).get("credentialSubject")
        if isinstance(subject, list):
            subject = subject[0] if subject else None
        return subject if isinstance(subject, dict) else {}

    @property
    def achievement(self) -> dict[str, Any]:
        achievement = self.subject.get("achievement")
        return achievement if isinstance(achievement, dict) else {}

    @property
    def holder_name(self) -> str | None:
        for identity in _many(self.subject.get("identifier")):
            if isinstance(identity, dict) and identity.get("identityType") == "name" and not identity.get("hashed"):
                return str(identity.get("identityHash"))
        name = self.subject.get("name")
        return str(name) if isinstance(name, str) else None


def _many(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- Reading what was handed in -------------------------------------------------------------------


def read(data: bytes | str) -> tuple[str, dict[str, Any] | str]:
    """("json", credential) or ("jwt", compact JWS) from a JSON text, a JWS, or a baked PNG / SVG image.
    ``ValueError`` when it is none of them."""
    if isinstance(data, bytes):
        if data.startswith(baking.PNG_SIGNATURE):
            return read(baking.unbake_png(data))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError("not text") from exc
    else:
        text = data
    text = text.strip()
    if text.startswith("<"):
        return read(baking.unbake_svg(text))
    if JWS_PATTERN.match(text):
        return "jwt", text
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ValueError("neither JSON nor a JWS") from exc
    if not isinstance(document, dict):
        raise ValueError("JSON, but not an object")
    return "json", document


# --- Keys -----------------------------------------------------------------------------------------


def default_key_resolver(site: KeyResolver | None = None) -> KeyResolver:
    """The resolver ``check`` uses: the site's own keys first, then ``did:key``, then a key written as the
    verification method's fragment (1EdTech's test convention)."""

    def resolve(method: str) -> ResolvedKey:
        if site is not None:
            try:
                return site(method)
            except KeyRefused:
                raise
            except KeyNotFound:
                pass
        if method.startswith("did:key:"):
            try:
                key = proofs.did_key_public(method)
            except proofs.KeyProblem as exc:
                raise KeyNotFound(f"unreadable did:key: {exc}") from None
            return ResolvedKey(key, method.split("#", 1)[0], "did:key")
        controller, hash_, fragment = method.partition("#")
        scheme = controller.split(":", 1)[0] if ":" in controller else ""
        if hash_ and scheme in ("https", "http", "did", "urn") and fragment.startswith("z"):
            try:
                key = proofs.public_key_from_multibase(fragment)
            except proofs.KeyProblem:
                pass
            else:
                return ResolvedKey(key, controller, "embedded")
        if ":" not in method:
            raise KeyNotFound("the verification method is not a URI (no scheme)")
        if scheme not in ("https", "http", "did"):
            raise KeyNotFound(f"unknown verification method scheme: {scheme}")
        if scheme == "did" and method.split(":")[1] not in ("web", "key"):
            raise KeyNotFound(f"unknown DID method: {method.split(':')[1]}")
        raise KeyNotFound(f"the key {method} cannot be read without the network")

    return resolve


# --- Structure: context, types, JSON Schema --------------------------------------------------------


@cache
def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text())  # type: ignore[no-any-return]


def _set_at(root: Any, path: list[Any], value: Any) -> Any:
    if not path:
        return value
    node = root
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return root


def _wants_array(error: Any) -> bool:
    expected = error.validator_value
    return error.validator == "type" and (expected == "array" or (isinstance(expected, list) and "array" in expected)) \
        and not isinstance(error.instance, list)


def _array_errors(errors: Any) -> list[Any]:
    found = []
    for error in errors:
        if _wants_array(error):
            found.append(error)
        found.extend(_array_errors(error.context or []))
    return found


def _lenient(validator: Any, instance: Any) -> Any:
    """A copy where a single value stands in an array wherever the schema wants "one or more" (as 1EdTech's
    validator accepts): each place the strict schema wants an array gets one, until none is left."""
    for _round in range(50):
        wrong = _array_errors(validator.iter_errors(instance))
        if not wrong:
            break
        error = wrong[0]
        instance = _set_at(instance, list(error.absolute_path), [error.instance])
    return instance


SCHEMA_PLACES = {"@context": "context", "type": "type", "issuer": "issuer", "credentialSubject": "credential_subject",
                 "evidence": "evidence", "validFrom": "schema", "validUntil": "schema"}


def schema_problems(credential: dict[str, Any], strict: bool = False) -> list[Problem]:
    """The JSON Schema's complaints about ``credential``, as problems placed where they are (issuer, subject,
    evidence...). ``strict`` checks against 1EdTech's strict schema as is; otherwise "one or more" values
    given as a single value are accepted, as 1EdTech's validator does."""
    import jsonschema

    types = set(_many(credential.get("type")))
    name = SCHEMA_FILES["EndorsementCredential" if "EndorsementCredential" in types else "AchievementCredential"]
    validator = jsonschema.Draft201909Validator(_schema(name), format_checker=jsonschema.FormatChecker())
    instance = copy.deepcopy(credential)
    contexts = _many(instance.get("@context"))
    if not strict and contexts and contexts[0] == VC1_CONTEXT:  # VC 1.1: its own context and date names
        instance["@context"] = [VC2_CONTEXT, *contexts[1:]]
        instance.setdefault("validFrom", instance.get("issuanceDate"))
        if "expirationDate" in instance:
            instance.setdefault("validUntil", instance["expirationDate"])
    if not strict:
        instance = _lenient(validator, instance)
    problems = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = list(error.absolute_path)
        place = str(path[0]) if path else ""
        if not path and error.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", error.message)
            place = missing[0] if missing else ""
        code = SCHEMA_PLACES.get(place, "schema")
        where = "/".join(str(p) for p in path)
        problems.append(Problem(code, f"{where or '(root)'}: {error.message[:200]}"))
    return problems


def _check_structure(verdict: Verdict, credential: dict[str, Any]) -> None:
    contexts = _many(credential.get("@context"))
    if not contexts or contexts[0] not in (VC2_CONTEXT, VC1_CONTEXT):
        verdict.add("context", "the first context must be the W3C VC context")
    elif contexts[0] == VC1_CONTEXT:
        verdict.warn("old_version")
    if not any(c in OB_CONTEXTS for c in contexts) and "EndorsementCredential" not in _many(credential.get("type")):
        verdict.add("context", "no Open Badges 3.0 context")
    elif not any(c == OB_CONTEXT for c in contexts):
        verdict.warn("old_context")
    unknown = [c for c in contexts if isinstance(c, str) and c not in known_contexts()]
    if unknown:
        verdict.add("context_unknown", ", ".join(unknown))
    types = set(_many(credential.get("type")))
    if "VerifiableCredential" not in types or not (types & (ACHIEVEMENT_TYPES | {"EndorsementCredential"})):
        verdict.add("type", "type: " + ", ".join(sorted(str(t) for t in types)))
    for problem in schema_problems(credential):
        verdict.add(problem.code, problem.detail)
    for schema in _many(credential.get("credentialSchema")):
        if isinstance(schema, dict) and schema.get("id") not in KNOWN_SCHEMA_IDS:
            verdict.add("schema_unavailable", str(schema.get("id")))


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _check_dates(verdict: Verdict, credential: dict[str, Any], now: dt.datetime) -> None:
    start = _parse_time(credential.get("validFrom") or credential.get("issuanceDate"))
    end = _parse_time(credential.get("validUntil") or credential.get("expirationDate"))
    if start is not None and start > now:
        verdict.add("not_yet_valid", start.isoformat())
    if end is not None and end < now:
        verdict.add("expired", end.isoformat())


def _issuer_id(credential: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


# --- Proofs ---------------------------------------------------------------------------------------


def _supported(proof: Any) -> bool:
    if not isinstance(proof, dict) or proof.get("proofPurpose") != "assertionMethod":
        return False
    if proof.get("type") == "DataIntegrityProof":
        return proof.get("cryptosuite") in proofs.EDDSA_SUITES
    return proof.get("type") == "Ed25519Signature2020"


def _note_key(verdict: Verdict, found: ResolvedKey, issuer: str | None, created: dt.datetime | None) -> bool:
    """Whether the key may stand for the issuer; records warnings about it."""
    if found.source == "did:key" and issuer is not None and not issuer.startswith("did:"):
        found = ResolvedKey(found.key, None, "embedded")  # nothing ties this key to a non-DID issuer
    if found.controller is not None and issuer is not None and found.controller != issuer:
        verdict.add("proof_method", f"the key belongs to {found.controller}, not to the issuer {issuer}")
        return False
    if found.source == "embedded":
        verdict.warn("embedded_key")
    if found.retired is not None:
        if created is not None and created > found.retired:
            verdict.add("proof_method", "signed with a key after it was replaced")
            return False
        verdict.warn("retired_key")
    verdict.key = found
    return True


def _check_embedded_proofs(verdict: Verdict, credential: dict[str, Any], resolve_key: KeyResolver) -> None:
    all_proofs = _many(credential.get("proof"))
    if not all_proofs:
        verdict.add("proof_missing")
        return
    usable = [p for p in all_proofs if _supported(p)]
    if len(usable) < len(all_proofs):
        if not usable:
            suites = {str(p.get("cryptosuite") or p.get("type")) for p in all_proofs if isinstance(p, dict)}
            verdict.add("proof_unsupported", ", ".join(sorted(suites)))
            return
        verdict.warn("proof_ignored")
    issuer = _issuer_id(credential)
    holds = []
    for proof in usable:
        if proof.get("cryptosuite") == "eddsa-2022":
            verdict.warn("old_cryptosuite")
        method = proof.get("verificationMethod")
        try:
            found = resolve_key(method) if isinstance(method, str) else None
        except KeyNotFound as exc:
            verdict.add("proof_method", str(exc))
            continue
        if found is None or not isinstance(found.key, Ed25519PublicKey):
            verdict.add("proof_method", "no Ed25519 key for this proof")
            continue
        if not _note_key(verdict, found, issuer, _parse_time(proof.get("created"))):
            continue
        verdict.proof_checked = True
        try:
            proofs.verify(credential, proof, found.key)
        except proofs.ProofFailure as exc:
            verdict.add("proof_invalid", str(exc))
            holds.append(False)
        except JsonLdProblem as exc:
            verdict.add("context_unknown" if exc.context else "undefined_term", str(exc))
            holds.append(False)
        else:
            holds.append(True)
    verdict.proof_valid = bool(holds) and all(holds)


def _b64json(part: str) -> dict[str, Any]:
    value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


JWS_ALGORITHMS = ("EdDSA", "Ed25519", "ES256", "RS256")


def _check_jws(verdict: Verdict, token: str, resolve_key: KeyResolver) -> dict[str, Any] | None:
    """The credential a JWS carries (VC-JOSE: the payload itself; VC-JWT: its ``vc`` claim), after checking
    the signature."""
    from joserfc import jwk, jws
    from joserfc.errors import JoseError

    try:
        header, payload = (_b64json(part) for part in token.split(".")[:2])
    except ValueError:
        verdict.add("unreadable", "the JWS header or payload is not JSON")
        return None
    credential = payload.get("vc") if isinstance(payload.get("vc"), dict) else payload
    if "vc" in payload and isinstance(payload["vc"], dict):
        credential = dict(payload["vc"])
        if "iss" in payload and not credential.get("issuer"):
            credential["issuer"] = payload["iss"]
    verdict.credential = credential
    alg = header.get("alg")
    if alg not in JWS_ALGORITHMS:
        verdict.add("proof_unsupported", f"alg {alg}")
        return credential
    key: Any = None
    found: ResolvedKey | None = None
    try:
        if isinstance(header.get("jwk"), dict):
            key = jwk.import_key(header["jwk"])
            found = ResolvedKey(key, None, "embedded")
        elif isinstance(header.get("kid"), str):
            kid = header["kid"]
            if kid.startswith("#"):
                kid = (_issuer_id(credential) or "") + kid
            found = resolve_key(kid)
            raw = found.key
            key = jwk.import_key(_okp_jwk(raw)) if isinstance(raw, Ed25519PublicKey) else raw
        else:
            verdict.add("proof_method", "the JWS names no key (neither jwk nor kid)")
            return credential
    except KeyNotFound as exc:
        verdict.add("proof_method", str(exc))
        return credential
    except (JoseError, ValueError) as exc:
        verdict.add("proof_method", f"unreadable key: {exc}")
        return credential
    if not _note_key(verdict, found, _issuer_id(credential) if found.controller else None,
                     _parse_time(credential.get("validFrom"))):
        return credential
    verdict.proof_checked = True
    registry = jws.JWSRegistry(algorithms=list(JWS_ALGORITHMS))
    registry.max_header_length = 16_384  # a header may carry its RSA key (jwk)
    try:
        jws.deserialize_compact(token, key, algorithms=[alg], registry=registry)
    except JoseError as exc:
        verdict.add("proof_invalid", f"JWS: {exc}")
    else:
        verdict.proof_valid = True
    return credential


def _okp_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()}


# --- Status: Bitstring Status List -----------------------------------------------------------------


def decode_status_list(encoded: str) -> bytes:
    """The bits of an ``encodedList`` (multibase base64url, no padding, of the GZIP of the bitstring)."""
    if not isinstance(encoded, str) or not encoded:
        raise ValueError("no encodedList")
    body = encoded[1:] if encoded[0] == "u" else encoded  # VC 2.0 lists are multibase; older ones are not
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def encode_status_list(bits: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(gzip.compress(bits, mtime=0)).rstrip(b"=").decode()


def bit_is_set(bits: bytes, index: int) -> bool:
    """Bit 0 is the most significant bit of the first byte."""
    if index < 0 or index // 8 >= len(bits):
        raise IndexError(index)
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def _check_status(verdict: Verdict, credential: dict[str, Any], resolve_key: KeyResolver,
                  resolve_status: StatusResolver | None, now: dt.datetime) -> None:
    for entry in _many(credential.get("credentialStatus")):
        if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
            verdict.warn("status_unchecked", str(entry.get("type") if isinstance(entry, dict) else entry))
            continue
        url = entry.get("statusListCredential")
        listed = resolve_status(url) if resolve_status is not None and isinstance(url, str) else None
        if listed is None:
            verdict.warn("status_unchecked", str(url))
            continue
        try:
            index = int(str(entry.get("statusListIndex")))
        except ValueError:
            verdict.add("status_invalid", "statusListIndex is not a number")
            continue
        inner = Verdict(credential=listed)
        _check_embedded_proofs(inner, listed, resolve_key)
        subject = listed.get("credentialSubject") if isinstance(listed.get("credentialSubject"), dict) else {}
        if not inner.proof_valid or "BitstringStatusListCredential" not in _many(listed.get("type")) \
                or _issuer_id(listed) != _issuer_id(credential):
            verdict.add("status_invalid", "; ".join(p.detail or p.code for p in inner.problems) or
                        "not a status list of the same issuer")
            continue
        try:
            bits = decode_status_list(subject.get("encodedList"))
            set_ = bit_is_set(bits, index)
        except (ValueError, OSError, IndexError) as exc:
            verdict.add("status_invalid", f"unreadable list: {exc}")
            continue
        verdict.status_checked = True
        purpose = subject.get("statusPurpose") or entry.get("statusPurpose")
        if set_ and purpose == "suspension":
            verdict.add("suspended")
        elif set_:
            verdict.revoked = True
            verdict.add("revoked")
        elif verdict.revoked is None:
            verdict.revoked = False


# --- The check ------------------------------------------------------------------------------------


def check(data: bytes | str | dict[str, Any], resolve_key: KeyResolver | None = None,
          resolve_status: StatusResolver | None = None, now: dt.datetime | None = None) -> Verdict:
    """Check a credential (see the module's docstring); never raises on bad input."""
    now = now or dt.datetime.now(dt.UTC)
    resolve_key = resolve_key or default_key_resolver()
    verdict = Verdict()
    try:
        kind, content = ("json", data) if isinstance(data, dict) else read(data)
    except (ValueError, baking.NotBaked) as exc:
        verdict.add("unreadable", str(exc))
        return verdict
    verdict.format = kind
    if kind == "jwt":
        credential = _check_jws(verdict, str(content), resolve_key)
        if credential is None:
            return verdict
    else:
        credential = content  # type: ignore[assignment]
        verdict.credential = credential
    assert isinstance(credential, dict)
    _check_structure(verdict, credential)
    _check_dates(verdict, credential, now)
    if kind == "json":
        _check_embedded_proofs(verdict, credential, resolve_key)
    _check_status(verdict, credential, resolve_key, resolve_status, now)
    return verdict
