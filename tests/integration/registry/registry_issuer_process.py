"""A worker process for the concurrency test: issues licences into a registry, as an API worker would.

Kept in a plain module (not a test file) so that ``multiprocessing`` spawn children can import it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from issuance.identifier import LicenseIdentifier, new_serial
from registry import DuplicateError, FieldCipher, Registry, create_engine_for


def issue_many(url: str, key_hex: str, worker: int, count: int, start: Any) -> list[str]:
    """Issue ``count`` licences (each with its event, one transaction each); return their identifiers."""
    engine = create_engine_for(url)
    registry = Registry(engine, clock=lambda: datetime.now(UTC), cipher=FieldCipher(bytes.fromhex(key_hex)))
    seal_id = "00000000-0000-0000-0000-000000000001"
    type_code, issuer = "11100000000013127D001", "113300000024821886"
    issued: list[str] = []
    start.wait()
    try:
        for n in range(count):
            while True:  # a serial that is already taken is drawn again (contract §5)
                serial = new_serial()
                identifier = str(LicenseIdentifier.compose(type_code=type_code, issuer_code=issuer, serial=serial))
                try:
                    with registry.transaction() as tx:
                        tx.add_license(
                            identifier=identifier, type_code=type_code, department_uscc=issuer, seal_id=seal_id,
                            serial=serial, version=1, holder_name=f"公司{worker}-{n}",
                            holder_code=f"9133010{worker}MA{n:09d}", fields={"worker": str(worker), "n": str(n)},
                            status="active", issued_at=datetime.now(UTC), valid_from=date(2025, 1, 1),
                            valid_until=None, qr_text=f"YX1:{worker}:{n}", pdf=b"%PDF-" + identifier.encode(),
                        )
                        tx.record_event(kind="license.issued", actor=f"worker-{worker}", subject=identifier,
                                        detail={"type": type_code})
                except DuplicateError:
                    continue
                issued.append(identifier)
                break
    finally:
        engine.dispose()
    return issued
