"""A worker process for the concurrency and kill tests: runs testkase commands in a loop.

    python rel_worker.py START_AT ROUNDS PREFIX [delete]
    python rel_worker.py run '[["link", "TC-1", "REQ-1"], ...]'

The first form waits until the wall clock reaches START_AT (so every worker starts
together), then runs `req add` ROUNDS times (and, with `delete`, deletes every other
requirement it added and adds as many again). The second runs the given commands one
after the other (a kill -9 can then land anywhere among them). Each command runs through
the real entry point (`testkase_cli.cli.app.main`) in this process; one JSON line per
command goes to stdout: {"args": [...], "code": n, "out": "...", "err": "..."}.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time

from testkase_cli.cli.app import main


def run(*args: str) -> dict[str, object]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
    result = {"args": list(args), "code": code, "out": out.getvalue(), "err": err.getvalue()}
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return result


def added_id(result: dict[str, object]) -> str | None:
    if result["code"] != 0:
        return None
    data = json.loads(str(result["out"]))
    return str(data["id"])


def work(start_at: float, rounds: int, prefix: str, delete: bool) -> None:
    time.sleep(max(0.0, start_at - time.time()))
    mine = [added_id(run("req", "add", f"{prefix} {n}", "--json")) for n in range(rounds)]
    if not delete:
        return
    for ref in mine[::2]:
        if ref is not None:
            run("req", "delete", ref, "--yes")
    for n in range(rounds):
        run("req", "add", f"{prefix} again {n}", "--json")


if __name__ == "__main__":
    if sys.argv[1] == "run":
        for command in json.loads(sys.argv[2]):
            run(*command)
    else:
        work(float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], "delete" in sys.argv[4:])
