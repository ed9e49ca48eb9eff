"""Verify the signatures of an OFD document (GB/T 33190-2016 §18) with GB/T 38540 e-seals.

An OFD file is a ZIP package. ``OFD.xml`` → each ``DocBody/Signatures`` → ``Signatures.xml`` lists the
signatures (``ID``, ``Type`` = ``Seal`` (the default) or ``Sign``, ``BaseLoc``) → each ``Signature.xml``
holds ``SignedInfo`` (``References[@CheckMethod]/Reference[@FileRef]/CheckValue``: a digest of each
protected package file; optionally ``Seal/BaseLoc``) and ``SignedValue`` (the path of
``SignedValue.dat``). For a ``Seal`` signature ``SignedValue.dat`` is a GB/T 38540 ``SES_Signature``
whose ``dataHash`` is SM3 of the Signature.xml bytes (cn-standards §5); for a ``Sign`` signature it is
a plain SM2 signature over those bytes (what ofdrw's ``DigitalSignContainer`` writes: DER
``SEQUENCE {r, s}``, SM2-with-SM3, default ID; the package carries no certificate, so the verifier
must be given the signer's).

Each signature is reported with check names prefixed by its ID (``s001:references``,
``s001:signature``, …); the e-seal steps are those of :func:`verification.ses.signature_checks`.

Input hardening: the package size, entry count, each entry's and the total decompressed size are
bounded (zip bombs), entry names must stay inside the package and be unique, encrypted entries are
refused, and every location an XML file names is resolved inside the package or refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import posixpath
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, NoReturn
from xml.etree import ElementTree
from xml.parsers import expat

from asn1crypto import cms
from cryptography.hazmat.primitives import hashes

from ca import oids

from .errors import InputTooLargeError, MalformedInputError
from .result import Check, CheckOutcome, VerificationResult
from .ses import (
    ParsedSignature,
    TrustInputs,
    certificate_check,
    load_certificate,
    parse_signature,
    signature_checks,
    sm2_signature_check,
    subject_name,
)

__all__ = [
    "MAX_ENTRIES",
    "MAX_ENTRY_SIZE",
    "MAX_OFD_SIZE",
    "MAX_SIGNATURES",
    "MAX_TOTAL_SIZE",
    "verify_ofd",
]

MAX_OFD_SIZE = 64 * 2**20
"""Largest OFD file accepted."""
MAX_ENTRIES = 20_000
"""Most entries a package may have."""
MAX_ENTRY_SIZE = 64 * 2**20
"""Largest decompressed entry read."""
MAX_TOTAL_SIZE = 256 * 2**20
"""Most decompressed bytes read from one package altogether."""
MAX_XML_SIZE = 8 * 2**20
"""Largest XML file parsed."""
MAX_SIGNATURES = 256
"""Most signatures verified in one document."""

_PASSED = CheckOutcome.PASSED
_FAILED = CheckOutcome.FAILED
_SKIPPED = CheckOutcome.SKIPPED
_INDETERMINATE = CheckOutcome.INDETERMINATE

# References/@CheckMethod as OFD producers write it: names (ofdrw: "SM3") or OIDs (1.2.156.10197.1.401).
# CheckMethod is optional in GB/T 33190 §18.2.2; without it the algorithm would have to be guessed, and the
# MD5 default older readers assume is broken: refuse (fail closed). MD5 itself is not accepted either.
_CHECK_METHODS: dict[str, str] = {
    "sm3": "sm3",
    oids.SM3: "sm3",
    "sha256": "sha256",
    "sha-256": "sha256",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "sha1": "sha1",
    "sha-1": "sha1",
    "1.3.14.3.2.26": "sha1",
}

# The signing time in Signature.xml has no zone in ofdrw's output ("2020-04-22 16:22:44"): OFD is a
# Chinese national format and these are local times, so China Standard Time is assumed for them.
_CHINA_STANDARD_TIME = timezone(timedelta(hours=8))


class _Refused(Exception):
    """A location or file inside the package cannot be used (missing, outside the package, too big)."""


def _digest(name: str, data: bytes) -> bytes:
    if name == "sm3":
        digest = hashes.Hash(hashes.SM3())
        digest.update(data)
        return digest.finalize()
    return hashlib.new(name, data).digest()


# --------------------------------------------------------------------------------------------------
# The package


class _Package:
    """A ZIP package read under limits; entries are read on demand and cached."""

    def __init__(self, data: bytes) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise MalformedInputError("the input is not an OFD document (not a ZIP package)") from exc
        if len(infos) > MAX_ENTRIES:
            raise InputTooLargeError(f"the OFD package has more than {MAX_ENTRIES} entries")
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            if name.endswith("/"):
                continue
            normalised = posixpath.normpath(name)
            if (
                name.startswith("/")
                or "\\" in name
                or ":" in name.split("/", 1)[0]
                or normalised != name
                or normalised.startswith("../")
                or normalised == ".."
            ):
                raise MalformedInputError(f"the OFD package has an unsafe entry name {name!r}")
            if name in self._infos:
                # Two entries with one name: a reader and a verifier could each pick another one.
                raise MalformedInputError(f"the OFD package has two entries named {name!r}")
            if info.flag_bits & 0x1:
                raise MalformedInputError("the OFD package has encrypted entries")
            self._infos[name] = info
        self._cache: dict[str, bytes] = {}
        self._read_total = 0

    @property
    def names(self) -> list[str]:
        return list(self._infos)

    def read(self, name: str) -> bytes:
        if name in self._cache:
            return self._cache[name]
        info = self._infos.get(name)
        if info is None:
            raise _Refused(f"/{name} is not in the package")
        if info.file_size > MAX_ENTRY_SIZE:
            raise _Refused(f"/{name} is larger than {MAX_ENTRY_SIZE} bytes")
        budget = min(MAX_ENTRY_SIZE, MAX_TOTAL_SIZE - self._read_total)
        chunks: list[bytes] = []
        size = 0
        try:
            with self._zip.open(info) as stream:
                # Read no more than the budget whatever the header claims (a zip bomb lies about sizes).
                while chunk := stream.read(min(1 << 16, budget + 1 - size)):
                    size += len(chunk)
                    if size > budget:
                        raise InputTooLargeError("the OFD package expands beyond the decompression limits")
                    chunks.append(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:  # CRC errors, bad streams
            raise _Refused(f"/{name} cannot be read from the package ({exc})") from exc
        data = b"".join(chunks)
        self._read_total += size
        self._cache[name] = data
        return data


def _resolve(base_dir: str, location: str) -> str:
    """An ST_Loc (GB/T 33190 §7.2.2): absolute from the package root, or relative to ``base_dir``."""
    location = location.strip()
    if not location:
        raise _Refused("an empty location")
    if "\\" in location or "://" in location:
        raise _Refused(f"location {location!r} is not a package path")
    joined = location[1:] if location.startswith("/") else posixpath.join(base_dir, location)
    normalised = posixpath.normpath(joined)
    if normalised in {".", ".."} or normalised.startswith("../") or normalised.startswith("/"):
        raise _Refused(f"location {location!r} points outside the package")
    return normalised


# --------------------------------------------------------------------------------------------------
# XML


def _xml(data: bytes, name: str) -> ElementTree.Element:
    """Parse one package XML file.

    ElementTree (expat) never fetches external entities, but it still expands internal ones. OFD
    files have no reason to carry a document type declaration, so a first expat pass refuses any
    DOCTYPE or entity declaration (what defusedxml would do; it is not a dependency here) before
    ElementTree builds the tree.
    """
    if len(data) > MAX_XML_SIZE:
        raise _Refused(f"/{name} is larger than {MAX_XML_SIZE} bytes")

    def refuse(*_args: object) -> NoReturn:
        raise _Refused(f"/{name} declares a DOCTYPE or entities")

    guard = expat.ParserCreate()
    guard.StartDoctypeDeclHandler = refuse
    guard.EntityDeclHandler = refuse
    guard.ExternalEntityRefHandler = refuse
    try:
        guard.Parse(data, True)
        # The expat pass above refused every DOCTYPE and entity declaration: this parse is safe.
        return ElementTree.fromstring(data)  # noqa: S314
    except (expat.ExpatError, ElementTree.ParseError) as exc:
        raise _Refused(f"/{name} is not well-formed XML") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if _local(child.tag) == name]


def _child(element: ElementTree.Element | None, name: str) -> ElementTree.Element | None:
    if element is None:
        return None
    found = _children(element, name)
    return found[0] if found else None


def _text(element: ElementTree.Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


# --------------------------------------------------------------------------------------------------
# One signature


@dataclass(frozen=True)
class _SignatureEntry:
    id: str
    type: str
    base_loc: str


@dataclass
class _Outcome:
    checks: list[Check] = field(default_factory=list)
    parsed: ParsedSignature | None = None
    signer: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)


def _references_check(package: _Package, signed_info: ElementTree.Element | None, base_dir: str) -> Check:
    references = _child(signed_info, "References")
    if references is None:
        return Check("references", _FAILED, "Signature.xml lists no References")
    method_text = references.get("CheckMethod")
    if method_text is None:
        return Check(
            "references", _FAILED, "no CheckMethod: the digest algorithm is not stated (an MD5 default is not accepted)"
        )
    method = _CHECK_METHODS.get(method_text.strip().lower())
    if method is None:
        return Check("references", _FAILED, f"unsupported CheckMethod {method_text!r}")
    items = _children(references, "Reference")
    if not items:
        return Check("references", _FAILED, "References lists no file")
    problems: list[str] = []
    for item in items:
        file_ref = item.get("FileRef", "")
        try:
            path = _resolve(base_dir, file_ref)
            content = package.read(path)
        except _Refused as exc:
            problems.append(str(exc))
            continue
        try:
            expected = base64.b64decode(_text(_child(item, "CheckValue")) or "", validate=True)
        except (binascii.Error, ValueError):
            problems.append(f"/{path}: CheckValue is not Base64")
            continue
        if _digest(method, content) != expected:
            problems.append(f"/{path} changed (its {method.upper()} digest differs from CheckValue)")
    if problems:
        return Check("references", _FAILED, "; ".join(problems))
    return Check("references", _PASSED, f"{len(items)} protected file(s) unchanged ({method.upper()})")


def _signing_time(text: str | None) -> datetime | None:
    """SignatureDateTime as producers write it: ``2020-04-22 16:22:44``, ``20201010151120``, ``…Z``."""
    if not text:
        return None
    value = text.strip()
    utc = value.endswith("Z")
    value = value.rstrip("Z").split(".", 1)[0]
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC if utc else _CHINA_STANDARD_TIME).astimezone(UTC)
    return None


def _seal_signature(
    package: _Package,
    signature_xml: bytes,
    signed_value: bytes,
    signed_info: ElementTree.Element | None,
    base_dir: str,
    *,
    now: datetime,
    trust: TrustInputs,
    outcome: _Outcome,
) -> None:
    try:
        parsed = parse_signature(signed_value)
    except (MalformedInputError, InputTooLargeError) as exc:
        outcome.checks.append(Check("format", _FAILED, f"SignedValue is not an SES_Signature: {exc.public_message}"))
        return
    outcome.parsed = parsed
    seal_loc = _text(_child(_child(signed_info, "Seal"), "BaseLoc"))
    if seal_loc is not None:
        # The seal file beside the signature must be the seal that was signed (ofdrw OFDValidator).
        try:
            seal_file = package.read(_resolve(base_dir, seal_loc))
        except _Refused as exc:
            outcome.checks.append(Check("seal_file", _FAILED, str(exc)))
        else:
            if seal_file == parsed.seal_bytes:
                outcome.checks.append(Check("seal_file", _PASSED, "Seal.esl is the seal embedded in the signature"))
            else:
                outcome.checks.append(Check("seal_file", _FAILED, "Seal.esl differs from the seal in the signature"))
    # GB/T 38540 over OFD: dataHash is SM3 of the Signature.xml bytes.
    outcome.checks.extend(signature_checks(parsed, document=signature_xml, now=now, trust=trust))
    signer = load_certificate(parsed.signer_certificate)
    outcome.signer = subject_name(signer) if signer is not None else None
    outcome.summary.update(
        seal_name=parsed.seal.name,
        seal_id=parsed.seal.es_id,
        layout=parsed.layout,
        signing_time=parsed.time_info.isoformat() if parsed.time_info else None,
    )


def _digital_signature(
    signature_xml: bytes,
    signed_value: bytes,
    signed_info: ElementTree.Element | None,
    *,
    now: datetime,
    trust: TrustInputs,
    signer_certificates: Sequence[bytes],
    outcome: _Outcome,
) -> None:
    method = _text(_child(signed_info, "SignatureMethod")) or ""
    if signed_value[:1] == b"\x30":
        try:
            content = cms.ContentInfo.load(signed_value, strict=True)
            content_type = content["content_type"].dotted
        except (ValueError, TypeError, KeyError):
            content_type = None
        if content_type is not None:
            outcome.checks.append(
                Check(
                    "signature",
                    _INDETERMINATE,
                    f"SignedValue is a CMS message ({content_type}); GB/T 35275 signatures are not verified here",
                )
            )
            return
    if method != oids.SM2_SM3:
        outcome.checks.append(Check("signature", _FAILED, f"unsupported SignatureMethod {method!r}"))
        return
    if not signer_certificates:
        outcome.checks.append(
            Check(
                "signature",
                _INDETERMINATE,
                "a Sign signature carries no certificate and none was given: the signer cannot be checked",
            )
        )
        return
    for certificate in signer_certificates:
        result, _detail = sm2_signature_check(certificate, method, signed_value, signature_xml)
        if result is _PASSED:
            outcome.checks.append(
                Check(
                    "signature", _PASSED, "SM2-with-SM3 signature over Signature.xml verifies with a given certificate"
                )
            )
            when = _signing_time(_text(_child(signed_info, "SignatureDateTime")))
            label = "the signing time (SignatureDateTime)" if when is not None else "now"
            outcome.checks.append(
                certificate_check(
                    "signer_certificate",
                    certificate,
                    role="signer",
                    at=[(label, when if when is not None else now)],
                    trust=trust,
                    now=now,
                )
            )
            loaded = load_certificate(certificate)
            outcome.signer = subject_name(loaded) if loaded is not None else None
            return
    outcome.checks.append(
        Check("signature", _FAILED, "the signature over Signature.xml verifies with none of the given certificates")
    )


def _verify_one(
    package: _Package,
    entry: _SignatureEntry,
    *,
    now: datetime,
    trust: TrustInputs,
    signer_certificates: Sequence[bytes],
) -> _Outcome:
    outcome = _Outcome(summary={"id": entry.id, "type": entry.type})
    if entry.type not in {"Seal", "Sign"}:
        outcome.checks.append(Check("format", _FAILED, f"unknown signature Type {entry.type!r}"))
        return outcome
    try:
        signature_path = _resolve("", entry.base_loc)
        signature_xml = package.read(signature_path)
        root = _xml(signature_xml, signature_path)
        if _local(root.tag) != "Signature":
            raise _Refused(f"/{signature_path} is not a Signature file")
        base_dir = posixpath.dirname(signature_path)
        signed_info = _child(root, "SignedInfo")
        signed_value_loc = _text(_child(root, "SignedValue"))
        if signed_info is None or signed_value_loc is None:
            raise _Refused(f"/{signature_path} lacks SignedInfo or SignedValue")
        signed_value = package.read(_resolve(base_dir, signed_value_loc))
    except _Refused as exc:
        outcome.checks.append(Check("format", _FAILED, str(exc)))
        return outcome

    outcome.checks.append(_references_check(package, signed_info, base_dir))
    if entry.type == "Seal":
        _seal_signature(
            package, signature_xml, signed_value, signed_info, base_dir, now=now, trust=trust, outcome=outcome
        )
    else:
        _digital_signature(
            signature_xml,
            signed_value,
            signed_info,
            now=now,
            trust=trust,
            signer_certificates=signer_certificates,
            outcome=outcome,
        )
    return outcome


# --------------------------------------------------------------------------------------------------
# The document


def _signature_entries(package: _Package) -> list[_SignatureEntry]:
    try:
        root = _xml(package.read("OFD.xml"), "OFD.xml")
    except _Refused as exc:
        raise MalformedInputError(f"not an OFD document: {exc}") from exc
    if _local(root.tag) != "OFD":
        raise MalformedInputError("not an OFD document: OFD.xml has no OFD root element")
    entries: list[_SignatureEntry] = []
    for body in _children(root, "DocBody"):
        location = _text(_child(body, "Signatures"))
        if location is None:
            continue
        try:
            list_path = _resolve("", location)
            signatures = _xml(package.read(list_path), list_path)
        except _Refused as exc:
            raise MalformedInputError(f"the document's signature list cannot be read: {exc}") from exc
        list_dir = posixpath.dirname(list_path)
        for item in _children(signatures, "Signature"):
            base_loc = item.get("BaseLoc", "")
            # BaseLoc is absolute or relative to Signatures.xml; resolve it here, re-root it for _verify_one.
            try:
                resolved = "/" + _resolve(list_dir, base_loc)
            except _Refused:
                resolved = base_loc
            identifier = item.get("ID") or "?"
            if any(entry.id == identifier for entry in entries):
                # Check names must say which signature they belong to, even when IDs repeat.
                identifier = f"{identifier}#{len(entries) + 1}"
            entries.append(_SignatureEntry(id=identifier, type=item.get("Type", "Seal"), base_loc=resolved))
    if len(entries) > MAX_SIGNATURES:
        raise InputTooLargeError(f"the OFD document has more than {MAX_SIGNATURES} signatures")
    return entries


def verify_ofd(
    data: bytes,
    *,
    now: datetime,
    trust_anchors: Sequence[bytes] = (),
    intermediates: Sequence[bytes] = (),
    crls: Sequence[bytes] = (),
    signer_certificates: Sequence[bytes] = (),
) -> VerificationResult:
    """Verify every signature of an OFD document at time ``now``; result kind ``"ofd"``.

    For each signature listed in the document's Signatures.xml: ``<id>:references`` (every protected
    file's CheckValue), for ``Seal`` signatures ``<id>:seal_file`` (when Seal.esl is named) and all
    GB/T 38540 checks of the SES_Signature in SignedValue.dat with Signature.xml as the document
    (``<id>:document_hash`` = SM3 of Signature.xml equals dataHash); for ``Sign`` signatures
    ``<id>:signature`` (an SM2 signature over Signature.xml, checked with ``signer_certificates``,
    since the package carries no certificate) and ``<id>:signer_certificate``. A document without
    signatures is INVALID. Raises :class:`~verification.errors.MalformedInputError` for input that is
    no OFD package and :class:`~verification.errors.InputTooLargeError` beyond the limits.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise MalformedInputError("the validation time must be timezone-aware")
    now = now.astimezone(UTC)
    data = bytes(data)
    if len(data) > MAX_OFD_SIZE:
        raise InputTooLargeError(f"the OFD document is larger than {MAX_OFD_SIZE} bytes")
    package = _Package(data)
    entries = _signature_entries(package)
    if not entries:
        return VerificationResult.from_checks(
            [
                Check("package", _PASSED, f"OFD package with {len(package.names)} files"),
                Check("signatures", _FAILED, "the OFD document carries no signature"),
            ],
            kind="ofd",
        )
    trust = TrustInputs(tuple(trust_anchors), tuple(intermediates), tuple(crls))
    checks = [Check("package", _PASSED, f"OFD package with {len(package.names)} files, {len(entries)} signature(s)")]
    summaries: list[dict[str, Any]] = []
    outcomes: list[_Outcome] = []
    for entry in entries:
        outcome = _verify_one(package, entry, now=now, trust=trust, signer_certificates=signer_certificates)
        checks.extend(Check(f"{entry.id}:{check.name}", check.outcome, check.detail) for check in outcome.checks)
        summaries.append({**outcome.summary, "signer": outcome.signer})
        outcomes.append(outcome)
    single = outcomes[0] if len(outcomes) == 1 else None
    signing_time = single.parsed.time_info if single is not None and single.parsed is not None else None
    return VerificationResult.from_checks(
        checks,
        kind="ofd",
        signing_time=signing_time,
        signing_time_source="timeInfo" if signing_time is not None else None,
        signer=single.signer if single is not None else None,
        disclosed=MappingProxyType({"signatures": summaries}),
    )
