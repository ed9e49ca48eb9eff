"""``yinxin``: the administrator's and operator's command line.

A thin layer over :class:`api.service.TrustService`: it parses arguments, asks for the passphrase
when a private key is needed, prints a table or one JSON document (``--json``), and maps errors to
exit codes in one place (:func:`main`). No traceback reaches the user unless ``--verbose``.

Exit codes: 0 success (for ``verify``: VALID); 1 verified INVALID; 2 bad input or usage;
3 verified INDETERMINATE; 4 configuration or state problem (not initialised, wrong passphrase);
5 not found.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_INDETERMINATE = 3
EXIT_CONFIG = 4
EXIT_NOT_FOUND = 5

MAX_QR_TEXT = 4096


class CLIError(Exception):
    """A user-facing failure with its exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _passphrase_provider(*, confirm: bool = False, allow_ephemeral: bool = False) -> Callable[[], str]:
    """Passphrase from ``YINXIN_PASSPHRASE``, else a prompt on a terminal; never from a file or argv."""

    def provide() -> str:
        value = os.environ.get("YINXIN_PASSPHRASE")
        if value:
            return value
        if sys.stdin.isatty():
            first = getpass.getpass("Key store passphrase: ")
            if confirm and getpass.getpass("Repeat passphrase: ") != first:
                raise CLIError("the passphrases do not match", EXIT_USAGE)
            return first
        if allow_ephemeral:
            print("yinxin: YINXIN_PASSPHRASE is not set and there is no terminal; this demo home's keys are "
                  "locked with a random passphrase that is not saved anywhere.", file=sys.stderr)
            return secrets.token_urlsafe(24)
        raise CLIError("the key store passphrase is needed: set YINXIN_PASSPHRASE or run on a terminal",
                       EXIT_CONFIG)

    cached: list[str] = []

    def once() -> str:
        if not cached:
            cached.append(provide())
        return cached[0]

    return once


def _service(args: argparse.Namespace, *, confirm: bool = False, allow_ephemeral: bool = False,
             create: bool = False) -> Any:
    from api.service import NotInitialisedError, TrustService
    from api.settings import load_settings, resolve_home

    home = resolve_home(args.home)
    if not create and not home.is_dir():
        raise NotInitialisedError(f"no Yinxin home at {home}: run `yinxin init --home {home}` first")
    settings = load_settings(home)
    return TrustService.open(settings, passphrase=_passphrase_provider(confirm=confirm,
                                                                       allow_ephemeral=allow_ephemeral))


def _emit(args: argparse.Namespace, document: Any, human: Callable[[], None]) -> None:
    if args.json:
        print(json.dumps(document, ensure_ascii=False, indent=2, default=str))
    else:
        human()


def _table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> None:
    from unicodedata import east_asian_width

    def width(text: str) -> int:
        return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)

    cells = [[str(c) for c in row] for row in rows]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - width(v)) for v, w in zip(values, widths, strict=True)).rstrip()

    print(line(headers))
    print(line(["-" * w for w in widths]))
    for row in cells:
        print(line(row))


# -- commands ----------------------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    service = _service(args, confirm=not _home_has_keys(args), create=True)
    info = service.initialise(algorithm=args.algorithm)
    info["home"] = str(service.settings.home)
    _emit(args, info, lambda: print(
        f"Initialised {info['home']}: root and issuing CA ({info['algorithm']}).\n"
        f"Root certificate: {info['root_certificate']}"))
    return EXIT_OK


def _home_has_keys(args: argparse.Namespace) -> bool:
    from api.settings import resolve_home

    keystore = resolve_home(args.home) / "keystore"
    return keystore.is_dir() and any(keystore.iterdir())


def cmd_ca_export(args: argparse.Namespace) -> int:
    service = _service(args)
    if not service.is_initialised():
        from api.service import NotInitialisedError

        raise NotInitialisedError(f"{service.settings.home} has no CA yet: run `yinxin init` first")
    paths = service.export_ca_certificates(Path(args.out))
    document = {name: str(path) for name, path in paths.items()}
    _emit(args, document, lambda: print("\n".join(f"{name}: {path}" for name, path in document.items())))
    return EXIT_OK


def cmd_dept_add(args: argparse.Namespace) -> int:
    service = _service(args)
    record, api_key = service.add_department(uscc=args.uscc, name=args.name, algorithm=args.algorithm)
    document = {"uscc": record.uscc, "name": record.name, "algorithm": record.algorithm, "api_key": api_key}
    _emit(args, document, lambda: print(
        f"Department {record.name} ({record.uscc}) registered.\n"
        f"API key (shown once, store it safely): {api_key}"))
    return EXIT_OK


def cmd_admin_add(args: argparse.Namespace) -> int:
    record, api_key = _service(args).add_principal(kind="admin", name=args.name)
    document = {"name": record.name, "api_key": api_key}
    _emit(args, document, lambda: print(f"Administrator {record.name} added.\n"
                                        f"API key (shown once, store it safely): {api_key}"))
    return EXIT_OK


def cmd_admin_list(args: argparse.Namespace) -> int:
    records = _service(args).registry.list_principals(kind="admin")
    document = [{"name": r.name, "active": r.active, "created_at": r.created_at.isoformat()} for r in records]
    _emit(args, document, lambda: _table([(d["name"], d["active"], d["created_at"][:19]) for d in document],
                                         ["Name", "Active", "Created"]))
    return EXIT_OK


def cmd_dept_list(args: argparse.Namespace) -> int:
    records = _service(args).registry.list_departments()
    document = [{"uscc": r.uscc, "name": r.name, "algorithm": r.algorithm} for r in records]
    _emit(args, document, lambda: _table([(r.uscc, r.algorithm, r.name) for r in records],
                                         ["USCC", "Algorithm", "名称 Name"]))
    return EXIT_OK


def _seal_document(record: Any) -> dict[str, Any]:
    return {"seal_id": record.seal_id, "department": record.department_uscc, "name": record.name,
            "type": record.seal_type, "status": record.status, "key_id": record.key_id,
            "created_at": record.created_at.isoformat()}


def cmd_seal_create(args: argparse.Namespace) -> int:
    record = _service(args).create_seal(uscc=args.dept, seal_type=args.type, holder_name=args.holder_name,
                                        algorithm=args.algorithm)
    _emit(args, _seal_document(record), lambda: print(f"Seal {record.name} made: {record.seal_id}"))
    return EXIT_OK


def cmd_seal_list(args: argparse.Namespace) -> int:
    records = _service(args).registry.list_seals(department_uscc=args.dept)
    _emit(args, [_seal_document(r) for r in records], lambda: _table(
        [(r.seal_id, r.department_uscc, r.seal_type, r.status, r.name) for r in records],
        ["ID", "Department", "类型 Type", "状态 Status", "名称 Name"]))
    return EXIT_OK


def cmd_seal_show(args: argparse.Namespace) -> int:
    from cryptography import x509

    service = _service(args)
    record = service.registry.get_seal(args.seal_id)
    cert = x509.load_der_x509_certificate(service.registry.get_certificate(record.certificate_id).der)
    document = _seal_document(record) | {
        "certificate": {"subject": cert.subject.rfc4514_string(), "issuer": cert.issuer.rfc4514_string(),
                        "serial": format(cert.serial_number, "x"),
                        "not_before": cert.not_valid_before_utc.isoformat(),
                        "not_after": cert.not_valid_after_utc.isoformat()},
        "image_width_mm": record.image_width_mm,
    }
    if args.image_out:
        Path(args.image_out).write_bytes(record.image_png)
        document["image"] = str(args.image_out)
    if args.certificate_out:
        from cryptography.hazmat.primitives.serialization import Encoding

        Path(args.certificate_out).write_bytes(cert.public_bytes(Encoding.PEM))
        document["certificate_file"] = str(args.certificate_out)

    def human() -> None:
        for key, value in document.items():
            if isinstance(value, dict):
                for k, v in value.items():
                    print(f"{key}.{k}: {v}")
            else:
                print(f"{key}: {value}")

    _emit(args, document, human)
    return EXIT_OK


def cmd_seal_export(args: argparse.Namespace) -> int:
    service = _service(args)
    out = Path(args.out)
    if args.format == "esl":
        data = service.export_seal_esl(args.seal_id, actor="cli")
    elif args.format == "png":
        data = service.registry.get_seal(args.seal_id).image_png
    else:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        record = service.registry.get_seal(args.seal_id)
        der = service.registry.get_certificate(record.certificate_id).der
        data = x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM)
    out.write_bytes(data)
    document = {"seal_id": args.seal_id, "format": args.format, "file": str(out), "bytes": len(data)}
    _emit(args, document, lambda: print(f"Wrote {out} ({args.format}, {len(data)} bytes)"))
    return EXIT_OK


def cmd_seal_sign(args: argparse.Namespace) -> int:
    service = _service(args)
    source = Path(args.file)
    try:
        content = source.read_bytes()
    except OSError as exc:
        raise CLIError(f"{source}: cannot be read ({exc.strerror})") from None
    signature = service.sign_document_ses(args.seal_id, document=content, document_name=source.name, actor="cli")
    out = Path(args.out) if args.out else source.with_name(source.name + ".dat")
    out.write_bytes(signature)
    document = {"seal_id": args.seal_id, "document": str(source), "signature": str(out)}
    _emit(args, document, lambda: print(f"Wrote the GB/T 38540 signature {out}"))
    return EXIT_OK


def _parse_fields(args: argparse.Namespace) -> dict[str, object]:
    fields: dict[str, object] = {}
    if args.fields_json:
        try:
            loaded = json.loads(Path(args.fields_json).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CLIError(f"--fields-json: cannot read {args.fields_json}: {exc}") from None
        if not isinstance(loaded, dict):
            raise CLIError("--fields-json: expected a JSON object of field name → value")
        fields.update(loaded)
    for item in args.field or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CLIError(f"--field: expected NAME=VALUE, got {item!r}")
        fields[key.strip()] = value
    return fields


def _license_document(record: Any) -> dict[str, Any]:
    return {"identifier": record.identifier, "type": record.type_code, "department": record.department_uscc,
            "holder_name": record.holder_name, "status": record.status, "version": record.version,
            "issued_at": record.issued_at.isoformat(),
            "valid_until": record.valid_until.isoformat() if record.valid_until else None,
            "fields": dict(record.fields), "qr_text": record.qr_text}


def _write_outputs(record: Any, out_dir: Path | None, document: dict[str, Any]) -> None:
    if out_dir is None:
        return
    from issuance.qrimage import render_qr_png

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = record.identifier.replace(".", "_")
    pdf = out_dir / f"{stem}.pdf"
    png = out_dir / f"{stem}.qr.png"
    pdf.write_bytes(record.pdf)
    png.write_bytes(render_qr_png(record.qr_text))
    document["pdf"] = str(pdf)
    document["qr_png"] = str(png)


def cmd_license_issue(args: argparse.Namespace) -> int:
    service = _service(args)
    record = service.issue_license(department_uscc=args.dept, license_type=args.type,
                                   fields=_parse_fields(args), actor=f"cli:{args.dept}")
    document = _license_document(record)
    _write_outputs(record, Path(args.out) if args.out else None, document)
    _emit(args, document, lambda: print(
        f"Issued {record.identifier}" + (f"\nPDF: {document['pdf']}\nQR: {document['qr_png']}"
                                         if "pdf" in document else "")))
    return EXIT_OK


def cmd_catalog_list(args: argparse.Namespace) -> int:
    service = _service(args)
    types = service.license_types()
    document = [{"code": t.code, "short_name": t.short_name, "name": t.name, "definer": t.definer_name,
                 "holder_kind": t.holder_kind.code_type, "fields": len(t.fields),
                 "issuers": service.registry.issuers_of(t.code) if service.is_initialised() else []}
                for t in types]
    _emit(args, document, lambda: _table(
        [(d["code"], d["short_name"], d["name"], ", ".join(d["issuers"]) or "-") for d in document],
        ["类型代码 Code", "Short name", "名称 Name", "发证部门 Issuers"]))
    return EXIT_OK


def cmd_catalog_show(args: argparse.Namespace) -> int:
    from issuance.catalog import license_type_to_dict

    service = _service(args)
    lt = service.license_type(args.type)
    document = license_type_to_dict(lt) | {"issuers": service.registry.issuers_of(lt.code)}
    _emit(args, document, lambda: print(json.dumps(document, ensure_ascii=False, indent=2)))
    return EXIT_OK


def cmd_catalog_export(args: argparse.Namespace) -> int:
    from issuance.catalog import catalog_to_json

    service = _service(args)
    types = service.license_types()
    Path(args.out).write_text(catalog_to_json(types), encoding="utf-8")
    document = {"file": args.out, "types": [t.code for t in types]}
    _emit(args, document, lambda: print(f"Wrote {len(types)} licence type(s) to {args.out}"))
    return EXIT_OK


def cmd_catalog_import(args: argparse.Namespace) -> int:
    from issuance.catalog import catalog_from_json, license_type_from_json

    service = _service(args)
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"{args.file}: cannot be read ({exc})") from None
    parsed = json.loads(text) if text.strip().startswith("{") else None
    types = (catalog_from_json(text) if isinstance(parsed, dict) and "types" in parsed
             else (license_type_from_json(text),))
    saved = service.save_license_types(types, actor="cli")
    document = {"imported": [t.code for t in saved]}
    _emit(args, document, lambda: print("Imported: " + ", ".join(f"{t.code} {t.name}" for t in saved)))
    return EXIT_OK


def cmd_catalog_allow(args: argparse.Namespace) -> int:
    issuers = _service(args).set_issuer(license_type=args.type, uscc=args.dept, allowed=args.func is cmd_catalog_allow,
                                        actor="cli")
    document = {"type": args.type, "issuers": issuers}
    _emit(args, document, lambda: print(f"Issuers of {args.type}: {', '.join(issuers) or '(none)'}"))
    return EXIT_OK


def cmd_catalog_disallow(args: argparse.Namespace) -> int:
    return cmd_catalog_allow(args)


def cmd_license_change(args: argparse.Namespace) -> int:
    service = _service(args)
    action = args.action
    if action in ("amend", "reissue"):
        changes = _parse_fields(args) if action == "amend" else None
        record = service.new_version(args.identifier, action=action, department_uscc=None, actor="cli",
                                     reason=args.reason, changes=changes)
    else:
        record = service.change_status(args.identifier, action=action, department_uscc=None, actor="cli",
                                       reason=args.reason)
    document = {"identifier": record.identifier, "status": record.status, "version": record.version,
                "supersedes": record.supersedes}
    if record.has_personal_data and getattr(args, "out", None):
        _write_outputs(record, Path(args.out), document)
    _emit(args, document, lambda: print(f"{action}: {record.identifier} is now {record.status}"))
    return EXIT_OK


def cmd_license_history(args: argparse.Namespace) -> int:
    changes = _service(args).license_history(args.identifier)
    document = [{"identifier": c.identifier, "action": c.action, "from": c.from_status, "to": c.to_status,
                 "actor": c.actor, "reason": c.reason, "at": c.occurred_at.isoformat()} for c in changes]
    _emit(args, document, lambda: _table(
        [(d["at"][:19], d["action"], f"{d['from'] or '-'} → {d['to']}", d["actor"], d["reason"],
          d["identifier"].rsplit(".", 2)[-2]) for d in document],
        ["时间 At", "操作 Action", "状态 Status", "Actor", "原因 Reason", "Version"]))
    return EXIT_OK


def cmd_license_import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from api.importer import read_rows, run_import

    service = _service(args)
    total = len(read_rows(Path(args.file), file_format=args.format)[0])
    with tqdm(total=total, unit="row", disable=args.json or not sys.stderr.isatty(), file=sys.stderr) as bar:
        report = run_import(service, path=Path(args.file), department_uscc=args.dept, license_type=args.type,
                            actor=f"cli-import:{args.dept}", file_format=args.format, progress=bar.update)

    def human() -> None:
        print(f"Rows: {report.total}; issued now: {report.issued}; done before: {report.already_done}; "
              f"failed: {len(report.errors)}")
        for error in report.errors:
            print(f"  {error}")

    _emit(args, report.to_dict(), human)
    return EXIT_OK if not report.errors else EXIT_INVALID


def cmd_share_query(args: argparse.Namespace) -> int:
    found = _service(args).share_query(caller=f"cli:{args.caller}", holder_code=args.holder_code,
                                       holder_code_type=args.holder_code_type, type_code=args.type,
                                       purpose=args.purpose)
    document = [{"identifier": r.identifier, "type": r.type_code, "issuer": r.department_uscc, "status": r.status,
                 "holder_name": r.holder_name, "valid_until": r.valid_until.isoformat() if r.valid_until else None}
                for r in found]
    _emit(args, document, lambda: _table(
        [(d["identifier"], d["holder_name"], d["status"], d["valid_until"] or "长期") for d in document],
        ["证照标识 Identifier", "持证人 Holder", "状态 Status", "有效期至 Valid until"]))
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    document = _service(args).statistics(days=args.days)

    def human() -> None:
        _table([(d["type"], d["department"], d["issued"], d["active"]) for d in document["issued"]],
               ["类型 Type", "部门 Department", "Issued", "Active"])
        print()
        _table([(d["day"], d["count"]) for d in document["verifications_per_day"]], ["日期 Day", "核验 Verifications"])

    _emit(args, document, human)
    return EXIT_OK


def cmd_license_list(args: argparse.Namespace) -> int:
    records = _service(args).registry.list_licenses(department_uscc=args.dept, limit=args.limit)
    document = [{"identifier": r.identifier, "type": r.type_code, "department": r.department_uscc,
                 "version": r.version, "status": r.status, "issued_at": r.issued_at.isoformat()}
                for r in records]
    _emit(args, document, lambda: _table(
        [(d["identifier"], d["status"], d["issued_at"][:19]) for d in document],
        ["证照标识 Identifier", "状态 Status", "Issued"]))
    return EXIT_OK


def cmd_license_show(args: argparse.Namespace) -> int:
    record = _service(args).get_license(args.identifier)
    document = _license_document(record)
    _write_outputs(record, Path(args.out) if args.out else None, document)

    def human() -> None:
        for key in ("identifier", "type", "department", "holder_name", "status", "issued_at", "valid_until"):
            print(f"{key}: {document[key]}")
        for key, value in document["fields"].items():
            print(f"  {key}: {value}")

    _emit(args, document, human)
    return EXIT_OK


_FILE_SUFFIXES = (".pdf", ".txt", ".png", ".ofd", ".esl", ".dat", ".der")
VERDICT_LABELS = {"VALID": "有效 VALID", "INVALID": "无效 INVALID", "INDETERMINATE": "无法确认 INDETERMINATE"}


def _read_document(name: str | None) -> bytes | None:
    if name is None:
        return None
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise CLIError(f"--document: {name} cannot be read ({exc.strerror})") from None


def _verify_offline(args: argparse.Namespace) -> Any:
    """``--offline``: files only — the trust list, status lists and the root certificate; no DB, no server."""
    from datetime import UTC, datetime

    from cryptography import x509

    from api.settings import resolve_home
    from verification.qr import verify_offline

    if not args.trust_list:
        raise CLIError("--offline needs --trust-list FILE (from `yinxin trust-list export` or the server)")
    root_path = Path(args.root) if args.root else resolve_home(args.home) / "ca" / "root.pem"
    try:
        anchors = x509.load_pem_x509_certificates(root_path.read_bytes())
        trust_list = Path(args.trust_list).read_bytes()
        status_lists = [Path(name).read_bytes() for name in args.status_list or []]
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot read the offline inputs: {exc}") from None
    text = args.input
    if len(text) < 1024 and not text.startswith("YX1:") and Path(text).is_file():
        text = Path(text).read_text(encoding="ascii", errors="replace").strip()
    return verify_offline(text.strip(), trust_list=trust_list, anchors=anchors, status_lists=status_lists,
                          now=datetime.now(UTC))


def cmd_verify(args: argparse.Namespace) -> int:
    if args.offline:
        result = _verify_offline(args)
        _print_result(args, result)
        return {"VALID": EXIT_OK, "INVALID": EXIT_INVALID, "INDETERMINATE": EXIT_INDETERMINATE}[result.verdict.value]
    service = _service(args)
    target = args.input
    path = Path(target)
    document = _read_document(args.document)
    if len(target) < 1024 and not target.startswith("YX1:") and path.is_file():
        data = path.read_bytes()
        if data[:5] == b"%PDF-":
            result = service.verify_pdf_bytes(data, actor="cli")
        elif data[:4] == b"PK\x03\x04":  # an OFD package is a ZIP (GB/T 33190 §5)
            result = service.verify_ofd_bytes(data, actor="cli")
        elif data[:1] == b"\x30":  # DER SEQUENCE: a GB/T 38540 SESeal (.esl) or SES_Signature (.dat)
            result = service.verify_ses_bytes(data, document=document, actor="cli")
        else:
            try:
                text = data.decode("ascii").strip()
            except UnicodeDecodeError:
                raise CLIError(f"{target}: neither a PDF nor a QR credential text file") from None
            result = service.verify_qr_text(text[: MAX_QR_TEXT + 1], actor="cli")
    elif not target.startswith("YX1:") and ("/" in target or path.suffix.lower() in _FILE_SUFFIXES):
        raise CLIError(f"{target}: no such file")
    else:
        result = service.verify_qr_text(target.strip(), actor="cli")
    _print_result(args, result)
    return _verdict_exit(result)


def _verdict_exit(result: Any) -> int:
    return {"VALID": EXIT_OK, "INVALID": EXIT_INVALID, "INDETERMINATE": EXIT_INDETERMINATE}[result.verdict.value]


def _print_result(args: argparse.Namespace, result: Any) -> None:
    document = result.to_dict()

    def human() -> None:
        print(f"结论 Verdict: {VERDICT_LABELS[result.verdict.value]}")
        if result.license_identifier:
            print(f"证照标识 Licence: {result.license_identifier}")
        if result.license_status:
            print(f"状态 Status: {result.license_status}")
        for check in result.checks:
            mark = {"passed": "✓", "failed": "✗", "skipped": "-", "indeterminate": "?"}[check.outcome.value]
            print(f"  {mark} {check.name}" + (f": {check.detail}" if check.detail else ""))
        for key, value in result.disclosed.items():
            print(f"  {key}: {value}")

    _emit(args, document, human)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.settings import load_settings, resolve_home

    home = resolve_home(args.home)
    settings = load_settings(home)
    os.environ["YINXIN_HOME"] = str(home)
    uvicorn.run("api.app:app_from_environment", factory=True, host=args.host or settings.host,
                port=args.port or settings.port, workers=args.workers, log_level="info")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from api.demo import run_demo
    from api.settings import load_settings, resolve_home

    home = resolve_home(args.home)
    if home.exists() and any(home.iterdir()):
        raise CLIError(f"{home} is not empty; the demo makes a fresh home (choose another --home)")
    from api.service import TrustService

    service = TrustService.open(load_settings(home), passphrase=_passphrase_provider(allow_ephemeral=True))
    out = Path(args.out) if args.out else home / "demo"
    document = run_demo(service, out_dir=out, algorithm=args.algorithm)

    def human() -> None:
        print(f"Demo home: {home}")
        print(f"Root CA certificate: {document['root_certificate']}")
        print(f"Department: {document['department']['name']} ({document['department']['uscc']})")
        for lic in document["licenses"]:
            print(f"- {lic['type_name']}: {lic['identifier']}\n  PDF {lic['pdf']}\n  QR  {lic['qr_png']}"
                  f"\n  verify: {lic['verification']}")
        print(f"\nTry: yinxin verify {document['licenses'][0]['pdf']} --home {home}")

    _emit(args, document, human)
    return EXIT_OK


# -- parser --------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for shell-completion generators and tests)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="home directory (default: $YINXIN_HOME, else ./.yinxin)")
    common.add_argument("--json", action="store_true", help="print one JSON document")
    common.add_argument("--verbose", action="store_true", help="show tracebacks on errors")

    parser = argparse.ArgumentParser(prog="yinxin", parents=[common],
                                     description="Yinxin (印信): electronic licences and electronic seals.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", parents=[common],
                       help="create a root and an issuing CA in the home (again with another --algorithm to add one)")
    p.add_argument("--algorithm", help="p256 (ECDSA P-256, default), sm2 (SM2-with-SM3), ed25519 or rsa")
    p.set_defaults(func=cmd_init)

    cas = sub.add_parser("ca", help="the certificate authority").add_subparsers(dest="action", required=True)
    p = cas.add_parser("export", parents=[common], help="write the CA certificates (PEM) to a directory")
    p.add_argument("--out", required=True, help="the directory to write root.pem, issuing.pem, … to")
    p.set_defaults(func=cmd_ca_export)

    adm = sub.add_parser("admin", help="administrators").add_subparsers(dest="action", required=True)
    p = adm.add_parser("add", parents=[common], help="add an administrator and print its API key once")
    p.add_argument("--name", required=True)
    p.set_defaults(func=cmd_admin_add)
    p = adm.add_parser("list", parents=[common], help="list administrators")
    p.set_defaults(func=cmd_admin_list)

    dept = sub.add_parser("dept", help="departments (发证部门)").add_subparsers(dest="action", required=True)
    p = dept.add_parser("add", parents=[common], help="register a department and print its API key once")
    p.add_argument("--uscc", required=True, help="统一社会信用代码 (GB 32100, 18 characters)")
    p.add_argument("--name", required=True, help="the department's full name")
    p.add_argument("--algorithm", help="signature algorithm of its seals: p256 or sm2 (default: the home's first CA)")
    p.set_defaults(func=cmd_dept_add)
    p = dept.add_parser("list", parents=[common], help="list departments")
    p.set_defaults(func=cmd_dept_list)

    seal = sub.add_parser("seal", help="electronic seals (电子印章)").add_subparsers(dest="action", required=True)
    p = seal.add_parser("create", parents=[common], help="make a seal: key, certificate and image")
    p.add_argument("--dept", required=True, help="the department's USCC")
    p.add_argument("--type", default="公章", help="公章 (default), 合同专用章, 财务专用章, 发票专用章, 法定代表人名章")
    p.add_argument("--holder-name", help="the person's name, for a 法定代表人名章")
    p.add_argument("--algorithm", help="p256 or sm2 (default: the department's algorithm)")
    p.set_defaults(func=cmd_seal_create)
    p = seal.add_parser("list", parents=[common], help="list seals")
    p.add_argument("--dept", help="only this department's seals")
    p.set_defaults(func=cmd_seal_list)
    p = seal.add_parser("show", parents=[common], help="show a seal and its certificate")
    p.add_argument("seal_id")
    p.add_argument("--image-out", help="write the seal image (PNG) to this file")
    p.add_argument("--certificate-out", help="write the seal certificate (PEM) to this file")
    p.set_defaults(func=cmd_seal_show)
    p = seal.add_parser("export", parents=[common],
                        help="write a seal as a GB/T 38540 seal (.esl), image or certificate")
    p.add_argument("seal_id")
    p.add_argument("--format", choices=["esl", "png", "pem"], default="esl",
                   help="esl: GB/T 38540 V4 SESeal signed by the seal maker (SM2 seals only); png; pem")
    p.add_argument("--out", required=True, help="the file to write")
    p.set_defaults(func=cmd_seal_export)
    p = seal.add_parser("sign", parents=[common],
                        help="sign a file with an SM2 seal: a GB/T 38540 SES_Signature (.dat) over its SM3 hash")
    p.add_argument("seal_id")
    p.add_argument("file", help="the document to sign")
    p.add_argument("--out", help="where to write the signature (default: FILE.dat)")
    p.set_defaults(func=cmd_seal_sign)

    lic = sub.add_parser("license", help="electronic licences (电子证照)").add_subparsers(dest="action",
                                                                                     required=True)
    p = lic.add_parser("issue", parents=[common], help="issue a licence")
    p.add_argument("--dept", required=True, help="the issuing department's USCC")
    p.add_argument("--type", required=True,
                   help="licence type: resident-id, driving-licence, business-licence, or a type code")
    p.add_argument("--field", action="append", metavar="NAME=VALUE", help="a field value (repeatable)")
    p.add_argument("--fields-json", help="a JSON file with the field values")
    p.add_argument("--out", help="directory to write the sealed PDF and the QR PNG to")
    p.set_defaults(func=cmd_license_issue)
    for action, text in (("amend", "变更: a new version with changed fields (--field NAME=VALUE)"),
                         ("reissue", "补发: a new version with the same fields"),
                         ("suspend", "暂停 a licence"), ("resume", "恢复 a suspended licence"),
                         ("revoke", "吊销 a licence"), ("cancel", "注销 a licence"),
                         ("expire", "mark a licence expired")):
        p = lic.add_parser(action, parents=[common], help=text)
        p.add_argument("identifier", help="the GB/T 36904 licence identifier")
        p.add_argument("--reason", required=True, help="why (recorded with who and when)")
        if action == "amend":
            p.add_argument("--field", action="append", metavar="NAME=VALUE", help="a changed field (repeatable)")
            p.add_argument("--fields-json", help="a JSON file with the changed fields")
        if action in ("amend", "reissue"):
            p.add_argument("--out", help="directory to write the new version's sealed PDF and QR PNG to")
        p.set_defaults(func=cmd_license_change, action=action)
    p = lic.add_parser("history", parents=[common], help="every lifecycle change of a licence, with who and why")
    p.add_argument("identifier")
    p.set_defaults(func=cmd_license_history)
    p = lic.add_parser("import", parents=[common],
                       help="issue every row of a CSV or JSONL file (resumable: run it again after an interruption)")
    p.add_argument("file", help="CSV with a header row of field names, or JSONL with one object per line")
    p.add_argument("--dept", required=True, help="the issuing department's USCC")
    p.add_argument("--type", required=True, help="the licence type (code or short name)")
    p.add_argument("--format", choices=["csv", "jsonl"], help="default: from the file's suffix")
    p.set_defaults(func=cmd_license_import)
    p = lic.add_parser("list", parents=[common], help="list licences, newest first")
    p.add_argument("--dept", help="only this department's licences")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=cmd_license_list)
    p = lic.add_parser("show", parents=[common], help="show a licence")
    p.add_argument("identifier", help="the GB/T 36904 licence identifier")
    p.add_argument("--out", help="directory to write the sealed PDF and the QR PNG to")
    p.set_defaults(func=cmd_license_show)

    cat = sub.add_parser("catalog", help="the licence catalogue (证照目录, GB/T 36902)").add_subparsers(
        dest="action", required=True)
    p = cat.add_parser("list", parents=[common], help="list licence types and their issuing departments")
    p.set_defaults(func=cmd_catalog_list)
    p = cat.add_parser("show", parents=[common], help="show a type's definition (JSON)")
    p.add_argument("type")
    p.set_defaults(func=cmd_catalog_show)
    p = cat.add_parser("export", parents=[common], help="write the catalogue as JSON (yinxin-catalog/1)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_catalog_export)
    p = cat.add_parser("import", parents=[common],
                       help="add or replace types from a JSON file (one type or a catalogue)")
    p.add_argument("file")
    p.set_defaults(func=cmd_catalog_import)
    for name, func, text in (("allow", cmd_catalog_allow, "allow a department to issue a type"),
                             ("disallow", cmd_catalog_disallow, "stop a department issuing a type")):
        p = cat.add_parser(name, parents=[common], help=text)
        p.add_argument("--type", required=True)
        p.add_argument("--dept", required=True, help="the department's USCC")
        p.set_defaults(func=func)

    share = sub.add_parser("share", help="sharing queries (GB/T 36906 practice)").add_subparsers(
        dest="action", required=True)
    p = share.add_parser("query", parents=[common], help="find a holder's licences of one type, with a stated purpose")
    p.add_argument("--holder-code", required=True, help="公民身份号码 or 统一社会信用代码")
    p.add_argument("--holder-code-type", required=True, choices=["111", "001"], help="111 ID number, 001 USCC")
    p.add_argument("--type", required=True, help="licence type code or short name")
    p.add_argument("--purpose", required=True, help="用证事由 (at most 200 characters), recorded")
    p.add_argument("--caller", default="admin", help="who asks (recorded)")
    p.set_defaults(func=cmd_share_query)

    p = sub.add_parser("stats", parents=[common], help="licences issued per type and department; verifications per day")
    p.add_argument("--days", type=int, default=30)
    p.set_defaults(func=cmd_stats)

    from api.presentations import add_commands as add_presentation_commands
    from api.status import add_commands as add_status_commands

    add_presentation_commands(sub, common)
    add_status_commands(sub, common)

    p = sub.add_parser("verify", parents=[common],
                       help="verify a sealed PDF, an OFD, a GB/T 38540 seal (.esl) or signature (.dat), "
                            "a file holding QR text, or QR text (YX1:…)")
    p.add_argument("input", help="a file path or the QR text itself")
    p.add_argument("--document", help="for a .dat signature: the signed document, to check its hash")
    p.add_argument("--offline", action="store_true",
                   help="verify a QR credential from files alone (no database, no server)")
    p.add_argument("--trust-list", help="with --offline: the signed trust list file")
    p.add_argument("--status-list", action="append", help="with --offline: a status list file (repeatable)")
    p.add_argument("--root", help="with --offline: the root CA certificate(s), PEM (default: HOME/ca/root.pem)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("serve", parents=[common], help="run the HTTP API")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", parents=[common],
                       help="make a fresh home with a department, its seal and one licence of each type")
    p.add_argument("--out", help="where to write the PDFs and QR PNGs (default: HOME/demo)")
    p.add_argument("--algorithm", help="p256 (default) or sm2: the CA hierarchy and the department's seal")
    p.set_defaults(func=cmd_demo)
    return parser


def _error_exit_code(exc: BaseException) -> int | None:
    """Map the packages' root errors to exit codes; ``None`` for unexpected errors."""
    from api.service import NotInitialisedError, ServiceError
    from api.settings import SettingsError
    from ca.errors import CAError
    from issuance.errors import IssuanceError
    from registry.errors import DuplicateError, NotFoundError, RegistryError
    from seal_keys.errors import SealKeyError, WrongPassphraseError
    from verification.errors import VerificationError

    table: list[tuple[type[BaseException], int]] = [
        (CLIError, EXIT_USAGE),
        (NotFoundError, EXIT_NOT_FOUND),
        (DuplicateError, EXIT_USAGE),
        (NotInitialisedError, EXIT_CONFIG),
        (WrongPassphraseError, EXIT_CONFIG),
        (SettingsError, EXIT_CONFIG),
        (RegistryError, EXIT_CONFIG),
        (ServiceError, EXIT_USAGE),
        (IssuanceError, EXIT_USAGE),
        (VerificationError, EXIT_USAGE),
        (SealKeyError, EXIT_CONFIG),
        (CAError, EXIT_CONFIG),
    ]
    if isinstance(exc, CLIError):
        return exc.exit_code
    for kind, code in table:
        if isinstance(exc, kind):
            return code
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``yinxin`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except KeyboardInterrupt:
        print("yinxin: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `yinxin stats | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        if args.verbose:
            raise
        try:
            exit_code = _error_exit_code(exc)
        except ImportError:  # a broken installation: still no traceback for the user
            exit_code = None
        if exit_code is None:
            print(f"yinxin: internal error ({type(exc).__name__}); run again with --verbose for details",
                  file=sys.stderr)
            return 70
        message = getattr(exc, "public_message", None) or str(exc)
        if args.json:
            print(json.dumps({"error": getattr(exc, "code", "error"), "detail": message}, ensure_ascii=False))
        print(f"yinxin: {message}", file=sys.stderr)
        return exit_code


if __name__ == "__main__":
    sys.exit(main())
