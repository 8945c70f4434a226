"""Recording a JUnit import: cases, executions, defects and fingerprints in ONE transaction.

`ImportCatalog` is a Catalog whose methods all join the transaction opened by
`import_results`, so the import reuses the catalogue's own writes (ids, the cycle's
status, a defect linked to the case's requirements) and still lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from testkase_cli.domain.junit import Imported, JunitCase, combine, fingerprint, folder_of
from testkase_cli.domain.models import (
    Case,
    CaseStatus,
    Cycle,
    Defect,
    Execution,
    Kind,
    NewDefect,
    parse_id,
)
from testkase_cli.errors import NotFoundError, StoreError
from testkase_cli.store.catalog import Catalog, now_utc
from testkase_cli.store.tables import CaseRow, ExecutionRow, JunitResultRow

Describe = Callable[[Imported, Case, Cycle], NewDefect]
"""Builds the defect a failed result opens (None: `--defects` was not given)."""

CHUNK = 500


@dataclass(frozen=True)
class Entry:
    """One `<testcase>` of one report file (identified by the file's sha256)."""

    file_sha256: str
    case: JunitCase

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.file_sha256, self.case.key)


@dataclass
class ImportOutcome:
    cycle: Cycle
    matched: int = 0
    created: int = 0
    already_imported: int = 0
    executions: list[Execution] = field(default_factory=list)
    defects: list[Defect] = field(default_factory=list)


class ImportCatalog(Catalog):
    _open: Session | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        if self._open is not None:
            yield self._open
            return
        with super().session() as session:
            yield session

    def import_results(
        self, cycle_ref: str, entries: Sequence[Entry], describe: Describe | None
    ) -> ImportOutcome:
        try:
            with super().session() as session:
                self._open = session
                try:
                    return self._import(session, cycle_ref, entries, describe)
                finally:
                    self._open = None
        except IntegrityError as exc:
            raise StoreError(
                "another import of the same results ran at the same time; nothing was imported",
                hint="run the import again: results already imported are skipped",
            ) from exc

    def _import(
        self,
        session: Session,
        cycle_ref: str,
        entries: Sequence[Entry],
        describe: Describe | None,
    ) -> ImportOutcome:
        cycle = self._cycle(cycle_ref)
        cycle_pk = self.cycle_row(session, cycle.id).pk or 0
        done = self._known(session, cycle_pk, {e.fingerprint for e in entries})
        fresh = [e for e in entries if e.fingerprint not in done]
        outcome = ImportOutcome(cycle=cycle, already_imported=len(entries) - len(fresh))
        existing = self._cases_by_key(session, {e.case.key for e in entries})
        outcome.matched = len(existing)
        shas = {e.fingerprint: e.file_sha256 for e in fresh}
        prints: dict[str, list[str]] = {}
        for entry in fresh:
            prints.setdefault(entry.case.key, []).append(entry.fingerprint)
        stamp = now_utc()
        for result in combine([e.case for e in fresh]):
            case = existing.get(result.key)
            if case is None:
                case = self.add_case(
                    result.name,
                    description=f"Imported from JUnit: `{result.key}`",
                    folder=folder_of(result.classname),
                    status=CaseStatus.READY,
                    junit_key=result.key,
                )
                existing[result.key] = case
                outcome.created += 1
            new_defect = None
            if describe is not None and result.problems:
                new_defect = describe(result, case, cycle)
            execution, defect = self.add_execution(
                cycle.id,
                case.id,
                result.result,
                result.notes,
                defect=new_defect,
                executed_at=result.executed_at,
            )
            outcome.executions.append(execution)
            if defect is not None:
                outcome.defects.append(defect)
            execution_pk = self._execution_pk(session, execution.number)
            for print_ in dict.fromkeys(prints[result.key]):
                session.add(
                    JunitResultRow(
                        project=self.project,
                        cycle_pk=cycle_pk,
                        execution_pk=execution_pk,
                        fingerprint=print_,
                        file_sha256=shas[print_],
                        imported_at=stamp,
                    )
                )
        session.flush()
        return outcome

    def _cycle(self, ref: str) -> Cycle:
        """The cycle named (or numbered) `ref`; a new cycle when no cycle has that name."""
        try:
            return self.get_cycle(ref)[0]
        except NotFoundError:
            if parse_id(Kind.CYCLE, ref) is not None:
                raise
        return self.add_cycle(ref)

    def _known(self, session: Session, cycle_pk: int, prints: set[str]) -> set[str]:
        found: set[str] = set()
        ordered = sorted(prints)
        for start in range(0, len(ordered), CHUNK):
            found.update(
                session.exec(
                    select(JunitResultRow.fingerprint).where(
                        JunitResultRow.project == self.project,
                        JunitResultRow.cycle_pk == cycle_pk,
                        col(JunitResultRow.fingerprint).in_(ordered[start : start + CHUNK]),
                    )
                )
            )
        return found

    def _cases_by_key(self, session: Session, keys: set[str]) -> dict[str, Case]:
        rows: list[CaseRow] = []
        ordered = sorted(keys)
        for start in range(0, len(ordered), CHUNK):
            rows.extend(
                session.exec(
                    select(CaseRow)
                    .where(
                        CaseRow.project == self.project,
                        col(CaseRow.junit_key).in_(ordered[start : start + CHUNK]),
                    )
                    .order_by(col(CaseRow.number))
                )
            )
        found: dict[str, Case] = {}
        for case, row in zip(self._cases(session, rows), rows, strict=True):
            found.setdefault(row.junit_key or "", case)
        return found

    def _execution_pk(self, session: Session, number: int) -> int:
        pk = session.exec(
            select(ExecutionRow.pk).where(
                ExecutionRow.project == self.project, ExecutionRow.number == number
            )
        ).one()
        assert pk is not None
        return pk
