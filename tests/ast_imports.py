"""Every import of every module in the tree, read with ast (nothing is imported).

Shared by tests/test_wall.py (what may import what) and tests/test_import_graph.py (no
circles). A module is named the way Python imports it: `govbot/...` as `govbot.*`,
`plugins/<name>/...` as `govbot.plugins.<name>.*` (govbot/plugins links to plugins/,
which is skipped so nothing is read twice), `docs/examples/<name>/...` as `<name>.*`
(the example plugin, put on the path like a third-party package).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parent.parent

#: Where an import statement sits, which decides when it runs: "module" at import time
#: (class bodies and try/except at the top included), "type-checking" only for the type
#: checker (`if TYPE_CHECKING:`), "function" when the function is first called.
Scope = Literal["module", "type-checking", "function"]


@dataclass(frozen=True, slots=True)
class Source:
    path: str  # relative to the repository root, as failure messages show it
    module: str  # the dotted name it is imported as
    is_package: bool  # an __init__.py: relative imports start from the module itself
    text: str


@dataclass(frozen=True, slots=True)
class Import:
    path: str
    line: int
    statement: str  # as written, on one line
    target: str | None  # the absolute module imported; None: a relative import above the top
    scope: Scope

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: `{self.statement}`"


def is_source_folder(name: str) -> bool:
    """Not a cache (__pycache__, .mypy_cache, ...) or another hidden folder."""
    return not name.startswith((".", "__pycache__"))


def _sources_under(folder: Path, prefix: tuple[str, ...]) -> Iterator[Source]:
    # os.walk does not follow links, so govbot/plugins (a link to plugins/) is skipped.
    for directory, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if is_source_folder(d))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = Path(directory, name)
            parts = [*prefix, *path.relative_to(folder).with_suffix("").parts]
            package = parts[-1] == "__init__"
            if package:
                parts.pop()
            yield Source(str(path.relative_to(ROOT)), ".".join(parts), package,
                         path.read_text(encoding="utf-8"))


def core_sources() -> list[Source]:
    """govbot/, without the plugins it links to."""
    return list(_sources_under(ROOT / "govbot", ("govbot",)))


def plugin_sources() -> list[Source]:
    """plugins/, as govbot.plugins.*."""
    return list(_sources_under(ROOT / "plugins", ("govbot", "plugins")))


def example_sources() -> list[Source]:
    """The example plugin packages of docs/examples/*/, each as a top-level package."""
    examples = ROOT / "docs" / "examples"
    return [s for d in sorted(examples.iterdir()) if d.is_dir() and is_source_folder(d.name)
            for s in _sources_under(d, (d.name,))]


def _resolve(source: Source, level: int, module: str | None) -> str | None:
    package = source.module.split(".")
    if not source.is_package:
        package.pop()
    if level - 1 > len(package) - 1:
        return None  # `from ... import` above the top-level package
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _Reader(ast.NodeVisitor):
    def __init__(self, source: Source, known: Collection[str]) -> None:
        self.source, self.known = source, known
        self.found: list[Import] = []
        self.scope: Scope = "module"

    def _add(self, node: ast.stmt | ast.expr, target: str | None) -> None:
        text = ast.get_source_segment(self.source.text, node) or ""
        self.found.append(Import(self.source.path, node.lineno, " ".join(text.split()),
                                 target, self.scope))

    def _in_scope(self, scope: Scope, nodes: list[ast.stmt]) -> None:
        outer, self.scope = self.scope, scope
        for child in nodes:
            self.visit(child)
        self.scope = outer

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._in_scope("function", node.body)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._in_scope("function", node.body)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test) and self.scope == "module":
            self._in_scope("type-checking", node.body)
            self._in_scope(self.scope, node.orelse)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _resolve(self.source, node.level, node.module) if node.level else node.module
        if base is None:
            self._add(node, None)
            return
        # `from pkg import mod` imports the module pkg.mod; `from mod import name` only mod.
        targets = {f"{base}.{a.name}" if f"{base}.{a.name}" in self.known else base
                   for a in node.names}
        for target in sorted(targets):
            self._add(node, target)

    def visit_Call(self, node: ast.Call) -> None:
        # importlib.import_module("x") and __import__("x") with a literal name import too.
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("import_module", "__import__") and node.args \
                and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) \
                and not node.args[0].value.startswith("."):
            self._add(node, node.args[0].value)
        self.generic_visit(node)


def read_imports(source: Source, known: Collection[str]) -> list[Import]:
    """Every import in `source`; `known` (module names) tells `from pkg import mod` apart."""
    reader = _Reader(source, known)
    reader.visit(ast.parse(source.text, filename=source.path))
    return reader.found


def matches(module: str, prefix: str) -> bool:
    """`module` is `prefix` or inside it (dot-separated: "git" does not match "github")."""
    return module == prefix or module.startswith(prefix + ".")
