"""Rewrite call sites of ``raceday.store.catalog`` and ``raceday.store.monitoring`` to the
catalogs by concern (``raceday.store.catalogs.*``). Standard library only.

    python tools/rename_catalog_calls.py [PATH ...]    # files or folders, default: .
    ruff check --fix --select I,F401 . && ruff format .  # then sort and format the imports

What it does, per Python file:
- ``from raceday.store import catalog`` (or ``monitoring [as alias]``) is replaced by imports of
  the names the file uses, from their new modules, and each ``catalog.read_bets(`` becomes
  ``read_bets(`` (a local import inside a function gets the names used in that function);
- ``from raceday.store.catalog import RACES, RUNNERS`` is split over the new modules;
- when a name is already bound in the file, the module is imported under ``<module>_catalog``
  and the use qualified (``bets_catalog.read_bets(``) instead.
It leaves alone, and reports: names that have no new home (deleted, or replaced by something
else: the hint says what), and mentions in comments and strings.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

CATALOG = "raceday.store.catalog"
MONITORING = "raceday.store.monitoring"
OLD_MODULES = {CATALOG, MONITORING}
NEW = "raceday.store.catalogs"

_NEW_HOMES: dict[str, list[str]] = {
    f"{NEW}.races": [
        "RACES", "RUNNERS", "ODDS", "RACE_KEY", "RUNNER_KEY", "races_with_results",
        "write_races_and_runners", "write_odds", "read_odds", "read_races", "read_runners",
        "read_win_results", "read_runner_view", "history_bounds", "settled_race_count",
        "races_by_venue",
    ],
    f"{NEW}.learned_versions": [
        "REFERENCE_TIMES", "REFERENCE_VERSIONS", "FIRST3F_MODELS", "read_reference_times",
        "write_reference_times", "reference_history", "read_reference_versions",
        "read_first3f_model", "write_first3f_model", "read_first3f_model_summaries",
    ],
    f"{NEW}.ratings": [
        "FIRST3F", "INDEXES", "TRACK_VARIANTS", "write_by_runner", "read_indexes",
        "write_track_variants", "read_feature_history", "read_people_window",
        "read_settled_runs", "read_runs_and_cards", "write_features", "read_features",
    ],
    f"{NEW}.predictions": [
        "PREDICTIONS", "write_predictions", "read_predictions", "model_in_service_since",
    ],
    f"{NEW}.bets": [
        "BETS", "LEDGER_DAY_COLUMNS", "write_bets", "read_bets", "write_settlement",
        "ledger_days",
    ],
    f"{NEW}.quality": [
        "QUARANTINE", "VALIDATION", "write_quarantine", "read_quarantine",
        "write_validation_results",
    ],
    f"{NEW}.performance": [
        "PERFORMANCE", "RACE_SCORES", "ROLLING", "CALIBRATION", "write_day_record",
        "write_day_records", "as_read_scores", "as_read_daily", "write_rolling",
        "read_race_scores", "nth_last_race_date", "first_race_score_date", "read_daily",
        "read_day_performance", "read_rolling", "read_calibration",
    ],
    f"{NEW}.alerts": [
        "ALERTS", "latest_alerts", "insert_alert", "update_alert", "bump_repeat", "read_alerts",
    ],
    f"{NEW}.runs": [
        "RUNS", "record_stage_run", "read_runs", "flow_stage_seconds", "lock_day",
        "day_lock_holder", "unlock_day", "completed_backfill_days", "mark_backfill_days",
    ],
    f"{NEW}.monitoring": ["load_monitor_inputs"],
    "raceday.store.models": ["FEATURES_TABLE"],
}  # fmt: skip
NEW_HOME: dict[str, str] = {name: module for module, names in _NEW_HOMES.items() for name in names}
NO_NEW_HOME: dict[str, str] = {
    "settled_before": "deleted (never called)",
    "write_performance": "deleted (never called); write_day_record writes the performance rows",
    "read_performance": "deleted (never called); read_daily / read_day_performance read them",
    "BACKFILL_FLOW": 'gone: backfill marks have their own table; the flow name is "backfill"',
    "BACKFILL_DAY_STAGE": "gone: backfill marks are rows of runs.BACKFILL_DAYS",
    "LOCK_FLOW": "gone: the run lock is a row of runs.RUN_LOCKS",
    "LOCK_STAGE": "gone: the run lock is a row of runs.RUN_LOCKS",
    "load_report_inputs": "monitoring.read_report_day reads the frames; the caller builds "
    "ReportInputs with raceday.report's race_table, bet_table, top_runners_by_composite",
    "_bets_view": "raceday.report.bet_table",
}


@dataclass
class Use:
    """One ``alias.name`` in the code: where, and the import statement it belongs to."""

    line: int
    col: int  # of the alias
    end_col: int  # after the name
    name: str
    owner: ast.AST


@dataclass
class FileRewrite:
    """The edits of one file and what could not be done."""

    lines: list[str]
    replaced_lines: dict[int, list[str]] = field(default_factory=dict)  # first line -> text
    dropped_lines: set[int] = field(default_factory=set)
    token_edits: list[tuple[int, int, int, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _scope_of(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST:
    """The innermost function (or the module) a node sits in."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return node
    return node


def _bound_names(tree: ast.AST) -> set[str]:
    """Names bound anywhere in the file but by an import from the new catalogs."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Import):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not (node.module or "").startswith(NEW):
            bound.update(alias.asname or alias.name for alias in node.names)
    return bound


def _attribute_uses(
    source: str, aliases: dict[str, list[tuple[ast.AST, ast.AST]]], parents: dict[ast.AST, ast.AST]
) -> Iterator[Use]:
    """Each ``alias.name`` token sequence in code (not in strings or comments)."""
    tokens = [
        token
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    ]
    tree_nodes = _nodes_by_position(parents)
    for index in range(len(tokens) - 2):
        first, dot, name = tokens[index : index + 3]
        if first.type != tokenize.NAME or first.string not in aliases:
            continue
        if dot.string != "." or name.type != tokenize.NAME:
            continue
        if index > 0 and tokens[index - 1].string == ".":
            continue  # something.catalog.x: another module's attribute
        node = tree_nodes.get(first.start)
        scope = _scope_of(node, parents) if node is not None else None
        owner = _owner(aliases[first.string], scope, parents)
        yield Use(first.start[0], first.start[1], name.end[1], name.string, owner)


def _nodes_by_position(parents: dict[ast.AST, ast.AST]) -> dict[tuple[int, int], ast.AST]:
    return {
        (node.lineno, node.col_offset): node
        for node in parents
        if isinstance(node, ast.Name) and hasattr(node, "lineno")
    }


def _owner(
    imports: list[tuple[ast.AST, ast.AST]], scope: ast.AST | None, parents: dict[ast.AST, ast.AST]
) -> ast.AST:
    """The import statement a use relies on: the one in its innermost enclosing scope."""
    by_scope = {import_scope: statement for statement, import_scope in imports}
    while scope is not None:
        if scope in by_scope:
            return by_scope[scope]
        scope = _scope_of(scope, parents) if scope in parents else None
    return imports[0][0]


def _import_lines(indent: str, module: str, names: Iterable[str]) -> list[str]:
    """``from module import a, b`` (wrapped one a line when longer than 100 characters)."""
    ordered = sorted(set(names), key=lambda name: (name.lower(), name))
    line = f"{indent}from {module} import {', '.join(ordered)}\n"
    if len(line) <= 101:
        return [line]
    return [
        f"{indent}from {module} import (\n",
        *(f"{indent}    {name},\n" for name in ordered),
        f"{indent})\n",
    ]


def _module_alias(module: str) -> tuple[str, str]:
    """How a module is imported when its names would clash: (import line text, alias)."""
    parent, _, last = module.rpartition(".")
    alias = f"{last}_catalog" if parent == NEW else last
    as_clause = "" if alias == last else f" as {alias}"
    return f"from {parent} import {last}{as_clause}", alias


def rewrite(path: Path, source: str) -> tuple[str, list[str]]:
    """The rewritten source of a file and what could not be rewritten."""
    tree = ast.parse(source)
    parents = _parents(tree)
    edit = FileRewrite(lines=source.splitlines(keepends=True))
    aliases: dict[str, list[tuple[ast.AST, ast.AST]]] = {}  # alias -> (import, its scope)
    from_imports: list[ast.ImportFrom] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.module in OLD_MODULES:
            from_imports.append(node)
        elif node.module == "raceday.store":
            for alias in node.names:
                if f"raceday.store.{alias.name}" in OLD_MODULES:
                    key = alias.asname or alias.name
                    aliases.setdefault(key, []).append((node, _scope_of(node, parents)))
    if not aliases and not from_imports:
        return source, []
    bound = _bound_names(tree)
    wanted: dict[ast.AST, dict[str, set[str]]] = {}  # import -> module -> names
    qualified: dict[ast.AST, set[str]] = {}  # import -> modules imported under an alias
    for use in _attribute_uses(source, aliases, parents):
        module = NEW_HOME.get(use.name)
        if module is None:
            hint = NO_NEW_HOME.get(use.name, "unknown name")
            edit.problems.append(f"{path}:{use.line}: {use.name}: {hint}")
            continue
        if use.name in bound:
            import_text, module_alias = _module_alias(module)
            qualified.setdefault(use.owner, set()).add(import_text)
            replacement = f"{module_alias}.{use.name}"
        else:
            wanted.setdefault(use.owner, {}).setdefault(module, set()).add(use.name)
            replacement = use.name
        edit.token_edits.append((use.line, use.col, use.end_col, replacement))
    for statement in {node for entries in aliases.values() for node, _scope in entries}:
        assert isinstance(statement, ast.ImportFrom)
        kept = [
            alias for alias in statement.names if f"raceday.store.{alias.name}" not in OLD_MODULES
        ]
        indent = " " * statement.col_offset
        lines = []
        if kept:
            shown = ", ".join(
                alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"
                for alias in kept
            )
            lines.append(f"{indent}from raceday.store import {shown}\n")
        for module, names in sorted(wanted.get(statement, {}).items()):
            lines.extend(_import_lines(indent, module, names))
        lines.extend(f"{indent}{text}\n" for text in sorted(qualified.get(statement, set())))
        _replace_statement(edit, statement, lines)
    for statement in from_imports:
        indent = " " * statement.col_offset
        by_module: dict[str, list[str]] = {}
        for alias in statement.names:
            module = NEW_HOME.get(alias.name)
            if module is None:
                hint = NO_NEW_HOME.get(alias.name, "unknown name")
                edit.problems.append(f"{path}:{statement.lineno}: {alias.name}: {hint}")
                continue
            shown = alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"
            by_module.setdefault(module, []).append(shown)
        lines = [
            line
            for module, names in sorted(by_module.items())
            for line in _import_lines(indent, module, names)
        ]
        _replace_statement(edit, statement, lines)
    edit.problems.extend(_mentions(path, source, set(aliases)))
    return _apply(edit), edit.problems


def _replace_statement(edit: FileRewrite, statement: ast.stmt, lines: list[str]) -> None:
    end = statement.end_lineno or statement.lineno
    edit.replaced_lines[statement.lineno] = lines
    edit.dropped_lines.update(range(statement.lineno + 1, end + 1))


def _mentions(path: Path, source: str, aliases: set[str]) -> Iterator[str]:
    """Comments and strings that still speak of the old modules (to be reworded by hand)."""
    words = [rf"\b{re.escape(alias)}\.[A-Za-z_]" for alias in aliases]
    pattern = re.compile("|".join([*words, r"catalog\.py", r"store\.monitoring"]))
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.COMMENT, tokenize.STRING) and pattern.search(token.string):
            yield f"{path}:{token.start[0]}: mentioned in a comment or string: reword by hand"


def _apply(edit: FileRewrite) -> str:
    lines = list(edit.lines)
    for line, col, end_col, replacement in sorted(edit.token_edits, reverse=True):
        text = lines[line - 1]
        lines[line - 1] = text[:col] + replacement + text[end_col:]
    out: list[str] = []
    for number, text in enumerate(lines, start=1):
        if number in edit.replaced_lines:
            out.extend(edit.replaced_lines[number])
        elif number not in edit.dropped_lines:
            out.append(text)
    return "".join(out)


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Every .py file under ``paths`` (virtualenvs and caches skipped)."""
    skipped = {".venv", "venv", ".git", "__pycache__", "node_modules", "var"}
    for path in paths:
        if path.is_file():
            yield path
            continue
        for found in sorted(path.rglob("*.py")):
            if not skipped.intersection(found.parts):
                yield found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[Path(".")])
    args = parser.parse_args(argv)
    problems: list[str] = []
    changed = 0
    for path in python_files(args.paths):
        if path.resolve() == Path(__file__).resolve():
            continue
        source = path.read_text(encoding="utf-8")
        rewritten, found = rewrite(path, source)
        problems.extend(found)
        if rewritten != source:
            path.write_text(rewritten, encoding="utf-8")
            changed += 1
            print(f"rewrote {path}")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{changed} file(s) rewritten, {len(problems)} place(s) to look at by hand")
    return 0


if __name__ == "__main__":
    sys.exit(main())
