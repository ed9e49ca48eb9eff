"""Batch issuance and bulk import of licence records from CSV or JSONL (``yinxin license import``).

Every row becomes one licence through the normal issuance path (validation, identifier, QR credential,
sealed PDF). Each row is written in one transaction together with its bookkeeping entry (the job is
keyed by the SHA-256 of department, type and file bytes), so an import that is killed at any moment
and run again skips the rows already issued and never issues a row twice; a row that fails is
reported with its row number and field and written nowhere.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from issuance.errors import FieldValidationError, IssuanceError

from .service import ServiceError, TrustService

MAX_IMPORT_BYTES = 200 * 2**20
MAX_IMPORT_ROWS = 1_000_000


class ImportFileError(ServiceError):
    """The import file cannot be read as CSV or JSONL; the message names the line."""

    code = "invalid_import_file"
    status = 422


@dataclass(frozen=True)
class ImportRow:
    """One record of the file: its row number (1 = the first data row) and its field values."""

    row_no: int
    fields: dict[str, object]


@dataclass(frozen=True)
class RowError:
    """Why one row was not issued."""

    row_no: int
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"row {self.row_no}: {self.field + ': ' if self.field else ''}{self.message}"


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    job_id: str
    total: int
    issued: int
    already_done: int
    errors: tuple[RowError, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "job_id": self.job_id,
            "total": self.total,
            "issued": self.issued,
            "already_done": self.already_done,
            "failed": len(self.errors),
            "errors": [{"row": e.row_no, "field": e.field, "message": e.message} for e in self.errors],
        }


def _csv_rows(text: str) -> Iterator[ImportRow]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    if not reader.fieldnames:
        raise ImportFileError("the CSV file has no header row naming the fields")
    header = [name.strip() for name in reader.fieldnames]
    if len(set(header)) != len(header) or any(not name for name in header):
        raise ImportFileError("the CSV header has an empty or repeated column name")
    try:
        for number, record in enumerate(reader, start=1):
            if None in record:
                raise ImportFileError(f"row {number}: more values than header columns")
            values = {key.strip(): (value or "").strip() for key, value in record.items() if key is not None}
            yield ImportRow(number, {k: v for k, v in values.items() if v != ""})
    except csv.Error as exc:
        raise ImportFileError(f"CSV line {reader.line_num}: {exc}") from None


def _jsonl_rows(text: str) -> Iterator[ImportRow]:
    number = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        number += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"JSONL line {line_no}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not all(isinstance(k, str) for k in record):
            raise ImportFileError(f"JSONL line {line_no}: expected an object of field name → value")
        yield ImportRow(number, record)


def read_rows(path: Path, *, file_format: str | None = None) -> tuple[list[ImportRow], bytes]:
    """Read every row of a CSV (header row of field names) or JSONL file; return them and the file's bytes."""
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise ImportFileError(f"{path}: larger than {MAX_IMPORT_BYTES // 2**20} MiB; split it")
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path}: not UTF-8 (byte {exc.start})") from None
    chosen = file_format or ("jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv")
    if chosen not in ("csv", "jsonl"):
        raise ImportFileError(f"unknown format {chosen!r}: use csv or jsonl")
    rows = list(_csv_rows(text) if chosen == "csv" else _jsonl_rows(text))
    if len(rows) > MAX_IMPORT_ROWS:
        raise ImportFileError(f"{path}: more than {MAX_IMPORT_ROWS} rows; split it")
    return rows, data


def job_id_for(*, department_uscc: str, license_type: str, data: bytes) -> str:
    """The import job's identity: the same file for the same department and type is the same job."""
    digest = hashlib.sha256()
    for part in (department_uscc.encode(), license_type.encode(), data):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def run_import(
    service: TrustService,
    *,
    path: Path,
    department_uscc: str,
    license_type: str,
    actor: str,
    file_format: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Issue every row of ``path`` that this job has not issued yet; report per-row errors.

    ``progress`` is called with the number of rows handled since the last call.
    """
    rows, data = read_rows(path, file_format=file_format)
    resolved_type = service.license_type(license_type).code
    job_id = job_id_for(department_uscc=department_uscc, license_type=resolved_type, data=data)
    service.registry.start_import(job_id=job_id, file_name=path.name, total_rows=len(rows))
    done = service.registry.done_rows(job_id)
    issued = 0
    for row in rows:
        if row.row_no not in done:
            error: RowError | None = None
            try:
                service.issue_license(department_uscc=department_uscc, license_type=resolved_type,
                                      fields=row.fields, actor=actor, import_row=(job_id, row.row_no))
                issued += 1
            except FieldValidationError as exc:
                error = RowError(row.row_no, exc.field, exc.reason)
            except (IssuanceError, ServiceError) as exc:
                error = RowError(row.row_no, None, exc.public_message)
            if error is not None:
                # Its own transaction: a failed row is written nowhere but here, and a re-run skips it.
                service.registry.record_import_row(job_id, error.row_no, error_field=error.field,
                                                   error=error.message)
        if progress:
            progress(1)
    service.registry.finish_import(job_id)
    errors = tuple(RowError(r.row_no, r.error_field, r.error or "")
                   for r in service.registry.import_rows(job_id, errors_only=True))
    return ImportReport(job_id=job_id, total=len(rows), issued=issued,
                        already_done=len(done & {r.row_no for r in rows}), errors=errors)
