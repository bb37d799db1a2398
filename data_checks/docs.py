"""Great Expectations Data Docs: every validation's HTML page and an index, under ``var_dir``.

Validation itself runs in an in-memory context (fast, no files); publishing copies the results
into a file-backed GX project (``var_dir/gx``) and renders only the new pages into
``var_dir/data_docs``; the entry page (open ``index.html``) is ours (:mod:`data_checks.docs_index`,
the latest ``limit`` validations). GX's own index is not built: ours replaces it, and GX's
reloads every listed result to draw it. One site builder serves a process: its page templates
are compiled once, not at every stage.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from data_checks.docs_index import IndexEntry, entry_fields, write_index
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


@cache
def _site_builder(var_dir: Path, limit: int) -> Any:
    """The site's builder, kept for the process: GX makes one per ``build_data_docs`` call,
    and each compiles the page templates again (most of a stage's Data Docs time)."""
    from great_expectations.render.renderer.site_builder import SiteBuilder

    config = _site_config(var_dir, limit)
    del config["class_name"]
    return SiteBuilder(
        data_context=_docs_context(var_dir, limit),
        site_name=SITE_NAME,
        runtime_environment={"root_directory": str(var_dir)},
        **config,
    )


@dataclass(frozen=True)
class _Listing:
    """A section's source store as its builder sees it: listing only the pages asked for.

    GX's section builder lists every stored result (and sorts them) before picking those it
    was asked to render, a cost that grows with every day validated."""

    store: Any
    keys: tuple[Any, ...]

    def list_keys(self) -> list[Any]:
        return list(self.keys)

    def get(self, key: Any) -> Any:
        return self.store.get(key)


def _section_keys(name: str, keys: list[Any]) -> list[Any]:
    """The keys a site section renders: suite pages, or validation pages."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    kind = ExpectationSuiteIdentifier if name == "expectations" else ValidationResultIdentifier
    return [key for key in keys if isinstance(key, kind)]


def _build_pages(builder: Any, folder: Path, keys: list[Any]) -> None:
    """Render the pages of ``keys`` (no index: ours replaces GX's); the site's static assets
    (GX's CSS, fonts, images) are copied only when the site has none yet."""
    if not (folder / "static").is_dir():
        builder.target_store.copy_static_assets()
    for name, section in builder.site_section_builders.items():
        wanted = _section_keys(name, keys)
        if wanted:
            listed = copy.copy(section)  # the builder's own section (and its templates) unchanged
            listed.source_store = _Listing(section.source_store, tuple(wanted))
            listed.build(resource_identifiers=wanted)


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
    published: list[tuple[SuiteOutcome, Any]] = []
    for outcome in results:
        suite_id = ExpectationSuiteIdentifier(name=outcome.suite)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=suite_id, run_id=run_id, batch_identifier=batch
        )
        outcome.gx_result.meta["run_id"] = run_id  # shown on the page ("__none__" otherwise)
        context.validation_results_store.set(key, outcome.gx_result)
        keys.append(key)
        published.append((outcome, key))
        if outcome.gx_suite is not None:
            suite_key = _save_suite(context, var_dir.resolve(), outcome.gx_suite)
            if suite_key is not None:
                keys.append(suite_key)
    folder = data_docs_dir(var_dir)
    _build_pages(_site_builder(var_dir.resolve(), limit), folder, keys)
    entries = [
        IndexEntry(
            run_time=run_id.run_time.strftime("%Y-%m-%d %H:%M:%S"),
            run_name=run_name,
            page=_page_of(folder, key),
            **entry_fields(outcome),
        )
        for outcome, key in published
    ]
    return write_index(folder, entries, limit)  # over GX's index, which needs CDN scripts


def _page_of(folder: Path, key: Any) -> str:
    """The validation page GX rendered for ``key``, relative to the site."""
    suite, run_name, run_time, batch = key.to_tuple()
    expected = Path("validations", suite, run_name, run_time, f"{batch}.html")
    if (folder / expected).is_file():
        return expected.as_posix()
    found = sorted(folder.glob(f"validations/{suite}/*/{run_time}/{batch}.html"))
    return found[0].relative_to(folder).as_posix() if found else expected.as_posix()


def publish_quietly(
    outcomes: Iterable[SuiteOutcome], var_dir: Path, run_name: str, batch: str, limit: int = 500
) -> Path | None:
    """:func:`publish`, logging instead of failing: Data Docs report on data, they are not data."""
    try:
        return publish(outcomes, var_dir, run_name, batch, limit)
    except Exception:  # a docs failure must not fail the day's stored data
        logger.warning("Data Docs for %s could not be built", run_name, exc_info=True)
        return None
