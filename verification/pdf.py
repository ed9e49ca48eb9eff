# pyHanko leaves parts of its API unannotated; calling them is not an error here.
# mypy: disable-error-code="no-untyped-call"
"""Verifying sealed PDFs: PAdES signatures (ETSI EN 319 142-1) validated with pyHanko.

The checks follow the basic validation process of ETSI EN 319 102-1 §5.3 and report each
building block by name: ``format`` (the document parses and carries signatures),
``integrity`` (the digest over /ByteRange matches, §5.2.7 cryptographic verification, first
half), ``signature`` (the signature value verifies, second half), ``coverage`` (nothing but
allowed updates after the signed revision, ISO 32000-1 §12.8.2.2 and pyHanko's difference
analysis), ``certificate_trust`` (X.509 validation to the configured trust anchors at the
validation time, §5.2.6) and ``license_status`` (the licence named in the document is active
in the registry). The signing time is the one the signer claimed (PAdES /M), unproven
without a time-stamp.

SM2 seals (GB/T 35275 CMS with SM2 and SM3, as :mod:`issuance.stamp` makes them) go through the
same pyHanko validation. pyHanko and pyhanko-certvalidator have no SM2 or SM3 (cn-standards
§4.4); they get exactly two things from us:

* :class:`SM2SignatureValidator`, passed as ``ValidationContext(signature_validator=...)``. It
  verifies SM2 signatures (the CMS signer's, and every certificate's on the path, over the
  ``tbsCertificate`` bytes) with :mod:`ca.sm2` and hands every other algorithm to
  pyhanko-certvalidator's own validator. Both SM2 identifiers are accepted in the CMS
  ``signatureAlgorithm``: sm2sign 1.2.156.10197.1.301.1 (the text of GB/T 35275) and
  SM2-with-SM3 1.2.156.10197.1.501 (what Yinxin, GmSSL, BouncyCastle and OpenSSL write).
* the SM2/SM3 OID names (:mod:`ca.oids`). The SM3 message digest over /ByteRange needs
  nothing more: pyHanko maps a digest name to ``getattr(cryptography.hazmat.primitives.hashes,
  name.upper())``, and pyca/cryptography has ``hashes.SM3``.

Path building, validity periods, key usage and the trust-anchor match stay pyHanko's.
Common PDF readers (Adobe Acrobat, poppler's pdfsig) cannot validate these signatures.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from asn1crypto import algos, keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfDecodeLimitError, PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import AlgorithmNotSupported
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
    SignatureValidator,
)

from ca.oids import SM2_CURVE, SM2_SIGN, SM2_SM3
from ca.sm2 import SM2Error, SM2PublicKey

from .errors import InputTooLargeError, MalformedInputError, TrustConfigurationError
from .ports import LicenseStatusSource, StatusUnavailableError
from .result import Check, CheckOutcome, VerificationResult

__all__ = ["LICENSE_IDENTIFIER_INFO_KEY", "MAX_PDF_SIZE", "SM2SignatureValidator", "verify_pdf"]

MAX_PDF_SIZE = 20 * 2**20
# Where issuance.render stores the GB/T 36904 licence identifier (kept here as a literal so the
# verifier does not depend on the issuing side).
LICENSE_IDENTIFIER_INFO_KEY = "/YinxinLicenseIdentifier"

_PASSED, _FAILED = CheckOutcome.PASSED, CheckOutcome.FAILED
_SKIPPED, _INDETERMINATE = CheckOutcome.SKIPPED, CheckOutcome.INDETERMINATE
# Updates a later signature may legitimately make to a signed revision: none, adding
# validation data (DSS, document time-stamps), or filling in form fields such as a second seal.
_ALLOWED_MODIFICATIONS = (
    ModificationLevel.NONE,
    ModificationLevel.LTA_UPDATES,
    ModificationLevel.FORM_FILLING,
)


# GB/T 35275 names sm2sign (GB/T 33560 Annex A) as the CMS signature algorithm; GmSSL,
# BouncyCastle, OpenSSL and issuance.stamp write SM2-with-SM3 there, the identifier GB/T 20518
# uses for certificates. Both mean SM2 over SM3(Z‖M).
_SM2_SIGNATURE_ALGORITHMS = frozenset({SM2_SIGN, SM2_SM3})
# How the signature check names the mechanisms pyHanko reports (asn1crypto names from ca.oids).
_MECHANISM_NAMES = {
    "sm2_sign": f"SM2 sm2sign with SM3 ({SM2_SIGN})",
    "sm2_sm3": f"SM2-with-SM3 ({SM2_SM3})",
}


def _is_sm2_key(public_key_info: keys.PublicKeyInfo) -> bool:
    algorithm = public_key_info["algorithm"]
    return bool(
        algorithm["algorithm"].native == "ec"
        and isinstance(algorithm["parameters"].chosen, keys.NamedCurve)
        and algorithm["parameters"].chosen.dotted == SM2_CURVE
    )


class SM2SignatureValidator(SignatureValidator):
    """pyhanko-certvalidator's signature validator, extended with SM2 (GB/T 32918.2).

    Signatures whose algorithm is sm2sign (1.2.156.10197.1.301.1) or SM2-with-SM3
    (1.2.156.10197.1.501) are verified with :class:`ca.sm2.SM2PublicKey` over the signed bytes
    (the DER signed attributes of a CMS ``SignerInfo``, a certificate's ``tbsCertificate``),
    hashed as SM3(Z‖M) with the default user ID; everything else goes to
    :class:`~pyhanko_certvalidator.sig_validate.DefaultSignatureValidator`. Fails closed: an SM2
    algorithm with a key that is not SM2, an SM2 key under another algorithm, algorithm
    parameters other than absent or NULL, a message digest other than SM3 or a pre-hashed input
    all raise :class:`~cryptography.exceptions.InvalidSignature` (the subclass
    ``AlgorithmNotSupported`` where the combination is not one SM2 defines).
    """

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        """Raise :class:`~cryptography.exceptions.InvalidSignature` unless ``signature`` verifies."""
        if signature_algorithm["algorithm"].dotted not in _SM2_SIGNATURE_ALGORITHMS:
            if _is_sm2_key(public_key_info):
                raise AlgorithmNotSupported("an SM2 key signs only with SM2")
            try:
                DefaultSignatureValidator().validate_signature(
                    signature, signed_data, public_key_info, signature_algorithm, context
                )
            except UnsupportedAlgorithm as exc:
                # A key pyca/cryptography cannot load (another unknown curve): not verifiable.
                raise AlgorithmNotSupported(str(exc)) from exc
            return
        # GB/T 20518: SM2 algorithm identifiers carry no parameters (absent; NULL is tolerated).
        if signature_algorithm["parameters"].native is not None:
            raise AlgorithmNotSupported("SM2 signature algorithm with parameters")
        # GB/T 35275: an SM2 SignerInfo digests with SM3. A pre-hashed input (CMS without signed
        # attributes) cannot be verified: SM2 hashes Z_A‖M itself (GB/T 32918.2).
        if context.contextual_md_algorithm not in (None, "sm3") or context.prehashed:
            raise AlgorithmNotSupported("SM2 signatures are made over SM3 and the whole message")
        try:
            public_key = SM2PublicKey.from_spki_der(public_key_info.dump())
        except SM2Error as exc:
            raise AlgorithmNotSupported("the signer's key is not an SM2 key") from exc
        if not public_key.verify(signature, signed_data):
            raise InvalidSignature("the SM2 signature does not verify")


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def _subject(status: PdfSignatureStatus) -> str:
    """The signer certificate's subject as an RFC 4514 string."""
    return x509.load_der_x509_certificate(status.signing_cert.dump()).subject.rfc4514_string()


def _read(pdf: bytes, max_size: int) -> PdfFileReader:
    if len(pdf) > max_size:
        raise InputTooLargeError(f"the PDF is larger than {max_size} bytes")
    # ISO 32000-1 §7.5.2: the header %PDF-n.m; readers accept it within the first 1024 bytes.
    if b"%PDF-" not in pdf[:1024]:
        raise MalformedInputError("the input is not a PDF document (no %PDF- header)")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        if reader.encrypted:
            raise MalformedInputError("encrypted PDF documents cannot be verified")
        # Touch the signature fields now so that a broken form tree is reported as malformed.
        list(reader.embedded_signatures)
    except PdfDecodeLimitError as exc:
        raise InputTooLargeError("the PDF expands beyond the decoding limits") from exc
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise MalformedInputError("the input is not a readable PDF document") from exc
    return reader


def _signed_identifier(reader: PdfFileReader, embedded: EmbeddedPdfSignature) -> str | None:
    """The licence identifier as the signed revision's /Info dictionary records it.

    Read from the revision the signature covers, so an /Info changed after sealing cannot
    redirect the status lookup to another licence.
    """
    try:
        resolver = reader.get_historical_resolver(embedded.signed_revision)
        info_ref = resolver.trailer_view.raw_get("/Info")
        # Resolve through the historical view: an indirect object's own get_object() would read
        # the latest revision.
        indirect = isinstance(info_ref, generic.IndirectObject)
        info = resolver.get_object(info_ref.reference) if indirect else info_ref
        if not isinstance(info, generic.DictionaryObject):
            return None
        value = info.raw_get(LICENSE_IDENTIFIER_INFO_KEY)
        if isinstance(value, generic.IndirectObject):
            value = resolver.get_object(value.reference)
    except (PdfError, ValueError, KeyError, TypeError, IndexError):
        return None
    if isinstance(value, generic.TextStringObject | generic.ByteStringObject):
        text = str(value) if isinstance(value, generic.TextStringObject) else value.original_bytes.decode(
            "utf-8", "replace"
        )
        return text.strip() or None
    return None


def _coverage_check(name: str, status: PdfSignatureStatus) -> Check:
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return Check("coverage", _PASSED, f"{name}: the signature covers the whole file")
    level = status.modification_level
    if (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and level in _ALLOWED_MODIFICATIONS
        and status.docmdp_ok is not False
    ):
        assert level is not None
        return Check(
            "coverage", _PASSED,
            f"{name}: later updates are allowed ones ({level.name.lower().replace('_', ' ')})",
        )
    if status.coverage == SignatureCoverageLevel.ENTIRE_REVISION:
        described = level.name.lower().replace("_", " ") if level is not None else "unknown"
        return Check("coverage", _FAILED, f"{name}: the document was modified after sealing ({described})")
    return Check("coverage", _FAILED, f"{name}: the signature does not cover a whole revision")


def _trust_check(name: str, status: PdfSignatureStatus) -> Check:
    # pyHanko's ``trusted`` also requires an intact signature; the chain itself is judged by the
    # path it built and the absence of a trust problem (EN 319 102-1 §5.2.6 X.509 validation).
    if status.trust_problem_indic is None and status.validation_path is not None:
        return Check("certificate_trust", _PASSED, f"{name}: the certificate chains to a trusted root")
    if status.revoked:
        return Check("certificate_trust", _FAILED, f"{name}: the signer's certificate is revoked")
    problem = status.trust_problem_indic
    reason = str(getattr(problem, "name", problem)).lower().replace("_", " ") if problem else "no path"
    return Check("certificate_trust", _FAILED, f"{name}: the certificate is not trusted ({reason})")


def _signature_checks(
    embedded: EmbeddedPdfSignature, context: ValidationContext
) -> tuple[list[Check], PdfSignatureStatus | None]:
    name = str(embedded.field_name)
    try:
        status = validate_pdf_signature(embedded, signer_validation_context=context)
    except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError) as exc:
        # An unparsable signature container or signature dictionary is an invalid signature.
        detail = f"{name}: the signature could not be evaluated ({type(exc).__name__})"
        return [Check("signature", _FAILED, detail)], None
    mechanism = str(status.pkcs7_signature_mechanism)
    checks = [
        Check(
            "integrity",
            _PASSED if status.intact else _FAILED,
            f"{name}: the document digest "
            + ("matches the signed digest" if status.intact else "does not match: the document was altered"),
        ),
        Check(
            "signature",
            _PASSED if status.valid else _FAILED,
            f"{name}: {_MECHANISM_NAMES.get(mechanism, mechanism)} signature "
            + ("verifies" if status.valid else "does not verify"),
        ),
        _coverage_check(name, status),
        _trust_check(name, status),
    ]
    return checks, status


def _status_check(
    *,
    document_identifier: str | None,
    license_identifier: str | None,
    status_source: LicenseStatusSource | None,
) -> tuple[Check, str | None, str | None]:
    identifier = license_identifier or document_identifier
    if license_identifier and document_identifier and license_identifier != document_identifier:
        return (
            Check("license_status", _FAILED, "the document is sealed for another licence identifier"),
            license_identifier,
            None,
        )
    if identifier is None:
        return Check("license_status", _SKIPPED, "the document names no licence"), None, None
    if status_source is None:
        return Check("license_status", _SKIPPED, "no licence status source configured"), identifier, None
    try:
        status = status_source.license_status(identifier)
    except StatusUnavailableError:
        return (
            Check("license_status", _INDETERMINATE, "the licence registry cannot be reached"),
            identifier,
            None,
        )
    if status is None:
        return Check("license_status", _FAILED, "the licence is unknown to the registry"), identifier, None
    if status == "active":
        return Check("license_status", _PASSED, "the licence is active"), identifier, status
    return Check("license_status", _FAILED, f"the licence is {status}"), identifier, status


def verify_pdf(
    pdf: bytes,
    *,
    trust_roots: Sequence[x509.Certificate],
    now: datetime,
    status_source: LicenseStatusSource | None = None,
    license_identifier: str | None = None,
    max_size: int = MAX_PDF_SIZE,
) -> VerificationResult:
    """Verify every seal (PAdES signature) on ``pdf`` and the status of the licence it carries.

    ``trust_roots`` are the only trust anchors (never the system store); certificates are
    validated at ``now`` (UTC-aware) without fetching revocation data (soft-fail).
    ``license_identifier`` overrides the identifier recorded in the document's /Info.
    Returns a result whose verdict is INVALID when any check fails; raises
    :class:`InputTooLargeError`, :class:`MalformedInputError` or
    :class:`TrustConfigurationError` only when the input cannot be evaluated at all.
    """
    if not trust_roots:
        raise TrustConfigurationError("no trust anchors configured for PDF verification")
    if now.tzinfo is None or now.utcoffset() is None:
        raise TrustConfigurationError("the validation time must be timezone-aware")
    reader = _read(pdf, max_size)
    # Document time-stamps (/DocTimeStamp, PAdES B-LTA) are not seals; they are not evaluated yet.
    embedded_signatures = [e for e in reader.embedded_signatures if e.sig_object_type == "/Sig"]
    if not embedded_signatures:
        return VerificationResult.from_checks(
            [
                Check("format", _FAILED, "no signature: the PDF carries no seal"),
                Check("signature", _FAILED, "no signature"),
            ],
            kind="pdf",
            license_identifier=license_identifier,
        )

    checks = [Check("format", _PASSED, f"PDF with {len(embedded_signatures)} signature(s)")]
    last: PdfSignatureStatus | None = None
    document_identifier: str | None = None
    for embedded in embedded_signatures:
        # A fresh context per signature: validation state (paths, revocation) is not shared.
        context = ValidationContext(
            trust_roots=[_asn1(root) for root in trust_roots],
            moment=now,
            allow_fetching=False,
            revocation_mode="soft-fail",
            signature_validator=SM2SignatureValidator(),
        )
        signature_checks, status = _signature_checks(embedded, context)
        checks.extend(signature_checks)
        if status is not None:
            last = status
        document_identifier = _signed_identifier(reader, embedded) or document_identifier

    status_check, identifier, license_status = _status_check(
        document_identifier=document_identifier,
        license_identifier=license_identifier,
        status_source=status_source,
    )
    checks.append(status_check)
    return VerificationResult.from_checks(
        checks,
        kind="pdf",
        license_identifier=identifier,
        license_status=license_status,
        signing_time=last.signer_reported_dt if last is not None else None,
        signing_time_source="signer-claimed" if last is not None and last.signer_reported_dt else None,
        signer=_subject(last) if last is not None else None,
    )
