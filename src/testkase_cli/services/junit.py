"""`testkase import junit`: JUnit/xUnit XML reports into a cycle, idempotently.

Every file is read, size-checked and parsed before anything is written; the import is
then one transaction. Each `<testcase>` is fingerprinted by the sha256 of its file's
content and its `classname::name` key, so importing the same file into the same cycle
again records nothing new.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from testkase_cli.domain.junit import (
    MAX_FILE_BYTES,
    Imported,
    JunitCase,
    JunitReport,
    Outcome,
    parse,
)
from testkase_cli.domain.models import Case, Cycle, Defect, DefectPriority, NewDefect
from testkase_cli.errors import UsageError
from testkase_cli.services.execute import defect_description

if TYPE_CHECKING:
    from testkase_cli.store.repository import Store

TITLE_LIMIT = 200


@dataclass(frozen=True)
class ReportFile:
    path: str
    sha256: str
    report: JunitReport


@dataclass
class ImportReport:
    cycle: Cycle
    files: list[ReportFile]
    matched: int
    created: int
    already_imported: int
    executions: dict[str, int]
    defects: list[Defect]
    unpushed: list[str] = field(default_factory=list)
    pushed: list[Defect] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "cycle": self.cycle.id,
            "cycle_name": self.cycle.name,
            "files": [
                {"path": f.path, "sha256": f.sha256, "tests": len(f.report.cases)}
                for f in self.files
            ],
            "cases": {"matched": self.matched, "created": self.created},
            "executions": self.executions,
            "already_imported": self.already_imported,
            "defects": [d.id for d in self.defects],
            "pushed": [
                {"id": d.id, "key": d.external.key, "url": d.external.url}
                for d in self.pushed
                if d.external is not None
            ],
        }


def read(path: str) -> ReportFile:
    """Read and parse one report; UsageError (exit 2) for anything unusable."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if not file.is_file():
            raise UsageError(f"{path}: not a file", hint="pass the path of a JUnit XML report")
        if size > MAX_FILE_BYTES:
            raise _too_big(path, size)
        with file.open("rb") as handle:
            content = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(
            f"cannot read {path}: {exc.strerror or exc}", hint="check the path"
        ) from exc
    if len(content) > MAX_FILE_BYTES:
        raise _too_big(path, len(content))
    return ReportFile(path, hashlib.sha256(content).hexdigest(), parse(content, source=path))


def _too_big(path: str, size: int) -> UsageError:
    return UsageError(
        f"{path}: {size / 1048576:.1f} MiB is over the {MAX_FILE_BYTES // 1048576} MiB limit "
        "for one JUnit report",
        hint="split the report (one file per test suite) and pass every file",
    )


def run(store: Store, paths: list[str], cycle: str, *, defects: bool) -> ImportReport:
    """Import `paths` into the cycle named `cycle` (created when missing)."""
    from testkase_cli.store.junitrepo import Entry, ImportCatalog

    if not paths:
        raise UsageError("no report given", hint="testkase import junit FILE... --cycle NAME")
    if not cycle.strip():
        raise UsageError("the cycle name is empty", hint="pass --cycle NAME")
    files = [read(path) for path in paths]
    entries = [Entry(f.sha256, _local(c)) for f in files for c in f.report.cases]
    catalog = ImportCatalog(store.engine, store.project)
    outcome = catalog.import_results(cycle.strip(), entries, describe_defect if defects else None)
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for execution in outcome.executions:
        counts[execution.result.value.lower()] += 1
    return ImportReport(
        cycle=outcome.cycle,
        files=files,
        matched=outcome.matched,
        created=outcome.created,
        already_imported=outcome.already_imported,
        executions=counts,
        defects=outcome.defects,
        unpushed=outcome.unpushed,
    )


def _local(case: JunitCase) -> JunitCase:
    """Reports write naive timestamps in the machine's zone (pytest, Surefire)."""
    if case.timestamp is None or case.timestamp.tzinfo is not None:
        return case
    from dataclasses import replace

    return replace(case, timestamp=case.timestamp.astimezone())


def describe_defect(result: Imported, case: Case, cycle: Cycle) -> NewDefect:
    """The defect a failed result opens: the failure message and trace in the description."""
    worst = next(r for r in result.runs if r.outcome is result.outcome)
    verb = "errored" if result.outcome is Outcome.ERROR else "failed"
    first = (worst.message.splitlines() or [""])[0].strip()
    title = f"{result.name} {verb}" + (f": {first}" if first else "")
    if len(title) > TITLE_LIMIT:
        title = title[: TITLE_LIMIT - 3].rstrip() + "..."
    lines = [defect_description(case.title, case.id, cycle.id, result.notes), ""]
    lines += [f"Test: `{result.key}`" + (f" ({worst.file})" if worst.file else "")]
    if worst.kind:
        lines += [f"Type: `{worst.kind}`"]
    if worst.message:
        lines += ["", "Message:", "", _fenced(worst.message)]
    if worst.detail and worst.detail.strip() != worst.message.strip():
        lines += ["", "Trace:", "", _fenced(worst.detail)]
    if worst.system_out.strip():
        lines += ["", "Captured output (end):", "", _fenced(worst.system_out[-4000:])]
    if worst.properties:
        lines += ["", "Properties:"] + [f"- {k}: {v}" for k, v in worst.properties[:20]]
    return NewDefect(title=title, description="\n".join(lines), priority=DefectPriority.MAJOR)


def _fenced(text: str) -> str:
    """A Markdown code block that no backtick run inside `text` can close early."""
    longest = run_ = 0
    for char in text:
        run_ = run_ + 1 if char == "`" else 0
        longest = max(longest, run_)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text.rstrip()}\n{fence}"
