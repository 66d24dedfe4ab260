"""No import circles among govbot's own modules (the core and the plugins).

A circle means neither module can be read, tested or replaced without the other; the
three the tree had (irc client <-> tracking, irc service <-> reporter, the emulator's
git <-> model) were broken with small Protocols and by moving what the lower module
needs down into it. This test keeps new ones out.

What counts as an edge, and why:
- module-level imports (class bodies and try/except at the top included): they run at
  import time, and a circle of them fails or half-initialises a module depending on
  which side is imported first;
- `if TYPE_CHECKING:` imports count too. They never run, but they are still a
  dependency: the type checker needs the other module to understand this one, and a
  circle hidden behind TYPE_CHECKING is exactly how all three old circles lived. The
  cure is a Protocol that the using module declares, not the guard;
- imports inside functions do not count: they run on the first call, after both modules
  are loaded (govbot/cli.py defers its subcommands' heavy imports that way);
- a package's `__init__` that Python runs before a submodule is not an edge unless the
  code imports the package itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from tests.ast_imports import Import, Source, core_sources, plugin_sources, read_imports

#: The scopes whose imports make an edge (see the module docstring).
COUNTED = ("module", "type-checking")


def import_graph(sources: Sequence[Source]) -> dict[str, dict[str, Import]]:
    """module -> {imported module of the same tree -> the first import statement of it}."""
    known = {s.module for s in sources}
    graph: dict[str, dict[str, Import]] = {s.module: {} for s in sources}
    for source in sources:
        for imp in read_imports(source, known):
            if imp.scope not in COUNTED or imp.target is None:
                continue
            target = imp.target
            while target and target not in known:  # `from m import name`: the module m
                target = target.rpartition(".")[0]
            if target and target != source.module:
                graph[source.module].setdefault(target, imp)
    return graph


def circles(graph: Mapping[str, Mapping[str, Import]]) -> list[list[Import]]:
    """One circle for each group of modules that import each other (Tarjan's SCCs), as the
    import statements that close it, smallest circle first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    found = [_shortest_circle(graph, group) for group in groups]
    return sorted(found, key=lambda c: (len(c), c[0].path))


def _shortest_circle(graph: Mapping[str, Mapping[str, Import]],
                     group: set[str]) -> list[Import]:
    best: list[Import] = []
    for start in sorted(group):
        # Breadth first from `start` back to itself, inside the group.
        paths: dict[str, list[Import]] = {start: []}
        frontier = [start]
        while frontier and not (best and len(paths[frontier[0]]) >= len(best)):
            nxt_frontier = []
            for node in frontier:
                for nxt, imp in sorted(graph[node].items()):
                    if nxt == start and (not best or len(paths[node]) + 1 < len(best)):
                        best = [*paths[node], imp]
                    elif nxt in group and nxt not in paths:
                        paths[nxt] = [*paths[node], imp]
                        nxt_frontier.append(nxt)
            frontier = nxt_frontier
    return best


def describe(found: Iterable[list[Import]]) -> str:
    return "\n".join(
        "import circle:\n" + "\n".join(f"  {imp} ({imp.scope})" for imp in circle)
        + "\n  break it with a Protocol the importing module declares, or move what both"
          " need into a module below both (not with a function-level import)"
        for circle in found)


def test_no_import_circles_among_govbots_modules() -> None:
    found = circles(import_graph(core_sources() + plugin_sources()))
    assert not found, describe(found)


def _source(module: str, text: str) -> Source:
    return Source(module.replace(".", "/") + ".py", module, False, text)


def test_the_checker_finds_planted_circles() -> None:
    planted = [
        _source("pkg.a", "from pkg.b import B\n"),
        _source("pkg.b", "from typing import TYPE_CHECKING\n"
                         "if TYPE_CHECKING:\n    from pkg.c import C\n"),
        _source("pkg.c", "import pkg.a\n"),
        _source("pkg.d", "from pkg import e\n"),  # d <-> e through a package import
        _source("pkg.e", "def later():\n    from pkg.d import D\n"),  # function level
        _source("pkg.f", "from .g import G\n"),  # relative
        _source("pkg.g", "try:\n    from pkg.f import F\nexcept ImportError:\n    pass\n"),
    ]
    found = circles(import_graph(planted))
    assert [[(imp.path, imp.line, imp.scope) for imp in circle] for circle in found] == [
        [("pkg/f.py", 1, "module"), ("pkg/g.py", 2, "module")],
        [("pkg/a.py", 1, "module"), ("pkg/b.py", 3, "type-checking"),
         ("pkg/c.py", 1, "module")],
    ]
    assert "pkg/b.py:3: `from pkg.c import C` (type-checking)" in describe(found)
