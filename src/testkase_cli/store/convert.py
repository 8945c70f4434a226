"""Rows -> domain objects. Timestamps come back as UTC-aware datetimes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from testkase_cli.domain.models import (
    Attachment,
    Case,
    CaseStatus,
    Comment,
    Cycle,
    CycleStatus,
    Defect,
    DefectPriority,
    DefectStatus,
    DefectSync,
    Execution,
    ExternalRef,
    ExternalState,
    Priority,
    Requirement,
    RequirementStatus,
    Result,
    Source,
)
from testkase_cli.store.tables import (
    AttachmentRow,
    CaseRow,
    CommentRow,
    CycleRow,
    DefectRow,
    ExecutionRow,
    RequirementRow,
)


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def maybe_utc(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def stored(value: datetime) -> datetime:
    """For storage: aware UTC (a naive value is taken as UTC)."""
    return utc(value)


def external(row: RequirementRow | DefectRow) -> ExternalRef | None:
    if not row.ext_id or not row.ext_platform:
        return None
    return ExternalRef(
        platform=row.ext_platform,
        key=row.ext_key or "",
        id=row.ext_id,
        url=row.ext_url or "",
        state=ExternalState(row.ext_state or "linked"),
    )


def requirement(
    row: RequirementRow,
    cases: tuple[int, ...],
    defects: tuple[int, ...],
    attachments: tuple[Attachment, ...] = (),
) -> Requirement:
    ext = external(row)
    return Requirement(
        number=row.number,
        title=row.title,
        description=row.description,
        priority=Priority(row.priority_override or row.priority),
        status=RequirementStatus(row.status),
        folder=row.folder,
        source=Source(row.source),
        external=ext,
        test_cases=cases,
        defects=defects,
        attachments=attachments,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        synced_at=maybe_utc(row.synced_at),
        read_only=ext is not None and ext.state is ExternalState.LINKED,
    )


def attachment(row: AttachmentRow) -> Attachment:
    return Attachment(
        name=row.name, size=row.size, sha256=row.sha256, created_at=utc(row.created_at)
    )


def case(row: CaseRow, requirements: tuple[int, ...]) -> Case:
    return Case(
        number=row.number,
        title=row.title,
        description=row.description,
        steps=tuple(json.loads(row.steps)),
        expected=row.expected,
        priority=Priority(row.priority),
        status=CaseStatus(row.status),
        folder=row.folder,
        requirements=requirements,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def cycle(row: CycleRow, executions: tuple[int, ...] = ()) -> Cycle:
    return Cycle(
        number=row.number,
        name=row.name,
        description=row.description,
        status=CycleStatus(row.status),
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        executions=executions,
    )


def execution(row: ExecutionRow, cycle_number: int, case_number: int) -> Execution:
    return Execution(
        number=row.number,
        cycle=cycle_number,
        case=case_number,
        result=Result(row.result),
        notes=row.notes,
        executed_at=utc(row.executed_at),
    )


def comment(row: CommentRow) -> Comment:
    assert row.pk is not None
    return Comment(
        id=row.pk,
        body=row.body,
        author=row.author,
        origin=row.origin,
        created_at=utc(row.created_at),
        remote_id=row.remote_id,
    )


def defect(
    row: DefectRow,
    *,
    case_number: int | None,
    execution_number: int | None,
    cycle_number: int | None,
    requirements: tuple[int, ...],
    comments: tuple[Comment, ...],
) -> Defect:
    return Defect(
        number=row.number,
        title=row.title,
        description=row.description,
        priority=DefectPriority(row.priority),
        status=DefectStatus(row.status),
        case=case_number,
        execution=execution_number,
        cycle=cycle_number,
        requirements=requirements,
        external=external(row),
        sync=DefectSync(
            state=row.sync_state, last_synced_at=maybe_utc(row.synced_at), error=row.sync_error
        ),
        comments=comments,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )
