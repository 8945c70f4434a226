"""`testkase report`: the traceability matrix, read from the store in one pass."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from testkase_cli.domain import traceability

if TYPE_CHECKING:
    from testkase_cli.store.catalog import Catalog


def build(
    catalog: Catalog, project: str, *, now: datetime | None = None
) -> traceability.Traceability:
    """Requirements -> test cases -> latest result per cycle -> defects, with coverage."""
    return traceability.build(
        project,
        now or datetime.now(UTC),
        requirements=catalog.list_requirements(),
        cases=catalog.list_cases(),
        cycles=catalog.list_cycles(),
        executions=catalog.list_executions(),
        defects=catalog.list_defects(),
    )
