"""Front-line verification at the service level: verifiers, holders, presentations, role-filtered results.

Functions taking a :class:`~api.service.TrustService` (the composition root), used by the HTTP routers
(:mod:`api.routers.presentations`, :mod:`api.routers.verify`) and the CLI (:func:`add_commands`):

- **principals** — verifiers with a role of the verifier policy (:mod:`verification.policy`: hotel 旅馆住宿登记,
  police 路面执勤, window 容缺受理) and holders whose own 持证主体代码 is kept only as the keyed blind index;
- **presentations** (issue 5 §1, §6) — a holder presents one of *their own* active licences for a purpose
  and gets an offline QR (a fresh credential with only that purpose's claims, valid 5 minutes by default:
  :mod:`issuance.presentation`) and an online URL ``<base_url>/v/<token>`` whose token is single-use and
  expires as fast;
- **verification by role** (issue 5 §2) — the verifier's role decides the fields it is shown, through the
  policy's rules (a licence type the role does not cover shows nothing, with a reason); a caller without a
  verifier key gets the verdict, the status and the checks but no field at all, so no path shows a hotel
  more than its role allows. Every verification is recorded (event ``license.verified``) with verifier,
  role and purpose; a service window's valid verification also leaves an acceptance record.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography import x509

from issuance.errors import FieldValidationError, UnknownLicenseTypeError
from issuance.identifier import LicenseIdentifier, validate_resident_id, validate_uscc
from issuance.presentation import (
    DEFAULT_PRESENTATION_TTL,
    PURPOSE_CLAIM,
    Presentation,
    issue_presentation,
    presentation_claims,
)
from registry.errors import NotFoundError
from registry.presentations import (
    AcceptanceEntry,
    HolderIdentity,
    TokenOutcome,
    add_acceptance_record,
    consume_presentation_token,
    create_presentation_token,
    holder_identity,
    holder_licenses,
    holder_owns_license,
    set_holder_code,
)
from registry.records import LicenseRecord, PrincipalRecord
from registry.statuslists import status_slot
from verification.policy import Disclosure, VerifierPolicy, default_policy
from verification.qr import verify_qr
from verification.result import Check, CheckOutcome, VerificationResult

from .service import API_KEY_PREFIX, ForbiddenError, ServiceError, TrustService, hash_api_key
from .status import status_list_url

__all__ = [
    "ONLINE_PATH",
    "LicenceNotPresentableError",
    "PresentationIssued",
    "RoleVerification",
    "TokenExpiredError",
    "TokenUnknownError",
    "TokenUsedError",
    "VerifierRequiredError",
    "add_commands",
    "add_holder",
    "add_verifier",
    "list_holders",
    "list_verifiers",
    "online_token_of",
    "own_licenses",
    "present",
    "resolve_online",
    "verify_qr_as",
]

ONLINE_PATH = "/v/"
"""The online presentation URL is ``<base_url>/v/<token>``."""
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
_ONLINE_URL = re.compile(r"https?://[^\s/?#]+(?:/[^\s?#]*)?/v/([A-Za-z0-9_-]{32,64})/?")
_VERIFICATION_EVENT = "license.verified"  # registry.VERIFICATION_EVENT_KIND: counted in the statistics
_MAX_NAME = 100
_NO_VERIFIER = ("no field is shown without a verifier key: hotels, police and service windows sign in "
                "with their verifier key (Authorization: Bearer) to see their role's fields")


class TokenUnknownError(ServiceError):
    """No online presentation has this token."""

    code = "unknown_presentation"
    status = 404


class TokenUsedError(ServiceError):
    """The online presentation was already used: tokens are single-use (anti-replay)."""

    code = "presentation_used"
    status = 410


class TokenExpiredError(ServiceError):
    """The online presentation's time is over."""

    code = "expired"
    status = 410


class LicenceNotPresentableError(ServiceError):
    """The licence is not active (suspended, revoked, …): no fresh presentation is signed for it."""

    code = "not_presentable"
    status = 409


class VerifierRequiredError(ServiceError):
    """Only an authenticated verifier may open an online presentation."""

    code = "verifier_required"
    status = 401


def _policy(service: TrustService) -> VerifierPolicy:
    # One packaged policy for now; a deployment's own document would be loaded here (load_policy).
    del service
    return default_policy()


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise FieldValidationError("name", "must not be empty")
    if len(name) > _MAX_NAME:
        raise FieldValidationError("name", f"at most {_MAX_NAME} characters")
    return name


# -- principals ---------------------------------------------------------------------------------------------

def add_verifier(service: TrustService, *, name: str, role: str) -> tuple[PrincipalRecord, str]:
    """Register a verifier with a role of the policy (hotel, police, window); return it and its API key."""
    _policy(service).role(role)
    return service.add_principal(kind="verifier", name=_name(name), role=role)


def list_verifiers(service: TrustService) -> list[PrincipalRecord]:
    """Every verifier, in the order they were added."""
    return service.registry.list_principals(kind="verifier")


def _holder_code(service: TrustService, holder_code: str, holder_code_type: str) -> str:
    if holder_code_type == "111":
        return validate_resident_id(holder_code, today=service.clock().date(), field="holder_code")
    if holder_code_type == "001":
        return validate_uscc(holder_code, field="holder_code")
    raise FieldValidationError("holder_code_type", "must be 111 (公民身份号码) or 001 (统一社会信用代码)")


def add_holder(
    service: TrustService, *, name: str, holder_code: str, holder_code_type: str, actor: str = "admin"
) -> tuple[PrincipalRecord, str]:
    """Register a holder (持证人) with their own 持证主体代码 (checked: GB 11643 / GB 32100), stored only
    as the keyed blind index; return the holder and its API key (shown once). Needs the data key."""
    name = _name(name)
    code = _holder_code(service, holder_code, holder_code_type)
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with service.private_registry.transaction() as tx:
        record = tx.add_principal(kind="holder", name=name, api_key_hash=hash_api_key(api_key))
        set_holder_code(tx, record.id, holder_code=code, holder_code_type=holder_code_type)
        tx.record_event(kind="holder.added", actor=actor, subject=f"holder#{record.id}",
                        detail={"holder_code_type": holder_code_type})
    return record, api_key


def list_holders(service: TrustService) -> list[tuple[PrincipalRecord, HolderIdentity]]:
    """Every holder with its code type (never the code)."""
    return [(p, holder_identity(service.registry, p.id)) for p in service.registry.list_principals(kind="holder")]


def _require(principal: PrincipalRecord, kind: str) -> None:
    if principal.kind != kind or not principal.active:
        raise ForbiddenError(f"this needs an active {kind}'s key")


def own_licenses(service: TrustService, *, holder: PrincipalRecord) -> list[LicenseRecord]:
    """The holder's own licences (current versions), newest first, with personal data."""
    _require(holder, "holder")
    return holder_licenses(service.private_registry, holder.id)


# -- presentations ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PresentationIssued:
    """What a holder gets: the offline presentation and the online URL (single-use) with its expiry."""

    license_identifier: str
    purpose: str
    offline: Presentation
    url: str
    url_expires_at: datetime


def _type_keys(service: TrustService, type_code: str) -> tuple[str, ...]:
    try:
        lt = service.license_type(type_code)
    except UnknownLicenseTypeError:
        return (type_code,)
    return (lt.code, lt.short_name)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def present(
    service: TrustService,
    *,
    holder: PrincipalRecord,
    identifier: str,
    purpose: str,
    ttl: timedelta = DEFAULT_PRESENTATION_TTL,
) -> PresentationIssued:
    """A holder presents one of their own licences for ``purpose`` (a verifier role: hotel, police, window).

    The licence must be the holder's (its holder code's blind index is the holder's), active, and of a type
    the purpose's rule covers (fail closed). The offline QR is signed by the issuing department's active
    official seal and carries only that rule's claims; the online token (stored hashed) expires with it.
    The request is recorded (event ``presentation.created``) without any personal data.
    """
    _require(holder, "holder")
    LicenseIdentifier.parse(identifier)
    role = _policy(service).role(purpose)
    if not holder_owns_license(service.registry, holder_id=holder.id, identifier=identifier):
        raise ForbiddenError("you may present only your own licences")
    record = service.get_license(identifier)
    status = service.registry.license_status(identifier)
    if status != "active":
        raise LicenceNotPresentableError(f"the licence is {status}; it cannot be presented")
    lt = service.license_type(record.type_code)
    rule = role.rule_for((lt.code, lt.short_name))
    if rule is None:
        raise ForbiddenError(f"a presentation for {role.name} ({role.label}) cannot carry a {lt.name}: "
                             "the purpose's policy does not cover this licence type")
    seal = service.registry.active_official_seal(record.department_uscc)
    if seal is None:
        raise ServiceError(f"department {record.department_uscc} has no active official seal (公章) to sign with")
    certificate = x509.load_der_x509_certificate(service.registry.get_certificate(seal.certificate_id).der)
    slot = status_slot(service.registry, identifier)
    status_url = status_index = None
    if slot is not None:  # the same reference as the licence's own credential: one list, one answer
        status_index = slot.index
        status_url = status_list_url(service.settings, slot.department_uscc, slot.list_id)
    now = service.clock()
    offline = issue_presentation(
        lt, record.fields, license_identifier=identifier, issuer=record.department_uscc, purpose=role.name,
        disclose=rule.claims, whole_licence=rule.whole_licence, valid_until=record.valid_until, now=now,
        signer=service.keystore.signer(seal.key_id), certificate=certificate, ttl=ttl,
        status_url=status_url, status_index=status_index,
    )
    token = secrets.token_urlsafe(32)
    with service.registry.transaction() as tx:
        create_presentation_token(tx, token_hash=_token_hash(token), identifier=identifier, holder_id=holder.id,
                                  purpose=role.name, expires_at=offline.expires_at)
        tx.record_event(kind="presentation.created", actor=f"holder#{holder.id}", subject=identifier,
                        detail={"purpose": role.name, "claims": sorted(offline.claims),
                                "expires_at": offline.expires_at.isoformat()})
    url = f"{service.settings.base_url.rstrip('/')}{ONLINE_PATH}{token}"
    return PresentationIssued(license_identifier=identifier, purpose=role.name, offline=offline, url=url,
                              url_expires_at=offline.expires_at)


# -- verification by role -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RoleVerification:
    """A verification as one verifier sees it: the result with ``disclosed`` cut to the role's fields,
    who verified in which role and for what, and the acceptance record a service window leaves."""

    result: VerificationResult
    channel: str
    verifier: PrincipalRecord | None = None
    role: str | None = None
    role_label: str | None = None
    purpose: str | None = None
    presented_for: str | None = None
    withheld: tuple[str, ...] = ()
    note: str | None = None
    acceptance: AcceptanceEntry | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result's JSON form plus ``verifier``, ``role``, ``purpose``, ``presented_for``, ``channel``,
        ``withheld`` (names of fields not shown), ``disclosure_note`` and ``acceptance``."""
        document = self.result.to_dict()
        document.update({
            "channel": self.channel,
            "verifier": self.verifier.name if self.verifier else None,
            "role": self.role,
            "role_label": self.role_label,
            "purpose": self.purpose,
            "presented_for": self.presented_for,
            "withheld": list(self.withheld),
            "disclosure_note": self.note,
            "acceptance": None if self.acceptance is None else {
                "id": self.acceptance.id, "identifier": self.acceptance.identifier,
                "purpose": self.acceptance.purpose, "occurred_at": self.acceptance.occurred_at.isoformat()},
        })
        return document


def _disclose(
    service: TrustService, verifier: PrincipalRecord | None, result: VerificationResult,
    available: dict[str, str],
) -> tuple[Disclosure | None, str | None]:
    if verifier is None:
        return None, _NO_VERIFIER
    if result.license_identifier is None:
        return None, None  # nothing verified, nothing to show
    type_code = LicenseIdentifier.parse(result.license_identifier).type_code
    disclosure = _policy(service).disclose(verifier.role or "", type_keys=_type_keys(service, type_code),
                                           available=available, status=result.license_status)
    return disclosure, disclosure.reason


def _finish(
    service: TrustService, result: VerificationResult, *, verifier: PrincipalRecord | None, actor: str,
    channel: str, available: dict[str, str], presented_for: str | None,
) -> RoleVerification:
    disclosure, note = _disclose(service, verifier, result, available)
    shown = MappingProxyType(dict(disclosure.fields)) if disclosure is not None else MappingProxyType({})
    result = dataclasses.replace(result, disclosed=shown)
    role = _policy(service).role(verifier.role or "") if verifier is not None else None
    acceptance = None
    with service.registry.transaction() as tx:
        if role is not None and verifier is not None and role.acceptance_record \
                and result.verdict.value == "VALID" and result.license_identifier is not None:
            acceptance = add_acceptance_record(
                tx, identifier=result.license_identifier, verifier_id=verifier.id, purpose=role.purpose,
                detail={"channel": channel, "verdict": result.verdict.value, "status": result.license_status,
                        "presented_for": presented_for, "fields": list(shown)})
        tx.record_event(
            kind=_VERIFICATION_EVENT, actor=actor, subject=result.license_identifier or "",
            detail={"kind": result.kind, "verdict": result.verdict.value, "reasons": result.reasons,
                    "channel": channel, "verifier": verifier.name if verifier else None,
                    "verifier_id": verifier.id if verifier else None, "role": role.name if role else None,
                    "purpose": role.purpose if role else None, "presented_for": presented_for,
                    "fields": list(shown), "acceptance_id": acceptance.id if acceptance else None})
    return RoleVerification(
        result=result, channel=channel, verifier=verifier, role=role.name if role else None,
        role_label=role.label if role else None, purpose=role.purpose if role else None,
        presented_for=presented_for, withheld=disclosure.withheld if disclosure else tuple(available),
        note=note, acceptance=acceptance)


def _actor(verifier: PrincipalRecord | None, fallback: str) -> str:
    return f"verifier:{verifier.name}" if verifier is not None else fallback


def online_token_of(text: str) -> str | None:
    """The token of an online presentation URL (``…/v/<token>``), or ``None`` if ``text`` is not one."""
    found = _ONLINE_URL.fullmatch(text.strip())
    return found.group(1) if found else None


def verify_qr_as(
    service: TrustService, text: str, *, verifier: PrincipalRecord | None, actor: str = "api"
) -> RoleVerification:
    """Verify a scanned QR — an offline credential (``YX1:…``, a licence's own or a presentation) or an
    online presentation URL — and cut the disclosed fields to the verifier's role.

    Without a verifier (``None``) the verdict, status and checks are returned and no field at all;
    an online URL needs a verifier (:class:`VerifierRequiredError`). Raises the verifier's input errors
    (wrong prefix, too long, zlib bomb) unchanged: they mean the text could not be evaluated.
    """
    if verifier is not None:
        _require(verifier, "verifier")
    token = online_token_of(text)
    if token is not None:
        if verifier is None:
            raise VerifierRequiredError("an online presentation is opened only by a verifier (Authorization: Bearer)")
        return resolve_online(service, token, verifier=verifier)
    result = verify_qr(text, trust=service.trust_store(), now=service.clock(), status_source=service.registry)
    available = {k: str(v) for k, v in result.disclosed.items() if k != PURPOSE_CLAIM}
    presented_for = result.disclosed.get(PURPOSE_CLAIM)
    return _finish(service, result, verifier=verifier, actor=_actor(verifier, actor), channel="qr",
                   available=available, presented_for=str(presented_for) if presented_for else None)


def resolve_online(service: TrustService, token: str, *, verifier: PrincipalRecord) -> RoleVerification:
    """Open an online presentation (``GET /v/<token>``) as ``verifier``: the token is used up by this call.

    A used token raises :class:`TokenUsedError`, an expired one :class:`TokenExpiredError`, an unknown one
    :class:`TokenUnknownError` (each attempt is recorded). The answer joins the token check to the checks of
    the licence's own credential from the registry (signature, issuer trust, validity, status), and shows
    the claims of the holder's purpose that the verifier's role may also see.
    """
    _require(verifier, "verifier")
    if not _TOKEN.fullmatch(token or ""):
        raise TokenUnknownError("no such presentation")
    consumed = consume_presentation_token(service.registry, token_hash=_token_hash(token), verifier_id=verifier.id)
    if consumed.outcome is not TokenOutcome.CONSUMED:
        subject = consumed.token.identifier if consumed.token else ""
        service.registry.record_event(kind="presentation.refused", actor=_actor(verifier, "api"), subject=subject,
                                      detail={"outcome": consumed.outcome.value, "role": verifier.role})
        if consumed.outcome is TokenOutcome.USED:
            raise TokenUsedError("this presentation was already used: ask the holder for a new one")
        if consumed.outcome is TokenOutcome.EXPIRED:
            raise TokenExpiredError("this presentation has expired: ask the holder for a new one")
        raise TokenUnknownError("no such presentation")
    stored = consumed.token
    assert stored is not None
    try:
        record = service.get_license(stored.identifier)
    except NotFoundError:  # pragma: no cover - the token's foreign key keeps the licence
        raise TokenUnknownError("no such presentation") from None
    now = service.clock()
    own = verify_qr(record.qr_text, trust=service.trust_store(), now=now, status_source=service.registry)
    token_check = Check("presentation_token", CheckOutcome.PASSED,
                        f"single-use online presentation for {stored.purpose}, used now")
    checks = [token_check, *own.checks]
    result = VerificationResult.from_checks(
        checks, kind="presentation", license_identifier=record.identifier, license_status=own.license_status,
        signing_time=own.signing_time, signing_time_source=own.signing_time_source, signer=own.signer)
    available: dict[str, str] = {}
    lt = service.license_type(record.type_code)
    purpose_rule = _policy(service).role(stored.purpose).rule_for((lt.code, lt.short_name))
    if purpose_rule is not None:
        available = presentation_claims(lt, record.fields, purpose=stored.purpose, disclose=purpose_rule.claims,
                                        whole_licence=purpose_rule.whole_licence, valid_until=record.valid_until,
                                        today=now.date())
        available.pop(PURPOSE_CLAIM, None)
    return _finish(service, result, verifier=verifier, actor=_actor(verifier, "api"), channel="online",
                   available=available, presented_for=stored.purpose)


# -- command line -------------------------------------------------------------------------------------------

def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``verifier add|list``, ``holder add|list`` and ``present`` on the ``yinxin`` parser.

    ``sub`` is the top-level subparsers object, ``common`` the parent parser with ``--home``, ``--json``
    and ``--verbose``. Handlers return an exit code, like the other commands of :mod:`cli`.
    """
    roles = sorted(default_policy().roles)
    verifier = sub.add_parser("verifier", help="front-line verifiers (hotel, police, window)").add_subparsers(
        dest="action", required=True)
    p = verifier.add_parser("add", parents=[common], help="add a verifier with a role and print its API key once")
    p.add_argument("--name", required=True, help="the verifier's name, e.g. 示范市西湖宾馆前台")
    p.add_argument("--role", required=True, choices=roles,
                   help="hotel 旅馆住宿登记, police 路面执勤, window 容缺受理")
    p.set_defaults(func=_cmd_verifier_add)
    p = verifier.add_parser("list", parents=[common], help="list verifiers")
    p.set_defaults(func=_cmd_verifier_list)

    holder = sub.add_parser("holder", help="licence holders (持证人)").add_subparsers(dest="action", required=True)
    p = holder.add_parser("add", parents=[common], help="add a holder and print their API key once")
    p.add_argument("--name", required=True, help="the holder's account name")
    p.add_argument("--holder-code", required=True, help="持证主体代码: 公民身份号码 or 统一社会信用代码")
    p.add_argument("--holder-code-type", required=True, choices=("111", "001"),
                   help="111 公民身份号码, 001 统一社会信用代码")
    p.set_defaults(func=_cmd_holder_add)
    p = holder.add_parser("list", parents=[common], help="list holders (never their codes)")
    p.set_defaults(func=_cmd_holder_list)

    p = sub.add_parser("present", parents=[common],
                       help="a holder presents a licence for a purpose: prints the offline QR text and the online URL")
    p.add_argument("--holder-key", help="the holder's API key (default: $YINXIN_HOLDER_KEY)")
    p.add_argument("--license", required=True, help="the licence identifier (GB/T 36904)")
    p.add_argument("--purpose", required=True, choices=roles, help="who it is shown to")
    p.add_argument("--ttl", type=int, default=int(DEFAULT_PRESENTATION_TTL.total_seconds()),
                   help="seconds the presentation stays valid (30–1800, default 300)")
    p.add_argument("--out", help="also write the offline QR as a PNG image")
    p.set_defaults(func=_cmd_present)


def _cli() -> Any:
    import cli  # the caller; imported late so that the API never loads the CLI

    return cli


def _cmd_verifier_add(args: argparse.Namespace) -> int:
    cli = _cli()
    record, api_key = add_verifier(cli._service(args), name=args.name, role=args.role)
    document = {"id": record.id, "name": record.name, "role": record.role, "api_key": api_key}
    cli._emit(args, document, lambda: print(f"Verifier {record.name} ({record.role}) added.\n"
                                            f"API key (shown once, store it safely): {api_key}"))
    return int(cli.EXIT_OK)


def _cmd_verifier_list(args: argparse.Namespace) -> int:
    cli = _cli()
    policy = default_policy()
    records = list_verifiers(cli._service(args))
    document = [{"id": r.id, "name": r.name, "role": r.role,
                 "role_label": policy.roles[r.role].label if r.role and r.role in policy.roles else None,
                 "active": r.active, "created_at": r.created_at.isoformat()} for r in records]
    cli._emit(args, document, lambda: cli._table(
        [(d["id"], d["name"], d["role"], d["role_label"] or "", d["active"]) for d in document],
        ["ID", "Name", "Role", "角色", "Active"]))
    return int(cli.EXIT_OK)


def _cmd_holder_add(args: argparse.Namespace) -> int:
    cli = _cli()
    record, api_key = add_holder(cli._service(args), name=args.name, holder_code=args.holder_code,
                                 holder_code_type=args.holder_code_type, actor="cli")
    document = {"id": record.id, "name": record.name, "holder_code_type": args.holder_code_type, "api_key": api_key}
    cli._emit(args, document, lambda: print(f"Holder {record.name} added.\n"
                                            f"API key (shown once, store it safely): {api_key}"))
    return int(cli.EXIT_OK)


def _cmd_holder_list(args: argparse.Namespace) -> int:
    cli = _cli()
    found = list_holders(cli._service(args))
    document = [{"id": p.id, "name": p.name, "holder_code_type": h.holder_code_type, "active": p.active,
                 "created_at": p.created_at.isoformat()} for p, h in found]
    cli._emit(args, document, lambda: cli._table(
        [(d["id"], d["name"], d["holder_code_type"] or "", d["active"]) for d in document],
        ["ID", "Name", "Code type", "Active"]))
    return int(cli.EXIT_OK)


def _cmd_present(args: argparse.Namespace) -> int:
    import os

    cli = _cli()
    key = args.holder_key or os.environ.get("YINXIN_HOLDER_KEY")
    if not key:
        raise cli.CLIError("a holder key is needed: --holder-key or $YINXIN_HOLDER_KEY")
    service = cli._service(args)
    holder = service.principal_for_api_key(key, kind="holder")
    if holder is None:
        raise ForbiddenError("the key is not a holder's")
    issued = present(service, holder=holder, identifier=args.license, purpose=args.purpose,
                     ttl=timedelta(seconds=args.ttl))
    if args.out:
        from issuance.qrimage import render_qr_png

        Path(args.out).write_bytes(render_qr_png(issued.offline.text))
    document = {"license_identifier": issued.license_identifier, "purpose": issued.purpose,
                "qr_text": issued.offline.text, "expires_at": issued.offline.expires_at.isoformat(),
                "claims": sorted(issued.offline.claims), "url": issued.url,
                "url_expires_at": issued.url_expires_at.isoformat(), "qr_png": args.out}

    def human() -> None:
        print(f"Offline QR (valid until {issued.offline.expires_at.isoformat()}):\n{issued.offline.text}")
        print(f"Online URL (single use, valid until {issued.url_expires_at.isoformat()}):\n{issued.url}")
        if args.out:
            print(f"QR image: {args.out}")

    cli._emit(args, document, human)
    return int(cli.EXIT_OK)
