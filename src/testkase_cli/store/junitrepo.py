"""Recording a JUnit import: cases, executions, defects and fingerprints in ONE transaction.

`ImportCatalog` is a Catalog whose methods all join the transaction `import_results`
opens, so the import shares the catalogue's id counters and cycle lookup and still lands
whole or not at all. Cases, executions and defects (linked like `exec --defect` links
them: execution, case, cycle and the case's requirements) are inserted in bulk, their ids
reserved in one counter update each: thousands of results take seconds, not minutes.
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
    CycleStatus,
    Defect,
    DefectStatus,
    Execution,
    Kind,
    NewDefect,
    parse_id,
)
from testkase_cli.errors import NotFoundError, StoreError
from testkase_cli.store import convert
from testkase_cli.store.catalog import Catalog, now_utc
from testkase_cli.store.tables import (
    CaseRequirementRow,
    CaseRow,
    CounterRow,
    CycleRow,
    DefectRequirementRow,
    DefectRow,
    ExecutionRow,
    JunitResultRow,
)

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
    unpushed: list[str] = field(default_factory=list)
    """Defects of results imported earlier that are not in the tracker yet."""


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
        cycle_row = self.cycle_row(session, self._cycle(cycle_ref).id)
        cycle_pk = cycle_row.pk or 0
        done = self._known(session, cycle_pk, {e.fingerprint for e in entries})
        fresh = [e for e in entries if e.fingerprint not in done]
        cases = self._cases_by_key(session, {e.case.key for e in entries})
        outcome = ImportOutcome(
            cycle=convert.cycle(cycle_row),
            matched=len(cases),
            already_imported=len(entries) - len(fresh),
        )
        if describe is not None and done:
            outcome.unpushed = self._unpushed(session, cycle_pk, done)
        results = combine([e.case for e in fresh])
        if not results:
            return outcome
        outcome.created = self._add_cases(session, results, cases)
        runs = self._add_executions(session, cycle_row, results, cases)
        outcome.executions = [
            convert.execution(r, cycle_row.number, cases[k][0].number) for k, r in runs
        ]
        stamp = now_utc()
        by_key = dict(runs)
        session.add_all(
            JunitResultRow(
                project=self.project,
                cycle_pk=cycle_pk,
                execution_pk=by_key[e.case.key].pk or 0,
                fingerprint=e.fingerprint,
                file_sha256=e.file_sha256,
                imported_at=stamp,
            )
            for e in {e.fingerprint: e for e in fresh}.values()
        )
        if describe is not None:
            outcome.defects = self._add_defects(
                session, describe, results, cases, by_key, cycle_row
            )
        outcome.cycle = convert.cycle(cycle_row)
        session.flush()
        return outcome

    def _add_cases(
        self, session: Session, results: list[Imported], cases: dict[str, tuple[CaseRow, Case]]
    ) -> int:
        missing = [r for r in results if r.key not in cases]
        if not missing:
            return 0
        first = self._reserve(session, Kind.CASE, len(missing))
        stamp = now_utc()
        rows = [
            CaseRow(
                project=self.project,
                number=first + index,
                title=result.name,
                description=f"Imported from JUnit: `{result.key}`",
                status=CaseStatus.READY.value,
                folder=folder_of(result.classname),
                junit_key=result.key,
                created_at=stamp,
                updated_at=stamp,
            )
            for index, result in enumerate(missing)
        ]
        session.add_all(rows)
        session.flush()
        for row in rows:
            cases[row.junit_key or ""] = (row, convert.case(row, ()))
        return len(rows)

    def _add_executions(
        self,
        session: Session,
        cycle: CycleRow,
        results: list[Imported],
        cases: dict[str, tuple[CaseRow, Case]],
    ) -> list[tuple[str, ExecutionRow]]:
        first = self._reserve(session, Kind.EXECUTION, len(results))
        stamp = now_utc()
        runs = [
            (
                result.key,
                ExecutionRow(
                    project=self.project,
                    number=first + index,
                    cycle_pk=cycle.pk or 0,
                    case_pk=cases[result.key][0].pk or 0,
                    result=result.result.value,
                    notes=result.notes,
                    executed_at=convert.stored(result.executed_at or stamp),
                ),
            )
            for index, result in enumerate(results)
        ]
        session.add_all(row for _, row in runs)
        if cycle.status == CycleStatus.PLANNED.value:
            cycle.status = CycleStatus.IN_PROGRESS.value
            cycle.updated_at = stamp
            session.add(cycle)
        session.flush()
        return runs

    def _add_defects(
        self,
        session: Session,
        describe: Describe,
        results: list[Imported],
        cases: dict[str, tuple[CaseRow, Case]],
        runs: dict[str, ExecutionRow],
        cycle: CycleRow,
    ) -> list[Defect]:
        failed = [r for r in results if r.problems]
        links: dict[int, list[int]] = {}
        case_pks = [cases[r.key][0].pk or 0 for r in failed]
        for start in range(0, len(case_pks), CHUNK):
            for case_pk, req_pk in session.exec(
                select(CaseRequirementRow.case_pk, CaseRequirementRow.requirement_pk).where(
                    col(CaseRequirementRow.case_pk).in_(case_pks[start : start + CHUNK])
                )
            ):
                links.setdefault(case_pk, []).append(req_pk)
        if not failed:
            return []
        # In bulk, like Catalog._insert_defect does one at a time (Catalog._defects maps
        # the whole project per call: one call for all defects, not one per defect).
        first = self._reserve(session, Kind.DEFECT, len(failed))
        stamp = now_utc()
        rows = []
        for index, result in enumerate(failed):
            case_row, case = cases[result.key]
            new = describe(result, case, convert.cycle(cycle))
            rows.append(
                DefectRow(
                    project=self.project,
                    number=first + index,
                    title=new.title,
                    description=new.description,
                    priority=new.priority.value,
                    status=DefectStatus.OPEN.value,
                    case_pk=case_row.pk,
                    execution_pk=runs[result.key].pk,
                    cycle_pk=cycle.pk,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
        session.add_all(rows)
        session.flush()
        session.add_all(
            DefectRequirementRow(defect_pk=row.pk or 0, requirement_pk=req_pk)
            for row in rows
            for req_pk in sorted(set(links.get(row.case_pk or 0, [])))
        )
        session.flush()
        return self._defects(session, rows)

    def _reserve(self, session: Session, kind: Kind, count: int) -> int:
        """Take `count` consecutive ids of `kind` under the counter's row lock; the first."""
        first = self._next(session, kind)
        if count > 1:
            counter = session.get(CounterRow, (self.project, kind.value))
            assert counter is not None
            counter.last += count - 1
            session.add(counter)
        return first

    def _cycle(self, ref: str) -> Cycle:
        """The cycle named (or numbered) `ref`; a new cycle when no cycle has that name."""
        try:
            return self.get_cycle(ref)[0]
        except NotFoundError:
            if parse_id(Kind.CYCLE, ref) is not None:
                raise
        return self.add_cycle(ref)

    def _unpushed(self, session: Session, cycle_pk: int, prints: set[str]) -> list[str]:
        """Ids of defects opened by earlier imports of these results, never pushed."""
        ordered = sorted(prints)
        numbers: set[int] = set()
        for start in range(0, len(ordered), CHUNK):
            runs = select(JunitResultRow.execution_pk).where(
                JunitResultRow.project == self.project,
                JunitResultRow.cycle_pk == cycle_pk,
                col(JunitResultRow.fingerprint).in_(ordered[start : start + CHUNK]),
            )
            numbers.update(
                session.exec(
                    select(DefectRow.number).where(
                        DefectRow.project == self.project,
                        col(DefectRow.execution_pk).in_(runs),
                        col(DefectRow.ext_id).is_(None),
                    )
                )
            )
        return [f"{Kind.DEFECT.value}-{n}" for n in sorted(numbers)]

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

    def _cases_by_key(self, session: Session, keys: set[str]) -> dict[str, tuple[CaseRow, Case]]:
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
        found: dict[str, tuple[CaseRow, Case]] = {}
        for case, row in zip(self._cases(session, rows), rows, strict=True):
            found.setdefault(row.junit_key or "", (row, case))
        return found
