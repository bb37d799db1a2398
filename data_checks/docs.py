"""Great Expectations Data Docs: every validation's HTML page and an index, under ``var_dir``.

Validation itself runs in an in-memory context (fast, no files); publishing copies the results
into a file-backed GX project (``var_dir/gx``) and renders only the new pages plus the index
into ``var_dir/data_docs`` (open ``index.html``). The index lists the latest validations only
(``limit``): GX loads every listed result to draw it.
"""

from __future__ import annotations

import ast
import datetime as dt
import html
import logging
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Final

from data_checks.gx_runner import SuiteOutcome

logger = logging.getLogger(__name__)

SITE_NAME: Final = "raceday"
DATA_DOCS_DIR: Final = "data_docs"


def data_docs_dir(var_dir: Path) -> Path:
    """Where the Data Docs site is built."""
    return var_dir / DATA_DOCS_DIR


def data_docs_index(var_dir: Path) -> Path:
    """The Data Docs site's entry page (what the daily report links to)."""
    return data_docs_dir(var_dir) / "index.html"


def _site_config(var_dir: Path, limit: int) -> dict[str, Any]:
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(data_docs_dir(var_dir).resolve()),
        },
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": limit,
            "show_cta_footer": False,
        },
    }


@cache
def _docs_context(var_dir: Path, limit: int) -> Any:
    import great_expectations as gx

    var_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(var_dir))
    wanted: Any = _site_config(var_dir, limit)  # GX's TypedDict of a site, as a plain dict
    sites = context.list_data_docs_sites()
    for name in [name for name in sites if name != SITE_NAME]:
        context.delete_data_docs_site(name)  # GX's default local_site would be a second copy
    if SITE_NAME not in sites:
        context.add_data_docs_site(SITE_NAME, wanted)
    elif sites[SITE_NAME] != wanted:
        context.update_data_docs_site(SITE_NAME, wanted)
    return context


_saved_suites: set[tuple[Path, str, int]] = set()


def _save_suite(context: Any, var_dir: Path, suite: Any) -> Any:
    """Copy a suite into the docs project (once per process and suite version); its identifier."""
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    key = (var_dir, suite.name, id(suite))
    if key not in _saved_suites:
        configurations = [expectation.configuration for expectation in suite.expectations]
        context.suites.add_or_update(
            gx.ExpectationSuite(name=suite.name, expectations=configurations)
        )
        _saved_suites.add(key)
        return ExpectationSuiteIdentifier(name=suite.name)
    return None


def publish(
    outcomes: Iterable[SuiteOutcome], var_dir: Path, run_name: str, batch: str, limit: int = 500
) -> Path | None:
    """Store the outcomes' GX results and render their pages and the index; the index's path.

    ``run_name`` groups a stage's validations (e.g. ``validate_card 2026-11-20``) and ``batch``
    names the run (the Prefect flow run id).
    """
    results = [outcome for outcome in outcomes if outcome.gx_result is not None]
    if not results:
        return None
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context = _docs_context(var_dir.resolve(), limit)
    run_id = RunIdentifier(run_name=run_name, run_time=dt.datetime.now(dt.UTC))
    keys: list[Any] = []
    for outcome in results:
        suite_id = ExpectationSuiteIdentifier(name=outcome.suite)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=suite_id, run_id=run_id, batch_identifier=batch
        )
        outcome.gx_result.meta["run_id"] = run_id  # shown on the page ("__none__" otherwise)
        context.validation_results_store.set(key, outcome.gx_result)
        keys.append(key)
        if outcome.gx_suite is not None:
            suite_key = _save_suite(context, var_dir.resolve(), outcome.gx_suite)
            if suite_key is not None:
                keys.append(suite_key)
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=keys)
    index = data_docs_index(var_dir)
    validations = index_rows(index.read_text(encoding="utf-8"), "validation_success")
    if validations:  # else GX changed its page: keep it rather than a blank one
        index.write_text(static_index_page(validations), encoding="utf-8")
    return index


# GX 1.x draws its index's tables in the browser (bootstrap-table and jQuery from CDNs) from
# rows it writes into the page as Python literals: offline the page is blank. The rows are read
# back and the index rewritten as plain HTML (no scripts, nothing fetched).
_GX_TABLE_ROWS = re.compile(r"^\s*data: (\[\{.*\}\]),?$", re.MULTILINE)


def index_rows(gx_index: str, first_field: str) -> list[dict[str, Any]]:
    """The rows of the GX index's table whose rows start with ``first_field``
    (``validation_success``: the validations)."""
    for found in _GX_TABLE_ROWS.finditer(gx_index):
        try:
            rows = ast.literal_eval(found.group(1))
        except (ValueError, SyntaxError):
            continue
        if rows and isinstance(rows[0], dict) and first_field in rows[0]:
            return [dict(row) for row in rows]
    return []


def static_index_page(validations: list[dict[str, Any]]) -> str:
    """The Data Docs index as one self-contained HTML page: the validations, newest first, each
    with its outcome, time, run, suite and a link to its page."""
    rows = "\n".join(
        "<tr class='{cls}'><td>{outcome}</td><td>{time}</td><td>{run}</td>"
        "<td><a href='{link}'>{suite}</a></td></tr>".format(
            cls="failed" if row.get("_validation_success_text") != "Success" else "ok",
            outcome=html.escape(str(row.get("_validation_success_text", "?"))),
            time=html.escape(str(row.get("run_time", ""))),
            run=html.escape(str(row.get("run_name", ""))),
            link=html.escape(str(row.get("_table_row_link_path", "")), quote=True),
            suite=html.escape(str(row.get("_expectation_suite_name_sort", ""))),
        )
        for row in sorted(validations, key=lambda row: -float(row.get("_run_time_sort", 0)))
    )
    failed = sum(row.get("_validation_success_text") != "Success" for row in validations)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>raceday Data Docs</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}
tr.failed td:first-child{{color:#b00;font-weight:bold}}</style></head>
<body><h1>raceday Data Docs</h1>
<p>{len(validations)} validations, {failed} failed (newest first). Each page lists every
expectation with what it observed; a failed one names the races it set aside
(<code>race_id</code>).</p>
<table><thead><tr><th>outcome</th><th>run time</th><th>run</th><th>suite</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


def publish_quietly(
    outcomes: Iterable[SuiteOutcome], var_dir: Path, run_name: str, batch: str, limit: int = 500
) -> Path | None:
    """:func:`publish`, logging instead of failing: Data Docs report on data, they are not data."""
    try:
        return publish(outcomes, var_dir, run_name, batch, limit)
    except Exception:  # a docs failure must not fail the day's stored data
        logger.warning("Data Docs for %s could not be built", run_name, exc_info=True)
        return None
