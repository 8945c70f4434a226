"""`--json` lists are written item by item: the same text as one JSON document."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from testkase_cli.output.terminal import Terminal


class _Stdout(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


ITEMS: list[list[Any]] = [
    [],
    [{"id": "REQ-1"}],
    [
        {"id": "REQ-1", "title": 'two\nlines, "quoted"', "tags": [], "nested": {"a": [1, {}]}},
        {"id": "REQ-2", "title": "Zürich ✓", "external": None, "empty": {}},
        {"id": "REQ-3", "cases": ["TC-1", "TC-2"]},
    ],
]


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "pipe"])
@pytest.mark.parametrize("items", ITEMS, ids=["empty", "one", "several"])
def test_streamed_list_reads_as_the_whole_document(
    items: list[Any], tty: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _Stdout(tty)
    monkeypatch.setattr("sys.stdout", whole)
    Terminal(json_mode=True).data(items)
    assert json.loads(whole.getvalue()) == items
    for chunk in (1, 2, 500):
        streamed = _Stdout(tty)
        monkeypatch.setattr("sys.stdout", streamed)
        Terminal(json_mode=True).data_list(iter(items), chunk=chunk)
        assert streamed.getvalue() == whole.getvalue(), chunk
