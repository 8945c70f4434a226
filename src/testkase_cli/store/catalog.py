"""The local catalogue: requirements, cases, links, cycles, executions, defects, comments.

Every method runs in one transaction. Writes that must reach the tracker take an
`Outgoing` list and record it in the outbox inside that same transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import delete, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from testkase_cli.domain.models import (
    Case,
    CaseStatus,
    Comment,
    Cycle,
    CycleStatus,
    Defect,
    DefectPriority,
    DefectStatus,
    Execution,
    Kind,
    NewDefect,
    Outgoing,
    Priority,
    Requirement,
    RequirementStatus,
    Result,
    Source,
    format_id,
    parse_id,
)
from testkase_cli.errors import KaseError, NotFoundError, StoreError
from testkase_cli.store import convert, counters
from testkase_cli.store.tables import (
    AttachmentRow,
    CaseRequirementRow,
    CaseRow,
    CommentRow,
    CycleRow,
    DefectRequirementRow,
    DefectRow,
    ExecutionRow,
    OutboxRow,
    RequirementRow,
)


def now_utc() -> datetime:
    return datetime.now(UTC)


_CHUNK = 500  # requirements per read: the links are then read for those ids only


class Catalog:
    def __init__(self, engine: Engine, project: str) -> None:
        self.engine = engine
        self.project = project

    # -- plumbing ---------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except KaseError:
                session.rollback()
                raise
            except OperationalError as exc:
                session.rollback()
                first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                raise StoreError(f"the store refused the change: {first}") from exc

    def _next(self, session: Session, kind: Kind) -> int:
        return counters.reserve(session, self.project, kind) + 1

    def enqueue(self, session: Session, items: Sequence[Outgoing]) -> None:
        stamp = now_utc()
        for item in items:
            session.add(
                OutboxRow(
                    project=self.project,
                    kind=item.kind,
                    target=item.target,
                    payload=json.dumps(item.payload),
                    marker=item.marker,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )

    # -- requirements -----------------------------------------------------------------

    def requirement_row(self, session: Session, ref: str) -> RequirementRow:
        number = parse_id(Kind.REQUIREMENT, ref)
        base = select(RequirementRow).where(RequirementRow.project == self.project)
        if number is not None:
            row = session.exec(base.where(RequirementRow.number == number)).first()
        else:
            wanted = ref.strip()
            key = func.lower(col(RequirementRow.ext_key))
            match = (
                key.endswith(wanted.lower()) if wanted.startswith("#") else key == wanted.lower()
            )
            row = session.exec(base.where(match)).first()
        if row is None:
            raise NotFoundError(
                f"requirement {ref} not found in project {self.project!r}",
                hint="list them with: testkase req list",
            )
        return row

    def add_requirement(
        self,
        title: str,
        *,
        description: str,
        priority: Priority,
        status: RequirementStatus,
        folder: str,
    ) -> Requirement:
        stamp = now_utc()
        with self.session() as session:
            row = RequirementRow(
                project=self.project,
                number=self._next(session, Kind.REQUIREMENT),
                title=title,
                description=description,
                priority=priority.value,
                status=status.value,
                folder=folder,
                created_at=stamp,
                updated_at=stamp,
            )
            session.add(row)
        return convert.requirement(row, (), ())

    def get_requirement(self, ref: str) -> Requirement:
        with self.session() as session:
            row = self.requirement_row(session, ref)
            return self._requirements(session, [row], with_attachments=True)[0]

    def list_requirements(
        self,
        *,
        status: RequirementStatus | None = None,
        folder: str | None = None,
        source: Source | None = None,
    ) -> list[Requirement]:
        return list(self.iter_requirements(status=status, folder=folder, source=source))

    def iter_requirements(
        self,
        *,
        status: RequirementStatus | None = None,
        folder: str | None = None,
        source: Source | None = None,
    ) -> Iterator[Requirement]:
        """The requirements in id order, read a chunk at a time in one read transaction.

        Memory stays flat in the number of requirements: a caller that writes each one out
        (`req list --json` over 100,000) holds one chunk at a time.
        """
        table = RequirementRow.__table__  # type: ignore[attr-defined]
        # Plain rows of every column, not ORM instances (a third of the time for 10,000
        # requirements): they read alike, attribute by attribute, for `convert`.
        stmt = sa_select(table).where(table.c.project == self.project)
        if status is not None:
            stmt = stmt.where(table.c.status == status.value)
        if folder is not None:
            clean = folder.strip("/")
            stmt = stmt.where(or_(table.c.folder == clean, table.c.folder.startswith(clean + "/")))
        if source is not None:
            stmt = stmt.where(table.c.source == source.value)
        after = 0
        with self.session() as session:
            while True:
                page = stmt.where(table.c.number > after).order_by(table.c.number)
                rows = session.execute(page.limit(_CHUNK)).all()
                yield from self._requirements(session, cast(list[RequirementRow], rows))
                if len(rows) < _CHUNK:
                    return
                after = rows[-1].number

    def _requirements(
        self, session: Session, rows: list[RequirementRow], *, with_attachments: bool = False
    ) -> list[Requirement]:
        if not rows:
            return []
        pks = [r.pk for r in rows]
        cases: dict[int, list[int]] = defaultdict(list)
        defects: dict[int, list[int]] = defaultdict(list)
        link_stmt = (
            select(CaseRequirementRow.requirement_pk, CaseRow.number)
            .join(CaseRow, col(CaseRow.pk) == col(CaseRequirementRow.case_pk))
            .where(CaseRow.project == self.project)
            .where(col(CaseRequirementRow.requirement_pk).in_(pks))
        )
        defect_stmt = (
            select(DefectRequirementRow.requirement_pk, DefectRow.number)
            .join(DefectRow, col(DefectRow.pk) == col(DefectRequirementRow.defect_pk))
            .where(DefectRow.project == self.project)
            .where(col(DefectRequirementRow.requirement_pk).in_(pks))
        )
        for req_pk, number in session.exec(link_stmt):
            cases[req_pk].append(number)
        for req_pk, number in session.exec(defect_stmt):
            defects[req_pk].append(number)
        attachments: dict[int, list[AttachmentRow]] = defaultdict(list)
        if with_attachments:
            for att in session.exec(
                select(AttachmentRow).where(col(AttachmentRow.requirement_pk).in_(pks))
            ):
                attachments[att.requirement_pk].append(att)
        # .get: a lookup in the defaultdicts would add an empty list per requirement.
        none: tuple[int, ...] = ()
        result = []
        for row in rows:
            pk = row.pk
            assert pk is not None
            linked, found = cases.get(pk), defects.get(pk)
            files = attachments.get(pk)
            result.append(
                convert.requirement(
                    row,
                    tuple(sorted(linked)) if linked else none,
                    tuple(sorted(found)) if found else none,
                    tuple(convert.attachment(a) for a in files) if files else (),
                )
            )
        return result

    def edit_requirement(self, ref: str, changes: dict[str, str]) -> Requirement:
        with self.session() as session:
            row = self.requirement_row(session, ref)
            for key, value in changes.items():
                if key == "priority" and row.source != Source.LOCAL.value:
                    row.priority_override = value
                else:
                    setattr(row, key, value)
            row.updated_at = now_utc()
            session.add(row)
            session.flush()
            return self._requirements(session, [row], with_attachments=True)[0]

    def attach(self, ref: str, name: str, content: bytes) -> Requirement:
        with self.session() as session:
            row = self.requirement_row(session, ref)
            assert row.pk is not None
            session.add(
                AttachmentRow(
                    requirement_pk=row.pk,
                    name=name,
                    size=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                    content=content,
                    created_at=now_utc(),
                )
            )
            row.updated_at = now_utc()
            session.add(row)
            session.flush()
            return self._requirements(session, [row], with_attachments=True)[0]

    def delete_requirement(self, ref: str) -> str:
        with self.session() as session:
            row = self.requirement_row(session, ref)
            session.delete(row)
            return format_id(Kind.REQUIREMENT, row.number)

    # -- cases ------------------------------------------------------------------------

    def case_row(self, session: Session, ref: str) -> CaseRow:
        number = parse_id(Kind.CASE, ref)
        row = None
        if number is not None:
            row = session.exec(
                select(CaseRow).where(CaseRow.project == self.project, CaseRow.number == number)
            ).first()
        if row is None:
            raise NotFoundError(
                f"test case {ref} not found in project {self.project!r}",
                hint="list them with: testkase case list",
            )
        return row

    def add_case(
        self,
        title: str,
        *,
        description: str = "",
        steps: Sequence[str] = (),
        expected: str = "",
        priority: Priority = Priority.P2,
        folder: str = "",
        status: CaseStatus = CaseStatus.DRAFT,
        junit_key: str | None = None,
    ) -> Case:
        stamp = now_utc()
        with self.session() as session:
            row = CaseRow(
                project=self.project,
                number=self._next(session, Kind.CASE),
                title=title,
                description=description,
                steps=json.dumps(list(steps)),
                expected=expected,
                priority=priority.value,
                status=status.value,
                folder=folder,
                junit_key=junit_key,
                created_at=stamp,
                updated_at=stamp,
            )
            session.add(row)
        return convert.case(row, ())

    def _cases(self, session: Session, rows: list[CaseRow]) -> list[Case]:
        if not rows:
            return []
        links: dict[int, list[int]] = defaultdict(list)
        stmt = (
            select(CaseRequirementRow.case_pk, RequirementRow.number)
            .join(RequirementRow, col(RequirementRow.pk) == col(CaseRequirementRow.requirement_pk))
            .where(RequirementRow.project == self.project)
        )
        if len(rows) < 500:
            stmt = stmt.where(col(CaseRequirementRow.case_pk).in_([r.pk for r in rows]))
        for case_pk, number in session.exec(stmt):
            links[case_pk].append(number)
        return [convert.case(r, tuple(sorted(links[r.pk or 0]))) for r in rows]

    def get_case(self, ref: str) -> Case:
        with self.session() as session:
            return self._cases(session, [self.case_row(session, ref)])[0]

    def list_cases(
        self,
        *,
        status: CaseStatus | None = None,
        folder: str | None = None,
        priority: Priority | None = None,
    ) -> list[Case]:
        with self.session() as session:
            stmt = select(CaseRow).where(CaseRow.project == self.project)
            if status is not None:
                stmt = stmt.where(CaseRow.status == status.value)
            if priority is not None:
                stmt = stmt.where(CaseRow.priority == priority.value)
            if folder is not None:
                clean = folder.strip("/")
                stmt = stmt.where(
                    or_(col(CaseRow.folder) == clean, col(CaseRow.folder).startswith(clean + "/"))
                )
            return self._cases(session, list(session.exec(stmt.order_by(col(CaseRow.number)))))

    def edit_case(self, ref: str, changes: dict[str, Any]) -> Case:
        with self.session() as session:
            row = self.case_row(session, ref)
            for key, value in changes.items():
                setattr(row, key, json.dumps(list(value)) if key == "steps" else value)
            row.updated_at = now_utc()
            session.add(row)
            session.flush()
            return self._cases(session, [row])[0]

    def delete_case(self, ref: str) -> str:
        with self.session() as session:
            row = self.case_row(session, ref)
            session.delete(row)
            return format_id(Kind.CASE, row.number)

    # -- links ------------------------------------------------------------------------

    def link(self, case_ref: str, req_ref: str, outgoing: Sequence[Outgoing]) -> bool:
        """Link a case to a requirement; False when the link already existed."""
        with self.session() as session:
            case = self.case_row(session, case_ref)
            req = self.requirement_row(session, req_ref)
            assert case.pk is not None and req.pk is not None
            existing = session.get(CaseRequirementRow, (case.pk, req.pk))
            if existing is not None:
                return False
            session.add(
                CaseRequirementRow(case_pk=case.pk, requirement_pk=req.pk, created_at=now_utc())
            )
            self.enqueue(session, outgoing)
            return True

    def unlink(self, case_ref: str, req_ref: str, outgoing: Sequence[Outgoing]) -> bool:
        with self.session() as session:
            case = self.case_row(session, case_ref)
            req = self.requirement_row(session, req_ref)
            existing = session.get(CaseRequirementRow, (case.pk, req.pk))
            if existing is None:
                return False
            session.delete(existing)
            self.enqueue(session, outgoing)
            return True

    # -- cycles and executions --------------------------------------------------------

    def cycle_row(self, session: Session, ref: str) -> CycleRow:
        number = parse_id(Kind.CYCLE, ref)
        stmt = select(CycleRow).where(CycleRow.project == self.project)
        row = None
        if number is not None:
            row = session.exec(stmt.where(CycleRow.number == number)).first()
        if row is None:
            row = session.exec(stmt.where(CycleRow.name == ref)).first()
        if row is None:
            raise NotFoundError(
                f"cycle {ref} not found in project {self.project!r}",
                hint="list them with: testkase cycle list",
            )
        return row

    def add_cycle(self, name: str, *, description: str = "") -> Cycle:
        stamp = now_utc()
        with self.session() as session:
            row = CycleRow(
                project=self.project,
                number=self._next(session, Kind.CYCLE),
                name=name,
                description=description,
                status=CycleStatus.PLANNED.value,
                created_at=stamp,
                updated_at=stamp,
            )
            session.add(row)
        return convert.cycle(row)

    def get_cycle(self, ref: str) -> tuple[Cycle, list[Execution]]:
        with self.session() as session:
            row = self.cycle_row(session, ref)
            executions = self._executions(
                session, select(ExecutionRow).where(ExecutionRow.cycle_pk == row.pk)
            )
            return convert.cycle(row, tuple(e.number for e in executions)), executions

    def list_cycles(self, *, status: CycleStatus | None = None) -> list[Cycle]:
        with self.session() as session:
            stmt = select(CycleRow).where(CycleRow.project == self.project)
            if status is not None:
                stmt = stmt.where(CycleRow.status == status.value)
            rows = list(session.exec(stmt.order_by(col(CycleRow.number))))
            counts: dict[int, list[int]] = defaultdict(list)
            for cycle_pk, number in session.exec(
                select(ExecutionRow.cycle_pk, ExecutionRow.number).where(
                    ExecutionRow.project == self.project
                )
            ):
                counts[cycle_pk].append(number)
            return [convert.cycle(r, tuple(sorted(counts[r.pk or 0]))) for r in rows]

    def edit_cycle(self, ref: str, changes: dict[str, str]) -> Cycle:
        with self.session() as session:
            row = self.cycle_row(session, ref)
            for key, value in changes.items():
                setattr(row, key, value)
            row.updated_at = now_utc()
            session.add(row)
            return convert.cycle(row)

    def delete_cycle(self, ref: str) -> str:
        with self.session() as session:
            row = self.cycle_row(session, ref)
            session.delete(row)
            return format_id(Kind.CYCLE, row.number)

    def _executions(self, session: Session, stmt: Any) -> list[Execution]:
        rows: list[ExecutionRow] = list(session.exec(stmt.order_by(col(ExecutionRow.number))))
        if not rows:
            return []
        cycles = dict(
            session.exec(
                select(CycleRow.pk, CycleRow.number).where(CycleRow.project == self.project)
            ).all()
        )
        cases = dict(
            session.exec(
                select(CaseRow.pk, CaseRow.number).where(CaseRow.project == self.project)
            ).all()
        )
        return [convert.execution(r, cycles[r.cycle_pk], cases[r.case_pk]) for r in rows]

    def list_executions(self) -> list[Execution]:
        with self.session() as session:
            return self._executions(
                session, select(ExecutionRow).where(ExecutionRow.project == self.project)
            )

    def add_execution(
        self,
        cycle_ref: str,
        case_ref: str,
        result: Result,
        notes: str,
        *,
        defect: NewDefect | None = None,
        executed_at: datetime | None = None,
    ) -> tuple[Execution, Defect | None]:
        """Record an execution, and in the same transaction the defect it found."""
        with self.session() as session:
            cycle = self.cycle_row(session, cycle_ref)
            case = self.case_row(session, case_ref)
            row = ExecutionRow(
                project=self.project,
                number=self._next(session, Kind.EXECUTION),
                cycle_pk=cycle.pk or 0,
                case_pk=case.pk or 0,
                result=result.value,
                notes=notes,
                executed_at=convert.stored(executed_at) if executed_at else now_utc(),
            )
            session.add(row)
            if cycle.status == CycleStatus.PLANNED.value:
                cycle.status = CycleStatus.IN_PROGRESS.value
                cycle.updated_at = now_utc()
                session.add(cycle)
            session.flush()
            execution = convert.execution(row, cycle.number, case.number)
            created = None
            if defect is not None:
                requirement_pks = list(
                    session.exec(
                        select(CaseRequirementRow.requirement_pk).where(
                            CaseRequirementRow.case_pk == case.pk
                        )
                    )
                )
                created = self._insert_defect(
                    session,
                    defect,
                    case_pk=case.pk,
                    execution_pk=row.pk,
                    cycle_pk=cycle.pk,
                    requirement_pks=requirement_pks,
                )
            return execution, created

    # -- defects ----------------------------------------------------------------------

    def defect_row(self, session: Session, ref: str) -> DefectRow:
        number = parse_id(Kind.DEFECT, ref)
        row = None
        if number is not None:
            row = session.exec(
                select(DefectRow).where(
                    DefectRow.project == self.project, DefectRow.number == number
                )
            ).first()
        if row is None:
            raise NotFoundError(
                f"defect {ref} not found in project {self.project!r}",
                hint="list them with: testkase defect list",
            )
        return row

    def _insert_defect(
        self,
        session: Session,
        new: NewDefect,
        *,
        case_pk: int | None = None,
        execution_pk: int | None = None,
        cycle_pk: int | None = None,
        requirement_pks: Sequence[int] = (),
    ) -> Defect:
        stamp = now_utc()
        row = DefectRow(
            project=self.project,
            number=self._next(session, Kind.DEFECT),
            title=new.title,
            description=new.description,
            priority=new.priority.value,
            status=DefectStatus.OPEN.value,
            case_pk=case_pk,
            execution_pk=execution_pk,
            cycle_pk=cycle_pk,
            created_at=stamp,
            updated_at=stamp,
        )
        session.add(row)
        session.flush()
        for req_pk in requirement_pks:
            session.add(DefectRequirementRow(defect_pk=row.pk or 0, requirement_pk=req_pk))
        session.flush()
        return self._defects(session, [row])[0]

    def add_defect(self, new: NewDefect) -> Defect:
        with self.session() as session:
            return self._insert_defect(session, new)

    def _defects(self, session: Session, rows: list[DefectRow]) -> list[Defect]:
        if not rows:
            return []
        pks = [r.pk for r in rows]
        cases = dict(
            session.exec(
                select(CaseRow.pk, CaseRow.number).where(CaseRow.project == self.project)
            ).all()
        )
        cycles = dict(
            session.exec(
                select(CycleRow.pk, CycleRow.number).where(CycleRow.project == self.project)
            ).all()
        )
        executions = dict(
            session.exec(
                select(ExecutionRow.pk, ExecutionRow.number).where(
                    ExecutionRow.project == self.project
                )
            ).all()
        )
        reqs: dict[int, list[int]] = defaultdict(list)
        for defect_pk, number in session.exec(
            select(DefectRequirementRow.defect_pk, RequirementRow.number)
            .join(
                RequirementRow, col(RequirementRow.pk) == col(DefectRequirementRow.requirement_pk)
            )
            .where(col(DefectRequirementRow.defect_pk).in_(pks))
        ):
            reqs[defect_pk].append(number)
        comments: dict[int, list[Comment]] = defaultdict(list)
        for comment in session.exec(
            select(CommentRow)
            .where(col(CommentRow.defect_pk).in_(pks))
            .order_by(col(CommentRow.pk))
        ):
            comments[comment.defect_pk].append(convert.comment(comment))
        return [
            convert.defect(
                r,
                case_number=cases.get(r.case_pk) if r.case_pk else None,
                execution_number=executions.get(r.execution_pk) if r.execution_pk else None,
                cycle_number=cycles.get(r.cycle_pk) if r.cycle_pk else None,
                requirements=tuple(sorted(reqs[r.pk or 0])),
                comments=tuple(comments[r.pk or 0]),
            )
            for r in rows
        ]

    def get_defect(self, ref: str) -> Defect:
        with self.session() as session:
            return self._defects(session, [self.defect_row(session, ref)])[0]

    def list_defects(
        self,
        *,
        status: DefectStatus | None = None,
        priority: DefectPriority | None = None,
    ) -> list[Defect]:
        with self.session() as session:
            stmt = select(DefectRow).where(DefectRow.project == self.project)
            if status is not None:
                stmt = stmt.where(DefectRow.status == status.value)
            if priority is not None:
                stmt = stmt.where(DefectRow.priority == priority.value)
            return self._defects(session, list(session.exec(stmt.order_by(col(DefectRow.number)))))

    def edit_defect(
        self, ref: str, changes: dict[str, str], outgoing: Sequence[Outgoing] = ()
    ) -> Defect:
        with self.session() as session:
            row = self.defect_row(session, ref)
            for key, value in changes.items():
                setattr(row, key, value)
            row.updated_at = now_utc()
            row.local_changed_at = row.updated_at
            session.add(row)
            self.enqueue(session, outgoing)
            session.flush()
            return self._defects(session, [row])[0]

    def add_comment(self, ref: str, body: str, author: str, outgoing_marker: str | None) -> Defect:
        """A local comment; with `outgoing_marker` it is queued for the tracker."""
        with self.session() as session:
            row = self.defect_row(session, ref)
            assert row.pk is not None
            comment = CommentRow(
                defect_pk=row.pk,
                body=body,
                author=author,
                origin="local",
                marker=outgoing_marker,
                created_at=now_utc(),
            )
            session.add(comment)
            session.flush()
            if outgoing_marker is not None:
                self.enqueue(
                    session,
                    [
                        Outgoing(
                            kind="comment",
                            target=format_id(Kind.DEFECT, row.number),
                            payload={"comment_pk": comment.pk},
                            marker=outgoing_marker,
                        )
                    ],
                )
            return self._defects(session, [row])[0]

    def delete_defect(self, ref: str) -> str:
        with self.session() as session:
            row = self.defect_row(session, ref)
            session.execute(
                delete(OutboxRow).where(
                    col(OutboxRow.project) == self.project,
                    col(OutboxRow.target) == format_id(Kind.DEFECT, row.number),
                    col(OutboxRow.state) == "pending",
                )
            )
            session.delete(row)
            return format_id(Kind.DEFECT, row.number)

    def count_executions_for_case(self, ref: str) -> int:
        with self.session() as session:
            pk = self.case_row(session, ref).pk
            return len(
                list(session.exec(select(ExecutionRow.pk).where(ExecutionRow.case_pk == pk)))
            )

    def count_executions_for_cycle(self, ref: str) -> int:
        with self.session() as session:
            pk = self.cycle_row(session, ref).pk
            return len(
                list(session.exec(select(ExecutionRow.pk).where(ExecutionRow.cycle_pk == pk)))
            )
