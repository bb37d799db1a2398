"""The Data Docs entry page, drawn without scripts so it works offline.

GX's own index page lists the validations with bootstrap-table and jQuery loaded from CDNs: on a
machine without internet access (a race-day server behind a firewall, this one) the list is
blank. This page is static HTML with inline styles, rewritten after each build from a small
manifest of the validations published (``raceday-index.json`` beside it, the newest ``limit``
kept). It links every validation's GX page and every expectation suite's.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path
from typing import Any, Final

MANIFEST: Final = "raceday-index.json"

STYLE: Final = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border-bottom: 1px solid #ddd; padding: .3em .8em; text-align: left; }
th { background: #f4f4f4; }
.failed { color: #b00020; font-weight: bold; }
.passed { color: #1b5e20; }
"""


@dataclass(frozen=True)
class IndexEntry:
    """One published validation: what ran, when, how it went, and its page (relative)."""

    run_time: str
    run_name: str
    suite: str
    success: bool
    expectations: int
    expectations_failed: int
    failing_rows: int
    failed_checks: list[str]
    page: str


def read_manifest(folder: Path) -> list[IndexEntry]:
    """The entries listed so far (none when the manifest is missing or unreadable)."""
    try:
        rows = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return [IndexEntry(**row) for row in rows]
    except (OSError, ValueError, TypeError):
        return []


def merged(old: list[IndexEntry], new: list[IndexEntry], limit: int) -> list[IndexEntry]:
    """Old and new entries, newest first, one per page, at most ``limit``."""
    by_page = {entry.page: entry for entry in [*old, *new]}
    ordered = sorted(by_page.values(), key=lambda entry: entry.run_time, reverse=True)
    return ordered[:limit]


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def render(entries: list[IndexEntry], suites: list[str]) -> str:
    """The page: validations newest first (failed ones with their checks), then the suites."""
    rows = "\n".join(_row(entry) for entry in entries)
    suite_links = "\n".join(
        f'<li><a href="expectations/{escape(name)}.html">{escape(name)}</a></li>' for name in suites
    )
    failed = sum(not entry.success for entry in entries)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>raceday Data Docs</title>
<style>{STYLE}</style></head><body>
<h1>raceday Data Docs</h1>
<p>{len(entries)} validations, newest first; {failed} failed. A failed validation's page lists
the failing rows by race (<code>race_id</code>, <code>umaban</code>).</p>
<h2 id="Validation-Results">Validation results</h2>
<table><thead><tr><th>run time (UTC)</th><th>run</th><th>suite</th><th>status</th>
<th>expectations failed</th><th>failing rows</th><th>checks failed</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<h2 id="Expectation-Suites">Expectation suites</h2>
<ul>
{suite_links}
</ul>
</body></html>
"""


def _row(entry: IndexEntry) -> str:
    status = (
        '<span class="passed">passed</span>'
        if entry.success
        else '<span class="failed">failed</span>'
    )
    return (
        f'<tr><td><a href="{escape(entry.page)}">{escape(entry.run_time)}</a></td>'
        f"<td>{escape(entry.run_name)}</td><td>{escape(entry.suite)}</td><td>{status}</td>"
        f"<td>{entry.expectations_failed} of {entry.expectations}</td>"
        f"<td>{entry.failing_rows:,}</td><td>{escape(', '.join(entry.failed_checks))}</td></tr>"
    )


def write_index(folder: Path, new: list[IndexEntry], limit: int) -> Path:
    """Add ``new`` to the manifest and rewrite ``index.html`` (over GX's); the page's path."""
    entries = merged(read_manifest(folder), new, limit)
    _write_atomically(folder / MANIFEST, json.dumps([asdict(e) for e in entries], indent=1))
    suites = sorted(page.stem for page in (folder / "expectations").glob("*.html"))
    index = folder / "index.html"
    _write_atomically(index, render(entries, suites))
    return index


def entry_fields(outcome: Any) -> dict[str, Any]:
    """The fields of an entry a suite's outcome gives (the rest come from its publication)."""
    return {
        "suite": outcome.suite,
        "success": bool(outcome.success),
        "expectations": int(outcome.expectations),
        "expectations_failed": int(outcome.expectations_failed),
        "failing_rows": int(outcome.failures["row_id"].nunique()),
        "failed_checks": list(outcome.failed_checks),
    }
