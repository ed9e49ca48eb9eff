"""Bulk import bookkeeping: a licence and its import row commit together, so an import stopped midway
and run again skips exactly the rows already done."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from registry import DuplicateError, InvalidValueError, NotFoundError, RegistryError

DEPT_USCC = "113300000024821886"
FILE = b"row,holder\n1,a\n2,b\n3,c\n"
JOB = hashlib.sha256(DEPT_USCC.encode() + b"\0" + FILE).hexdigest()


class Killed(Exception):
    """Stands in for the process dying between two rows."""


def import_rows(registry: Any, make_license: Any, *, stop_after: int | None = None, bad_rows: tuple[int, ...] = ()):
    job = registry.start_import(JOB, file_name="licences.csv", total_rows=5)
    done = registry.done_rows(JOB)
    for row_no in range(1, 6):
        if row_no in done:
            continue
        if stop_after is not None and row_no > stop_after:
            raise Killed
        with registry.transaction() as tx:
            if row_no in bad_rows:
                tx.record_import_row(JOB, row_no, error_field="holder_code", error="check character is wrong")
                continue
            record = make_license(target=tx)
            tx.record_import_row(JOB, row_no, identifier=record.identifier)
    return job


def test_an_interrupted_import_resumes_without_duplicates_or_gaps(registry, make_license):
    with pytest.raises(Killed):
        import_rows(registry, make_license, stop_after=2, bad_rows=(2,))
    assert registry.done_rows(JOB) == {1, 2}
    assert len(registry.list_licenses()) == 1
    job = import_rows(registry, make_license, bad_rows=(2,))
    assert (job.job_id, job.total_rows, job.file_name) == (JOB, 5, "licences.csv")
    assert registry.done_rows(JOB) == {1, 2, 3, 4, 5}
    rows = registry.import_rows(JOB)
    assert [r.row_no for r in rows] == [1, 2, 3, 4, 5]
    identifiers = [r.identifier for r in rows if r.identifier]
    assert len(identifiers) == 4
    assert sorted(identifiers) == sorted(r.identifier for r in registry.list_licenses())
    (error,) = registry.import_rows(JOB, errors_only=True)
    assert (error.row_no, error.identifier, error.error_field, error.error) == (
        2, None, "holder_code", "check character is wrong")
    finished = registry.finish_import(JOB)
    assert finished.finished_at is not None
    assert finished.rows_recorded == 5
    assert registry.finish_import(JOB).finished_at == finished.finished_at


def test_a_licence_and_its_import_row_commit_together(registry, make_license):
    registry.start_import(JOB, file_name="licences.csv", total_rows=5)
    first = None
    with pytest.raises(RegistryError), registry.transaction() as tx:
        first = make_license(target=tx)
        tx.record_import_row(JOB, 1, identifier=first.identifier)
        # The same row again (a second worker on the same file): refused, and everything rolls back.
        with pytest.raises(DuplicateError, match="row 1"):
            tx.record_import_row(JOB, 1, identifier=first.identifier)
    assert first is not None
    assert registry.done_rows(JOB) == set()
    assert registry.list_licenses() == []
    # And a licence that fails leaves no row recorded as done.
    with pytest.raises(NotFoundError), registry.transaction() as tx:
        make_license(target=tx, seal_id="00000000-0000-0000-0000-00000000dead")
        tx.record_import_row(JOB, 1, identifier=first.identifier)
    assert registry.done_rows(JOB) == set()


def test_starting_the_same_import_again_is_the_same_job(registry):
    first = registry.start_import(JOB, file_name="licences.csv", total_rows=5)
    assert registry.start_import(JOB, file_name="renamed.csv", total_rows=5) == first
    assert registry.get_import(JOB) == first
    with pytest.raises(InvalidValueError, match="total_rows"):
        registry.start_import(JOB, file_name="licences.csv", total_rows=6)


@pytest.mark.parametrize(
    ("job", "row_no", "outcome"),
    [
        ("not-a-digest", 1, {"identifier": "x"}),
        (JOB, 0, {"identifier": "x"}),
        (JOB, 1, {}),
        (JOB, 1, {"identifier": "x", "error": "y"}),
        (JOB, 1, {"identifier": "x", "error_field": "f"}),
    ],
    ids=["bad-job-id", "row-zero", "no-outcome", "both-outcomes", "field-without-error"],
)
def test_bad_bookkeeping_is_refused(registry, job, row_no, outcome):
    registry.start_import(JOB, file_name="licences.csv", total_rows=5)
    with pytest.raises(InvalidValueError):
        if job != JOB:
            registry.start_import(job, file_name="x.csv", total_rows=1)
        registry.record_import_row(job, row_no, **outcome)
    assert registry.done_rows(JOB) == set()


def test_rows_of_an_unknown_job_or_licence_are_refused(registry):
    with pytest.raises(NotFoundError):
        registry.record_import_row(JOB, 1, error="e")
    registry.start_import(JOB, file_name="licences.csv", total_rows=5)
    with pytest.raises(RegistryError):
        registry.record_import_row(JOB, 1, identifier="1.2.156.3005.2.not-stored")
    assert registry.done_rows(JOB) == set()
