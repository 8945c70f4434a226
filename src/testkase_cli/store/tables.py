"""SQLModel tables. Every row is keyed by the project name, so projects share a database.

Timestamps are aware UTC datetimes (SQLModel's UTCDateTime column type).
"""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class MetaRow(SQLModel, table=True):
    __tablename__ = "tk_meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str


class CounterRow(SQLModel, table=True):
    __tablename__ = "tk_counter"
    project: str = Field(primary_key=True, max_length=200)
    kind: str = Field(primary_key=True, max_length=8)
    last: int = 0


class TrackedColumns(SQLModel):
    """Columns of a row that mirrors a tracker issue (requirements and defects)."""

    ext_platform: str | None = None
    ext_id: str | None = None
    ext_key: str | None = None
    ext_ref: str | None = None
    ext_url: str | None = None
    ext_state: str | None = None
    remote_updated: datetime | None = None
    created_at: datetime
    updated_at: datetime
    synced_at: datetime | None = None


class RequirementRow(TrackedColumns, table=True):
    __tablename__ = "tk_requirement"
    __table_args__ = (
        UniqueConstraint("project", "number"),
        UniqueConstraint("project", "ext_id"),
    )
    pk: int | None = Field(default=None, primary_key=True)
    project: str = Field(index=True, max_length=200)
    number: int
    title: str
    description: str = ""
    priority: str = "P2"
    priority_override: str | None = None
    status: str = "Draft"
    folder: str = ""
    source: str = "local"


class AttachmentRow(SQLModel, table=True):
    __tablename__ = "tk_attachment"
    pk: int | None = Field(default=None, primary_key=True)
    requirement_pk: int = Field(
        sa_column=Column(Integer, ForeignKey("tk_requirement.pk", ondelete="CASCADE"), index=True)
    )
    name: str
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime


class CaseRow(SQLModel, table=True):
    __tablename__ = "tk_case"
    __table_args__ = (UniqueConstraint("project", "number"),)
    pk: int | None = Field(default=None, primary_key=True)
    project: str = Field(index=True, max_length=200)
    number: int
    title: str
    description: str = ""
    steps: str = "[]"
    expected: str = ""
    priority: str = "P2"
    status: str = "Draft"
    folder: str = ""
    junit_key: str | None = Field(default=None, index=True)
    created_at: datetime
    updated_at: datetime


class CaseRequirementRow(SQLModel, table=True):
    __tablename__ = "tk_case_requirement"
    case_pk: int = Field(
        sa_column=Column(Integer, ForeignKey("tk_case.pk", ondelete="CASCADE"), primary_key=True)
    )
    requirement_pk: int = Field(
        sa_column=Column(
            Integer, ForeignKey("tk_requirement.pk", ondelete="CASCADE"), primary_key=True
        )
    )
    created_at: datetime


class CycleRow(SQLModel, table=True):
    __tablename__ = "tk_cycle"
    __table_args__ = (UniqueConstraint("project", "number"),)
    pk: int | None = Field(default=None, primary_key=True)
    project: str = Field(index=True, max_length=200)
    number: int
    name: str
    description: str = ""
    status: str = "Planned"
    created_at: datetime
    updated_at: datetime


class ExecutionRow(SQLModel, table=True):
    __tablename__ = "tk_execution"
    __table_args__ = (UniqueConstraint("project", "number"),)
    pk: int | None = Field(default=None, primary_key=True)
    project: str = Field(index=True, max_length=200)
    number: int
    cycle_pk: int = Field(
        sa_column=Column(Integer, ForeignKey("tk_cycle.pk", ondelete="CASCADE"), index=True)
    )
    case_pk: int = Field(
        sa_column=Column(Integer, ForeignKey("tk_case.pk", ondelete="CASCADE"), index=True)
    )
    result: str
    notes: str = ""
    executed_at: datetime


class DefectRow(TrackedColumns, table=True):
    __tablename__ = "tk_defect"
    __table_args__ = (
        UniqueConstraint("project", "number"),
        UniqueConstraint("project", "ext_id"),
    )
    pk: int | None = Field(default=None, primary_key=True)
    project: str = Field(index=True, max_length=200)
    number: int
    title: str
    description: str = ""
    priority: str = "Major"
    status: str = "Open"
    case_pk: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("tk_case.pk", ondelete="SET NULL"), nullable=True),
    )
    execution_pk: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("tk_execution.pk", ondelete="SET NULL"), nullable=True
        ),
    )
    cycle_pk: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("tk_cycle.pk", ondelete="SET NULL"), nullable=True),
    )
    marker: str | None = Field(default=None, unique=True, max_length=64)
    sync_state: str = "local"
    sync_error: str | None = None
    base_title: str | None = None
    base_priority: str | None = None
    base_status: str | None = None
    remote_comment_count: int | None = None
    local_changed_at: datetime | None = None


class DefectRequirementRow(SQLModel, table=True):
    __tablename__ = "tk_defect_requirement"
    defect_pk: int = Field(
        sa_column=Column(Integer, ForeignKey("tk_defect.pk", ondelete="CASCADE"), primary_key=True)
    )
    requirement_pk: int = Field(
        sa_column=Column(
            Integer, ForeignKey("tk_requirement.pk", ondelete="CASCADE"), primary_key=True
        )
    )


class CommentRow(SQLModel, table=True):
    __tablename__ = "tk_comment"
    __table_args__ = (UniqueConstraint("defect_pk", "remote_id"),)
    pk: int | None = Field(default=None, primary_key=True)
    defect_pk: int = Field(
        sa_column=Column(Integer, ForeignKey("tk_defect.pk", ondelete="CASCADE"), index=True)
    )
    body: str
    author: str = ""
    origin: str = "local"
    remote_id: str | None = None
    marker: str | None = Field(default=None, max_length=64)
    created_at: datetime


class OutboxRow(SQLModel, table=True):
    """A tracker write, recorded in the same transaction as the local change."""

    __tablename__ = "tk_outbox"
    pk: int | None = Field(default=None, primary_key=True)
    project: str = Field(index=True, max_length=200)
    kind: str = Field(max_length=32)
    target: str = ""
    payload: str = "{}"
    marker: str = Field(unique=True, max_length=64)
    state: str = Field(default="pending", index=True, max_length=16)
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime


class SyncStateRow(SQLModel, table=True):
    __tablename__ = "tk_sync_state"
    project: str = Field(primary_key=True, max_length=200)
    connection_key: str = ""
    requirements_cursor: datetime | None = None
    defects_cursor: datetime | None = None
    last_sync_at: datetime | None = None
    last_full_at: datetime | None = None
    last_reconcile_at: datetime | None = None
    last_summary: str | None = None


class SyncLockRow(SQLModel, table=True):
    __tablename__ = "tk_sync_lock"
    project: str = Field(primary_key=True, max_length=200)
    owner: str
    host: str
    pid: int
    heartbeat_at: datetime


class JunitResultRow(SQLModel, table=True):
    """One imported JUnit test case: the file (by content) and cycle it went into, and
    the execution it produced. Re-importing the same file into the same cycle finds
    these fingerprints and records nothing twice."""

    __tablename__ = "tk_junit_result"
    __table_args__ = (UniqueConstraint("project", "cycle_pk", "fingerprint"),)
    pk: int | None = Field(default=None, primary_key=True)
    project: str = Field(index=True, max_length=200)
    cycle_pk: int = Field(
        sa_column=Column(Integer, ForeignKey("tk_cycle.pk", ondelete="CASCADE"), nullable=False)
    )
    execution_pk: int = Field(
        sa_column=Column(
            Integer, ForeignKey("tk_execution.pk", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    fingerprint: str = Field(max_length=64)
    file_sha256: str = Field(max_length=64)
    imported_at: datetime
