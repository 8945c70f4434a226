"""Benchmarks: full and no-change syncs against the emulator, next to a sequential baseline.

    python bench/run.py                       # 1,000 and 10,000 issues, all flavours
    python bench/run.py --sizes 1000,10000,100000 --flavors gitlab

Each run uses a fresh emulator process (`testkase sandbox serve`) with the given latency
per request, a fresh SQLite store, and measures the `testkase sync` process itself: wall
time, CPU time, peak RSS, and the requests it reports. The baseline (bench/baseline.py)
pages one request after another and upserts one issue per transaction. After the syncs,
`testkase req list --json` runs over the synced store, and `testkase --help` once.

The tool runs as a user installs it: `pip install` of this checkout into a fresh venv
(byte-compiled, without the dev tools); --python runs it with another interpreter that has
it installed (the dev venv, say). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
TOKEN = "sandbox-token"
EMAIL = "tester@example.com"
PROJECT = {"jira": "PROJ", "gitlab": "demo/web"}


REPEAT_LOCAL = 3  # --help and req list: the median of this many runs
TOOL = sys.executable  # the interpreter testkase runs with; main() sets it


def installed_python() -> str:
    """A fresh venv holding testkase installed from this checkout, as a user installs it."""
    root = Path(tempfile.mkdtemp(prefix="testkase-bench-venv-"))
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    python = str(root / "bin" / "python")
    install = [python, "-m", "pip", "install", "--quiet", str(HERE.parent)]
    subprocess.run(install, check=True, capture_output=True)
    return python


def cpu_check() -> float:
    """Seconds for a fixed pure-Python loop: compares machines (and one machine over time)."""
    started = time.process_time()
    sum(range(10_000_000))
    return time.process_time() - started


def tool_env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


@dataclass
class Measure:
    flavor: str
    issues: int
    run: str
    requests: int | str
    wall_s: float
    cpu_s: float
    rss_mb: float


def measured(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[Path, float, float, float]:
    """Run `cmd`; return the file holding its stdout, wall and CPU seconds, peak RSS in MB.

    The output goes to a file, never into this process: Linux counts the spawning process's
    own peak RSS in the child's `ru_maxrss` (the memory it had when the child was spawned),
    so this process must stay small for the column to mean the child's peak.
    """
    out = cwd / "bench-stdout.txt"
    started = time.monotonic()
    with out.open("wb") as sink:
        process = subprocess.Popen(
            cmd, stdout=sink, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True
        )
        assert process.stderr is not None
        err = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err}")
    cpu = usage.ru_utime + usage.ru_stime
    return out, wall, cpu, usage.ru_maxrss / 1024


def json_length(path: Path) -> int:
    """Items in the JSON array in `path`, counted in a separate process (see `measured`)."""
    count = "import json, sys; print(len(json.load(open(sys.argv[1], encoding='utf-8'))))"
    done = subprocess.run(
        [sys.executable, "-c", count, str(path)], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


class Emulator:
    def __init__(self, flavor: str, latency_ms: int) -> None:
        platform, _, variant = flavor.partition("-")
        self.platform = platform
        self.process = subprocess.Popen(
            [
                TOOL,
                "-m",
                "testkase_cli",
                "sandbox",
                "serve",
                "--platform",
                platform,
                "--flavor",
                variant or "cloud",
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        self.url = first.split(" at ")[1].strip()
        self.control = httpx.Client(base_url=self.url, timeout=600)
        self.latency_ms = latency_ms

    def seed(self, count: int) -> None:
        self.control.post("/_sandbox/seed", json={"count": count, "seed": 7}).raise_for_status()
        self.control.post("/_sandbox/faults", json={"latency_ms": self.latency_ms})

    def close(self) -> None:
        self.control.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def workspace(flavor: str, url: str) -> tuple[Path, dict[str, str]]:
    root = Path(tempfile.mkdtemp(prefix="testkase-bench-"))
    extra = {
        "TESTKASE_TOKEN": TOKEN,
        "TESTKASE_CONFIG": str(root / "testkase.toml"),
        "TESTKASE_DB": str(root / "store.db"),
        "NO_COLOR": "1",
    }
    env = tool_env(extra)
    platform, _, variant = flavor.partition("-")
    cli = [TOOL, "-m", "testkase_cli"]
    subprocess.run(
        [*cli, "init", "--name", "bench"], env=env, cwd=root, check=True, capture_output=True
    )
    connect = [*cli, "connect", platform, "--url", url, "--project", PROJECT[platform]]
    if platform == "jira":
        connect += ["--deployment", variant]
        if variant == "cloud":
            connect += ["--email", EMAIL]
    subprocess.run(connect, env=env, cwd=root, check=True, capture_output=True)
    return root, env


def median_run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[Path, float, float, float]:
    """The run with the median wall time of REPEAT_LOCAL runs."""
    runs = sorted((measured(cmd, env, cwd) for _ in range(REPEAT_LOCAL)), key=lambda r: r[1])
    return runs[len(runs) // 2]


def bench_one(flavor: str, size: int, latency_ms: int, baseline: bool) -> list[Measure]:
    emulator = Emulator(flavor, latency_ms)
    results = []
    try:
        emulator.seed(size)
        root, env = workspace(flavor, emulator.url)
        cli = [TOOL, "-m", "testkase_cli", "sync", "--json"]
        for run in ("full", "no-change"):
            out, wall, cpu, rss = measured(cli, env, root)
            report = json.loads(out.read_text(encoding="utf-8"))
            results.append(Measure(flavor, size, run, report["requests"], wall, cpu, rss))
        listing = [TOOL, "-m", "testkase_cli", "req", "list", "--json"]
        out, wall, cpu, rss = median_run(listing, env, root)
        listed = json_length(out)
        results.append(Measure(flavor, size, "req list --json", listed, wall, cpu, rss))
        if baseline:
            cmd = [
                TOOL,
                str(HERE / "baseline.py"),
                "--flavor",
                flavor,
                "--url",
                emulator.url,
                "--db",
                str(root / "baseline.db"),
            ]
            out, wall, cpu, rss = measured(cmd, env, root)
            results.append(
                Measure(
                    flavor,
                    size,
                    "baseline full",
                    json.loads(out.read_text(encoding="utf-8"))["requests"],
                    wall,
                    cpu,
                    rss,
                )
            )
    finally:
        emulator.close()
    return results


def table(rows: list[Measure]) -> str:
    head = ["flavour", "issues", "run", "requests", "wall s", "cpu s", "peak RSS MB", "vs base"]
    # For `req list --json` the requests column holds the requirements listed.
    lines = []
    base = {(r.flavor, r.issues): r.wall_s for r in rows if r.run == "baseline full"}
    for r in rows:
        ratio = ""
        if r.run == "full" and (r.flavor, r.issues) in base:
            ratio = f"{base[(r.flavor, r.issues)] / r.wall_s:.1f}x faster"
        lines.append(
            [
                r.flavor,
                f"{r.issues:,}" if r.issues else "-",
                r.run,
                str(r.requests),
                f"{r.wall_s:.2f}",
                f"{r.cpu_s:.2f}",
                f"{r.rss_mb:.0f}",
                ratio,
            ]
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(head)]
    out = [" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    out.append("-+-".join("-" * w for w in widths))
    out += [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--flavors", default="jira-cloud,jira-server,gitlab")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument(
        "--baseline-max",
        type=int,
        default=10_000,
        help="run the sequential baseline up to this size",
    )
    parser.add_argument(
        "--python",
        help="run testkase with this interpreter (it must have testkase installed, e.g. "
        ".venv/bin/python) instead of a fresh install of this checkout",
    )
    args = parser.parse_args()
    global TOOL
    if not args.python:
        print("... installing testkase into a fresh venv", file=sys.stderr, flush=True)
    TOOL = args.python or installed_python()
    help_cmd = [TOOL, "-m", "testkase_cli", "--help"]
    help_env = tool_env({"NO_COLOR": "1"})
    scratch = Path(tempfile.mkdtemp(prefix="testkase-bench-help-"))
    measured(help_cmd, help_env, scratch)  # warms the file cache
    _, wall, cpu, rss = median_run(help_cmd, help_env, scratch)
    rows: list[Measure] = [Measure("-", 0, "testkase --help", "-", wall, cpu, rss)]
    for size in (int(s) for s in args.sizes.split(",")):
        for flavor in args.flavors.split(","):
            print(f"... {flavor} {size:,} issues", file=sys.stderr, flush=True)
            rows += bench_one(flavor, size, args.latency_ms, size <= args.baseline_max)
    how = f"testkase run by {args.python}" if args.python else "testkase installed by pip"
    print(
        f"latency {args.latency_ms} ms per request, SQLite store, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, {how}, CPU check {cpu_check():.2f} s"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
