"""The traceability report as one self-contained HTML page.

No JavaScript, no external resource (a Content-Security-Policy forbids both), an inline
SVG chart, semantic tables with captions and scoped headers, print CSS. Every value that
comes from the store or the tracker goes through `esc`; a link is only made of an
http(s) URL.
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from testkase_cli.domain.models import Defect, ExternalRef, RequirementStatus, Result
from testkase_cli.domain.traceability import (
    OPEN_STATUSES,
    VERDICT_ORDER,
    CaseTrace,
    Coverage,
    RequirementTrace,
    Traceability,
    Verdict,
)
from testkase_cli.output.serialize import timestamp

MAX_CYCLE_COLUMNS = 8
NOTHING = '<span class="none">-</span>'

# (fill, text) pairs: text on fill is at least 4.5:1, and the bars carry a dark outline.
VERDICT_COLORS = {
    Verdict.PASSING: ("#1a7f37", "#ffffff"),
    Verdict.FAILING: ("#cf222e", "#ffffff"),
    Verdict.BLOCKED: ("#d4a72c", "#1b1f24"),
    Verdict.NOT_RUN: ("#afb8c1", "#1b1f24"),
    Verdict.UNCOVERED: ("#57606a", "#ffffff"),
}
RESULT_COLORS = {
    Result.PASSED.value: VERDICT_COLORS[Verdict.PASSING],
    Result.FAILED.value: VERDICT_COLORS[Verdict.FAILING],
    Result.BLOCKED.value: VERDICT_COLORS[Verdict.BLOCKED],
    Result.SKIPPED.value: VERDICT_COLORS[Verdict.NOT_RUN],
    "not_run": ("#ffffff", "#1b1f24"),
}

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1b1f24; background: #ffffff; margin: 0 auto; max-width: 1400px; padding: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 32px 0 12px; border-bottom: 1px solid #d0d7de; }
.meta { color: #57606a; margin: 0; }
a { color: #0550ae; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
  gap: 12px; margin: 0 0 16px; }
.figures div { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 12px;
  background: #f6f8fa; }
.figures dt { color: #57606a; font-size: 0.85rem; }
.figures dd { margin: 0; font-size: 1.5rem; font-weight: 600; }
figure { margin: 0 0 16px; }
figcaption { color: #57606a; font-size: 0.9rem; }
svg { max-width: 760px; width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; margin: 0 0 16px; }
caption { text-align: left; font-weight: 600; padding: 4px 0 8px; caption-side: top; }
th, td { border: 1px solid #d0d7de; padding: 6px 8px; text-align: left;
  vertical-align: top; }
thead th { background: #f6f8fa; }
tbody th { font-weight: normal; }
tbody + tbody { border-top: 2px solid #8c959f; }
.id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.85rem;
  white-space: nowrap; }
.sub { color: #57606a; font-size: 0.85rem; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 0.85rem;
  font-weight: 600; border: 1px solid #57606a; white-space: nowrap;
  print-color-adjust: exact; -webkit-print-color-adjust: exact; }
ul.defects { margin: 0; padding-left: 16px; }
.closed { text-decoration: line-through; color: #57606a; }
.none { color: #57606a; font-style: italic; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { font-size: 9pt; max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  thead { display: table-header-group; }
  tbody, tr, figure, .figures div { break-inside: avoid; }
  a { color: inherit; }
  .figures div, thead th, svg { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def link(url: str, text: str) -> str:
    """An anchor for an http(s) URL; anything else (javascript:, data:) stays text."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return esc(text)
    return f'<a href="{esc(url.strip())}" rel="noopener noreferrer">{esc(text)}</a>'


def render(trace: Traceability) -> str:
    cov = trace.coverage
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Traceability report: {esc(trace.project)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>Traceability report: {esc(trace.project)}</h1>",
        f'<p class="meta">Generated {esc(timestamp(trace.generated_at))} by testkase: '
        f"{cov.requirements} current requirements, {cov.cases} test cases, "
        f"{len(trace.cycles)} cycles with results.</p>",
        "</header>",
        "<main>",
        _coverage_section(cov),
        _matrix(trace),
        _failing(trace),
        _uncovered(trace),
        _never_run(trace),
        _unlinked(trace),
        "</main>",
        '<footer><p class="meta">Results are the latest execution of each test case in each '
        "cycle; a requirement passes when every linked test case last passed.</p></footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


# -- coverage --------------------------------------------------------------------------


def _coverage_section(cov: Coverage) -> str:
    figures = [
        ("Requirements", str(cov.requirements)),
        ("Covered by a test case", f"{cov.covered} ({cov.covered_pct:g}%)"),
        ("Without a test case", str(cov.verdicts[Verdict.UNCOVERED])),
        ("Failing", str(cov.verdicts[Verdict.FAILING])),
        ("Passing", f"{cov.verdicts[Verdict.PASSING]} ({cov.passing_pct:g}%)"),
        ("Test cases", str(cov.cases)),
        ("Test cases never run", str(cov.cases_never_run)),
        ("Open defects", str(cov.open_defects)),
        ("Deprecated requirements (not counted)", str(cov.deprecated)),
    ]
    cards = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in figures)
    verdicts = [(v.label, cov.verdicts[v], VERDICT_COLORS[v]) for v in VERDICT_ORDER]
    results = [(_label(k), n, RESULT_COLORS[k]) for k, n in cov.case_results.items()]
    return "\n".join(
        [
            '<section aria-labelledby="coverage">',
            '<h2 id="coverage">Coverage</h2>',
            f'<dl class="figures">{cards}</dl>',
            "<figure>",
            _bars(
                [
                    ("Requirements by verdict", verdicts),
                    ("Test cases by latest result", results),
                ]
            ),
            "<figcaption>Requirements by verdict (passing, failing, blocked, not run, "
            "without a test case) and test cases by their latest result.</figcaption>",
            "</figure>",
            "</section>",
        ]
    )


def _bars(rows: list[tuple[str, list[tuple[str, int, tuple[str, str]]]]]) -> str:
    """Stacked horizontal bars with their legend, as inline SVG."""
    width, label_h, bar_h, legend_h, gap = 720, 20, 30, 22, 18
    block = label_h + bar_h + legend_h + gap
    height = block * len(rows)
    desc = "; ".join(
        f"{title}: " + ", ".join(f"{name} {count}" for name, count, _ in parts)
        for title, parts in rows
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        'role="img" aria-labelledby="chart-title chart-desc" '
        'font-family="system-ui, sans-serif" font-size="13">',
        '<title id="chart-title">Coverage chart</title>',
        f'<desc id="chart-desc">{esc(desc)}</desc>',
    ]
    for index, (title, parts) in enumerate(rows):
        top = index * block
        total = sum(count for _, count, _ in parts)
        out.append(
            f'<text x="0" y="{top + 14}" font-weight="600" fill="#1b1f24">'
            f"{esc(title)} ({total})</text>"
        )
        y = top + label_h
        if total == 0:
            out.append(
                f'<rect x="0.5" y="{y}" width="{width - 1}" height="{bar_h}" fill="#ffffff" '
                'stroke="#57606a"/>'
            )
            out.append(f'<text x="8" y="{y + 20}" fill="#57606a">nothing yet</text>')
        x = 0.0
        for name, count, (fill, ink) in parts:
            if not count or not total:
                continue
            w = (width - 1) * count / total
            out.append(
                f'<rect x="{x + 0.5:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{fill}" stroke="#1b1f24" stroke-width="1">'
                f"<title>{esc(name)}: {count}</title></rect>"
            )
            if w >= 28:
                out.append(
                    f'<text x="{x + w / 2 + 0.5:.1f}" y="{y + 20}" text-anchor="middle" '
                    f'fill="{ink}" font-weight="600">{count}</text>'
                )
            x += w
        lx = 0
        for name, count, (fill, _) in parts:
            ly = y + bar_h + 6
            out.append(
                f'<rect x="{lx + 0.5}" y="{ly}" width="12" height="12" fill="{fill}" '
                'stroke="#1b1f24"/>'
            )
            text = f"{name} {count}"
            out.append(f'<text x="{lx + 18}" y="{ly + 11}" fill="#1b1f24">{esc(text)}</text>')
            lx += 26 + 8 * len(text)
    out.append("</svg>")
    return "\n".join(out)


# -- the matrix ------------------------------------------------------------------------


def _label(value: str) -> str:
    return value.replace("_", " ")


def _badge(value: str) -> str:
    fill, ink = RESULT_COLORS[value]
    return f'<span class="badge" style="background:{fill};color:{ink}">{esc(_label(value))}</span>'


def _verdict(value: Verdict) -> str:
    fill, ink = VERDICT_COLORS[value]
    return f'<span class="badge" style="background:{fill};color:{ink}">{esc(value.label)}</span>'


def _external(ref: ExternalRef | None) -> str:
    if ref is None:
        return ""
    text = ref.key or ref.id
    shown = link(ref.url, text) if ref.url else esc(text)
    state = "" if ref.state.value == "linked" else f" ({esc(ref.state.value)})"
    return f'<span class="sub">{esc(ref.platform)} {shown}{state}</span>'


def _defects(defects: tuple[Defect, ...]) -> str:
    if not defects:
        return '<span class="none">none</span>'
    items = []
    for defect in defects:
        closed = defect.status not in OPEN_STATUSES
        tracker = ""
        if defect.external is not None:
            tracker = " " + _external(defect.external)
        cls = ' class="closed"' if closed else ""
        items.append(
            f'<li><span{cls}><span class="id">{esc(defect.id)}</span> {esc(defect.title)}'
            f'</span> <span class="sub">{esc(defect.priority.value)}, '
            f"{esc(defect.status.value)}</span>{tracker}</li>"
        )
    return f'<ul class="defects">{"".join(items)}</ul>'


def _case_cells(trace: CaseTrace, cycle_numbers: list[int]) -> str:
    case = trace.case
    cells = [
        f'<td><span class="id">{esc(case.id)}</span> {esc(case.title)}</td>',
        f"<td>{_badge(trace.result.value if trace.result else 'not_run')}</td>",
    ]
    for number in cycle_numbers:
        run = trace.results.get(number)
        shown = _badge(run.result.value) if run else NOTHING
        cells.append(f"<td>{shown}</td>")
    return "".join(cells)


def _matrix(trace: Traceability) -> str:
    shown = list(trace.cycles[-MAX_CYCLE_COLUMNS:])
    numbers = [c.number for c in shown]
    note = ""
    if len(trace.cycles) > len(shown):
        note = f" The {len(shown)} most recent of {len(trace.cycles)} cycles are shown."
    head = [
        '<th scope="col">Requirement</th>',
        '<th scope="col">Verdict</th>',
        '<th scope="col">Test case</th>',
        '<th scope="col">Latest result</th>',
    ]
    head += [
        f'<th scope="col"><span class="id">{esc(c.id)}</span> {esc(c.name)}</th>' for c in shown
    ]
    head.append('<th scope="col">Defects</th>')
    bodies = [_requirement_rows(row, numbers) for row in trace.requirements]
    if not bodies:
        span = 5 + len(shown)
        bodies = [
            f'<tbody><tr><td colspan="{span}" class="none">No requirements yet.</td></tr></tbody>'
        ]
    return "\n".join(
        [
            '<section aria-labelledby="matrix">',
            '<h2 id="matrix">Traceability matrix</h2>',
            "<table>",
            "<caption>Each requirement, the test cases that cover it, the latest result of "
            f"each test case per cycle, and the defects found.{esc(note)}</caption>",
            f"<thead><tr>{''.join(head)}</tr></thead>",
            *bodies,
            "</table>",
            "</section>",
        ]
    )


def _requirement_rows(row: RequirementTrace, numbers: list[int]) -> str:
    req = row.requirement
    span = max(1, len(row.cases))
    rowspan = f' rowspan="{span}"' if span > 1 else ""
    header = (
        f'<th scope="rowgroup"{rowspan}><span class="id">{esc(req.id)}</span> '
        f"{esc(req.title)}<br>"
        f'<span class="sub">{esc(req.priority.value)}, {esc(req.status.value)}</span> '
        f"{_external(req.external)}</th>"
    )
    verdict = f"<td{rowspan}>{_verdict(row.verdict)}</td>"
    defects = f"<td{rowspan}>{_defects(row.defects)}</td>"
    if not row.cases:
        empty = f'<td colspan="{2 + len(numbers)}" class="none">no test case</td>'
        return f"<tbody><tr>{header}{verdict}{empty}{defects}</tr></tbody>"
    lines = []
    for index, case in enumerate(row.cases):
        cells = _case_cells(case, numbers)
        if index == 0:
            lines.append(f"<tr>{header}{verdict}{cells}{defects}</tr>")
        else:
            lines.append(f"<tr>{cells}</tr>")
    return "<tbody>" + "".join(lines) + "</tbody>"


# -- lists -----------------------------------------------------------------------------


def _section(anchor: str, title: str, caption: str, head: list[str], rows: list[str]) -> str:
    if not rows:
        return (
            f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">{esc(title)}</h2>'
            f'<p class="none">None.</p></section>'
        )
    cols = "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
    return "\n".join(
        [
            f'<section aria-labelledby="{anchor}">',
            f'<h2 id="{anchor}">{esc(title)}</h2>',
            f"<table><caption>{esc(caption)}</caption>",
            f"<thead><tr>{cols}</tr></thead><tbody>",
            *rows,
            "</tbody></table></section>",
        ]
    )


def _req_head(row: RequirementTrace) -> str:
    req = row.requirement
    return (
        f'<th scope="row"><span class="id">{esc(req.id)}</span> {esc(req.title)} '
        f"{_external(req.external)}</th>"
    )


def _failing(trace: Traceability) -> str:
    rows = []
    for row in trace.requirements:
        if row.verdict is not Verdict.FAILING:
            continue
        failed = [c for c in row.cases if c.result is Result.FAILED]
        cases = ", ".join(f"{c.case.id} {c.case.title}" for c in failed)
        rows.append(
            f"<tr>{_req_head(row)}<td>{esc(cases)}</td><td>{_defects(row.defects)}</td></tr>"
        )
    return _section(
        "failing",
        "Failing requirements",
        "Requirements with a test case whose latest result is Failed.",
        ["Requirement", "Failing test cases", "Defects"],
        rows,
    )


def _uncovered(trace: Traceability) -> str:
    rows = [
        f"<tr>{_req_head(row)}<td>{esc(row.requirement.priority.value)}</td>"
        f"<td>{esc(row.requirement.status.value)}</td></tr>"
        for row in trace.requirements
        if row.verdict is Verdict.UNCOVERED
        and row.requirement.status is not RequirementStatus.DEPRECATED
    ]
    return _section(
        "uncovered",
        "Requirements without a test case",
        "Requirements no test case is linked to (deprecated ones left out).",
        ["Requirement", "Priority", "Status"],
        rows,
    )


def _case_row(trace: CaseTrace) -> str:
    case = trace.case
    return (
        f'<tr><th scope="row"><span class="id">{esc(case.id)}</span> {esc(case.title)}</th>'
        f"<td>{esc(case.folder or '-')}</td><td>{esc(case.status.value)}</td>"
        f"<td>{_badge(trace.result.value if trace.result else 'not_run')}</td>"
        f"<td>{_defects(trace.defects)}</td></tr>"
    )


def _never_run(trace: Traceability) -> str:
    seen: dict[int, CaseTrace] = {}
    for row in trace.requirements:
        for case in row.cases:
            seen.setdefault(case.case.number, case)
    for case in trace.unlinked_cases:
        seen.setdefault(case.case.number, case)
    rows = [_case_row(t) for _, t in sorted(seen.items()) if t.latest is None]
    return _section(
        "never-run",
        "Test cases never run",
        "Test cases with no execution in any cycle.",
        ["Test case", "Folder", "Status", "Latest result", "Defects"],
        rows,
    )


def _unlinked(trace: Traceability) -> str:
    return _section(
        "unlinked",
        "Test cases not linked to a requirement",
        "Test cases that trace to no requirement.",
        ["Test case", "Folder", "Status", "Latest result", "Defects"],
        [_case_row(t) for t in trace.unlinked_cases],
    )
