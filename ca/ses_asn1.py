"""ASN.1 structures of the secure electronic seal (电子印章) and e-seal signature (电子签章).

Three layouts are in use (reference/cn-standards.md §1.1):

* **V1**, GM/T 0031-2014: ``SESeal ::= SEQUENCE {esealInfo, signInfo}``, ``SES_Signature ::= SEQUENCE
  {toSign, signature}``; the signer's certificate and algorithm sit *inside* ``TBS_Sign``.
* **V4**, GB/T 38540-2020 §6 (电子印章) and §7 (电子签章): four-element ``SESeal`` and a four- or
  five-element ``SES_Signature`` with an optional ``[0] EXPLICIT timeStamp``.
* **V5**, the layout ofdrw attributes to "GM/T 0031-2025": V4 plus an optional ``[0] EXPLICIT
  timeStamp`` on the seal itself; ``SES_Header.version`` is 5.

Clause numbers: GB/T 38540-2020's table of contents puts 电子印章 (the seal) in §6 and the e-seal signature
in §7; the full text was not available (reference/cn-standards.md), so no subclause is cited and the
structures follow ofdrw's classes and the notes' §1.2–§1.4, checked against real files.

Field names are the standards' own (``esID``, ``certListType``, ``SES_ESPictrueInfo`` with the
standard's spelling), written as Python identifiers. The classes hold structure only: choosing the
layout, checking versions and verifying signatures is :mod:`verification.ses`'s job, and building a
V4 seal is :mod:`seal_keys.ses`'s.

Tolerances. Real V1 files are messy; ofdrw (``ses/v1/SES_ESPropertyInfo.java``, ``ses/v1/TBS_Sign.java``,
"兼容非标签章") accepts GeneralizedTime where GM/T 0031-2014 says UTCTime and OCTET STRING where it says
BIT STRING. The V1 classes here accept the same variants through small CHOICE types
(:class:`SESTime`, :class:`BitOrOctetString`) so a verifier can *see* which encoding was used and
record the tolerance, instead of silently normalising it. Parsing never re-encodes: asn1crypto keeps
the received bytes of every value it has not been asked to change, and verifiers take the signed
bytes from the input itself (see :func:`raw_elements`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from asn1crypto import core, parser

from . import oids

# asn1crypto ships no type information, so mypy sees its base classes as Any: each subclass below
# carries "type: ignore[misc]" for that reason alone.

__all__ = [
    "SES_HEADER_ID",
    "SM2_SM3_OID",
    "BitOrOctetString",
    "CertDigestList",
    "CertDigestObj",
    "CertInfoList",
    "ExtData",
    "ExtensionDatas",
    "SESESPictrueInfo",
    "SESESPropertyInfo",
    "SESESPropertyInfoV1",
    "SESHeader",
    "SESSealInfo",
    "SESSealInfoV1",
    "SESSignInfo",
    "SESSignature",
    "SESSignatureV1",
    "SESTime",
    "SESeal",
    "SESealV1",
    "TBSSign",
    "TBSSignV1",
    "raw_elements",
]

SES_HEADER_ID = "ES"
"""GB/T 38540 §6: ``SES_Header.id`` is the fixed string "ES"."""

SM2_SM3_OID = oids.SM2_SM3
"""1.2.156.10197.1.501, SM2 signature with SM3: the algorithm of every seal and signature we make."""


# --- common pieces --------------------------------------------------------------------------------


class SESHeader(core.Sequence):  # type: ignore[misc]
    """``SES_Header`` (GB/T 38540 §6; GM/T 0031-2014): ``id`` "ES", ``version``, ``vid`` (vendor)."""

    _fields: ClassVar[list[tuple[str, Any]]] = [
        ("id", core.IA5String),
        ("version", core.Integer),
        ("vid", core.IA5String),
    ]


class ExtData(core.Sequence):  # type: ignore[misc]
    """``ExtData`` (GB/T 38540 §6): a vendor extension ``{extnID, critical DEFAULT FALSE, extnValue}``.

    Shaped like an X.509 ``Extension`` (RFC 5280 §4.1): a *critical* extension a verifier does not
    understand makes the structure unacceptable.
    """

    _fields: ClassVar[list[tuple[str, Any, dict[str, Any]] | tuple[str, Any]]] = [
        ("extnID", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extnValue", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):  # type: ignore[misc]
    """``ExtensionDatas ::= SEQUENCE OF ExtData`` (GB/T 38540 §6)."""

    _child_spec = ExtData


class SESESPictrueInfo(core.Sequence):  # type: ignore[misc]
    """``SES_ESPictrueInfo`` (GB/T 38540 §6, the standard's spelling): the seal picture.

    ``type`` is the image format ("PNG", "GIF", "JPG", "BMP", "SVG"; "OFD" in the wild); ``width`` and
    ``height`` are the display size in millimetres.
    """

    _fields: ClassVar[list[tuple[str, Any]]] = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class SESTime(core.Choice):  # type: ignore[misc]
    """A date that should be one time type but is found as either (tolerance, see the module notes).

    GB/T 38540 §6 prescribes GeneralizedTime for the seal's dates, GM/T 0031-2014 UTCTime; files
    in the wild use the other one. The chosen alternative's ``name`` says which was received.
    """

    _alternatives: ClassVar[list[tuple[str, Any]]] = [
        ("utc_time", core.UTCTime),
        ("generalized_time", core.GeneralizedTime),
    ]

    @property
    def datetime(self) -> datetime:
        """The time as an aware :class:`datetime.datetime`."""
        value = self.chosen.native
        if not isinstance(value, datetime):  # pragma: no cover - asn1crypto always gives a datetime
            raise ValueError("not a time value")
        return value


class BitOrOctetString(core.Choice):  # type: ignore[misc]
    """A BIT STRING that some V1 producers send as an OCTET STRING (tolerance, ofdrw ``v1/TBS_Sign``)."""

    _alternatives: ClassVar[list[tuple[str, Any]]] = [
        ("bit_string", core.OctetBitString),
        ("octet_string", core.OctetString),
    ]

    @property
    def octets(self) -> bytes:
        """The payload bytes (for a BIT STRING, which must then have no unused bits)."""
        value = self.chosen.native
        if not isinstance(value, bytes):  # pragma: no cover
            raise ValueError("not a byte string")
        return value


# --- V4 / V5 (GB/T 38540-2020) --------------------------------------------------------------------


class CertInfoList(core.SequenceOf):  # type: ignore[misc]
    """``CertInfoList ::= SEQUENCE OF OCTET STRING``: DER certificates of the seal's holders (certListType 1)."""

    _child_spec = core.OctetString


class CertDigestObj(core.Sequence):  # type: ignore[misc]
    """``CertDigestObj ::= SEQUENCE {type PrintableString, value OCTET STRING}``: a certificate digest."""

    _fields: ClassVar[list[tuple[str, Any]]] = [
        ("type", core.PrintableString),
        ("value", core.OctetString),
    ]


class CertDigestList(core.SequenceOf):  # type: ignore[misc]
    """``CertDigestList ::= SEQUENCE OF CertDigestObj`` (certListType 2)."""

    _child_spec = CertDigestObj


class SESESPropertyInfo(core.Sequence):  # type: ignore[misc]
    """``SES_ESPropertyInfo`` (GB/T 38540 §6): seal type, name, holders' certificates, validity.

    ``certList`` is the CHOICE ``SES_CertList { certs CertInfoList, certDigestList CertDigestList }``.
    Both alternatives are untagged SEQUENCE OF, so the encoding cannot tell them apart: the preceding
    ``certListType`` (1 = certificates, 2 = certificate digests) does. The field is therefore kept as
    ``Any`` and read through :meth:`certificates` or :meth:`certificate_digests`.
    """

    _fields: ClassVar[list[tuple[str, Any]]] = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("certListType", core.Integer),
        ("certList", core.Any),
        ("createDate", SESTime),
        ("validStart", SESTime),
        ("validEnd", SESTime),
    ]

    CERTIFICATES: ClassVar[int] = 1
    CERTIFICATE_DIGESTS: ClassVar[int] = 2

    def certificates(self) -> list[bytes]:
        """The DER certificates of a certListType 1 list."""
        if self["certListType"].native != self.CERTIFICATES:
            raise ValueError("certList does not hold certificates (certListType is not 1)")
        parsed = CertInfoList.load(self["certList"].dump(), strict=True)
        return [item.native for item in parsed]

    def certificate_digests(self) -> list[tuple[str, bytes]]:
        """``(type, value)`` of each CertDigestObj of a certListType 2 list."""
        if self["certListType"].native != self.CERTIFICATE_DIGESTS:
            raise ValueError("certList does not hold digests (certListType is not 2)")
        parsed = CertDigestList.load(self["certList"].dump(), strict=True)
        return [(item["type"].native, item["value"].native) for item in parsed]


class SESSealInfo(core.Sequence):  # type: ignore[misc]
    """``SES_SealInfo`` (GB/T 38540 §6): header, esID, property, picture, optional extDatas.

    The maker's signature (V4 and V5) covers the DER of this structure alone (cn-standards §1.5,
    verified against ofdrw's UserV4.esl).
    """

    _fields: ClassVar[list[tuple[str, Any, dict[str, Any]] | tuple[str, Any]]] = [
        ("header", SESHeader),
        ("esID", core.IA5String),
        ("property", SESESPropertyInfo),
        ("picture", SESESPictrueInfo),
        ("extDatas", ExtensionDatas, {"optional": True}),
    ]


class SESeal(core.Sequence):  # type: ignore[misc]
    """``SESeal`` (GB/T 38540 §6): the seal, signed by its maker (制章者).

    ``cert`` is the maker's DER certificate, ``signAlgID`` 1.2.156.10197.1.501 for SM2, ``signedValue``
    the maker's signature over DER(``eSealInfo``). The optional ``[0] EXPLICIT timeStamp`` exists only
    in the V5 layout (ofdrw ``ses/v5/SESeal.java``); a V4 seal must not carry it.
    """

    _fields: ClassVar[list[tuple[str, Any, dict[str, Any]] | tuple[str, Any]]] = [
        ("eSealInfo", SESSealInfo),
        ("cert", core.OctetString),
        ("signAlgID", core.ObjectIdentifier),
        ("signedValue", core.OctetBitString),
        ("timeStamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]


class TBSSign(core.Sequence):  # type: ignore[misc]
    """``TBS_Sign`` (GB/T 38540 §7): what the signer signs; its DER is the signed message.

    ``version`` equals the seal's header version; ``eseal`` is the whole seal; ``timeInfo`` the signing
    time the signer asserts; ``dataHash`` the hash of the original (for OFD: SM3 of Signature.xml);
    ``propertyInfo`` describes the original (ofdrw writes the path of Signature.xml).
    """

    _fields: ClassVar[list[tuple[str, Any, dict[str, Any]] | tuple[str, Any]]] = [
        ("version", core.Integer),
        ("eseal", SESeal),
        ("timeInfo", core.GeneralizedTime),
        ("dataHash", core.OctetBitString),
        ("propertyInfo", core.IA5String),
        ("extDatas", ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class SESSignature(core.Sequence):  # type: ignore[misc]
    """``SES_Signature`` (GB/T 38540 §7): the e-seal signature (电子签章数据), V4 and V5 layouts.

    ``cert`` is the signer's DER certificate, ``signatureAlgID`` its algorithm, ``signature`` the
    signer's signature over DER(``toSign``); ``[0] EXPLICIT timeStamp`` is an optional GB/T 20520
    time-stamp over the signature value.
    """

    _fields: ClassVar[list[tuple[str, Any, dict[str, Any]] | tuple[str, Any]]] = [
        ("toSign", TBSSign),
        ("cert", core.OctetString),
        ("signatureAlgID", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("timeStamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]


# --- V1 (GM/T 0031-2014) ----------------------------------------------------------------------------


class SESESPropertyInfoV1(core.Sequence):  # type: ignore[misc]
    """``SES_ESPropertyInfo`` of GM/T 0031-2014: no certListType; certList is SEQUENCE OF OCTET STRING.

    The dates should be UTCTime; GeneralizedTime is accepted (tolerance, see :class:`SESTime`).
    """

    _fields: ClassVar[list[tuple[str, Any]]] = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("certList", CertInfoList),
        ("createDate", SESTime),
        ("validStart", SESTime),
        ("validEnd", SESTime),
    ]


class SESSealInfoV1(core.Sequence):  # type: ignore[misc]
    """``SES_SealInfo`` of GM/T 0031-2014.

    ``extDatas`` is kept as ``Any``: ofdrw meets V1 seals whose extension data is not a well-formed
    ExtensionDatas ("兼容非标签章", ``ses/v1/ExtensionDatas.java``) and skips it; the verifier decides.
    """

    _fields: ClassVar[list[tuple[str, Any, dict[str, Any]] | tuple[str, Any]]] = [
        ("header", SESHeader),
        ("esID", core.IA5String),
        ("property", SESESPropertyInfoV1),
        ("picture", SESESPictrueInfo),
        ("extDatas", core.Any, {"optional": True}),
    ]


class SESSignInfo(core.Sequence):  # type: ignore[misc]
    """``SES_SignInfo`` of GM/T 0031-2014: the maker's certificate, algorithm and signature.

    ``signData`` is the maker's signature over DER of ``SEQUENCE {esealInfo, cert, signatureAlgorithm}``
    (cn-standards §1.5; ofdrw ``ses/v1/SES_SignInfo.java``).
    """

    _fields: ClassVar[list[tuple[str, Any]]] = [
        ("cert", core.OctetString),
        ("signatureAlgorithm", core.ObjectIdentifier),
        ("signData", core.OctetBitString),
    ]


class SESealV1(core.Sequence):  # type: ignore[misc]
    """``SESeal`` of GM/T 0031-2014: ``{esealInfo, signInfo}``."""

    _fields: ClassVar[list[tuple[str, Any]]] = [
        ("esealInfo", SESSealInfoV1),
        ("signInfo", SESSignInfo),
    ]


class TBSSignV1(core.Sequence):  # type: ignore[misc]
    """``TBS_Sign`` of GM/T 0031-2014: the signer's certificate and algorithm are signed too.

    ``timeInfo`` (UTCTime text or a time-stamp) and ``dataHash`` are BIT STRINGs; OCTET STRING is
    accepted (tolerance, see :class:`BitOrOctetString`).
    """

    _fields: ClassVar[list[tuple[str, Any]]] = [
        ("version", core.Integer),
        ("eseal", SESealV1),
        ("timeInfo", BitOrOctetString),
        ("dataHash", BitOrOctetString),
        ("propertyInfo", core.IA5String),
        ("cert", core.OctetString),
        ("signatureAlgorithm", core.ObjectIdentifier),
    ]


class SESSignatureV1(core.Sequence):  # type: ignore[misc]
    """``SES_Signature`` of GM/T 0031-2014: ``{toSign, signature}``."""

    _fields: ClassVar[list[tuple[str, Any]]] = [
        ("toSign", TBSSignV1),
        ("signature", core.OctetBitString),
    ]


# --- raw bytes --------------------------------------------------------------------------------------


def raw_elements(encoded: bytes) -> tuple[list[bytes], bytes]:
    """Split one encoded constructed value into the exact received bytes of its elements.

    Returns ``(elements, trailing)``: the encoding of each element as it appears in ``encoded``
    (header, contents and any end-of-contents octets), and whatever follows the outer value.
    Verifiers sign-check these bytes rather than a re-encoding (cn-standards §6 item 1).
    asn1crypto's parser does the TLV work; this only walks it.
    """
    _class, method, _tag, header, contents, trailer = parser.parse(encoded)
    if method != 1:
        raise ValueError("not a constructed value")
    outer_length = len(header) + len(contents) + len(trailer)
    elements: list[bytes] = []
    offset = 0
    while offset < len(contents):
        _c, _m, _t, child_header, child_contents, child_trailer = parser.parse(contents[offset:])
        length = len(child_header) + len(child_contents) + len(child_trailer)
        elements.append(contents[offset : offset + length])
        offset += length
    return elements, encoded[outer_length:]
