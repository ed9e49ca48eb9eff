"""Licence metadata (电子证照元数据, GB/T 36903-2018): the elements every licence carries, as XMP and as claims.

GB/T 36903 lists the metadata elements of an e-licence; its text is not public, so the elements
and their pinyin keys below are those deployments use (reference/cn-standards.md §2.3). Keys
marked "Yinxin" have no published key and are Yinxin's own, formed the same way (initials of the
Chinese name).

=====================  ===============  ===============================================  ========
element (GB/T 36903)   XMP property     value                                            key from
=====================  ===============  ===============================================  ========
证照名称                ZZMC             the licence's name as printed (face title)       §2.3
证照类型名称            ZZLXMC           e.g. 机动车驾驶证                                 Yinxin
证照类型代码            ZZLXDM           21 characters (GB/T 36904)                        §2.3
证照定义机构            ZZDYJG           name of the defining authority                   Yinxin
证照定义机构代码        ZZDYJGDM         its USCC (the type code's first 18 characters)   Yinxin
证照编号                ZZBH             the number printed on the licence                §2.3
证照标识                ZZBS             the GB/T 36904 identifier                        §2.3
证照颁发机构            ZZBFJG           name of the issuing department                   §2.3
证照颁发机构代码        ZZBFJGDM         its USCC                                         §2.3
证照颁发日期            ZZBFRQ           yyyy-mm-dd                                       §2.3
证照所属管辖属地编码    ZZSSGXSDBM       6-digit GB/T 2260 area code                      Yinxin
持证主体                CZZT             holder's name                                    §2.3
持证主体代码            CZZTDM           公民身份号码 or 统一社会信用代码                   §2.3
持证主体代码类型        CZZTDMLX         公民身份号码 / 统一社会信用代码                     §2.3
持证主体代码类型代码    CZZTDMLXDM       111 / 001                                        §2.3
证照有效期起始日期      ZZYXQQSRQ        yyyy-mm-dd                                       §2.3
证照有效期截止日期      ZZYXQJZRQ        yyyy-mm-dd, or 长期                               §2.3
关联事项名称            GLSXMC           政务服务事项 name (absent if the type names none)  Yinxin
关联事项代码            GLSXDM           its code (absent if unknown)                     Yinxin
版本号                  BBH              3 digits, as in the identifier                   Yinxin
状态                    ZT               active, suspended, … (:mod:`issuance.lifecycle`)  Yinxin
=====================  ===============  ===============================================  ========

Dates are written ISO 8601 (``2024-05-01``, the XMP Date form, XMP Part 1 §8.2.1.2), not the
``yyyymmdd`` of platform exchange data. All properties are simple text in the namespace
:data:`XMP_NAMESPACE` (prefix ``zz``), so any XMP reader lists them. The XMP packet is the
licence PDF's document metadata stream (ISO 32000-1 §14.3.2); the credential carries only the
non-personal elements (:meth:`LicenseMetadata.to_claims`).

The 证照所属管辖属地编码 is taken, unless given, from positions 3–8 of the issuer's 统一社会信用代码,
the administrative-area code (GB/T 2260) of the authority that registered the issuer (GB 32100-2015
§4.1); central authorities carry 100000 there. A department registered in one area but issuing
for another passes the code explicitly.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final
from xml.sax.saxutils import escape

from .catalog import LONG_TERM, HolderKind, LicenseType
from .errors import FieldValidationError, IssuanceError
from .identifier import LicenseIdentifier, validate_resident_id, validate_uscc
from .lifecycle import LicenseStatus

__all__ = [
    "XMP_NAMESPACE",
    "XMP_PREFIX",
    "LicenseMetadata",
    "build_metadata",
    "jurisdiction_of",
    "read_xmp_elements",
    "validity_window",
]

XMP_NAMESPACE: Final = "http://yinxin.example/ns/gbt36903/"
"""The XMP namespace of the GB/T 36903 elements (Yinxin's; GB/T 36903 defines no XMP binding)."""
XMP_PREFIX: Final = "zz"
"""The prefix :meth:`LicenseMetadata.to_xmp` binds to :data:`XMP_NAMESPACE` (证照)."""

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_X = "adobe:ns:meta/"
# XMP Part 1 §7.3.2: the packet wrapper; the id is fixed by the specification.
_PACKET_BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
_PACKET_END = '<?xpacket end="w"?>'
_MAX_TEXT = 200
_MAX_XMP_BYTES = 1024 * 1024
_JURISDICTION = re.compile(r"[0-9]{6}")
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_HOLDER_CODE_TYPE_NAMES: Final = {
    HolderKind.NATURAL_PERSON: "公民身份号码",
    HolderKind.LEGAL_PERSON: "统一社会信用代码",
}


def _clean(value: object, name: str, *, max_length: int = _MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise FieldValidationError(name, "must be non-empty text without surrounding spaces")
    if len(value) > max_length:
        raise FieldValidationError(name, f"is {len(value)} characters long; at most {max_length} are allowed")
    for ch in value:
        if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES:
            raise FieldValidationError(name, f"contains the control or invisible character U+{ord(ch):04X}")
    return value


def _is_date(value: object) -> bool:
    return type(value) is date


def jurisdiction_of(issuer_uscc: str) -> str:
    """The 6-digit area code in positions 3–8 of a 统一社会信用代码 (GB 32100-2015 §4.1, GB/T 2260).

    It is the area of the authority that registered the organisation, used as the licence's
    证照所属管辖属地编码 when the issuer gives none.
    """
    code = validate_uscc(issuer_uscc, field="issuer_code")
    area = code[2:8]
    if not _JURISDICTION.fullmatch(area):
        raise FieldValidationError(
            "jurisdiction_code", f"positions 3-8 of the issuer's USCC ({area}) are not a 6-digit area code"
        )
    return area


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def validity_window(
    license_type: LicenseType, values: Mapping[str, str], *, issue_date: date
) -> tuple[date, date | None]:
    """(证照有效期起始日期, 证照有效期截止日期) of a licence; the end is ``None`` for 长期.

    The start is the type's ``valid_from_field`` or, without one, the issue date. The end is the
    ``valid_until_field`` (a date or 长期) or, without one, the start plus the type's usual term
    (``validity_years``; none means 长期), on the same day of the month, as licences print it.
    ``values`` are fields as :func:`issuance.catalog.validate_fields` returned them.
    """
    start = issue_date
    if license_type.valid_from_field is not None and values.get(license_type.valid_from_field):
        start = _parse_day(values[license_type.valid_from_field], license_type.valid_from_field)
    if license_type.valid_until_field is not None:
        text = values.get(license_type.valid_until_field, "")
        if not text or text == LONG_TERM:
            return start, None
        return start, _parse_day(text, license_type.valid_until_field)
    if license_type.validity_years is None:
        return start, None
    return start, _add_years(start, license_type.validity_years)


def _parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise FieldValidationError(field, f"{str(text)[:20]!r} is not a date written yyyy-mm-dd") from None


@dataclass(frozen=True)
class LicenseMetadata:
    """The GB/T 36903 metadata elements of one licence version (reference/cn-standards.md §2.3).

    Every instance is consistent: the identifier's type code, issuer code and version are the
    ones given, the holder code is valid for its code type, and the validity does not end before
    it starts. Build one with :func:`build_metadata`.
    """

    license_name: str
    """证照名称 (ZZMC): the licence's name as printed, e.g. 中华人民共和国机动车驾驶证."""
    type_name: str
    """证照类型名称: e.g. 机动车驾驶证."""
    type_code: str
    """证照类型代码 (ZZLXDM): 21 characters, GB/T 36904."""
    definer_name: str
    """证照定义机构."""
    number: str
    """证照编号 (ZZBH): the number printed on the licence."""
    identifier: str
    """证照标识 (ZZBS): the GB/T 36904 identifier."""
    issuer_name: str
    """证照颁发机构 (ZZBFJG)."""
    issuer_code: str
    """证照颁发机构代码 (ZZBFJGDM): the issuer's 统一社会信用代码."""
    issue_date: date
    """证照颁发日期 (ZZBFRQ)."""
    jurisdiction_code: str
    """证照所属管辖属地编码: 6-digit GB/T 2260 area code."""
    holder_name: str
    """持证主体 (CZZT)."""
    holder_code: str
    """持证主体代码 (CZZTDM): 公民身份号码 or 统一社会信用代码."""
    holder_code_type: HolderKind
    """持证主体代码类型 (CZZTDMLX / CZZTDMLXDM 111 or 001)."""
    valid_from: date
    """证照有效期起始日期 (ZZYXQQSRQ)."""
    valid_until: date | None
    """证照有效期截止日期 (ZZYXQJZRQ); ``None`` is 长期."""
    version: int
    """版本号: the identifier's version, 1–999."""
    status: LicenseStatus = LicenseStatus.ACTIVE
    """状态 at the time the metadata was written."""
    service_item_name: str | None = None
    """关联事项名称: the government-service item the licence was issued under."""
    service_item_code: str | None = None
    """关联事项代码."""

    def __post_init__(self) -> None:
        for name in ("license_name", "type_name", "definer_name", "issuer_name", "holder_name", "number"):
            _clean(getattr(self, name), name)
        identifier = LicenseIdentifier.parse(self.identifier)
        if identifier.type_code != self.type_code:
            raise FieldValidationError("type_code", f"{self.type_code!r} is not the identifier's type code")
        if identifier.issuer_code != self.issuer_code:
            raise FieldValidationError("issuer_code", f"{self.issuer_code!r} is not the identifier's issuer code")
        if identifier.version != self.version:
            raise FieldValidationError("version", f"{self.version!r} is not the identifier's version")
        for name in ("issue_date", "valid_from"):
            if not _is_date(getattr(self, name)):
                raise FieldValidationError(name, "must be a date")
        if self.valid_until is not None:
            if not _is_date(self.valid_until):
                raise FieldValidationError("valid_until", "must be a date or None (长期)")
            if self.valid_until < self.valid_from:
                raise FieldValidationError("valid_until", f"{self.valid_until} is before valid_from {self.valid_from}")
        if not isinstance(self.jurisdiction_code, str) or not _JURISDICTION.fullmatch(self.jurisdiction_code):
            raise FieldValidationError("jurisdiction_code", "must be a 6-digit GB/T 2260 area code")
        if not isinstance(self.holder_code_type, HolderKind):
            raise FieldValidationError("holder_code_type", "must be a HolderKind")
        if self.holder_code_type is HolderKind.NATURAL_PERSON:
            # The holder was born by the day the licence was issued.
            code = validate_resident_id(self.holder_code, today=self.issue_date, field="holder_code")
        else:
            code = validate_uscc(self.holder_code, field="holder_code")
        if code != self.holder_code:
            raise FieldValidationError("holder_code", "must be written in capitals without spaces")
        if not isinstance(self.status, LicenseStatus):
            raise FieldValidationError("status", "must be a LicenseStatus")
        if self.service_item_name is not None:
            _clean(self.service_item_name, "service_item_name")
        if self.service_item_code is not None:
            _clean(self.service_item_code, "service_item_code", max_length=64)
            if self.service_item_name is None:
                raise FieldValidationError("service_item_code", "a service item code needs its name")

    @property
    def definer_code(self) -> str:
        """证照定义机构代码: the defining authority's USCC, the first 18 characters of the type code."""
        return self.type_code[:18]

    @property
    def number_is_personal(self) -> bool:
        """Whether the 证照编号 is the holder's own code (as on the 居民身份证 and the driving licence)."""
        return self.number == self.holder_code

    def elements(self) -> dict[str, str]:
        """Every element as XMP property name → text, in the order of the table in the module docstring."""
        out = {
            "ZZMC": self.license_name,
            "ZZLXMC": self.type_name,
            "ZZLXDM": self.type_code,
            "ZZDYJG": self.definer_name,
            "ZZDYJGDM": self.definer_code,
            "ZZBH": self.number,
            "ZZBS": self.identifier,
            "ZZBFJG": self.issuer_name,
            "ZZBFJGDM": self.issuer_code,
            "ZZBFRQ": self.issue_date.isoformat(),
            "ZZSSGXSDBM": self.jurisdiction_code,
            "CZZT": self.holder_name,
            "CZZTDM": self.holder_code,
            "CZZTDMLX": _HOLDER_CODE_TYPE_NAMES[self.holder_code_type],
            "CZZTDMLXDM": self.holder_code_type.code_type,
            "ZZYXQQSRQ": self.valid_from.isoformat(),
            "ZZYXQJZRQ": LONG_TERM if self.valid_until is None else self.valid_until.isoformat(),
        }
        if self.service_item_name is not None:
            out["GLSXMC"] = self.service_item_name
        if self.service_item_code is not None:
            out["GLSXDM"] = self.service_item_code
        out["BBH"] = f"{self.version:03d}"
        out["ZT"] = self.status.value
        return out

    def to_xmp(self) -> bytes:
        """The elements as an XMP packet (XMP Part 1 §7: x:xmpmeta / rdf:RDF / rdf:Description), UTF-8.

        Also states the identifier as ``dc:identifier`` and the type name as ``dc:type`` so that
        readers that know only Dublin Core see what the document is. Personal data (the holder's
        name and code) is included: the packet lives inside the licence file, which shows both.
        """
        lines = [
            _PACKET_BEGIN,
            f'<x:xmpmeta xmlns:x="{_X}">',
            f' <rdf:RDF xmlns:rdf="{_RDF}">',
            f'  <rdf:Description rdf:about="" xmlns:{XMP_PREFIX}="{XMP_NAMESPACE}"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/">',
            f"   <dc:identifier>{escape(self.identifier)}</dc:identifier>",
            f"   <dc:type><rdf:Bag><rdf:li>{escape(self.type_name)}</rdf:li></rdf:Bag></dc:type>",
        ]
        lines += [
            f"   <{XMP_PREFIX}:{key}>{escape(value)}</{XMP_PREFIX}:{key}>" for key, value in self.elements().items()
        ]
        lines += ["  </rdf:Description>", " </rdf:RDF>", "</x:xmpmeta>", _PACKET_END]
        return "\n".join(lines).encode("utf-8")

    def to_claims(self) -> dict[str, str]:
        """The non-personal elements a QR credential adds to its disclosed claims, keyed by their XMP names.

        证照有效期截止日期 (ZZYXQJZRQ: a date or 长期) and the 证照编号 (ZZBH) when it says something
        the credential does not: it is left out when it is the holder's own ID number or USCC
        (personal) and when it is the identifier's 流水号. The type code and the 版本号 are parts of
        the identifier the credential already carries (:class:`issuance.credential.CredentialClaims`),
        and the status is not signed at all, since it changes after signing (the status list says
        it). A few dozen bytes of CBOR, so a credential with the holder's fields stays under 600
        characters.
        """
        claims: dict[str, str] = {}
        if not self.number_is_personal and self.number != LicenseIdentifier.parse(self.identifier).serial:
            claims["ZZBH"] = self.number
        claims["ZZYXQJZRQ"] = LONG_TERM if self.valid_until is None else self.valid_until.isoformat()
        return claims


def read_xmp_elements(data: bytes) -> dict[str, str]:
    """The GB/T 36903 elements found in an XMP packet (property name → text), e.g. from a licence PDF.

    Reads both the element form :meth:`LicenseMetadata.to_xmp` writes and the attribute form other writers
    (pyHanko, which rewrites a PDF's metadata when it signs) use. Raises :class:`IssuanceError`
    when the packet is not well-formed or declares a DOCTYPE (no entities are ever expanded).
    """
    if not isinstance(data, bytes) or len(data) > _MAX_XMP_BYTES:
        raise IssuanceError("the XMP packet must be bytes, at most 1 MiB")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise IssuanceError("the XMP packet declares a DOCTYPE or entities; refused")
    try:
        root = ET.fromstring(data)  # noqa: S314 - DOCTYPE and entities refused above
    except ET.ParseError as exc:
        raise IssuanceError(f"the XMP packet is not well-formed XML ({exc})") from None
    if root.tag != f"{{{_X}}}xmpmeta" or root.find(f"{{{_RDF}}}RDF") is None:
        raise IssuanceError("the XMP packet has no x:xmpmeta/rdf:RDF")
    prefix = f"{{{XMP_NAMESPACE}}}"
    found: dict[str, str] = {}
    for description in root.iter(f"{{{_RDF}}}Description"):
        for name, value in description.attrib.items():
            if name.startswith(prefix):
                found[name[len(prefix):]] = value
        for child in description:
            if child.tag.startswith(prefix) and len(child) == 0:
                found[child.tag[len(prefix):]] = child.text or ""
    return found


def build_metadata(
    license_type: LicenseType,
    values: Mapping[str, str],
    *,
    identifier: LicenseIdentifier | str,
    issuer_name: str,
    issue_date: date,
    status: LicenseStatus = LicenseStatus.ACTIVE,
    jurisdiction_code: str | None = None,
) -> LicenseMetadata:
    """The metadata of a licence of ``license_type`` with the validated face ``values``.

    The 证照编号 is the type's ``number_field`` value or, for a type without one, the identifier's
    流水号; the holder comes from the type's holder fields; the validity from
    :func:`validity_window`; the 管辖属地编码 from the issuer's USCC (:func:`jurisdiction_of`)
    unless ``jurisdiction_code`` is given. Raises :class:`~issuance.errors.FieldValidationError`
    naming the element that is missing or inconsistent (e.g. an identifier of another type).
    """
    ident = identifier if isinstance(identifier, LicenseIdentifier) else LicenseIdentifier.parse(identifier)
    if ident.type_code != license_type.code:
        raise FieldValidationError(
            "identifier", f"is for type {ident.type_code}, not {license_type.code} ({license_type.name})"
        )
    for field in (license_type.holder_name_field, license_type.holder_code_field, license_type.number_field):
        if field is not None and not values.get(field):
            raise FieldValidationError(field, f"is required ({license_type.field(field).label})")
    number = values[license_type.number_field] if license_type.number_field is not None else ident.serial
    valid_from, valid_until = validity_window(license_type, values, issue_date=issue_date)
    item = license_type.service_item
    return LicenseMetadata(
        license_name=license_type.face_title,
        type_name=license_type.name,
        type_code=license_type.code,
        definer_name=license_type.definer_name,
        number=number,
        identifier=str(ident),
        issuer_name=issuer_name,
        issuer_code=ident.issuer_code,
        issue_date=issue_date,
        jurisdiction_code=jurisdiction_of(ident.issuer_code) if jurisdiction_code is None else jurisdiction_code,
        holder_name=values[license_type.holder_name_field],
        holder_code=values[license_type.holder_code_field],
        holder_code_type=license_type.holder_kind,
        valid_from=valid_from,
        valid_until=valid_until,
        version=ident.version,
        status=status,
        service_item_name=item.name if item is not None else None,
        service_item_code=item.code if item is not None else None,
    )
