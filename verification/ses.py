"""Verify GB/T 38540 e-seals (``SESeal``) and e-seal signatures (``SES_Signature``): V1, V4 and V5.

Parsing (:func:`parse_seal`, :func:`parse_signature`) picks the layout from the structure — the number
of top-level elements, then the seal header's version (ofdrw ``ses/parse/VersionParser.java``) — and
keeps the bytes of every signed part exactly as received; verification checks signatures over those
bytes, never over a re-encoding (cn-standards §6 item 1).

Verification runs every step of cn-standards §1.7 (the GB/T 38540 validation flow) and reports each
as its own :class:`~verification.result.Check`:

==================== ===================================================================================
``format``           the layout parses; header "ES"; versions agree; no unknown critical extension; no
                     trailing bytes. Tolerances used for messy V1 files are named in the detail.
``signature``        the signer's SM2 signature over the received TBS_Sign bytes (§1.7 step 2)
``signer_in_seal``   the signer's certificate is in the seal's certList (type 1: same bytes; type 2:
                     digest) (step 3)
``seal_signature``   the maker's signature: V4/V5 over DER(eSealInfo); V1 over SEQUENCE{info, cert,
                     alg} (step 4a; cn-standards §1.5)
``maker_certificate`` validity when the seal is used, key usage, chain (step 4b)
``seal_validity``    validStart ≤ t ≤ validEnd at the signing time (a bare seal: at ``now``) (step 4c)
``signer_certificate`` validity at the signing time, key usage, chain (step 5)
``signing_time``     the asserted signing time is not in the future (step 6)
``timestamp``        a time-stamp, when present: parsed and matched to the signature value (step 6)
``document_hash``    SM3 of the given document equals dataHash (step 7)
==================== ===================================================================================

Trust is fail-closed: without trust anchors, or when no path to one is found, the certificate checks
are INDETERMINATE ("trust not established"), so such a seal is never VALID. Revocation is checked
against the CRLs the caller supplies; without CRLs the detail says it was not checked.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes

from ca import oids, ses_asn1
from ca.errors import CAError
from ca.gm_x509 import verify_chain, verify_crl
from ca.sm2 import SM2Error, SM2PublicKey

from .errors import InputTooLargeError, MalformedInputError
from .result import Check, CheckOutcome, VerificationResult

__all__ = [
    "MAX_SES_SIZE",
    "ParsedSeal",
    "ParsedSignature",
    "SealExtension",
    "TrustInputs",
    "certificate_check",
    "load_certificate",
    "parse_seal",
    "parse_signature",
    "signature_checks",
    "sm2_signature_check",
    "subject_name",
    "verify_seal",
    "verify_ses_signature",
]

MAX_SES_SIZE = 16 * 2**20
"""Largest seal or signature accepted (a seal's picture makes most of it; ofdrw's are ~17 kB)."""

# A verifier's clock and a signer's may differ a little (the same allowance ca.authority uses).
CLOCK_SKEW = timedelta(minutes=5)

_PASSED = CheckOutcome.PASSED
_FAILED = CheckOutcome.FAILED
_SKIPPED = CheckOutcome.SKIPPED
_INDETERMINATE = CheckOutcome.INDETERMINATE

# Extensions this verifier understands. None is defined by GB/T 38540 itself, so every critical
# vendor extension fails the format check (RFC 5280 §4.2 semantics, which ExtData copies).
_UNDERSTOOD_EXTENSIONS: frozenset[str] = frozenset()

# Digest names in CertDigestObj.type (certListType 2). The standard leaves the spelling open.
_CERT_DIGESTS = {
    "sm3": "sm3",
    oids.SM3: "sm3",
    "sha256": "sha256",
    "sha-256": "sha256",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "sha1": "sha1",
    "sha-1": "sha1",
    "1.3.14.3.2.26": "sha1",
}

# What a signing certificate's keyUsage must allow (cn-standards §1.7 "密钥用法是否正确").
_SIGNING_USAGES = frozenset({"digital_signature", "non_repudiation"})


def _sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _digest(name: str, data: bytes) -> bytes:
    if name == "sm3":
        return _sm3(data)
    return hashlib.new(name, data).digest()


def _der_sequence(body: bytes) -> bytes:
    """``SEQUENCE { body }`` in DER (X.690 §8.1.3 definite length)."""
    length = len(body)
    if length < 0x80:
        header = bytes([length])
    else:
        octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
        header = bytes([0x80 | len(octets)]) + octets
    return b"\x30" + header + body


# --------------------------------------------------------------------------------------------------
# Parsed forms


@dataclass(frozen=True)
class SealExtension:
    """One ``ExtData`` of a seal or a TBS_Sign: identifier, criticality, value."""

    extn_id: str
    critical: bool
    value: bytes


@dataclass(frozen=True)
class ParsedSeal:
    """A parsed ``SESeal`` of any layout, with the exact bytes its maker signed.

    ``layout`` is 1 (GM/T 0031-2014), 4 (GB/T 38540-2020) or 5 (the "GM/T 0031-2025" layout),
    decided by structure; ``header_version`` is what the seal claims. ``signed_bytes`` is what the
    maker's signature covers, cut from ``encoded`` (V1: a SEQUENCE around the received info, cert and
    algorithm encodings). ``tolerances`` names every non-standard encoding that was accepted.
    """

    layout: int
    header_id: str
    header_version: int
    vid: str
    es_id: str
    seal_type: int
    name: str
    cert_list_type: int
    certificates: tuple[bytes, ...]
    certificate_digests: tuple[tuple[str, bytes], ...]
    create_date: datetime
    valid_start: datetime
    valid_end: datetime
    picture_type: str
    picture: bytes
    picture_width_mm: int
    picture_height_mm: int
    extensions: tuple[SealExtension, ...]
    maker_certificate: bytes
    signature_algorithm: str
    signed_value: bytes
    signed_bytes: bytes
    time_stamp: bytes | None
    encoded: bytes
    trailing: bytes
    tolerances: tuple[str, ...]


@dataclass(frozen=True)
class ParsedSignature:
    """A parsed ``SES_Signature`` of any layout, with the exact bytes its signer signed.

    ``signed_bytes`` are the received bytes of ``TBS_Sign``. ``time_info`` is the signing time the
    signer asserts (V1 may carry a time-stamp token there instead: ``time_info_token``).
    ``seal_bytes`` are the received bytes of the embedded seal.
    """

    layout: int
    version: int
    seal: ParsedSeal
    seal_bytes: bytes
    time_info: datetime | None
    time_info_token: bytes | None
    data_hash: bytes
    property_info: str
    extensions: tuple[SealExtension, ...]
    signer_certificate: bytes
    signature_algorithm: str
    signature: bytes
    signed_bytes: bytes
    time_stamp: bytes | None
    encoded: bytes
    trailing: bytes
    tolerances: tuple[str, ...]


@dataclass(frozen=True)
class TrustInputs:
    """What certificate checks are evaluated against: anchors, extra CA certificates and CRLs (all DER)."""

    trust_anchors: tuple[bytes, ...] = ()
    intermediates: tuple[bytes, ...] = ()
    crls: tuple[bytes, ...] = ()


# --------------------------------------------------------------------------------------------------
# Parsing


def _check_size(data: bytes, what: str) -> None:
    if len(data) > MAX_SES_SIZE:
        raise InputTooLargeError(f"the {what} is larger than {MAX_SES_SIZE} bytes")


def _split(encoded: bytes, what: str) -> tuple[list[bytes], bytes]:
    try:
        return ses_asn1.raw_elements(encoded)
    except ValueError as exc:
        raise MalformedInputError(f"the input is not a DER-encoded {what}") from exc


def _extensions(value: Any) -> tuple[SealExtension, ...]:
    if value is None or isinstance(value, core.Void):
        return ()
    return tuple(
        SealExtension(item["extnID"].dotted, bool(item["critical"].native), item["extnValue"].native) for item in value
    )


def _time(value: ses_asn1.SESTime, *, field: str, expected: str, tolerances: list[str]) -> datetime:
    if value.name != expected:
        tolerances.append(f"{field} is {value.name.replace('_', ' ')} instead of {expected.replace('_', ' ')}")
    return value.datetime


def _seal_from(encoded: bytes) -> ParsedSeal:
    elements, trailing = _split(encoded, "SESeal")
    if len(elements) == 2:
        return _seal_v1(encoded, elements, trailing)
    if len(elements) in (4, 5):
        return _seal_v4(encoded, elements, trailing)
    raise MalformedInputError(f"not a GB/T 38540 / GM/T 0031 seal: {len(elements)} top-level elements")


def _seal_v4(encoded: bytes, elements: list[bytes], trailing: bytes) -> ParsedSeal:
    tolerances: list[str] = []
    prefix = encoded[: len(encoded) - len(trailing)]
    try:
        seal = ses_asn1.SESeal.load(prefix, strict=True)
        info = seal["eSealInfo"]
        header = info["header"]
        prop = info["property"]
        picture = info["picture"]
        cert_list_type = int(prop["certListType"].native)
        certificates: tuple[bytes, ...] = ()
        digests: tuple[tuple[str, bytes], ...] = ()
        if cert_list_type == ses_asn1.SESESPropertyInfo.CERTIFICATES:
            certificates = tuple(prop.certificates())
        elif cert_list_type == ses_asn1.SESESPropertyInfo.CERTIFICATE_DIGESTS:
            digests = tuple(prop.certificate_digests())
        else:
            raise MalformedInputError(f"unknown certListType {cert_list_type}")
        header_version = int(header["version"].native)
        layout = 5 if (len(elements) == 5 or header_version == 5) else 4
        parsed = ParsedSeal(
            layout=layout,
            header_id=header["id"].native,
            header_version=header_version,
            vid=header["vid"].native,
            es_id=info["esID"].native,
            seal_type=int(prop["type"].native),
            name=prop["name"].native,
            cert_list_type=cert_list_type,
            certificates=certificates,
            certificate_digests=digests,
            create_date=_time(
                prop["createDate"], field="createDate", expected="generalized_time", tolerances=tolerances
            ),
            valid_start=_time(
                prop["validStart"], field="validStart", expected="generalized_time", tolerances=tolerances
            ),
            valid_end=_time(prop["validEnd"], field="validEnd", expected="generalized_time", tolerances=tolerances),
            picture_type=picture["type"].native,
            picture=picture["data"].native,
            picture_width_mm=int(picture["width"].native),
            picture_height_mm=int(picture["height"].native),
            extensions=_extensions(info["extDatas"]),
            maker_certificate=seal["cert"].native,
            signature_algorithm=seal["signAlgID"].dotted,
            signed_value=seal["signedValue"].native,
            # GB/T 38540 §6 (cn-standards §1.5): the maker signs DER(eSealInfo) alone.
            signed_bytes=elements[0],
            time_stamp=seal["timeStamp"].native,
            encoded=encoded,
            trailing=trailing,
            tolerances=tuple(tolerances),
        )
    except MalformedInputError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedInputError("the seal does not have the GB/T 38540 SESeal structure") from exc
    return parsed


def _v1_extensions(value: Any, tolerances: list[str]) -> tuple[SealExtension, ...]:
    if value is None or isinstance(value, core.Void):
        return ()
    try:
        parsed = ses_asn1.ExtensionDatas.load(value.dump(), strict=True)
        return _extensions(parsed)
    except (ValueError, TypeError, KeyError):
        # ofdrw ses/v1/ExtensionDatas.java skips what it cannot read ("兼容非标签章"). The bytes are
        # still covered by the maker's signature; only their meaning is unknown.
        tolerances.append("extDatas is not a standard ExtensionDatas and was not interpreted")
        return ()


def _seal_v1(encoded: bytes, elements: list[bytes], trailing: bytes) -> ParsedSeal:
    tolerances: list[str] = []
    prefix = encoded[: len(encoded) - len(trailing)]
    try:
        seal = ses_asn1.SESealV1.load(prefix, strict=True)
        info = seal["esealInfo"]
        header = info["header"]
        prop = info["property"]
        picture = info["picture"]
        sign_info = seal["signInfo"]
        sign_info_elements, _ = ses_asn1.raw_elements(elements[1])
        # GM/T 0031-2014 (cn-standards §1.5): the maker signs SEQUENCE{esealInfo, cert, algorithm},
        # built here from the received encodings of those three values.
        signed_bytes = _der_sequence(elements[0] + sign_info_elements[0] + sign_info_elements[1])
        parsed = ParsedSeal(
            layout=1,
            header_id=header["id"].native,
            header_version=int(header["version"].native),
            vid=header["vid"].native,
            es_id=info["esID"].native,
            seal_type=int(prop["type"].native),
            name=prop["name"].native,
            cert_list_type=ses_asn1.SESESPropertyInfo.CERTIFICATES,
            certificates=tuple(item.native for item in prop["certList"]),
            certificate_digests=(),
            create_date=_time(prop["createDate"], field="createDate", expected="utc_time", tolerances=tolerances),
            valid_start=_time(prop["validStart"], field="validStart", expected="utc_time", tolerances=tolerances),
            valid_end=_time(prop["validEnd"], field="validEnd", expected="utc_time", tolerances=tolerances),
            picture_type=picture["type"].native,
            picture=picture["data"].native,
            picture_width_mm=int(picture["width"].native),
            picture_height_mm=int(picture["height"].native),
            extensions=_v1_extensions(info["extDatas"], tolerances),
            maker_certificate=sign_info["cert"].native,
            signature_algorithm=sign_info["signatureAlgorithm"].dotted,
            signed_value=sign_info["signData"].native,
            signed_bytes=signed_bytes,
            time_stamp=None,
            encoded=encoded,
            trailing=trailing,
            tolerances=tuple(tolerances),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedInputError("the seal does not have the GM/T 0031-2014 SESeal structure") from exc
    return parsed


def parse_seal(data: bytes) -> ParsedSeal:
    """Parse an ``SESeal`` of layout V1, V4 or V5 (GB/T 38540 §6; GM/T 0031-2014).

    Raises :class:`~verification.errors.MalformedInputError` when the bytes are no seal of any layout
    and :class:`~verification.errors.InputTooLargeError` above :data:`MAX_SES_SIZE`. Problems a
    parsed seal may still have (wrong header, trailing bytes, critical extensions) are reported by
    the ``format`` check of :func:`verify_seal`, not raised.
    """
    data = bytes(data)
    _check_size(data, "seal")
    return _seal_from(data)


def _v1_time_info(octets: bytes) -> tuple[datetime | None, bytes | None]:
    """GM/T 0031-2014: timeInfo holds UTCTime text, or a time-stamp token."""
    text = octets.decode("ascii", errors="replace")
    for fmt in ("%y%m%d%H%M%SZ", "%Y%m%d%H%M%SZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC), None
        except ValueError:
            continue
    for spec in (core.UTCTime, core.GeneralizedTime):
        try:
            value = spec.load(octets, strict=True).native
        except (ValueError, TypeError):
            continue
        if isinstance(value, datetime):
            return value, None
    return None, octets


def _signature_v1(encoded: bytes, elements: list[bytes], trailing: bytes) -> ParsedSignature:
    tolerances: list[str] = []
    prefix = encoded[: len(encoded) - len(trailing)]
    try:
        signature = ses_asn1.SESSignatureV1.load(prefix, strict=True)
        tbs = signature["toSign"]
        tbs_elements, _ = ses_asn1.raw_elements(elements[0])
        seal = _seal_from(tbs_elements[1])
        for field in ("timeInfo", "dataHash"):
            if tbs[field].name == "octet_string":
                tolerances.append(f"{field} is an OCTET STRING instead of a BIT STRING")
        time_info, token = _v1_time_info(tbs["timeInfo"].octets)
        parsed = ParsedSignature(
            layout=1,
            version=int(tbs["version"].native),
            seal=seal,
            seal_bytes=tbs_elements[1],
            time_info=time_info,
            time_info_token=token,
            data_hash=tbs["dataHash"].octets,
            property_info=tbs["propertyInfo"].native,
            extensions=(),
            signer_certificate=tbs["cert"].native,
            signature_algorithm=tbs["signatureAlgorithm"].dotted,
            signature=signature["signature"].native,
            signed_bytes=elements[0],
            time_stamp=None,
            encoded=encoded,
            trailing=trailing,
            tolerances=tuple(tolerances) + seal.tolerances,
        )
    except MalformedInputError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedInputError("the signature does not have the GM/T 0031-2014 SES_Signature structure") from exc
    return parsed


def _signature_v4(encoded: bytes, elements: list[bytes], trailing: bytes) -> ParsedSignature:
    prefix = encoded[: len(encoded) - len(trailing)]
    try:
        signature = ses_asn1.SESSignature.load(prefix, strict=True)
        tbs = signature["toSign"]
        tbs_elements, _ = ses_asn1.raw_elements(elements[0])
        seal = _seal_from(tbs_elements[1])
        parsed = ParsedSignature(
            layout=5 if seal.layout == 5 else 4,
            version=int(tbs["version"].native),
            seal=seal,
            seal_bytes=tbs_elements[1],
            time_info=tbs["timeInfo"].native,
            time_info_token=None,
            data_hash=tbs["dataHash"].native,
            property_info=tbs["propertyInfo"].native,
            extensions=_extensions(tbs["extDatas"]),
            signer_certificate=signature["cert"].native,
            signature_algorithm=signature["signatureAlgID"].dotted,
            signature=signature["signature"].native,
            signed_bytes=elements[0],
            time_stamp=signature["timeStamp"].native,
            encoded=encoded,
            trailing=trailing,
            tolerances=seal.tolerances,
        )
    except MalformedInputError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedInputError("the signature does not have the GB/T 38540 SES_Signature structure") from exc
    return parsed


def parse_signature(data: bytes) -> ParsedSignature:
    """Parse an ``SES_Signature`` of layout V1, V4 or V5 (GB/T 38540 §7; GM/T 0031-2014).

    Two top-level elements make V1; four or five make V4, or V5 when the embedded seal is V5 (ofdrw
    ``VersionParser.parseSES_SignatureVersion``). Raises like :func:`parse_seal`.
    """
    data = bytes(data)
    _check_size(data, "signature")
    elements, trailing = _split(data, "SES_Signature")
    if len(elements) == 2:
        return _signature_v1(data, elements, trailing)
    if len(elements) in (4, 5):
        return _signature_v4(data, elements, trailing)
    raise MalformedInputError(f"not a GB/T 38540 / GM/T 0031 signature: {len(elements)} top-level elements")


# --------------------------------------------------------------------------------------------------
# Checks


def _seal_format_problems(seal: ParsedSeal) -> list[str]:
    problems: list[str] = []
    if seal.header_id != ses_asn1.SES_HEADER_ID:
        problems.append(f'seal header id is {seal.header_id!r}, not "ES"')
    if seal.layout == 1 and seal.header_version >= 4:
        problems.append(f"a GM/T 0031-2014 (V1) seal layout claims version {seal.header_version}")
    if seal.layout == 4 and seal.header_version != 4:
        problems.append(f"a GB/T 38540 (V4) seal layout claims version {seal.header_version}")
    if seal.layout == 5 and seal.header_version != 5:
        problems.append(f"a seal with a time-stamp (V5 layout) claims version {seal.header_version}")
    if seal.trailing:
        problems.append(f"{len(seal.trailing)} bytes follow the seal")
    problems.extend(
        f"unknown critical seal extension {ext.extn_id}"
        for ext in seal.extensions
        if ext.critical and ext.extn_id not in _UNDERSTOOD_EXTENSIONS
    )
    return problems


def _format_check(problems: list[str], *, what: str, layout: int, tolerances: Sequence[str]) -> Check:
    names = {1: "V1 (GM/T 0031-2014)", 4: "V4 (GB/T 38540-2020)", 5: "V5 (GM/T 0031-2025 layout)"}
    if problems:
        return Check("format", _FAILED, "; ".join(problems))
    detail = f"{what}, layout {names[layout]}"
    if tolerances:
        detail += "; tolerated: " + "; ".join(tolerances)
    return Check("format", _PASSED, detail)


def sm2_signature_check(
    certificate: bytes, algorithm: str, signature: bytes, message: bytes
) -> tuple[CheckOutcome, str]:
    """Verify an SM2-with-SM3 ``signature`` of ``message`` with ``certificate``'s key; (outcome, detail).

    Any algorithm other than 1.2.156.10197.1.501 fails (fail closed).
    """
    if algorithm != oids.SM2_SM3:
        return _FAILED, f"unsupported signature algorithm {algorithm} (only SM2-with-SM3 {oids.SM2_SM3})"
    try:
        key = SM2PublicKey.from_certificate_der(certificate)
    except SM2Error:
        return _FAILED, "the certificate does not hold a usable SM2 public key"
    try:
        ok = key.verify(signature, message)
    except SM2Error as exc:
        return _INDETERMINATE, f"the SM2 verifier could not run: {exc.public_message}"
    if not ok:
        return _FAILED, "the SM2 signature does not verify"
    return _PASSED, "SM2-with-SM3 signature verifies"


def _seal_signature_check(seal: ParsedSeal) -> Check:
    outcome, detail = sm2_signature_check(
        seal.maker_certificate, seal.signature_algorithm, seal.signed_value, seal.signed_bytes
    )
    covered = "SEQUENCE{esealInfo, cert, signatureAlgorithm}" if seal.layout == 1 else "eSealInfo"
    return Check("seal_signature", outcome, f"seal maker: {detail} (signed bytes: {covered})")


def subject_name(certificate: asn1_x509.Certificate) -> str:
    """A short name for messages: the subject's common name (and organisation)."""
    try:
        names = certificate.subject.native
        common_name = names.get("common_name")
        if isinstance(common_name, str):
            organization = names.get("organization_name")
            return f"{common_name} ({organization})" if isinstance(organization, str) else common_name
        return str(certificate.subject.human_friendly)
    except (ValueError, TypeError, KeyError):  # pragma: no cover - defensive
        return "unreadable subject"


def load_certificate(der: bytes) -> asn1_x509.Certificate | None:
    """Parse a DER X.509 certificate with asn1crypto (SM2 ones included), or ``None`` if unreadable."""
    try:
        certificate = asn1_x509.Certificate.load(der, strict=True)
        certificate["tbs_certificate"]["validity"].native  # noqa: B018 - forces the parse
    except (ValueError, TypeError, KeyError):
        return None
    return certificate


def _revocation(path: Sequence[bytes], crls: Sequence[bytes], now: datetime) -> tuple[CheckOutcome, str]:
    """RFC 5280 §6.3: each certificate below the anchor against a CRL of its issuer, if one was given."""
    if not crls:
        return _PASSED, "revocation not checked (no CRL supplied)"
    unchecked = 0
    for child_der, issuer_der in itertools.pairwise(path):
        child = asn1_x509.Certificate.load(child_der)
        serial = child.serial_number
        checked = False
        for crl_der in crls:
            outcome = verify_crl(crl_der, issuer_certificate=issuer_der, now=now)
            if not outcome.ok:
                continue
            checked = True
            if outcome.is_revoked(serial):
                return _FAILED, f"certificate {subject_name(child)} is revoked"
        if not checked:
            unchecked += 1
    if unchecked:
        return _INDETERMINATE, f"no valid CRL for {unchecked} certificate(s) of the path"
    return _PASSED, "not revoked"


def certificate_check(
    name: str,
    der: bytes,
    *,
    role: str,
    at: Sequence[tuple[str, datetime]],
    trust: TrustInputs,
    now: datetime,
) -> Check:
    """Validity at each of ``at``, signing key usage, then the chain to a trust anchor (§1.7 steps 4b, 5)."""
    certificate = load_certificate(der)
    if certificate is None:
        return Check(name, _FAILED, f"the {role} certificate is not a readable X.509 certificate")
    subject = subject_name(certificate)
    not_before = certificate.not_valid_before
    not_after = certificate.not_valid_after
    for label, moment in at:
        if not not_before <= moment <= not_after:
            return Check(
                name,
                _FAILED,
                f"the {role} certificate ({subject}) is valid {not_before.isoformat()} to "
                f"{not_after.isoformat()}, not at {label} {moment.isoformat()}",
            )
    usage = certificate.key_usage_value
    if usage is not None and not (set(usage.native) & _SIGNING_USAGES):
        return Check(name, _FAILED, f"the {role} certificate's keyUsage does not allow signing")
    checked_at = ", ".join(f"{label} {moment.isoformat()}" for label, moment in at)
    if not trust.trust_anchors:
        return Check(
            name,
            _INDETERMINATE,
            f"trust not established: no trust anchors configured ({role} {subject}; valid at {checked_at})",
        )
    # The chain is checked at the latest of the times (the shell model): every certificate of the
    # path must still have been valid when the seal or signature was used.
    chain_time = max(moment for _label, moment in at)
    try:
        chain = verify_chain(
            der, intermediates=list(trust.intermediates), anchors=list(trust.trust_anchors), now=chain_time
        )
    except CAError as exc:
        return Check(name, _INDETERMINATE, f"trust not established: {exc.public_message}")
    if not chain.ok:
        if chain.problem.startswith("no path to a trust anchor"):
            return Check(name, _INDETERMINATE, f"trust not established: {chain.problem} ({role} {subject})")
        return Check(name, _FAILED, f"certificate path invalid at {chain.failed_subject}: {chain.problem}")
    revocation, revocation_detail = _revocation(chain.path, trust.crls, now)
    if revocation is not _PASSED:
        return Check(name, revocation, revocation_detail)
    return Check(
        name,
        _PASSED,
        f"{role} {subject} chains to a trust anchor; valid at {checked_at}; {revocation_detail}",
    )


def _window_check(seal: ParsedSeal, moment: datetime, label: str) -> Check:
    # cn-standards §1.7 step 4c: validStart ≤ t ≤ validEnd.
    window = f"{seal.valid_start.isoformat()} to {seal.valid_end.isoformat()}"
    if seal.valid_start <= moment <= seal.valid_end:
        return Check("seal_validity", _PASSED, f"{label} {moment.isoformat()} lies in the seal's window {window}")
    return Check("seal_validity", _FAILED, f"{label} {moment.isoformat()} lies outside the seal's window {window}")


def _timestamp_check(token: bytes | None, signature_value: bytes, what: str) -> tuple[Check, datetime | None]:
    """Parse a GB/T 20520 / RFC 3161 token and match its imprint to ``signature_value`` (§1.7 step 6).

    The token's own signature and its TSA's chain are not verified here, so the time it states is
    reported but never used as the trusted signing time.
    """
    if token is None:
        return Check("timestamp", _SKIPPED, f"no time-stamp on the {what}"), None
    try:
        info = cms.ContentInfo.load(token, strict=True)
        signed_data = info["content"]
        encap = signed_data["encap_content_info"]
        tst = encap["content"].parsed
        if not isinstance(tst, tsp.TSTInfo):
            tst = tsp.TSTInfo.load(encap["content"].native, strict=True)
        imprint = tst["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].dotted
        hashed = imprint["hashed_message"].native
        gen_time: datetime = tst["gen_time"].native
    except (ValueError, TypeError, KeyError, AttributeError):
        return (
            Check(
                "timestamp",
                _SKIPPED,
                f"the {what}'s time-stamp ({len(token)} bytes) is not a time-stamp token; not used",
            ),
            None,
        )
    names = {oids.SM3: "sm3", "2.16.840.1.101.3.4.2.1": "sha256", "1.3.14.3.2.26": "sha1"}
    digest_name = names.get(algorithm)
    if digest_name is None:
        return Check("timestamp", _SKIPPED, f"time-stamp imprint algorithm {algorithm} is not supported"), None
    if _digest(digest_name, signature_value) != hashed:
        return Check("timestamp", _FAILED, f"the time-stamp is not over this {what}'s signature value"), None
    return (
        Check(
            "timestamp",
            _SKIPPED,
            f"time-stamp of {gen_time.isoformat()} matches the signature value; its TSA signature is not "
            "verified, so the signing time stays the one the signer asserts",
        ),
        gen_time,
    )


def _require_utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise MalformedInputError("the validation time must be timezone-aware")
    return now.astimezone(UTC)


def _seal_disclosure(seal: ParsedSeal) -> dict[str, Any]:
    return {
        "seal_name": seal.name,
        "seal_id": seal.es_id,
        "seal_type": seal.seal_type,
        "vendor": seal.vid,
        "layout": seal.layout,
        "valid_start": seal.valid_start.isoformat(),
        "valid_end": seal.valid_end.isoformat(),
        "picture_type": seal.picture_type,
        "picture_size_mm": [seal.picture_width_mm, seal.picture_height_mm],
    }


def verify_seal(
    data: bytes,
    *,
    now: datetime,
    trust_anchors: Sequence[bytes] = (),
    intermediates: Sequence[bytes] = (),
    crls: Sequence[bytes] = (),
) -> VerificationResult:
    """Verify a bare ``SESeal`` (a ``.esl`` file) at time ``now``; result kind ``"ses-seal"``.

    Checks ``format``, ``seal_signature``, ``maker_certificate`` (valid at ``now``, signing key
    usage, chain to ``trust_anchors``), ``seal_validity`` at ``now`` and the V5
    ``timestamp``. Raises only when the bytes are no seal at all (see :func:`parse_seal`).
    """
    now = _require_utc(now)
    seal = parse_seal(data)
    trust = TrustInputs(tuple(trust_anchors), tuple(intermediates), tuple(crls))
    timestamp, _ = _timestamp_check(seal.time_stamp, seal.signed_value, "seal")
    checks = [
        _format_check(_seal_format_problems(seal), what="SESeal", layout=seal.layout, tolerances=seal.tolerances),
        _seal_signature_check(seal),
        certificate_check(
            "maker_certificate",
            seal.maker_certificate,
            role="seal maker",
            at=[("now", now)],
            trust=trust,
            now=now,
        ),
        _window_check(seal, now, "now"),
        timestamp,
    ]
    maker = load_certificate(seal.maker_certificate)
    return VerificationResult.from_checks(
        checks,
        kind="ses-seal",
        signer=subject_name(maker) if maker is not None else None,
        disclosed=MappingProxyType(_seal_disclosure(seal)),
    )


def signature_checks(
    parsed: ParsedSignature,
    *,
    document: bytes | None,
    now: datetime,
    trust: TrustInputs,
) -> list[Check]:
    """Every GB/T 38540 check of a parsed ``SES_Signature`` (the steps of cn-standards §1.7).

    ``document`` is the original whose SM3 hash ``dataHash`` should be (for OFD: Signature.xml);
    without it ``document_hash`` is SKIPPED. Used by :func:`verify_ses_signature` and the OFD verifier.
    """
    now = _require_utc(now)
    seal = parsed.seal
    problems = _seal_format_problems(seal)
    if parsed.version != seal.header_version:
        problems.append(f"TBS_Sign version {parsed.version} differs from the seal's version {seal.header_version}")
    if parsed.trailing:
        problems.append(f"{len(parsed.trailing)} bytes follow the signature")
    if parsed.layout == 4 and seal.time_stamp is not None:
        problems.append("a V4 seal carries a time-stamp")
    problems.extend(
        f"unknown critical TBS_Sign extension {ext.extn_id}"
        for ext in parsed.extensions
        if ext.critical and ext.extn_id not in _UNDERSTOOD_EXTENSIONS
    )
    checks = [_format_check(problems, what="SES_Signature", layout=parsed.layout, tolerances=parsed.tolerances)]

    # Step 2: the signer's signature over TBS_Sign as received.
    outcome, detail = sm2_signature_check(
        parsed.signer_certificate, parsed.signature_algorithm, parsed.signature, parsed.signed_bytes
    )
    checks.append(Check("signature", outcome, f"signer: {detail} (signed bytes: TBS_Sign)"))

    # Step 3: the signer is one of the seal's holders.
    checks.append(_signer_in_seal(seal, parsed.signer_certificate))

    # Step 4a: the maker's signature on the seal.
    checks.append(_seal_signature_check(seal))

    # Step 6 first: which time the other checks are made at.
    signing_time = parsed.time_info
    timestamp, _stamp_time = _timestamp_check(
        parsed.time_stamp if parsed.time_stamp is not None else parsed.time_info_token,
        parsed.signature,
        "signature",
    )
    if signing_time is None:
        checks.append(Check("signing_time", _INDETERMINATE, "the signature states no readable signing time"))
        reference = now
        reference_label = "now (no signing time)"
    elif signing_time > now + CLOCK_SKEW:
        checks.append(
            Check("signing_time", _FAILED, f"signing time {signing_time.isoformat()} is after now {now.isoformat()}")
        )
        reference, reference_label = signing_time, "the signing time"
    else:
        checks.append(
            Check("signing_time", _PASSED, f"signed at {signing_time.isoformat()} (asserted by the signer: timeInfo)")
        )
        reference, reference_label = signing_time, "the signing time"

    # Steps 4b, 4c, 5, all at the time of use. The maker certificate is not also required at createDate:
    # that date is the maker's claim, and real seals contradict it (the tax bureau seal in ofdrw's
    # signedFile.ofd is dated five days before its maker certificate was issued, yet verifies).
    checks.append(
        certificate_check(
            "maker_certificate",
            seal.maker_certificate,
            role="seal maker",
            at=[(reference_label, reference)],
            trust=trust,
            now=now,
        )
    )
    checks.append(_window_check(seal, reference, reference_label))
    checks.append(
        certificate_check(
            "signer_certificate",
            parsed.signer_certificate,
            role="signer",
            at=[(reference_label, reference)],
            trust=trust,
            now=now,
        )
    )
    checks.append(timestamp)

    # Step 7: the original.
    if document is None:
        checks.append(Check("document_hash", _SKIPPED, "no document given"))
    elif _sm3(document) == parsed.data_hash:
        checks.append(Check("document_hash", _PASSED, "SM3 of the document equals dataHash"))
    else:
        checks.append(
            Check("document_hash", _FAILED, "SM3 of the document differs from dataHash: the document changed")
        )
    return checks


def _signer_in_seal(seal: ParsedSeal, certificate: bytes) -> Check:
    # cn-standards §1.7 step 3.
    if seal.cert_list_type == ses_asn1.SESESPropertyInfo.CERTIFICATES:
        if any(candidate == certificate for candidate in seal.certificates):
            return Check(
                "signer_in_seal", _PASSED, f"the signer's certificate is one of the seal's {len(seal.certificates)}"
            )
        return Check("signer_in_seal", _FAILED, "the signer's certificate is not in the seal's certList")
    known = 0
    for digest_type, value in seal.certificate_digests:
        algorithm = _CERT_DIGESTS.get(digest_type.strip().lower())
        if algorithm is None:
            continue
        known += 1
        if _digest(algorithm, certificate) == value:
            return Check(
                "signer_in_seal", _PASSED, f"the signer's certificate {digest_type} digest is in the seal's certList"
            )
    if known == 0:
        return Check("signer_in_seal", _FAILED, "the seal's certificate digests use no supported algorithm")
    return Check("signer_in_seal", _FAILED, "the signer's certificate digest is not in the seal's certList")


def verify_ses_signature(
    data: bytes,
    *,
    document: bytes | None,
    now: datetime,
    trust_anchors: Sequence[bytes] = (),
    intermediates: Sequence[bytes] = (),
    crls: Sequence[bytes] = (),
) -> VerificationResult:
    """Verify an ``SES_Signature`` (a ``.dat`` file) and, when given, the ``document`` it signs.

    Result kind ``"ses-signature"``; the checks are those of :func:`signature_checks`. The signing
    time is the signer's ``timeInfo`` (source ``"timeInfo"``): no time-stamp is trusted. Raises only
    when the bytes are no SES_Signature at all (see :func:`parse_signature`).
    """
    now = _require_utc(now)
    parsed = parse_signature(data)
    trust = TrustInputs(tuple(trust_anchors), tuple(intermediates), tuple(crls))
    checks = signature_checks(parsed, document=document, now=now, trust=trust)
    signer = load_certificate(parsed.signer_certificate)
    disclosed = _seal_disclosure(parsed.seal) | {"property_info": parsed.property_info}
    return VerificationResult.from_checks(
        checks,
        kind="ses-signature",
        signing_time=parsed.time_info,
        signing_time_source="timeInfo" if parsed.time_info is not None else None,
        signer=subject_name(signer) if signer is not None else None,
        disclosed=MappingProxyType(disclosed),
    )
