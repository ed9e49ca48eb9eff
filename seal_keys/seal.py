"""Seals: a department's key, its seal certificate and its seal image, made together.

The seal's legal meaning comes from the certificate (subject = the department's name and its
统一社会信用代码, keyUsage digitalSignature + nonRepudiation, see :data:`ca.SEAL_PROFILE`); the image
is what a person sees on the document. GB/T 38540 seal structures come in a later module.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from ca import SEAL_PROFILE, CertificateAuthority, SignatureAlgorithm, organisation_name

from .errors import SealKeyError
from .image import SealImage, draw_name_seal, draw_round_seal
from .keystore import KeyStore


class SealType(enum.Enum):
    """Kinds of seal a department may hold (the names printed on them)."""

    OFFICIAL = "公章"
    CONTRACT = "合同专用章"
    FINANCE = "财务专用章"
    INVOICE = "发票专用章"
    LEGAL_REPRESENTATIVE = "法定代表人名章"

    @classmethod
    def parse(cls, text: str) -> SealType:
        """Accept the Chinese name or the English member name (``official``, ``contract`` …)."""
        for member in cls:
            if text in (member.value, member.name.lower(), member.name):
                return member
        names = ", ".join(f"{m.value} ({m.name.lower()})" for m in cls)
        raise SealKeyError(f"unknown seal type {text!r}; choose one of: {names}")


@dataclass(frozen=True)
class Department:
    """An issuing department (发证部门): its name and 统一社会信用代码 (already validated)."""

    uscc: str
    name: str


@dataclass(frozen=True, repr=False)
class Seal:
    """A made seal: identifier, owner, kind, the key's identifier in the key store, certificate, image."""

    seal_id: str
    department: Department
    name: str
    seal_type: SealType
    key_id: str
    certificate: x509.Certificate
    image: SealImage

    def __repr__(self) -> str:
        return f"Seal(seal_id={self.seal_id!r}, department={self.department.uscc!r}, name={self.name!r})"


def make_seal(
    *,
    department: Department,
    seal_type: SealType,
    keystore: KeyStore,
    authority: CertificateAuthority,
    algorithm: SignatureAlgorithm,
    now: datetime,
    holder_name: str | None = None,
) -> Seal:
    """Make a seal: generate its key in ``keystore``, certify it, draw its image.

    ``holder_name`` is the person's name for a 法定代表人名章 and ignored otherwise.
    """
    seal_id = str(uuid.uuid4())
    if seal_type is SealType.LEGAL_REPRESENTATIVE:
        if not holder_name:
            raise SealKeyError("a 法定代表人名章 needs the legal representative's name")
        image = draw_name_seal(name=holder_name)
        display_name = f"{holder_name}印"
    else:
        # A 公章 carries only the organisation's name; a 专用章 names its use under the star.
        image = draw_round_seal(
            organization=department.name,
            seal_name="" if seal_type is SealType.OFFICIAL else seal_type.value,
        )
        display_name = f"{department.name}{seal_type.value}"
    key_id = keystore.generate(algorithm=algorithm, key_id=f"seal-{seal_id}")
    subject = organisation_name(organization=department.name, uscc=department.uscc, common_name=display_name)
    certificate = authority.issue(
        profile=SEAL_PROFILE, subject=subject, public_key=keystore.public_key(key_id), now=now
    )
    return Seal(
        seal_id=seal_id,
        department=department,
        name=display_name,
        seal_type=seal_type,
        key_id=key_id,
        certificate=certificate,
        image=image,
    )
