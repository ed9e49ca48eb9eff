"""The trust list: every certificate a verifier may meet, signed so that the root certificate alone checks it.

Offline verifiers (hotel desks, police phones) refresh it now and then, like the EU DCC trust list
(HCERT Appendix A: kid → Document Signer Certificate). The verifier's side is
:mod:`verification.trustlist`. Layout (CDDL, RFC 8610)::

    Trust_List = #6.18([                                      ; COSE_Sign1, RFC 9052 §4.2
        protected: bstr .cbor {
            1: alg,
            16: "application/yinxin-trust-list+cbor",
            33: [+ bstr],               ; x5chain (RFC 9360 §2): signer certificate first, then the
        },                              ; issuing CA; the root is not included (the verifier has it)
        unprotected: {},
        payload: bstr .cbor {
            "version": uint,            ; grows with every publication
            "issued_at": int,           ; NumericDate (RFC 8392 §2)
            "expires_at": int,          ; verifiers refuse the list after this
            "entries": [* {
                "kid": bstr .size 8,    ; first 8 bytes of SHA-256 over the certificate DER (HCERT §3.3.1)
                "certificate": bstr,    ; DER (RFC 5280; GB/T 20518 for SM2)
                "not_before": int,
                "not_after": int,
                ? "issuer": tstr,       ; the department's USCC (organizationIdentifier), seals only
            }],
        },
        signature: bstr,                ; r‖s for ES256 / SM2, RFC 8032 for EdDSA
    ])

The signer is an end-entity certificate (keyUsage digitalSignature) issued by an issuing CA under
the root, so a verifier needs nothing but the root: it validates the x5chain (RFC 5280 §6.1), then
the signature, then reads the entries. The x5chain sits in the *protected* header (RFC 9360 allows
either): the signature then covers every byte of the list. In the unprotected header a certificate's
DER could be altered without changing what it certifies (cryptography accepts, for instance, a
non-zero unused-bits count in the signature BIT STRING), and an altered list would still verify.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca import KeySigner
from ca.authority import organization_identifier, public_key_der

from .credential import HEADER_ALG, _cose_alg, _cose_signature, _spki_der, kid_of
from .errors import FieldValidationError, IssuanceError

__all__ = ["TRUST_LIST_TYP", "TrustListClaims", "issue_trust_list"]

TRUST_LIST_TYP = "application/yinxin-trust-list+cbor"
"""COSE ``typ`` header (RFC 9596, label 16) of a trust list: keeps it apart from every other COSE message."""

HEADER_TYP = 16  # RFC 9596
HEADER_X5CHAIN = 33  # RFC 9360 §2
_COSE_SIGN1_TAG = 18


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise FieldValidationError(name, "must be a timezone-aware datetime")
    return value.astimezone(UTC).replace(microsecond=0)


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class TrustListClaims:
    """What one trust list states: its version, when it was made, until when to use it, and the certificates.

    ``certificates`` are the seal certificates that sign credentials and status lists, and the issuing
    CA certificates that certify them; each is listed once, in the order given.
    """

    version: int
    issued_at: datetime
    expires_at: datetime
    certificates: Sequence[x509.Certificate]

    def __post_init__(self) -> None:
        if type(self.version) is not int or self.version < 0:
            raise FieldValidationError("version", "must be a non-negative integer")
        issued_at = _utc(self.issued_at, "issued_at")
        expires_at = _utc(self.expires_at, "expires_at")
        if expires_at <= issued_at:
            raise FieldValidationError("expires_at", "must be later than issued_at")
        certificates = tuple(dict.fromkeys(self.certificates))
        if not all(isinstance(c, x509.Certificate) for c in certificates):
            raise FieldValidationError("certificates", "must be X.509 certificates")
        object.__setattr__(self, "issued_at", issued_at)
        object.__setattr__(self, "expires_at", expires_at)
        object.__setattr__(self, "certificates", certificates)

    def to_payload(self) -> dict[str, object]:
        """The payload map of the module docstring."""
        entries: list[dict[str, object]] = []
        for certificate in self.certificates:
            entry: dict[str, object] = {
                "kid": kid_of(certificate),
                "certificate": _der(certificate),
                "not_before": int(certificate.not_valid_before_utc.timestamp()),
                "not_after": int(certificate.not_valid_after_utc.timestamp()),
            }
            uscc = organization_identifier(certificate)
            if uscc is not None:
                entry["issuer"] = uscc
            entries.append(entry)
        return {
            "version": self.version,
            "issued_at": int(self.issued_at.timestamp()),
            "expires_at": int(self.expires_at.timestamp()),
            "entries": entries,
        }


def issue_trust_list(
    claims: TrustListClaims,
    *,
    signer: KeySigner,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
) -> bytes:
    """Sign ``claims`` as a COSE_Sign1 trust list and return its bytes.

    ``certificate`` certifies ``signer``'s key and must cover ``issued_at`` … ``expires_at``; ``chain``
    holds the CA certificates above it except the root (RFC 9360 x5chain, protected: leaf first).
    """
    alg = _cose_alg(signer)
    if _spki_der(signer) != public_key_der(certificate):
        raise IssuanceError("the signer's key does not match the certificate")
    if claims.issued_at < certificate.not_valid_before_utc or claims.expires_at > certificate.not_valid_after_utc:
        raise IssuanceError("the trust list's validity must lie within the signer certificate's validity")
    x5chain = [_der(certificate), *(_der(c) for c in chain)]
    protected = cbor2.dumps({HEADER_ALG: alg, HEADER_TYP: TRUST_LIST_TYP, HEADER_X5CHAIN: x5chain}, canonical=True)
    payload = cbor2.dumps(claims.to_payload())
    # RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload].
    signature = _cose_signature(alg, signer.sign(cbor2.dumps(["Signature1", protected, b"", payload])))
    encoded: bytes = cbor2.dumps(cbor2.CBORTag(_COSE_SIGN1_TAG, [protected, {}, payload, signature]))
    return encoded
