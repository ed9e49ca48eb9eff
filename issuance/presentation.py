"""Holder presentations: a short-lived QR credential for one purpose, carrying only that purpose's claims.

A holder who shows a licence at a hotel, to a police officer or at a service window should not hand
over the whole licence. A presentation is a fresh ``YX1:`` credential (:mod:`issuance.credential`,
the same COSE_Sign1/CWT pipeline, signed by the issuing department's seal) that

- discloses only the claims the purpose needs, using *derived* claims where the whole field would
  over-disclose (the mDL's approach, ISO/IEC 18013-5 §7.2.5 ``age_over_NN``; SD-JWT's selective
  disclosure): the ID number masked (``110105********002X``), ``age_over_18`` instead of the birth
  date, and the licence's validity end (证照有效期截止日期, GB/T 36903 ``ZZYXQJZRQ``);
- expires within minutes (default :data:`DEFAULT_PRESENTATION_TTL`, at most
  :data:`MAX_PRESENTATION_TTL`), so a photographed code cannot be replayed later — the offline half
  of anti-replay (an offline verifier cannot remember which codes it has seen);
- names its purpose in the ``purpose`` claim, which the verifier records.

Which claims a purpose needs is the verifier policy's business (:mod:`verification.policy`); this
module takes the list of claim names and never decides it. Pure: time is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType

from cryptography import x509

from ca import KeySigner

from .catalog import LONG_TERM, HolderKind, LicenseType
from .credential import CredentialClaims, issue_credential
from .errors import CredentialError, FieldValidationError

__all__ = [
    "AGE_OVER_18",
    "DEFAULT_PRESENTATION_TTL",
    "DERIVED_CLAIM_NAMES",
    "MAX_PRESENTATION_TTL",
    "MIN_PRESENTATION_TTL",
    "PURPOSE_CLAIM",
    "Presentation",
    "derived_claims",
    "issue_presentation",
    "presentation_claims",
]

DEFAULT_PRESENTATION_TTL = timedelta(minutes=5)
"""How long a presentation stays valid unless the caller asks for less (issue 5 §1: short-lived)."""
MIN_PRESENTATION_TTL = timedelta(seconds=30)
MAX_PRESENTATION_TTL = timedelta(minutes=30)

PURPOSE_CLAIM = "purpose"
"""The claim naming what the presentation is for (a verifier role, e.g. ``hotel``)."""
AGE_OVER_18 = "age_over_18"
"""Derived claim: ``"true"`` if the holder is 18 or older on the day of presentation, else ``"false"``."""
DERIVED_CLAIM_NAMES = ("name", "holder_code", AGE_OVER_18, "ZZYXQJZRQ", "vehicle_class")
"""The claims :func:`derived_claims` can produce (the names verification.policy.CLAIM_NAMES lists)."""

_ADULT_YEARS = 18  # 中华人民共和国民法典 第十七条: 十八周岁以上的自然人为成年人
_BIRTH_DATE_FIELD = "birth_date"
_VEHICLE_CLASS_FIELD = "vehicle_class"
_MAX_PURPOSE_LENGTH = 32  # presentation_tokens.purpose


def _birth_date(license_type: LicenseType, values: Mapping[str, str]) -> date | None:
    text = values.get(_BIRTH_DATE_FIELD)
    if text:
        return date.fromisoformat(text)
    if license_type.holder_kind is HolderKind.NATURAL_PERSON:
        # GB 11643-1999 §4.2: positions 7–14 of the 公民身份号码 are the birth date (YYYYMMDD).
        code = values.get(license_type.holder_code_field, "")
        if len(code) == 18 and code[6:14].isdigit():
            try:
                return date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
            except ValueError:
                return None
    return None


def _is_adult(born: date, today: date) -> bool:
    # Age in full years (周岁); someone born on 29 February comes of age on 1 March in common years.
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return age >= _ADULT_YEARS


def derived_claims(
    license_type: LicenseType, values: Mapping[str, str], *, valid_until: date | None, today: date
) -> dict[str, str]:
    """Every claim a presentation of this licence may carry, derived so that none over-discloses.

    ``name`` (持证主体), ``holder_code`` (持证主体代码, masked by its field's masking rule — the full
    number is never a derived claim), ``age_over_18`` (when a birth date is known: the ``birth_date``
    field or, for a 公民身份号码, GB 11643 positions 7–14), ``ZZYXQJZRQ`` (``valid_until`` as a date, or
    长期 when ``None``) and ``vehicle_class`` (准驾车型, when the type has one). ``values`` are the
    licence's fields as :func:`issuance.catalog.validate_fields` returned them.
    """
    claims: dict[str, str] = {}
    name = values.get(license_type.holder_name_field)
    if name:
        claims["name"] = name
    code = values.get(license_type.holder_code_field)
    if code:
        spec = license_type.field(license_type.holder_code_field)
        claims["holder_code"] = spec.mask(code) if spec.masking else code
    born = _birth_date(license_type, values)
    if born is not None:
        claims[AGE_OVER_18] = "true" if _is_adult(born, today) else "false"
    claims["ZZYXQJZRQ"] = LONG_TERM if valid_until is None else valid_until.isoformat()
    vehicle_class = values.get(_VEHICLE_CLASS_FIELD)
    if vehicle_class:
        claims["vehicle_class"] = vehicle_class
    return claims


def presentation_claims(
    license_type: LicenseType,
    values: Mapping[str, str],
    *,
    purpose: str,
    disclose: Sequence[str],
    whole_licence: bool = False,
    valid_until: date | None,
    today: date,
) -> dict[str, str]:
    """The claims of a presentation for ``purpose``: the derived claims named in ``disclose`` (in that
    order; names that cannot be derived, such as the verification-time status, are skipped) or, with
    ``whole_licence``, every field of the licence under its field name — then the ``purpose`` claim."""
    if whole_licence:
        claims = {spec.name: values[spec.name] for spec in license_type.fields if values.get(spec.name)}
    else:
        derived = derived_claims(license_type, values, valid_until=valid_until, today=today)
        claims = {name: derived[name] for name in disclose if name in derived}
    claims[PURPOSE_CLAIM] = purpose
    return claims


@dataclass(frozen=True)
class Presentation:
    """A signed presentation: the ``YX1:`` QR ``text``, its CWT ``cti``, validity and disclosed ``claims``."""

    text: str
    purpose: str
    credential_id: bytes
    issued_at: datetime
    expires_at: datetime
    claims: Mapping[str, str]


def _check_purpose(purpose: str) -> str:
    if not isinstance(purpose, str) or not purpose or len(purpose) > _MAX_PURPOSE_LENGTH \
            or not purpose.isascii() or not purpose.replace("-", "").replace("_", "").isalnum():
        raise FieldValidationError("purpose", f"a purpose is a role name: ASCII letters, digits, - or _ "
                                              f"(at most {_MAX_PURPOSE_LENGTH})")
    return purpose


def issue_presentation(
    license_type: LicenseType,
    values: Mapping[str, str],
    *,
    license_identifier: str,
    issuer: str,
    purpose: str,
    disclose: Sequence[str],
    whole_licence: bool = False,
    valid_until: date | None,
    now: datetime,
    signer: KeySigner,
    certificate: x509.Certificate,
    ttl: timedelta = DEFAULT_PRESENTATION_TTL,
    status_url: str | None = None,
    status_index: int | None = None,
) -> Presentation:
    """Sign a presentation of one licence for ``purpose`` (see :func:`presentation_claims`).

    It expires after ``ttl`` (:data:`MIN_PRESENTATION_TTL` … :data:`MAX_PRESENTATION_TTL`), and never
    after the licence's last valid day (``valid_until``, UTC as for the licence's own credential) or
    the signer certificate (HCERT §3.3.1, enforced by :func:`issuance.credential.issue_credential`).
    Raises :class:`~issuance.errors.CredentialError` if the licence has expired or the claims do not
    fit in a QR code (a whole licence with long fields: use the online presentation), and
    :class:`~issuance.errors.FieldValidationError` for a bad purpose or ``ttl``.
    """
    purpose = _check_purpose(purpose)
    if not MIN_PRESENTATION_TTL <= ttl <= MAX_PRESENTATION_TTL:
        raise FieldValidationError(
            "ttl", f"between {int(MIN_PRESENTATION_TTL.total_seconds())} and "
                   f"{int(MAX_PRESENTATION_TTL.total_seconds())} seconds")
    if now.tzinfo is None or now.utcoffset() is None:
        raise FieldValidationError("now", "must be a timezone-aware datetime")
    now = now.astimezone(UTC)
    expires_at = min(now + ttl, certificate.not_valid_after_utc)
    if valid_until is not None:
        expires_at = min(expires_at, datetime.combine(valid_until + timedelta(days=1), time.min, UTC))
    if expires_at.replace(microsecond=0) <= now.replace(microsecond=0):
        raise CredentialError("the licence has expired; it cannot be presented")
    claims = CredentialClaims(
        issuer=issuer,
        license_identifier=license_identifier,
        type_code=license_type.code,
        issued_at=now,
        expires_at=expires_at,
        claims=presentation_claims(license_type, values, purpose=purpose, disclose=disclose,
                                   whole_licence=whole_licence, valid_until=valid_until, today=now.date()),
        status_url=status_url,
        status_index=status_index,
    )
    text = issue_credential(claims, signer=signer, certificate=certificate)
    return Presentation(text=text, purpose=purpose, credential_id=claims.credential_id,
                        issued_at=claims.issued_at, expires_at=claims.expires_at,
                        claims=MappingProxyType(dict(claims.claims)))
