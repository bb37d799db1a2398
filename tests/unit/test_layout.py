"""The layout DESIGN.md promises: the domain package has no import circle, imports neither the
orchestration nor the CLI, no module is too long to read, and flows run tasks, not their bodies.

Imports are read with ``ast`` (module-level and inside functions alike), so nothing is imported
to check them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[2]
DOMAIN: Final = "raceday"
# Top-level packages the domain must not import: orchestration, its wiring, and the CLI.
FORBIDDEN_IN_DOMAIN: Final = frozenset({"prefect", "flows", "tasks", "typer", "cli"})
# The repository's own (non-test) packages; ``cli`` once the CLI has moved out of the domain.
LAYOUT_PACKAGES: Final = ("raceday", "flows", "tasks", "data_checks", "config", "cli")
MAX_MODULE_LINES: Final = 700


def module_name(path: Path, root: Path = REPO) -> str:
    """``raceday/store/catalog.py`` -> ``raceday.store.catalog``; a package's ``__init__`` is it."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def python_files(package: str, root: Path = REPO) -> list[Path]:
    """Every ``.py`` file under a top-level package, sorted (none if it does not exist)."""
    return sorted((root / package).rglob("*.py"))


def imported_names(source: str, module: str, is_package: bool) -> Iterator[str]:
    """Dotted names a module imports anywhere in its body; ``from a import b`` gives ``a.b``
    (a submodule or a name in ``a``, the caller decides) and relative imports are resolved."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def module_imports(packages: tuple[str, ...], root: Path = REPO) -> dict[str, set[str]]:
    """Each module of ``packages`` -> every name it imports (external ones included)."""
    graph: dict[str, set[str]] = {}
    for path in [path for package in packages for path in python_files(package, root)]:
        module = module_name(path, root)
        source = path.read_text(encoding="utf-8")
        graph[module] = set(imported_names(source, module, path.name == "__init__.py"))
    return graph


def internal_edges(imports: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Each module -> the modules of the same graph it imports (the most specific one named)."""
    edges: dict[str, set[str]] = {}
    for module, names in imports.items():
        targets = {_deepest_module(name, imports) for name in names}
        edges[module] = {target for target in targets if target and target != module}
    return edges


def _deepest_module(name: str, modules: Mapping[str, object]) -> str | None:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def import_cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """One circle per strongly connected group of modules, as ``[a, b, ..., a]`` (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(edges.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(group)

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return [_circle_within(group, edges) for group in groups]


def _circle_within(group: set[str], edges: Mapping[str, set[str]]) -> list[str]:
    """A path from the group's first module back to itself through the group (breadth first)."""
    start = min(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for target in sorted(edges.get(module, set()) & group):
                if target == start:
                    path = [module]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if target not in came_from:
                    came_from[target] = module
                    following.append(target)
        frontier = following
    raise AssertionError(f"no circle through {start} in {sorted(group)}")


def forbidden_imports(imports: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """Domain modules -> the orchestration or CLI names they import."""
    found: dict[str, list[str]] = {}
    for module, names in imports.items():
        bad = sorted(name for name in names if _under_any(name, FORBIDDEN_IN_DOMAIN))
        if bad:
            found[module] = bad
    return found


def _under_any(name: str, packages: frozenset[str]) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


def long_modules(root: Path = REPO) -> dict[str, int]:
    """Non-test modules over the line limit (the ones being split excepted) -> their length."""
    lengths = {
        path.relative_to(root).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for package in LAYOUT_PACKAGES
        for path in python_files(package, root)
    }
    return {name: lines for name, lines in lengths.items() if lines > MAX_MODULE_LINES}


def task_body_calls(root: Path = REPO) -> list[str]:
    """``path:line`` of every ``something.fn(...)`` call in ``flows/``."""
    calls = []
    for path in python_files("flows", root):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "fn"
            ):
                calls.append(f"{path.relative_to(root).as_posix()}:{node.lineno}")
    return calls


def test_no_import_circle() -> None:
    """No module of the domain (or of the packages around it) imports, directly or through
    others, a module that imports it."""
    edges = internal_edges(module_imports(LAYOUT_PACKAGES))
    assert sum(module.startswith(f"{DOMAIN}.") for module in edges) > 20  # the walk found it
    cycles = [" -> ".join(cycle) for cycle in import_cycles(edges)]
    assert cycles == [], "import circles:\n" + "\n".join(cycles)


def test_the_domain_imports_neither_orchestration_nor_the_cli() -> None:
    """raceday imports no prefect, flows, tasks, typer or CLI (the CLI itself, still inside it,
    excepted until it moves out)."""
    assert forbidden_imports(module_imports((DOMAIN,))) == {}


def test_no_module_is_over_the_line_limit() -> None:
    """Every non-test module reads on a few screens."""
    assert long_modules() == {}


def test_flows_run_tasks_not_their_bodies() -> None:
    """A flow calls tasks, never ``task.fn(...)`` (that would be a second copy of the chain)."""
    assert task_body_calls() == []


def test_the_walk_sees_function_level_and_relative_imports() -> None:
    """The checks above see imports inside functions and resolve ``from . import x``."""
    source = "from . import b\nfrom .c import d\n\ndef f():\n    import prefect\n"
    names = set(imported_names(source, "raceday.pkg", is_package=True))
    assert {"raceday.pkg.b", "raceday.pkg.c.d", "prefect"} <= names
    edges = internal_edges(
        {"raceday.pkg": names, "raceday.pkg.b": set(), "raceday.pkg.c": {"raceday.pkg"}}
    )
    assert edges["raceday.pkg"] == {"raceday.pkg.b", "raceday.pkg.c"}
    assert import_cycles(edges) == [["raceday.pkg", "raceday.pkg.c", "raceday.pkg"]]
