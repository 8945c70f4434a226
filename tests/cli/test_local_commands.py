"""Every local command through the real CLI, on SQLite and on PostgreSQL."""

from __future__ import annotations

from tests.cli.conftest import Runner


def test_requirement_lifecycle(cli: Runner) -> None:
    first = cli("req", "add", "Login works", "--priority", "p1", "--folder", "auth/login")
    assert (first.code, first.out.strip()) == (0, "REQ-1")
    created = cli("req", "add", "Logout", "--status", "ACTIVE", "--json")
    assert created.code == 0
    body = created.json
    assert body["id"] == "REQ-2"
    assert body["status"] == "Active"
    assert body["source"] == "local"
    assert body["external"] is None
    assert body["created_at"].endswith("Z")
    assert set(body) >= {
        "id",
        "title",
        "description",
        "priority",
        "status",
        "folder",
        "source",
        "read_only",
        "external",
        "test_cases",
        "defects",
        "created_at",
        "updated_at",
        "synced_at",
    }

    edited = cli(
        "req", "edit", "REQ-1", "--title", "Login works fast", "--priority", "P0", "--json"
    )
    assert edited.json["title"] == "Login works fast"
    assert edited.json["priority"] == "P0"

    listed = cli("req", "list", "--folder", "auth", "--json").json
    assert [r["id"] for r in listed] == ["REQ-1"]
    assert [r["id"] for r in cli("req", "list", "--status", "active", "--json").json] == ["REQ-2"]
    assert cli("req", "list", "--source", "jira", "--json").json == []

    assert cli("req", "delete", "REQ-2", "--yes").code == 0
    assert cli("req", "show", "REQ-2").code == 5
    assert cli("req", "add", "Again").out.strip() == "REQ-3"


def test_attach_keeps_the_file(cli: Runner, tmp_path: object) -> None:
    from pathlib import Path

    cli("req", "add", "Has a spec")
    spec = Path(str(tmp_path)) / "spec.txt"
    spec.write_bytes(b"the spec")
    shown = cli("req", "attach", "REQ-1", str(spec), "--json").json
    assert shown["attachments"][0]["name"] == "spec.txt"
    assert shown["attachments"][0]["size"] == 8
    missing = cli("req", "attach", "REQ-1", str(spec) + ".nope", "--json")
    assert missing.code == 2
    assert "cannot read" in missing.error["message"]


def test_cases_links_cycles_executions_and_defects(cli: Runner) -> None:
    cli("req", "add", "Checkout")
    cli("req", "add", "Payment")
    case = cli(
        "case",
        "add",
        "Pay by card",
        "--step",
        "add item",
        "--step",
        "pay",
        "--expected",
        "receipt",
        "--priority",
        "P1",
        "--json",
    ).json
    assert case["id"] == "TC-1"
    assert case["steps"] == ["add item", "pay"]
    assert case["status"] == "Draft"
    assert cli("link", "TC-1", "REQ-1").code == 0
    assert cli("link", "TC-1", "REQ-2").code == 0
    again = cli("link", "TC-1", "REQ-1", "--json").json
    assert again["changed"] is False
    assert cli("req", "show", "REQ-1", "--json").json["test_cases"] == ["TC-1"]
    assert cli("case", "show", "TC-1", "--json").json["requirements"] == ["REQ-1", "REQ-2"]
    assert cli("unlink", "TC-1", "REQ-2").code == 0
    assert cli("case", "show", "TC-1", "--json").json["requirements"] == ["REQ-1"]

    ready = cli("case", "edit", "TC-1", "--status", "READY", "--json").json
    assert ready["status"] == "Ready"
    assert [c["id"] for c in cli("case", "list", "--status", "ready", "--json").json] == ["TC-1"]

    assert cli("cycle", "add", "Sprint 1").out.strip() == "CY-1"
    run = cli(
        "exec",
        "CY-1",
        "TC-1",
        "--result",
        "FAILED",
        "--notes",
        "declined",
        "--defect",
        "Card declined",
        "--defect-priority",
        "critical",
        "--json",
    )
    assert run.code == 0, run.err
    execution = run.json
    assert execution["id"] == "EX-1"
    assert execution["result"] == "Failed"
    defect = execution["defect"]
    assert defect["id"] == "DEF-1"
    assert defect["status"] == "Open"
    assert defect["priority"] == "Critical"
    assert defect["test_case"] == "TC-1"
    assert defect["execution"] == "EX-1"
    assert defect["cycle"] == "CY-1"
    assert defect["requirements"] == ["REQ-1"]
    assert defect["external"] is None

    plain = cli("exec", "CY-1", "TC-1", "--result", "passed")
    assert plain.out.split() == ["EX-2"]
    cycle = cli("cycle", "show", "CY-1", "--json").json
    assert cycle["executions"] == ["EX-1", "EX-2"]
    assert cycle["status"] == "In Progress"
    assert cli("req", "show", "REQ-1", "--json").json["defects"] == ["DEF-1"]

    edited = cli(
        "defect", "edit", "DEF-1", "--status", "in-progress", "--priority", "TRIVIAL", "--json"
    ).json
    assert (edited["status"], edited["priority"]) == ("In-Progress", "Trivial")
    commented = cli("defect", "comment", "DEF-1", "Reproduced on staging", "--json").json
    assert commented["comments"][0]["body"] == "Reproduced on staging"
    assert [d["id"] for d in cli("defect", "list", "--status", "in-progress", "--json").json] == [
        "DEF-1"
    ]
    assert cli("defect", "list", "--priority", "blocker", "--json").json == []


def test_ids_are_never_reused(cli: Runner) -> None:
    for kind, title, prefix in (
        ("req", "R", "REQ"),
        ("case", "C", "TC"),
        ("cycle", "Y", "CY"),
        ("defect", "D", "DEF"),
    ):
        assert cli(kind, "add", title).out.strip() == f"{prefix}-1"
        assert cli(kind, "delete", f"{prefix}-1", "--yes").code == 0
        assert cli(kind, "add", title).out.strip() == f"{prefix}-2"


def test_empty_lists_are_empty_json_arrays(cli: Runner) -> None:
    for kind in ("req", "case", "cycle", "defect"):
        result = cli(kind, "list", "--json")
        assert (result.code, result.json) == (0, [])


def test_bad_input_is_exit_2_and_changes_nothing(cli: Runner) -> None:
    bad = cli("req", "add", "X", "--priority", "P9", "--json")
    assert bad.code == 2
    assert bad.out == ""
    assert "P0, P1, P2, P3" in bad.error["hint"]
    assert cli("req", "list", "--json").json == []
    assert cli("case", "add", "   ").code == 2
    assert cli("exec", "CY-9", "TC-9", "--result", "passed").code == 5
    cli("cycle", "add", "C")
    cli("case", "add", "T")
    assert cli("exec", "CY-1", "TC-1", "--result", "green").code == 2
    assert cli("cycle", "show", "CY-1", "--json").json["executions"] == []
    assert cli("req", "edit", "REQ-1", "--title", "x").code == 5
    unknown = cli("req", "frobnicate")
    assert unknown.code == 2


def test_delete_without_a_tty_needs_yes(cli: Runner) -> None:
    cli("req", "add", "Keep me")
    refused = cli("req", "delete", "REQ-1", "--json")
    assert refused.code == 2
    assert "--yes" in refused.error["hint"]
    assert cli("req", "show", "REQ-1").code == 0


def test_data_survives_a_restart(cli: Runner) -> None:
    cli("req", "add", "Persisted", "--description", "# Heading\n\ntext")
    shown = cli("req", "show", "REQ-1", "--json").json
    assert shown["description"] == "# Heading\n\ntext"


def test_list_reads_many_requirements_in_chunks_in_id_order_with_their_links(
    cli: Runner, store_url: str
) -> None:
    # More requirements than one chunk of the streamed listing (500): every one is listed
    # once, in id order, each with its own links, whichever chunk it falls in.
    from testkase_cli.domain.models import Priority, RequirementStatus
    from testkase_cli.store.repository import Store

    store = Store.open(store_url, cli("status", "--json").json["project"])
    try:
        for number in range(1, 1002):
            store.catalog.add_requirement(
                f"Requirement {number}",
                description="",
                priority=Priority.P2,
                status=RequirementStatus.ACTIVE,
                folder="bulk" if number % 2 else "",
            )
    finally:
        store.engine.dispose()
    assert cli("case", "add", "Checks two").out.strip() == "TC-1"
    for requirement in ("REQ-500", "REQ-501", "REQ-1001"):
        assert cli("link", "TC-1", requirement).code == 0
    listed = cli("req", "list", "--json").json
    assert [r["id"] for r in listed] == [f"REQ-{n}" for n in range(1, 1002)]
    linked = {r["id"]: r["test_cases"] for r in listed if r["test_cases"]}
    assert linked == {"REQ-500": ["TC-1"], "REQ-501": ["TC-1"], "REQ-1001": ["TC-1"]}
    odd = cli("req", "list", "--folder", "bulk", "--json").json
    assert [r["id"] for r in odd] == [f"REQ-{n}" for n in range(1, 1002, 2)]
