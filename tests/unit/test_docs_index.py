"""The offline Data Docs index: newest first, one row per page, bounded, escaped."""

from __future__ import annotations

from pathlib import Path

from data_checks.docs_index import IndexEntry, merged, read_manifest, render, write_index


def entry(time: str, page: str, success: bool = True, suite: str = "races_card") -> IndexEntry:
    failed = [] if success else ["distance_in_range"]
    return IndexEntry(time, "run", suite, success, 20, len(failed), 3 * len(failed), failed, page)


def test_newest_first_one_row_per_page_at_most_the_limit() -> None:
    old = [entry("2026-11-20 10:00:00", "a.html"), entry("2026-11-20 11:00:00", "b.html")]
    new = [entry("2026-11-20 12:00:00", "c.html"), entry("2026-11-20 12:30:00", "a.html")]
    kept = merged(old, new, limit=2)
    assert [item.page for item in kept] == ["a.html", "c.html"]


def test_the_page_has_no_script_and_escapes_what_it_shows() -> None:
    html = render([entry("t", "p<.html", success=False, suite="<b>")], ["odds_card"])
    assert "<script" not in html and "<b>" not in html and "&lt;b&gt;" in html
    assert 'class="failed"' in html and "expectations/odds_card.html" in html


def test_an_unreadable_manifest_starts_afresh(tmp_path: Path) -> None:
    (tmp_path / "raceday-index.json").write_text("{not json", encoding="utf-8")
    assert read_manifest(tmp_path) == []
    index = write_index(tmp_path, [entry("t", "p.html")], limit=10)
    assert [item.page for item in read_manifest(tmp_path)] == ["p.html"]
    assert "p.html" in index.read_text(encoding="utf-8")
