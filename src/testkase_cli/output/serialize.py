"""Domain objects -> the JSON shapes of SPEC section 7. No decisions, only shapes."""

from __future__ import annotations

from typing import Any

from testkase_cli.domain.models import (
    Case,
    Comment,
    Cycle,
    Defect,
    Execution,
    ExternalRef,
    Kind,
    Requirement,
    format_id,
    iso_utc,
)

timestamp = iso_utc


def ids(kind: Kind, numbers: tuple[int, ...]) -> list[str]:
    return [format_id(kind, n) for n in numbers]


def maybe_id(kind: Kind, number: int | None) -> str | None:
    return None if number is None else format_id(kind, number)


def external(ref: ExternalRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {
        "platform": ref.platform,
        "key": ref.key,
        "id": ref.id,
        "url": ref.url,
        "state": ref.state.value,
    }


def requirement(req: Requirement) -> dict[str, Any]:
    return {
        "id": req.id,
        "title": req.title,
        "description": req.description,
        "priority": req.priority.value,
        "status": req.status.value,
        "folder": req.folder,
        "source": req.source.value,
        "read_only": req.read_only,
        "external": external(req.external),
        "test_cases": ids(Kind.CASE, req.test_cases),
        "defects": ids(Kind.DEFECT, req.defects),
        "attachments": [
            {"name": a.name, "size": a.size, "sha256": a.sha256} for a in req.attachments
        ],
        "created_at": timestamp(req.created_at),
        "updated_at": timestamp(req.updated_at),
        "synced_at": timestamp(req.synced_at),
    }


def case(item: Case) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "steps": list(item.steps),
        "expected": item.expected,
        "priority": item.priority.value,
        "status": item.status.value,
        "folder": item.folder,
        "requirements": ids(Kind.REQUIREMENT, item.requirements),
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
    }


def cycle(item: Cycle, executions: list[Execution] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "status": item.status.value,
        "executions": ids(Kind.EXECUTION, item.executions),
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
    }
    if executions is not None:
        data["results"] = [execution(e) for e in executions]
    return data


def execution(item: Execution) -> dict[str, Any]:
    return {
        "id": item.id,
        "cycle": format_id(Kind.CYCLE, item.cycle),
        "test_case": format_id(Kind.CASE, item.case),
        "result": item.result.value,
        "notes": item.notes,
        "executed_at": timestamp(item.executed_at),
    }


def comment(item: Comment) -> dict[str, Any]:
    return {
        "id": item.id,
        "body": item.body,
        "author": item.author,
        "origin": item.origin,
        "remote_id": item.remote_id,
        "created_at": timestamp(item.created_at),
    }


def defect(item: Defect) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "priority": item.priority.value,
        "status": item.status.value,
        "test_case": maybe_id(Kind.CASE, item.case),
        "execution": maybe_id(Kind.EXECUTION, item.execution),
        "cycle": maybe_id(Kind.CYCLE, item.cycle),
        "requirements": ids(Kind.REQUIREMENT, item.requirements),
        "external": external(item.external),
        "sync": {
            "state": item.sync.state,
            "last_synced_at": timestamp(item.sync.last_synced_at),
            "error": item.sync.error,
        },
        "comments": [comment(c) for c in item.comments],
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
    }
