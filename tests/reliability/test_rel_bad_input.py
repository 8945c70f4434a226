"""Bad input, property-based: config files and CLI values.

- Config TOML: random documents (random text, and random values for every known key,
  plus unknown keys) under `status`, `req list`, `init` and `reset`: always exit 0 or 2,
  never a traceback or exit 1; with --json, stdout is one JSON document or empty; a
  command that fails leaves the file byte for byte as it was, one that rewrites it keeps
  every key it does not own.
- CLI values: random strings for enum options (priority, status, result, source) and for
  ids: exit 0 (a valid spelling), 2 (bad value) or 5 (no such id), never 1; with --json
  a failure leaves stdout empty and puts one JSON error on stderr.

The counts (`examples`) grow with TESTKASE_LONG=1.
"""

from __future__ import annotations

import json
import random
import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.cli.conftest import Run, run_in_process
from tests.reliability.conftest import LONG, examples, seed_base

EXAMPLES = examples(30, 1000)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=24,
)
toml_scalars = st.one_of(
    text,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(timezones=st.just(UTC)),
    st.dates(),
    st.times(),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=5,
)


def _or_random(*good: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(good), toml_values)


# Never a reachable host: a fuzzed config must not make testkase talk to the internet.
URLS = [
    "http://127.0.0.1:9",
    "https://127.0.0.1:9/jira",
    "http://user:secret@127.0.0.1:9",
    "ftp://127.0.0.1/x",
    "127.0.0.1:9",
    "",
    "http://",
    "https://[::1]:9",
]


@st.composite
def config_documents(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if draw(st.booleans()):
        doc["project"] = {"name": draw(_or_random("web", "x", " ", ""))}
    if draw(st.booleans()):
        doc["database"] = draw(st.one_of(st.integers(), st.booleans(), st.lists(text)))
    if draw(st.booleans()):
        conn: dict[str, Any] = {
            "platform": draw(_or_random("jira", "gitlab", "bitbucket")),
            "url": draw(st.one_of(st.sampled_from(URLS), st.integers(), st.lists(text))),
        }
        for key, good in (
            ("deployment", ("cloud", "server", "auto")),
            ("email", ("qa@example.com",)),
            ("project", ("PROJ", "demo/web", 42)),
            ("issue_type", ("Bug",)),
            ("jql", ("labels = x", "")),
            ("labels", (["a", "b"], [], [1, 2])),
            ("token_source", ("keyring", "environment")),
        ):
            if draw(st.booleans()):
                conn[key] = draw(_or_random(*good))
        doc["connection"] = conn
    if draw(st.booleans()):
        doc["sync"] = {
            "conflict": draw(_or_random("newest", "tracker", "local")),
            "interval": draw(_or_random(5, 60, 4, 0, -1, 2**62)),
        }
    if draw(st.booleans()):
        doc["mapping"] = {
            "requirement_status": draw(
                st.dictionaries(text, _or_random("Draft", "active", "Deprecated"), max_size=3)
            ),
            "defect_status": draw(
                st.dictionaries(
                    st.one_of(st.sampled_from(["Open", "closed", "In-Progress", "Nope"]), text),
                    _or_random("To Do", "Done", ""),
                    max_size=3,
                )
            ),
        }
        if draw(st.integers(0, 5)) == 0:
            doc["mapping"] = draw(toml_values)
    for key in draw(st.lists(text, max_size=2)):
        doc.setdefault(key, draw(toml_values))
    if draw(st.integers(0, 6)) == 0:
        victim = draw(st.sampled_from(["project", "connection", "sync", "mapping"]))
        doc[victim] = draw(toml_scalars)  # a table replaced by a scalar
    return doc


def _serialise(doc: dict[str, Any]) -> str | None:
    try:
        return tomli_w.dumps(doc)
    except (TypeError, ValueError):
        return None


def _assert_json_contract(done: Run, allowed: set[int], what: Any) -> None:
    assert done.code in allowed, (what, done.code, done.err)
    assert "Traceback" not in done.err and "internal error" not in done.err, (what, done.err)
    if done.code == 0:
        json.loads(done.out)
    else:
        assert done.out == "", (what, done.out)
        error = json.loads(done.err.strip().splitlines()[-1])["error"]
        assert error["code"] and error["message"], error


def _unchanged_or_rewritten_safely(path: Path, before: bytes, done: Run) -> None:
    after = path.read_bytes()
    if done.code != 0:
        assert after == before, "a failed command changed the config"
        return
    if after == before:
        return
    old, new = tomllib.loads(before.decode()), tomllib.loads(after.decode())
    for key, value in old.items():
        if key != "connection":
            assert new.get(key) == value, (key, value, new.get(key))


TRIED = {"config": 0, "cli": 0}


@FUZZ
@given(doc=st.one_of(config_documents(), st.builds(lambda t: {"_raw": t}, st.text(max_size=200))))
def test_any_config_file_is_exit_0_or_2_and_never_half_written(
    doc: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.setenv("TESTKASE_DB", str(tmp_path / "fuzz.db"))
    path = tmp_path / "fuzzed.toml"
    body = doc["_raw"] if "_raw" in doc else _serialise(doc)
    if body is None:
        return
    path.write_text(body, encoding="utf-8")
    TRIED["config"] += 1
    for command in (["status", "--json"], ["req", "list", "--json"], ["init", "--json"]):
        before = path.read_bytes()
        done = run_in_process(capsys, "--config", str(path), *command)
        _assert_json_contract(done, {0, 2}, (command, body))
        _unchanged_or_rewritten_safely(path, before, done)
    before = path.read_bytes()
    done = run_in_process(capsys, "--config", str(path), "reset", "--yes", "--json")
    _assert_json_contract(done, {0, 2, 6}, ("reset", body))  # 6: not connected
    _unchanged_or_rewritten_safely(path, before, done)
    assert not path.with_name(path.name + ".tmp").exists()


ENUM_COMMANDS = [
    ("req", "add", "Title", "--priority", "{}"),
    ("req", "add", "Title", "--status", "{}"),
    ("req", "list", "--status", "{}"),
    ("req", "list", "--source", "{}"),
    ("req", "edit", "REQ-1", "--priority", "{}"),
    ("case", "add", "Title", "--priority", "{}"),
    ("case", "edit", "TC-1", "--status", "{}"),
    ("defect", "add", "Title", "--priority", "{}"),
    ("defect", "edit", "DEF-1", "--status", "{}"),
    ("defect", "list", "--status", "{}"),
    ("exec", "CY-1", "TC-1", "--result", "{}"),
]
ID_COMMANDS = [
    ("req", "show", "{}"),
    ("case", "show", "{}"),
    ("cycle", "show", "{}"),
    ("defect", "show", "{}"),
    ("req", "edit", "{}", "--folder", "A/B"),
    ("defect", "comment", "{}", "hello"),
    ("link", "TC-1", "{}"),
    ("link", "{}", "REQ-1"),
    ("exec", "{}", "TC-1", "--result", "passed"),
    ("req", "delete", "{}", "--yes"),
]
TRICKY = [
    "",
    " ",
    "-",
    "--",
    "--json",
    "p1",
    "P9",
    "MAJOR",
    "in progress",
    "In-Progress",
    "REQ-0",
    "REQ--1",
    "REQ-1e3",
    "REQ-99999999999999999999999",
    "TC-99999999999999999999",
    "CY-18446744073709551616",
    "DEF-9223372036854775808",
    "REQ-\u00b2",
    "TC-\u0663",
    "DEF-\u2460",
    "#1",
    "#99999999999999999999999",
    "PROJ-1",
    "req-1",
    " TC-1 ",
    "REQ-1\n",
    "%",
    "_",
    "\u202eREQ-1",
]


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    monkeypatch.setenv("TESTKASE_DB", str(tmp_path / "cli.db"))
    for args in (
        ["init", "--name", "fuzz"],
        ["req", "add", "A requirement"],
        ["case", "add", "A case"],
        ["cycle", "add", "A cycle"],
        ["defect", "add", "A defect"],
    ):
        assert run_in_process(capsys, *args).code == 0


@FUZZ
@given(
    template=st.sampled_from(ENUM_COMMANDS + ID_COMMANDS),
    value=st.one_of(st.sampled_from(TRICKY), text),
)
def test_any_option_value_or_id_is_exit_0_2_or_5(
    project: None, template: tuple[str, ...], value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    TRIED["cli"] += 1
    args = [part.format(value) if part == "{}" else part for part in template]
    done = run_in_process(capsys, *args, "--json")
    _assert_json_contract(done, {0, 2, 5}, args)


def test_tricky_ids_and_values_are_exit_0_2_or_5(
    project: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hand-picked values every run tries (huge numbers, non-ASCII digits, ...), in
    every command template."""
    combos = [(t, v) for t in ENUM_COMMANDS + ID_COMMANDS for v in TRICKY]
    if not LONG:
        combos = random.Random(seed_base()).sample(combos, 100)
    for template, value in combos:
        TRIED["cli"] += 1
        args = [part.format(value) if part == "{}" else part for part in template]
        done = run_in_process(capsys, *args, "--json")
        _assert_json_contract(done, {0, 2, 5}, args)


_ = (date, datetime, time)  # TOML value types the strategies draw
