"""GB/T 38540-2020 electronic seals (电子印章) and e-seal signatures (电子签章), version 4.

:func:`make_seal` builds a ``SESeal`` (GB/T 38540 §6): the seal's identity, its holders' certificates,
its validity window and its picture, signed by the seal maker (制章者, the issuing authority's SM2 key)
over DER(``eSealInfo``) alone — the signed bytes the standard's V4 layout uses (cn-standards §1.5,
checked against ofdrw's UserV4.esl).

:func:`make_signature` builds a ``SES_Signature`` (GB/T 38540 §7): a holder signs DER(``TBS_Sign``),
which embeds the whole seal, the signing time, the SM3 hash of the original document and a
description of it; an optional time-stamp over the signature value is added by a caller-supplied
time-stamper (GB/T 20520 / RFC 3161 token).

Both take the time from the caller and sign through a :class:`~ca.algorithms.KeySigner`, so the key
may live in the software key store or an HSM. Only SM2-with-SM3 is accepted (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import core
from cryptography.hazmat.primitives import hashes

from ca import ses_asn1
from ca.algorithms import KeySigner, SignatureAlgorithm
from ca.sm2 import SM2Error, SM2PublicKey

from .errors import SealKeyError

__all__ = [
    "PICTURE_TYPES",
    "SES_VERSION",
    "VENDOR_ID",
    "SESError",
    "SealPicture",
    "document_hash",
    "make_seal",
    "make_signature",
]

SES_VERSION = 4
"""GB/T 38540-2020: ``SES_Header.version`` and ``TBS_Sign.version`` are 4."""

VENDOR_ID = "YINXIN"
"""``SES_Header.vid``, the vendor identifier (厂商标识) of seals Yinxin makes."""

PICTURE_TYPES = frozenset({"PNG", "GIF", "JPG", "BMP", "SVG", "OFD"})
"""Picture formats ``SES_ESPictrueInfo.type`` names (GB/T 38540 §6; "OFD" as found in the wild)."""

# The standard fixes no upper bound; these keep a seal an object of reasonable size.
MAX_PICTURE_BYTES = 4 * 2**20
MAX_HOLDER_CERTIFICATES = 64


class SESError(SealKeyError):
    """A seal or seal signature cannot be made from these inputs (wrong algorithm, key, time, picture)."""

    code = "ses_error"


@dataclass(frozen=True)
class SealPicture:
    """The seal's picture (``SES_ESPictrueInfo``): format, image bytes and display size in millimetres."""

    type: str
    data: bytes
    width_mm: int
    height_mm: int

    def __post_init__(self) -> None:
        if self.type not in PICTURE_TYPES:
            raise SESError(f"unsupported seal picture type {self.type!r}")
        if not self.data or len(self.data) > MAX_PICTURE_BYTES:
            raise SESError("the seal picture is empty or too large")
        if not (0 < self.width_mm <= 1000 and 0 < self.height_mm <= 1000):
            raise SESError("the seal picture size must be between 1 and 1000 mm")


def document_hash(document: bytes) -> bytes:
    """SM3 of the original document (GB/T 38540 §7 ``dataHash``; for OFD, of Signature.xml)."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(document)
    return digest.finalize()


def _utc_seconds(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise SESError(f"{what} must be timezone-aware")
    # GeneralizedTime in DER: UTC ("Z") and, here, whole seconds.
    return moment.astimezone(UTC).replace(microsecond=0)


def _sm2_signer(signer: KeySigner, certificate: bytes, role: str) -> None:
    if signer.algorithm is not SignatureAlgorithm.SM2_SM3:
        raise SESError(f"the {role} must sign with SM2-with-SM3 (GB/T 38540 §6), not {signer.algorithm.value}")
    try:
        certified = SM2PublicKey.from_certificate_der(certificate)
    except SM2Error as exc:
        raise SESError(f"the {role}'s certificate does not hold an SM2 key") from exc
    key = signer.public_key()
    if not isinstance(key, SM2PublicKey) or key.point != certified.point:
        raise SESError(f"the {role}'s key does not match the {role}'s certificate")


def make_seal(
    *,
    es_id: str,
    seal_type: int,
    name: str,
    holder_certificates: Sequence[bytes],
    create_date: datetime,
    valid_start: datetime,
    valid_end: datetime,
    picture: SealPicture,
    maker: KeySigner,
    maker_certificate: bytes,
    vid: str = VENDOR_ID,
) -> bytes:
    """Make a V4 ``SESeal`` (GB/T 38540 §6) and return its DER.

    ``holder_certificates`` (DER) become ``certList`` with ``certListType`` 1: only their holders may
    sign with this seal. ``maker`` signs DER(``eSealInfo``) with SM2-with-SM3; ``maker_certificate``
    must certify the maker's key. Times are the caller's (timezone-aware) and are written as
    GeneralizedTime in whole UTC seconds.
    """
    _sm2_signer(maker, maker_certificate, "seal maker")
    if not es_id or not es_id.isascii():
        raise SESError("the seal identifier (esID) must be non-empty ASCII (IA5String)")
    if not vid.isascii():
        raise SESError("the vendor identifier must be ASCII (IA5String)")
    if not name:
        raise SESError("the seal needs a name")
    if not 0 < len(holder_certificates) <= MAX_HOLDER_CERTIFICATES:
        raise SESError(f"a seal names between 1 and {MAX_HOLDER_CERTIFICATES} holder certificates")
    created = _utc_seconds(create_date, "createDate")
    start = _utc_seconds(valid_start, "validStart")
    end = _utc_seconds(valid_end, "validEnd")
    if not start < end:
        raise SESError("the seal's validity must end after it starts")

    property_info = ses_asn1.SESESPropertyInfo(
        {
            "type": seal_type,
            "name": name,
            "certListType": ses_asn1.SESESPropertyInfo.CERTIFICATES,
            "certList": core.Any.load(ses_asn1.CertInfoList([bytes(c) for c in holder_certificates]).dump()),
            "createDate": ses_asn1.SESTime(name="generalized_time", value=created),
            "validStart": ses_asn1.SESTime(name="generalized_time", value=start),
            "validEnd": ses_asn1.SESTime(name="generalized_time", value=end),
        }
    )
    seal_info = ses_asn1.SESSealInfo(
        {
            "header": {"id": ses_asn1.SES_HEADER_ID, "version": SES_VERSION, "vid": vid},
            "esID": es_id,
            "property": property_info,
            "picture": {
                "type": picture.type,
                "data": picture.data,
                "width": picture.width_mm,
                "height": picture.height_mm,
            },
        }
    )
    seal_info_der = seal_info.dump()
    # GB/T 38540 §6: the maker signs DER(eSealInfo) alone.
    signed_value = maker.sign(seal_info_der)
    seal = ses_asn1.SESeal(
        {
            "eSealInfo": ses_asn1.SESSealInfo.load(seal_info_der),
            "cert": bytes(maker_certificate),
            "signAlgID": ses_asn1.SM2_SM3_OID,
            "signedValue": signed_value,
        }
    )
    der: bytes = seal.dump()
    return der


def make_signature(
    *,
    seal: bytes,
    data_hash: bytes,
    property_info: str,
    signing_time: datetime,
    signer: KeySigner,
    signer_certificate: bytes,
    time_stamper: Callable[[bytes], bytes] | None = None,
) -> bytes:
    """Make a V4 ``SES_Signature`` (GB/T 38540 §7) over a document's ``data_hash``; return its DER.

    ``seal`` is the DER of a V4 ``SESeal`` (embedded unchanged, byte for byte). ``data_hash`` is the
    SM3 hash of the original (:func:`document_hash`); ``property_info`` describes it (GB/T 38540 asks
    for at least the protected range; OFD signers write the path of Signature.xml). The signer signs
    DER(``TBS_Sign``) with SM2-with-SM3; ``signer_certificate`` must certify its key. A
    ``time_stamper``, when given, receives the signature value and returns a GB/T 20520 time-stamp
    token for ``[0] timeStamp``.
    """
    _sm2_signer(signer, signer_certificate, "signer")
    try:
        embedded = ses_asn1.SESeal.load(bytes(seal), strict=True)
        version = embedded["eSealInfo"]["header"]["version"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise SESError("the seal is not a GB/T 38540 SESeal") from exc
    if version != SES_VERSION or embedded["timeStamp"].native is not None:
        raise SESError("only V4 seals can be used for V4 signatures")
    if len(data_hash) != 32:
        raise SESError("dataHash must be an SM3 hash (32 bytes)")
    if not property_info.isascii():
        raise SESError("propertyInfo must be ASCII (IA5String)")
    signing = _utc_seconds(signing_time, "the signing time")
    if signing > embedded["eSealInfo"]["property"]["validEnd"].datetime:
        raise SESError("the seal has expired at the signing time")
    if signing < embedded["eSealInfo"]["property"]["validStart"].datetime:
        raise SESError("the seal is not yet valid at the signing time")

    to_sign = ses_asn1.TBSSign(
        {
            "version": SES_VERSION,
            "eseal": embedded,
            "timeInfo": signing,
            "dataHash": data_hash,
            "propertyInfo": property_info,
        }
    )
    to_sign_der = to_sign.dump()
    # GB/T 38540 §7: the signature covers DER(TBS_Sign).
    signature = signer.sign(to_sign_der)
    fields: dict[str, object] = {
        "toSign": ses_asn1.TBSSign.load(to_sign_der),
        "cert": bytes(signer_certificate),
        "signatureAlgID": ses_asn1.SM2_SM3_OID,
        "signature": signature,
    }
    if time_stamper is not None:
        fields["timeStamp"] = time_stamper(signature)
    der: bytes = ses_asn1.SESSignature(fields).dump()
    return der
