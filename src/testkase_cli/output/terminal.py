"""The terminal: stdout carries data (rich tables, or one JSON document), stderr the rest."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from testkase_cli.errors import KaseError


class Terminal:
    def __init__(self, *, json_mode: bool = False, verbose: bool = False) -> None:
        self.json_mode = json_mode
        self.verbose = verbose
        self._out: Console | None = None
        self._err: Console | None = None

    @property
    def out(self) -> Console:
        if self._out is None:
            from rich.console import Console

            tty = sys.stdout.isatty()
            self._out = Console(highlight=False, width=None if tty else 200)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, highlight=False)
        return self._err

    @property
    def interactive(self) -> bool:
        return sys.stdin.isatty() and sys.stdout.isatty()

    def data(self, payload: Any) -> None:
        """One JSON document: indented for a person, compact (and fast) for a pipe."""
        indent = 2 if sys.stdout.isatty() else None
        sys.stdout.write(json.dumps(payload, indent=indent, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def data_list(self, items: Iterable[Any], *, chunk: int = 500) -> None:
        """A JSON array written `chunk` items at a time: the text `data(list(items))` writes."""
        indented = sys.stdout.isatty()
        encoder = json.JSONEncoder(indent=2 if indented else None, ensure_ascii=False)
        # An encoded chunk is "[" + items + "]" ("[\n" + items + "\n]" indented): its inside
        # is exactly that stretch of the whole array.
        edge, glue = (2, ",\n") if indented else (1, ", ")
        first = True
        iterator = iter(items)
        while batch := list(itertools.islice(iterator, chunk)):
            inner = encoder.encode(batch)[edge:-edge]
            sys.stdout.write(("[" + "\n" * indented if first else glue) + inner)
            first = False
        sys.stdout.write("[]\n" if first else ("\n]\n" if indented else "]\n"))
        sys.stdout.flush()

    def line(self, text: str) -> None:
        self.out.print(text, markup=False)

    def markup(self, text: str) -> None:
        self.out.print(text)

    def table(self, title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        from rich.table import Table

        table = Table(title=title, title_justify="left", show_lines=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        count = 0
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
            count += 1
        if count == 0:
            self.line(f"{title}: none")
            return
        self.out.print(table)

    def fields(self, title: str, pairs: Sequence[tuple[str, Any]]) -> None:
        from rich.panel import Panel
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column(overflow="fold")
        for key, value in pairs:
            grid.add_row(key, "" if value is None else str(value))
        self.out.print(Panel(grid, title=title, title_align="left", expand=False))

    def info(self, text: str) -> None:
        if not self.json_mode:
            self.err.print(text, markup=False)

    def warn(self, text: str) -> None:
        self.err.print(f"warning: {text}", markup=False)

    def error(self, error: KaseError) -> None:
        if self.json_mode:
            body = {"error": {"code": error.code, "message": error.message, "hint": error.hint}}
            sys.stderr.write(json.dumps(body) + "\n")
            return
        sys.stderr.write(f"error: {error.message}\n")
        if error.hint:
            sys.stderr.write(f"hint: {error.hint}\n")
