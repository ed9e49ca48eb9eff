"""Trust list and status lists at the service level: publishing what offline verifiers download.

Functions taking a :class:`~api.service.TrustService`, used by :mod:`api.routers.status` (public GET
endpoints), the licence issuing path of the service (the status list URL of each credential) and the CLI
(:func:`add_commands`):

- **status lists** (issue 5 §4; IETF Token Status List, CWT form, :mod:`issuance.statuslist`) — one per
  department and list number at ``<base_url>/api/v1/status-lists/<uscc>/<list_id>``, 2 bits per licence
  version at the random index its credential names, signed by the department's active official seal (公章)
  so that a verifier checks it with the trust list;
- **the trust list** (issue 5 §3; :mod:`issuance.trustlist`) — every issuing CA certificate and the
  certificate of every seal that may have signed something still in use, signed by an end-entity
  certificate of the home's first issuing CA so that the root certificate alone verifies it;
- **offline verification from files** (issue 5 §5) — :func:`verify_offline_files` reads a root
  certificate, a trust list and status lists and verifies a QR text without the database or a server.
"""

from __future__ import annotations

import argparse
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import ca
from issuance.identifier import validate_uscc
from issuance.statuslist import DEFAULT_LIST_SIZE, STATUS_VALID, StatusListClaims, issue_status_list, status_value
from issuance.trustlist import TrustListClaims, issue_trust_list
from registry.statuslists import list_ids, list_statuses
from verification.qr import verify_offline
from verification.result import VerificationResult
from verification.trustlist import TrustList, parse_trust_list

if TYPE_CHECKING:
    from .service import TrustService
    from .settings import Settings

__all__ = [
    "LISTED_SEAL_STATUSES",
    "STATUS_LIST_SIZE",
    "STATUS_LIST_TTL",
    "TRUST_LIST_SIGNER_NAME",
    "TRUST_LIST_VALIDITY",
    "add_commands",
    "make_status_list",
    "make_trust_list",
    "status_list_url",
    "trust_list_signer",
    "verify_offline_files",
]

STATUS_LIST_SIZE = DEFAULT_LIST_SIZE
"""Entries per status list (2^20; W3C Bitstring Status List asks for at least 131,072)."""
STATUS_LIST_TTL = timedelta(hours=12)
"""How long a verifier may rely on a status list (its ``ttl`` and its ``exp``): a police shift offline.
Revoking a licence reaches offline verifiers within this time at the latest."""
TRUST_LIST_VALIDITY = timedelta(days=7)
"""How long a trust list may be used (HCERT verifiers refresh daily; a week leaves room for outages)."""
LISTED_SEAL_STATUSES = frozenset({"active", "suspended", "cancelled"})
"""Seals whose certificates the trust list carries: in use, paused, or retired with their signatures
still good. A lost (挂失) or revoked (吊销) seal's key may be in other hands: leaving it out of the list
makes everything it signed unverifiable offline (HCERT: validity is presence on the current list)."""
TRUST_LIST_SIGNER_NAME = "信任列表签名"
"""Common name of the trust-list signer certificate."""
_SIGNER_KIND = "seal-maker"
# The registry's certificate kinds: the trust-list signer is the issuing CA's own signing certificate,
# as the seal maker (制章者) is; see trust_list_signer.


def status_list_url(settings: Settings, uscc: str, list_id: int) -> str:
    """The URL of a department's status list ``list_id``: the ``sub`` of the list and the credentials'
    ``status_url`` (served by :mod:`api.routers.status`)."""
    return f"{settings.base_url.rstrip('/')}/api/v1/status-lists/{uscc}/{list_id}"


def make_status_list(service: TrustService, *, uscc: str, list_id: int, ttl: timedelta = STATUS_LIST_TTL) -> bytes:
    """Sign the current state of a department's status list ``list_id`` (a Status List Token, CWT).

    Entries are the licence versions at their indices: active → VALID, suspended → SUSPENDED, revoked,
    cancelled, expired or superseded → INVALID. Signed now, with ``ttl`` (and ``exp`` = now + ``ttl``,
    cut to the seal certificate's end), by the department's active 公章. Raises
    :class:`~registry.errors.NotFoundError` for an unknown department or list.
    """
    uscc = validate_uscc(uscc, field="uscc")
    department = service.department(uscc)
    statuses = list_statuses(service.registry, department_uscc=department.uscc, list_id=list_id)
    values = {index: value for index, status in statuses.items() if (value := status_value(status)) != STATUS_VALID}
    seal = service.registry.active_official_seal(department.uscc)
    if seal is None:
        from .service import ServiceError

        raise ServiceError(f"department {uscc} has no active official seal (公章) to sign its status list")
    certificate = x509.load_der_x509_certificate(service.registry.get_certificate(seal.certificate_id).der)
    now = service.clock().replace(microsecond=0)
    claims = StatusListClaims(
        issuer=department.uscc,
        uri=status_list_url(service.settings, department.uscc, list_id),
        issued_at=now,
        expires_at=min(now + ttl, certificate.not_valid_after_utc),
        ttl=ttl,
        statuses=values,
        size=STATUS_LIST_SIZE,
    )
    return issue_status_list(claims, signer=service.keystore.signer(seal.key_id), certificate=certificate)


def trust_list_signer(service: TrustService) -> tuple[ca.KeySigner, x509.Certificate, list[x509.Certificate]]:
    """The trust list's signer, its certificate and the chain above it (the issuing CA), made on first use.

    The signer is an end-entity certificate (keyUsage digitalSignature) of the home's first issuing CA,
    stored with the CA's other signing certificates (kind ``seal-maker``). For an SM2 hierarchy it is the
    seal maker itself (:meth:`TrustService.seal_maker`): the authority's one signing identity.
    """
    authority = service.issuing_authority()
    chain = [authority.certificate]
    if authority.signer.algorithm is ca.SignatureAlgorithm.SM2_SM3:
        signer, certificate = service.seal_maker()
        return signer, certificate, chain
    now = service.clock()
    for record in reversed(service.registry.certificates_of_kind(_SIGNER_KIND)):
        certificate = x509.load_der_x509_certificate(record.der)
        if certificate.issuer == authority.certificate.subject and record.key_id is not None \
                and certificate.not_valid_after_utc > now + TRUST_LIST_VALIDITY:
            return service.keystore.signer(record.key_id), certificate, chain
    algorithm = authority.signer.algorithm
    key_id = service.keystore.generate(algorithm=algorithm, key_id=f"trust-list-{secrets.token_hex(4)}")
    certificate = authority.issue(
        profile=ca.SEAL_MAKER_PROFILE,
        subject=ca.organisation_name(organization=service.settings.issuing_name, common_name=TRUST_LIST_SIGNER_NAME),
        public_key=service.keystore.public_key(key_id),
        now=now,
    )
    with service.registry.transaction() as tx:
        tx.add_certificate(kind=_SIGNER_KIND, der=certificate.public_bytes(serialization.Encoding.DER), key_id=key_id)
        tx.record_event(kind="ca.trust_list_signer_created", actor="admin",
                        subject=certificate.subject.rfc4514_string(),
                        detail={"serial": format(certificate.serial_number, "x")})
    return service.keystore.signer(key_id), certificate, chain


def listed_certificates(service: TrustService) -> list[x509.Certificate]:
    """The certificates the trust list carries: every issuing CA, and every seal in :data:`LISTED_SEAL_STATUSES`."""
    listed_ids = {s.certificate_id for s in service.registry.list_seals() if s.status in LISTED_SEAL_STATUSES}
    issuing = [x509.load_der_x509_certificate(r.der) for r in service.registry.certificates_of_kind("issuing-ca")]
    seals = [x509.load_der_x509_certificate(r.der) for r in service.registry.certificates_of_kind("seal")
             if r.id in listed_ids]
    return issuing + seals


def make_trust_list(service: TrustService, *, validity: timedelta = TRUST_LIST_VALIDITY) -> bytes:
    """Sign a trust list of :func:`listed_certificates`, valid from now for ``validity`` (cut to the
    signer certificate's end). Its version is the Unix time of issue: each publication is newer."""
    signer, certificate, chain = trust_list_signer(service)
    now = service.clock().replace(microsecond=0)
    claims = TrustListClaims(
        version=int(now.timestamp()),
        issued_at=now,
        expires_at=min(now + validity, certificate.not_valid_after_utc),
        certificates=listed_certificates(service),
    )
    return issue_trust_list(claims, signer=signer, certificate=certificate, chain=chain)


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Certificates from PEM (one or more) or a single DER certificate."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def verify_offline_files(
    text: str, *, roots: Path, trust_list: Path, status_lists: Sequence[Path], now: datetime
) -> VerificationResult:
    """Verify a QR text from files alone (``yinxin verify QR --offline``): the root certificate(s), a
    trust list (``yinxin trust-list export``) and status lists (``yinxin status-list export``). No
    database, no server: :func:`verification.qr.verify_offline`."""
    from verification.errors import MalformedInputError

    try:
        anchors = load_certificates(roots.read_bytes())
        trust_bytes = trust_list.read_bytes()
        lists = [path.read_bytes() for path in status_lists]
    except OSError as exc:
        raise MalformedInputError(f"{exc.filename}: cannot be read ({exc.strerror})") from None
    except ValueError:
        raise MalformedInputError(f"{roots}: not a PEM or DER certificate") from None
    return verify_offline(text, trust_list=trust_bytes, anchors=anchors, status_lists=lists, now=now)


# -- CLI -------------------------------------------------------------------------------------------------


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``trust-list export`` and ``status-list export`` on the ``yinxin`` parser.

    ``sub`` is the top-level subparsers object, ``common`` the parent parser with ``--home``, ``--json`` and
    ``--verbose``. Handlers return an exit code, like the other commands of :mod:`cli`.
    """
    trust = sub.add_parser("trust-list", help="the signed trust list offline verifiers use").add_subparsers(
        dest="action", required=True)
    p = trust.add_parser("export", parents=[common], help="sign the current trust list and write it (COSE, CBOR)")
    p.add_argument("--out", required=True, help="file to write")
    p.add_argument("--days", type=int, default=TRUST_LIST_VALIDITY.days, help="days the list stays valid (1–30)")
    p.set_defaults(func=_cmd_trust_list_export)

    status = sub.add_parser("status-list", help="departments' signed status lists (IETF Token Status List)") \
        .add_subparsers(dest="action", required=True)
    p = status.add_parser("export", parents=[common],
                          help="sign a department's current status list(s) and write them (CWT)")
    p.add_argument("--dept", required=True, help="the department's USCC")
    p.add_argument("--out", required=True,
                   help="file to write; with several lists, list N > first goes to FILE-N (before the suffix)")
    p.add_argument("--list", type=int, dest="list_id", help="only this list number (default: every list)")
    p.add_argument("--ttl", type=int, default=int(STATUS_LIST_TTL.total_seconds()),
                   help="seconds a verifier may rely on the list (60–604800, default 43200)")
    p.set_defaults(func=_cmd_status_list_export)


def _cli() -> Any:
    import cli  # the caller; imported late so that the API never loads the CLI

    return cli


def _cmd_trust_list_export(args: argparse.Namespace) -> int:
    cli = _cli()
    if not 1 <= args.days <= 30:
        raise cli.CLIError("--days: between 1 and 30")
    service = cli._service(args)
    data = make_trust_list(service, validity=timedelta(days=args.days))
    checked: TrustList = parse_trust_list(data, anchors=service.root_certificates(), now=service.clock())
    out = Path(args.out)
    out.write_bytes(data)
    document = {"out": str(out), "bytes": len(data), "version": checked.version,
                "issued_at": checked.issued_at.isoformat(), "expires_at": checked.expires_at.isoformat(),
                "certificates": len(checked.certificates), "signer": checked.signer.subject.rfc4514_string()}
    cli._emit(args, document, lambda: print(
        f"Trust list version {checked.version}: {len(checked.certificates)} certificates, valid until "
        f"{checked.expires_at.isoformat()}, written to {out} ({len(data)} bytes)."))
    return int(cli.EXIT_OK)


def _cmd_status_list_export(args: argparse.Namespace) -> int:
    cli = _cli()
    if not 60 <= args.ttl <= 7 * 86400:
        raise cli.CLIError("--ttl: between 60 and 604800 seconds")
    service = cli._service(args)
    uscc = validate_uscc(args.dept, field="dept")
    ids = [args.list_id] if args.list_id is not None else list_ids(service.registry, uscc)
    if not ids:
        raise cli.CLIError(f"department {uscc} has issued no licence with a status list yet", cli.EXIT_NOT_FOUND)
    out = Path(args.out)
    written = []
    for list_id in ids:
        path = out if list_id == ids[0] else out.with_name(f"{out.stem}-{list_id}{out.suffix}")
        data = make_status_list(service, uscc=uscc, list_id=list_id, ttl=timedelta(seconds=args.ttl))
        path.write_bytes(data)
        written.append({"list_id": list_id, "out": str(path), "bytes": len(data),
                        "url": status_list_url(service.settings, uscc, list_id)})
    cli._emit(args, {"department": uscc, "ttl": args.ttl, "lists": written}, lambda: print("\n".join(
        f"Status list {w['list_id']} of {uscc} ({w['url']}): {w['bytes']} bytes written to {w['out']}"
        for w in written)))
    return int(cli.EXIT_OK)
